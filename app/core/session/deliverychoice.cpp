#include "session/deliverychoice.h"

#include <QCoreApplication>

namespace ft {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::DeliveryChoice", text); }

} // namespace

QString DeliveryChoice::problem() const
{
    switch (method) {
    case PackageDelivery::Portal:
        if (!portalAddressForNodes.trimmed().isEmpty()) {
            if (Result checked = checkHostAndPort(portalAddressForNodes); !checked)
                return checked.error();
        }
        return {};
    case PackageDelivery::Workstation:
        if (serveAddress.isNull())
            return tr("Enter the address of this workstation that the nodes can reach.");
        if (serveAddress.isLoopback())
            return tr("%1 is each node itself; enter an address of this workstation that the nodes can reach.")
                .arg(serveAddress.toString());
        return {};
    case PackageDelivery::Url: {
        const QString scheme = url.scheme().toLower();
        if (!url.isValid() || url.host().isEmpty()
            || (scheme != QLatin1String("http") && scheme != QLatin1String("https")))
            return tr("Enter the http or https address of the folder that holds the package files.");
        if (!fingerprint.isEmpty()
            && (fingerprint.size() != 64 || QByteArray::fromHex(fingerprint.toLatin1()).size() != 32))
            return tr("The certificate fingerprint must be 64 hexadecimal digits.");
        return {};
    }
    }
    return {};
}

QString DeliveryChoice::sentence() const
{
    switch (method) {
    case PackageDelivery::Portal:
        if (!portalAddressForNodes.trimmed().isEmpty())
            return tr("Packages travel through the portal's agent: each is uploaded once from this workstation, "
                      "and every node fetches it from the portal at %1.")
                .arg(portalAddressForNodes.trimmed());
        return tr("Packages travel through the portal's agent: each is uploaded once from this workstation, "
                  "and every node fetches it from the portal.");
    case PackageDelivery::Workstation:
        return tr("Packages are served from this workstation on %1; every node must be able to connect to it.")
            .arg(serveAddress.isNull() ? tr("(no address yet)") : serveAddress.toString());
    case PackageDelivery::Url:
        return tr("The nodes fetch the packages from %1.").arg(url.toDisplayString());
    }
    return {};
}

void DeliveryChoice::applyTo(RunOptions &options) const
{
    options.delivery = method;
    if (method == PackageDelivery::Portal)
        options.portalAddressForNodes = portalAddressForNodes.trimmed();
    if (method == PackageDelivery::Workstation && !serveAddress.isNull())
        options.serveAddress = serveAddress;
    if (method == PackageDelivery::Url) {
        options.deliveryUrl = url;
        options.deliveryFingerprint = fingerprint.toLower();
    }
}

} // namespace ft

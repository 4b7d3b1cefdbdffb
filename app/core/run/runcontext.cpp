#include "run/runcontext.h"

#include <QCoreApplication>
#include <QUrl>

namespace ft {

Expected<AgentEndpoint> RunContext::endpoint(const QString &node) const
{
    if (!lookup)
        return makeError(QCoreApplication::translate("ft::RunEngine", "no address"));
    return lookup(node);
}

QString runStepName(const RunStepRecord &record)
{
    return QCoreApplication::translate("ft::RunEngine", "%1 on %2")
        .arg(displayName(record.step.component), record.step.node);
}

QString toString(PackageDelivery delivery)
{
    switch (delivery) {
    case PackageDelivery::Portal: return QStringLiteral("portal");
    case PackageDelivery::Workstation: return QStringLiteral("workstation");
    case PackageDelivery::Url: return QStringLiteral("url");
    }
    return {};
}

Expected<PackageDelivery> parsePackageDelivery(const QString &text)
{
    for (PackageDelivery delivery : {PackageDelivery::Portal, PackageDelivery::Workstation, PackageDelivery::Url}) {
        if (text == toString(delivery))
            return delivery;
    }
    return makeError(QCoreApplication::translate("ft::RunContext", "Unknown delivery \"%1\" (use portal, workstation or url).")
                         .arg(text));
}

RunDelivery deliveryRecord(const RunOptions &options)
{
    RunDelivery record;
    record.method = toString(options.delivery);
    switch (options.delivery) {
    case PackageDelivery::Portal:
        record.portalAddressForNodes = options.portalAddressForNodes;
        break;
    case PackageDelivery::Workstation:
        record.serveAddress = options.serveAddress.toString();
        record.advertisedHost = options.advertisedHost;
        break;
    case PackageDelivery::Url:
        record.url = options.deliveryUrl.toString();
        record.fingerprint = options.deliveryFingerprint;
        break;
    }
    return record;
}

Result applyDeliveryRecord(const RunDelivery &record, RunOptions *options)
{
    const auto method = parsePackageDelivery(record.method);
    if (!method)
        return makeError(method.error());
    options->delivery = *method;
    switch (*method) {
    case PackageDelivery::Portal:
        options->portalAddressForNodes = record.portalAddressForNodes;
        break;
    case PackageDelivery::Workstation:
        if (!record.serveAddress.isEmpty())
            options->serveAddress = QHostAddress(record.serveAddress);
        options->advertisedHost = record.advertisedHost;
        break;
    case PackageDelivery::Url:
        options->deliveryUrl = QUrl(record.url);
        options->deliveryFingerprint = record.fingerprint;
        break;
    }
    return {};
}

Result checkHostAndPort(const QString &text)
{
    // An authority without user info or path: what a URL's host[:port] may be.
    QUrl url;
    url.setScheme(QStringLiteral("https"));
    url.setAuthority(text.trimmed(), QUrl::StrictMode);
    if (text.trimmed().isEmpty() || !url.isValid() || url.host().isEmpty() || !url.userInfo().isEmpty()
        || text.contains(QLatin1Char('/')))
        return makeError(QCoreApplication::translate("ft::RunContext",
                                                     "\"%1\" is not a host or host:port the nodes could connect to.")
                             .arg(text));
    return {};
}

} // namespace ft

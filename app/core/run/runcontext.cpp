#include "run/runcontext.h"

#include <QCoreApplication>

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

} // namespace ft

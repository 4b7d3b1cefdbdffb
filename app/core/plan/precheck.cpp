#include "plan/precheck.h"

#include <QCoreApplication>
#include <QJsonObject>
#include <QLocale>
#include <QMap>

#include <algorithm>

namespace ft {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::PreCheck", text); }

QString bytesText(qint64 bytes)
{
    return QLocale().formattedDataSize(bytes, 1, QLocale::DataSizeIecFormat);
}

QString joinNames(QStringList names)
{
    std::sort(names.begin(), names.end(), naturalLess);
    return names.join(QStringLiteral(", "));
}

class Collector
{
public:
    void add(PreCheckSeverity severity, const char *check, const QString &node,
             const QString &message)
    {
        m_report.findings.append({severity, QLatin1String(check), node, message});
    }
    void error(const char *check, const QString &node, const QString &message)
    {
        add(PreCheckSeverity::Error, check, node, message);
    }
    void warning(const char *check, const QString &node, const QString &message)
    {
        add(PreCheckSeverity::Warning, check, node, message);
    }
    void notice(const char *check, const QString &node, const QString &message)
    {
        add(PreCheckSeverity::Notice, check, node, message);
    }

    PreCheckReport take()
    {
        std::stable_sort(m_report.findings.begin(), m_report.findings.end(),
                         [](const PreCheckFinding &a, const PreCheckFinding &b) {
                             if (a.severity != b.severity)
                                 return int(a.severity) < int(b.severity);
                             if (a.node.isEmpty() != b.node.isEmpty())
                                 return a.node.isEmpty();
                             return naturalLess(a.node, b.node);
                         });
        return std::move(m_report);
    }

private:
    PreCheckReport m_report;
};

void checkNode(Collector &out, const NodeStatus &node, const UpgradeTarget &target,
               const PreCheckOptions &options, const std::optional<Version> &minAgent)
{
    if (!node.reachable) {
        out.error(PreCheckId::Unreachable, node.name,
                  node.unreachableReason.isEmpty()
                      ? tr("%1 cannot be reached, so it can be neither checked nor upgraded.")
                            .arg(node.name)
                      : tr("%1 cannot be reached (%2), so it can be neither checked nor upgraded.")
                            .arg(node.name, node.unreachableReason));
        return;
    }

    const auto agentVersion = Version::parse(node.agentVersion);
    if (node.apiVersion < options.minAgentApi) {
        out.error(PreCheckId::AgentTooOld, node.name,
                  tr("The agent on %1 speaks API %2, but the wizard needs API %3 or later. "
                     "Update the agent on %1 first.")
                      .arg(node.name, QString::number(node.apiVersion),
                           QString::number(options.minAgentApi)));
    } else if (minAgent && (!agentVersion || *agentVersion < *minAgent)) {
        out.error(PreCheckId::AgentTooOld, node.name,
                  tr("The agent on %1 is version \"%2\", but the wizard needs %3 or later. "
                     "Update the agent on %1 first.")
                      .arg(node.name, node.agentVersion.left(40), minAgent->toString()));
    }

    if (node.busy)
        out.error(PreCheckId::Busy, node.name,
                  tr("An upgrade is already running on %1. Wait for it to finish or resume it "
                     "from its journal.")
                      .arg(node.name));

    const QList<Component> needed = componentsToUpgrade(node, target);
    if (needed.isEmpty()) {
        bool current = false, newer = false;
        for (Component component : {Component::Server, Component::Nbi, Component::WebUi}) {
            const PackageChoice *choice = target.packageFor(component, node.os);
            if (!choice || !componentLivesOn(node, component))
                continue;
            current = current || node.component(component).version == choice->version;
            newer = newer || node.component(component).version > choice->version;
        }
        // A newer node is the downgrade error's business, not "skipped".
        if (current && !newer)
            out.notice(PreCheckId::AlreadyCurrent, node.name,
                       tr("%1 already runs the chosen versions and is skipped.").arg(node.name));
        return;
    }

    const qint64 packageBytes = stagingBytesFor(node, target);
    const qint64 neededBytes = qint64(double(packageBytes) * options.stagingMargin);
    if (node.freeBytes < 0) {
        out.warning(PreCheckId::DiskUnknown, node.name,
                    tr("%1 did not say how much disk space it has for staging; it needs about %2.")
                        .arg(node.name, bytesText(neededBytes)));
    } else if (node.freeBytes < neededBytes) {
        out.error(PreCheckId::DiskSpace, node.name,
                  tr("%1 has %2 free for staging, but needs %3 (the packages' %4 with a margin "
                     "of %5×). Free some space in %6.")
                      .arg(node.name, bytesText(node.freeBytes), bytesText(neededBytes),
                           bytesText(packageBytes), QLocale().toString(options.stagingMargin),
                           node.stagingDir.isEmpty() ? tr("its staging folder")
                                                     : node.stagingDir));
    }

    if (needed.contains(Component::Server) && node.service != ServiceState::Running)
        out.warning(PreCheckId::ServiceStopped, node.name,
                    tr("The FlowTraq service on %1 is %2 now; the upgrade will start it.")
                        .arg(node.name, displayName(node.service).toLower()));
}

void checkCluster(Collector &out, const QList<NodeStatus> &nodes)
{
    QStringList nbiNodes, portals;
    QMap<QString, QStringList> serverVersions; // version → nodes
    QMap<QString, Version> versionOf;
    for (const NodeStatus &node : nodes) {
        if (!node.reachable)
            continue;
        if (node.nbi.installed)
            nbiNodes.append(node.name);
        if (node.role == NodeRole::Portal || node.role == NodeRole::Standalone)
            portals.append(node.name);
        if (node.server.installed) {
            serverVersions[node.server.version.toString()].append(node.name);
            versionOf.insert(node.server.version.toString(), node.server.version);
        }
    }

    if (nbiNodes.size() > 1)
        out.error(PreCheckId::NbiCount, {},
                  tr("More than one node runs the NBI service (%1), but a cluster has at most "
                     "one. Remove the extra NBI before upgrading.")
                      .arg(joinNames(nbiNodes)));

    if (portals.isEmpty()) {
        const bool someUnreachable = std::any_of(nodes.cbegin(), nodes.cend(),
                                                 [](const NodeStatus &n) { return !n.reachable; });
        out.error(PreCheckId::NoPortal, {},
                  someUnreachable
                      ? tr("No portal was found among the reachable nodes; it may be one of the "
                           "nodes that cannot be reached. The upgrade needs the portal.")
                      : tr("No portal was found: every node is a worker. Connect to the cluster "
                           "through its portal."));
    } else if (portals.size() > 1) {
        out.error(PreCheckId::PortalCount, {},
                  tr("More than one node calls itself the portal or a standalone server (%1). "
                     "Upgrade one cluster at a time.")
                      .arg(joinNames(portals)));
    }

    if (serverVersions.size() > 1) {
        QList<QString> keys = serverVersions.keys();
        std::sort(keys.begin(), keys.end(), [&](const QString &a, const QString &b) {
            return versionOf.value(a) > versionOf.value(b);
        });
        QStringList parts;
        for (const QString &key : keys)
            parts.append(tr("%1 on %2").arg(key, joinNames(serverVersions.value(key))));
        out.warning(PreCheckId::MixedVersions, {},
                    tr("The cluster already runs mixed server versions: %1. The upgrade brings "
                       "them all to the same version.")
                        .arg(parts.join(QStringLiteral("; "))));
    }
}

void checkPackages(Collector &out, const QList<NodeStatus> &nodes, const UpgradeTarget &target)
{
    // With nodes out of reach there is no telling; the unreachable error blocks anyway.
    const bool someUnreachable = std::any_of(nodes.cbegin(), nodes.cend(),
                                             [](const NodeStatus &n) { return !n.reachable; });
    for (Component slot : {Component::Server, Component::Nbi, Component::WebUi}) {
        const QList<const PackageChoice *> chosen = target.packages(slot);
        if (const QString pair = packagePairProblem(target, slot, nodes); !pair.isEmpty()) {
            out.error(chosen.at(0)->os == chosen.at(1)->os ? PreCheckId::OsMismatch : PreCheckId::Package, {},
                      pair);
            continue;
        }
        for (const PackageChoice *choice : chosen) {
            const Result itself = validatePackageItself(*choice, slot);
            if (!itself) {
                out.error(PreCheckId::Package, {}, itself.error());
                continue;
            }
            // Each of two packages answers for the nodes of its system only.
            const QList<NodeStatus> mine = chosen.size() > 1 ? nodesGetting(target, slot, *choice, nodes) : nodes;
            const PackageFit fit = packageFit(*choice, slot, mine);
            if (fit.targets.isEmpty() && !someUnreachable && choice == chosen.first())
                out.error(PreCheckId::Package, {}, nothingToUpgradeSentence(*choice, slot));
            if (!fit.wrongOs.isEmpty())
                out.error(PreCheckId::OsMismatch, {}, wrongOsSentence(*choice, fit.wrongOs));
            if (!fit.newer.isEmpty())
                out.error(PreCheckId::Downgrade, {}, downgradeSentence(*choice, slot, nodes, fit.newer));
        }
    }
}

} // namespace

QString toString(PreCheckSeverity severity)
{
    switch (severity) {
    case PreCheckSeverity::Error: return QStringLiteral("error");
    case PreCheckSeverity::Warning: return QStringLiteral("warning");
    case PreCheckSeverity::Notice: return QStringLiteral("notice");
    }
    return {};
}

bool PreCheckReport::hasErrors() const
{
    return !withSeverity(PreCheckSeverity::Error).isEmpty();
}

bool PreCheckReport::hasWarnings() const
{
    return !withSeverity(PreCheckSeverity::Warning).isEmpty();
}

QList<PreCheckFinding> PreCheckReport::withSeverity(PreCheckSeverity severity) const
{
    QList<PreCheckFinding> result;
    std::copy_if(findings.cbegin(), findings.cend(), std::back_inserter(result),
                 [severity](const PreCheckFinding &f) { return f.severity == severity; });
    return result;
}

bool PreCheckReport::contains(const QString &check, const QString &node) const
{
    return std::any_of(findings.cbegin(), findings.cend(), [&](const PreCheckFinding &f) {
        return f.check == check && (node.isEmpty() || f.node == node);
    });
}

bool PreCheckReport::allowsStart(bool warningsAcknowledged) const
{
    return !hasErrors() && (warningsAcknowledged || !hasWarnings());
}

QJsonArray PreCheckReport::toJson() const
{
    QJsonArray array;
    for (const PreCheckFinding &finding : findings) {
        QJsonObject object{{QStringLiteral("severity"), toString(finding.severity)},
                           {QStringLiteral("check"), finding.check},
                           {QStringLiteral("message"), finding.message}};
        if (!finding.node.isEmpty())
            object.insert(QStringLiteral("node"), finding.node);
        array.append(object);
    }
    return array;
}

QList<Component> componentsToUpgrade(const NodeStatus &node, const UpgradeTarget &target)
{
    QList<Component> result;
    if (!node.reachable)
        return result;
    for (Component component : {Component::Server, Component::Nbi, Component::WebUi}) {
        const PackageChoice *choice = target.packageFor(component, node.os);
        if (choice && choice->component == component && componentLivesOn(node, component)
            && node.component(component).version < choice->version)
            result.append(component);
    }
    return result;
}

qint64 stagingBytesFor(const NodeStatus &node, const UpgradeTarget &target)
{
    qint64 bytes = 0;
    for (Component component : componentsToUpgrade(node, target))
        bytes += std::max<qint64>(0, target.packageFor(component, node.os)->size);
    return bytes;
}

PreCheckReport runPreChecks(const QList<NodeStatus> &nodes, const UpgradeTarget &target,
                            const PreCheckOptions &options)
{
    Collector out;
    if (nodes.isEmpty()) {
        out.error(PreCheckId::NoNodes, {},
                  tr("No nodes were discovered, so there is nothing to check or upgrade."));
        return out.take();
    }
    if (target.isEmpty()) {
        out.error(PreCheckId::Package, {}, tr("Pick at least one package to upgrade with."));
        return out.take();
    }

    std::optional<Version> minAgent;
    if (!options.minAgentVersion.isEmpty()) {
        if (const auto parsed = Version::parse(options.minAgentVersion))
            minAgent = *parsed;
    }

    checkCluster(out, nodes);
    checkPackages(out, nodes, target);
    bool anythingToDo = false;
    for (const NodeStatus &node : nodes) {
        checkNode(out, node, target, options, minAgent);
        anythingToDo = anythingToDo || !componentsToUpgrade(node, target).isEmpty();
    }
    if (!anythingToDo)
        out.notice(PreCheckId::NothingToDo, {},
                   tr("Every reachable node already runs the chosen versions; there is nothing "
                      "to upgrade."));
    return out.take();
}

} // namespace ft

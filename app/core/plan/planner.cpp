#include "plan/planner.h"

#include "plan/durationhistory.h"
#include "plan/precheck.h"

#include <QCoreApplication>
#include <QLocale>
#include <QSet>

#include <algorithm>

namespace ft {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::UpgradePlanner", text); }

QString flowsText(qint64 flows) { return QLocale().toString(flows); }

QString rateText(double perSecond)
{
    return QLocale().toString(perSecond, 'f', perSecond < 10 ? 1 : 0);
}

QString flowSentence(const NodeStatus &node, const DurationEstimate &estimate, qint64 lost, bool kept)
{
    if (!node.receivesFlows)
        return tr("No flow data is lost: %1 receives none directly.").arg(node.name);
    if (kept)
        return tr("Flow records sent to %1 while it is down are kept by its agent and replayed from the "
                  "exporters' own addresses: 0 expected lost (kept and replayed).").arg(node.name);
    if (!node.flowRateMeasured)
        return tr("%1 receives flow data, but its rate is not measured (%2), so the loss cannot be "
                  "estimated.")
            .arg(node.name, node.flowRateNotMeasuredReason);
    if (lost == 0)
        return tr("%1 receives flow data, but none arrived in the last minute, so no loss is "
                  "expected.")
            .arg(node.name);
    QString sentence = tr("About %1 flow records sent to %2 are lost (%3 flows/s × %4).")
        .arg(flowsText(lost), node.name, rateText(node.flowsPerSecond),
             formatDuration(estimate.outageMs));
    if (node.os == OsKind::Windows)
        sentence += QLatin1Char(' ') + tr("Keeping flows during the outage is not available on Windows nodes.");
    return sentence;
}

QString skipReason(const NodeStatus &node, Component component, const PackageChoice &choice)
{
    const Version &installed = node.component(component).version;
    if (installed == choice.version)
        return tr("Already runs %1.").arg(installed.toString());
    return tr("Runs %1, newer than the package's %2; the wizard does not downgrade.")
        .arg(installed.toString(), choice.version.toString());
}

PlanStep makeStep(const NodeStatus &node, Component component, const PackageChoice &choice)
{
    PlanStep step;
    step.node = node.name;
    step.role = node.role;
    step.os = node.os;
    step.component = component;
    step.fromVersion = node.component(component).version;
    step.toVersion = choice.version;
    step.packageFile = choice.fileName();
    return step;
}

qint64 longestStep(const QList<PlanStep> &steps)
{
    qint64 longest = 0;
    for (const PlanStep &step : steps)
        longest = std::max(longest, step.estimate.totalMs);
    return longest;
}

QStringList namesOf(const QList<PlanStep> &steps)
{
    QStringList names;
    for (const PlanStep &step : steps)
        names.append(step.node);
    return names;
}

// Clamps the workers-down setting; returns the effective value and adds warnings.
int effectiveWorkersDown(int requested, int workerCount, QStringList &warnings)
{
    int value = requested;
    if (value < 1) {
        warnings.append(tr("At most %1 workers down is not possible; the plan takes one worker "
                           "down at a time.")
                            .arg(requested));
        value = 1;
    }
    if (workerCount <= 1) {
        if (value > 1)
            warnings.append(tr("The cluster has only one worker, so workers are upgraded one "
                               "at a time."));
        return 1;
    }
    if (value >= workerCount) {
        warnings.append(tr("Taking %1 of %2 workers down at once would leave the portal with no "
                           "worker; the plan takes at most %3 down at a time.")
                            .arg(value)
                            .arg(workerCount)
                            .arg(workerCount - 1));
        value = workerCount - 1;
    }
    if (value > 1)
        warnings.append(tr("%1 workers are down at the same time: queries are slower and miss "
                           "more data while they are. One at a time is the safe default.")
                            .arg(value));
    return value;
}

} // namespace

StepImpact impactOf(const NodeStatus &node, Component component, const DurationEstimate &estimate,
                    bool keepFlowsWanted)
{
    StepImpact impact;
    const QString duration = formatDuration(estimate.outageMs);
    switch (component) {
    case Component::Server: {
        impact.receivesFlows = node.receivesFlows;
        impact.flowsPerSecond = node.receivesFlows ? node.flowsPerSecond : 0;
        impact.keepFlows = keepFlowsWanted && node.receivesFlows && node.os == OsKind::Linux;
        impact.flowsLost = impact.keepFlows ? 0 : flowsLost(impact.flowsPerSecond, estimate.outageMs);
        QString users;
        switch (node.role) {
        case NodeRole::Worker:
            users = tr("While %1 is down (about %2), queries are slower and may return "
                       "incomplete data.")
                        .arg(node.name, duration);
            break;
        case NodeRole::Portal:
            users = tr("No queries at all for about %1 while the portal's server (%2) is down.")
                        .arg(duration, node.name);
            break;
        case NodeRole::Standalone:
            users = tr("FlowTraq on %1 answers no queries for about %2.").arg(node.name, duration);
            break;
        }
        impact.sentence = users + QLatin1Char(' ') + flowSentence(node, estimate, impact.flowsLost, impact.keepFlows);
        break;
    }
    case Component::Nbi:
        impact.sentence = tr("The NBI service on %1 is unavailable for about %2; scripts and "
                             "integrations that use it get no answer meanwhile. No flow data "
                             "is lost.")
                              .arg(node.name, duration);
        break;
    case Component::WebUi:
        impact.sentence = tr("No Web UI for about %1 while its files on %2 are replaced; the "
                             "desktop client keeps working. No flow data is lost.")
                              .arg(duration, node.name);
        break;
    }
    return impact;
}

UpgradePlanner::UpgradePlanner(EstimateDefaults defaults)
    : m_defaults(std::move(defaults))
{}

DurationEstimate UpgradePlanner::estimateFor(const NodeStatus &node, Component component,
                                             const QString &clusterId) const
{
    if (m_history && m_history->isOpen() && !clusterId.isEmpty())
        return m_history->estimate(clusterId, node.os, component, node.name, m_defaults);
    return m_defaults.upgrade(component, node.os);
}

UpgradePlan UpgradePlanner::plan(const QList<NodeStatus> &input, const UpgradeTarget &chosen,
                                 const PlanOptions &options) const
{
    UpgradePlan plan;
    plan.startTime = (options.startTime.isValid() ? options.startTime
                                                  : QDateTime::currentDateTimeUtc())
                         .toUTC();

    UpgradeTarget target = chosen;
    const bool nbiLeftOut = target.has(Component::Nbi) && !options.includeNbi;
    const bool webUiLeftOut = target.has(Component::WebUi) && !options.includeWebUi;
    for (int slot = 0; slot < UpgradeTarget::SlotsPerComponent; ++slot) {
        if (!options.includeNbi)
            target.package(Component::Nbi, slot).reset();
        if (!options.includeWebUi)
            target.package(Component::WebUi, slot).reset();
    }

    QList<NodeStatus> nodes = input;
    std::stable_sort(nodes.begin(), nodes.end(), [](const NodeStatus &a, const NodeStatus &b) {
        return naturalLess(a.name, b.name);
    });

    const int workerCount = int(std::count_if(nodes.cbegin(), nodes.cend(), [](const NodeStatus &n) {
        return n.role == NodeRole::Worker;
    }));
    plan.maxWorkersDown = effectiveWorkersDown(options.maxWorkersDown, workerCount, plan.warnings);

    // The servers move while the NBI or the Web UI stay behind: say so, it is rarely meant.
    if (target.server) {
        for (const Component component : {Component::Nbi, Component::WebUi}) {
            if (chosen.has(component))
                continue; // chosen (even if left out on purpose: the plan says so itself)
            QStringList behind;
            for (const NodeStatus &node : nodes) {
                const ComponentState &status = node.component(component);
                if (node.reachable && status.installed && status.version < target.server->version)
                    behind.append(node.name);
            }
            if (!behind.isEmpty())
                plan.warnings.append(tr("The servers go to %1, but the %2 on %3 stays on its old version: "
                                        "choose its package too, unless the vendor says the old one works "
                                        "with the new server.")
                                         .arg(target.server->version.toString(), displayName(component),
                                              behind.join(QStringLiteral(", "))));
        }
    }

    QList<PlanStep> workerServers, portalServers, nbiSteps, webUiSteps;
    auto addSkipped = [&](PlanStep step, const QString &reason) {
        step.skipped = true;
        step.skipReason = reason;
        plan.skipped.append(step);
    };

    for (const NodeStatus &node : nodes) {
        if (!node.reachable) {
            if (const PackageChoice *server = target.packageFor(Component::Server, node.os)) {
                PlanStep step = makeStep(node, Component::Server, *server);
                addSkipped(step, node.unreachableReason.isEmpty()
                                     ? tr("Cannot be reached.")
                                     : tr("Cannot be reached: %1").arg(node.unreachableReason));
            }
            continue;
        }
        for (Component component : {Component::Server, Component::Nbi, Component::WebUi}) {
            if (!componentLivesOn(node, component))
                continue;
            // Each node gets the package made for its system (mixed Linux/Windows clusters).
            const PackageChoice *choice = target.packageFor(component, node.os);
            if (!choice || choice->component != component) {
                if (!choice && ((component == Component::Nbi && nbiLeftOut)
                                || (component == Component::WebUi && webUiLeftOut)))
                    addSkipped(makeStep(node, component, *chosen.packageFor(component, node.os)),
                               tr("Left out of this upgrade."));
                continue;
            }
            PlanStep step = makeStep(node, component, *choice);
            if (node.component(component).version >= choice->version) {
                addSkipped(step, skipReason(node, component, *choice));
                continue;
            }
            step.estimate = estimateFor(node, component, options.clusterId);
            step.impact = impactOf(node, component, step.estimate, !options.dropFlowsOn.contains(node.name));
            switch (component) {
            case Component::Server:
                (node.role == NodeRole::Worker ? workerServers : portalServers).append(step);
                break;
            case Component::Nbi: nbiSteps.append(step); break;
            case Component::WebUi: webUiSteps.append(step); break;
            }
        }
    }

    // Stage: every package on every node that needs it, before anything stops.
    qint64 stageBytes = 0;
    for (const NodeStatus &node : nodes) {
        const QList<Component> components = componentsToUpgrade(node, target);
        if (components.isEmpty())
            continue;
        StageEntry entry;
        entry.node = node.name;
        entry.components = components;
        for (Component component : components) {
            const PackageChoice *choice = target.packageFor(component, node.os);
            entry.packageFiles.append(choice->fileName());
            entry.bytes += std::max<qint64>(0, choice->size);
        }
        stageBytes += entry.bytes;
        plan.stage.append(entry);
    }
    plan.stageDurationMs = m_defaults.stagingMs(stageBytes);
    plan.stageBasis = tr("%1 for all nodes together at an assumed %2/s (%3).")
                          .arg(QLocale().formattedDataSize(stageBytes, 1,
                                                           QLocale::DataSizeIecFormat),
                               QLocale().formattedDataSize(m_defaults.stagingBytesPerSecond(), 0,
                                                           QLocale::DataSizeIecFormat),
                               m_defaults.origin());

    // The canary: one chosen worker first and alone; the run halts after it.
    if (!options.canaryNode.isEmpty()) {
        const auto canary = std::find_if(workerServers.begin(), workerServers.end(),
                                         [&](const PlanStep &step) { return step.node == options.canaryNode; });
        if (canary == workerServers.end()) {
            plan.warnings.append(tr("%1 is not a worker this plan upgrades, so there is no canary.")
                                     .arg(options.canaryNode));
        } else {
            plan.canaryNode = canary->node;
            PlanWave wave;
            wave.title = tr("Canary: worker %1 (the run halts after it for your confirmation)").arg(canary->node);
            wave.steps = {*canary};
            workerServers.erase(canary);
            plan.waves.append(wave);
        }
    }
    // Waves, in the vendor's order.
    for (qsizetype i = 0; i < workerServers.size(); i += plan.maxWorkersDown) {
        PlanWave wave;
        wave.steps = workerServers.mid(i, plan.maxWorkersDown);
        wave.title = wave.steps.size() == 1
                         ? tr("Worker %1").arg(wave.steps.first().node)
                         : tr("Workers %1").arg(namesOf(wave.steps).join(QStringLiteral(", ")));
        plan.waves.append(wave);
    }
    for (const PlanStep &step : std::as_const(portalServers)) {
        PlanWave wave;
        wave.title = step.role == NodeRole::Portal ? tr("Portal server %1").arg(step.node)
                                                   : tr("Server %1").arg(step.node);
        wave.steps = {step};
        plan.waves.append(wave);
    }
    for (const PlanStep &step : std::as_const(nbiSteps))
        plan.waves.append({tr("NBI on %1").arg(step.node), {step}, 0, 0});
    for (const PlanStep &step : std::as_const(webUiSteps))
        plan.waves.append({tr("Web UI on %1").arg(step.node), {step}, 0, 0});

    // Timing: waves run one after the other after staging.
    qint64 offset = plan.stageDurationMs;
    qint64 firstServerDone = -1, lastServerDone = -1;
    for (PlanWave &wave : plan.waves) {
        wave.startOffsetMs = offset;
        wave.durationMs = longestStep(wave.steps);
        for (PlanStep &step : wave.steps) {
            step.startOffsetMs = offset;
            plan.totalFlowsLost += step.impact.flowsLost;
        }
        offset += wave.durationMs;
        if (wave.steps.first().component == Component::Server) {
            if (firstServerDone < 0)
                firstServerDone = offset;
            lastServerDone = offset;
        }
    }
    plan.wallTimeMs = offset;

    // Servers run mixed versions from the first replaced server to the last one, or
    // from the start when the cluster is mixed already.
    QSet<QString> versionsBefore;
    for (const NodeStatus &node : std::as_const(nodes)) {
        if (node.reachable && node.server.installed)
            versionsBefore.insert(node.server.version.toString());
    }
    if (lastServerDone >= 0) {
        plan.mixedVersionStartMs = versionsBefore.size() > 1 ? 0 : firstServerDone;
        plan.mixedVersionWindowMs = lastServerDone - plan.mixedVersionStartMs;
    } else if (versionsBefore.size() > 1) {
        plan.mixedVersionStartMs = 0;
    }
    return plan;
}

int UpgradePlan::stepCount() const
{
    int count = 0;
    for (const PlanWave &wave : waves)
        count += int(wave.steps.size());
    return count;
}

QList<PlanStep> UpgradePlan::allSteps() const
{
    QList<PlanStep> steps;
    for (const PlanWave &wave : waves)
        steps.append(wave.steps);
    steps.append(skipped);
    return steps;
}

} // namespace ft

#include "verify/verification.h"

#include "webapi/webapiinfojob.h"

#include "agentlink/agentjobs.h"
#include "model/upgradetarget.h"
#include "verify/stepstatus.h"

#include <QCoreApplication>
#include <QJsonArray>
#include <QLocale>
#include <QMap>
#include <QPointer>
#include <QSet>

namespace ft {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::Verification", text); }

constexpr qint64 kFlowFreshSeconds = 30;

const RunStepRecord *stepFor(const RunJournal *journal, const QString &node, Component component)
{
    if (!journal)
        return nullptr;
    const RunStepRecord *found = nullptr;
    for (const RunStepRecord &record : journal->steps) {
        if (record.step.node == node && record.step.component == component)
            found = &record; // the last one wins (a deferred retry is the same step)
    }
    return found;
}

QString orNone(const QString &version)
{
    return version.isEmpty() ? tr("(none)") : version;
}

} // namespace

QString toString(Verdict verdict)
{
    switch (verdict) {
    case Verdict::Upgraded: return QStringLiteral("upgraded");
    case Verdict::AlreadyCurrent: return QStringLiteral("already_current");
    case Verdict::Failed: return QStringLiteral("failed");
    case Verdict::RebootNeeded: return QStringLiteral("reboot_needed");
    case Verdict::Unreachable: return QStringLiteral("unreachable");
    case Verdict::NotAttempted: return QStringLiteral("not_attempted");
    case Verdict::Skipped: return QStringLiteral("skipped");
    }
    return {};
}

QString displayName(Verdict verdict)
{
    switch (verdict) {
    case Verdict::Upgraded: return tr("Upgraded");
    case Verdict::AlreadyCurrent: return tr("Skipped (already current)");
    case Verdict::Failed: return tr("Failed");
    case Verdict::RebootNeeded: return tr("Reboot needed");
    case Verdict::Unreachable: return tr("Unreachable");
    case Verdict::NotAttempted: return tr("Not attempted");
    case Verdict::Skipped: return tr("Skipped");
    }
    return {};
}

VerificationCell verifyCell(const NodeStatus &node, Component component, const Version &target,
                            const RunStepRecord *step, const QDateTime &now,
                            RunState runState, const QString &runSentence)
{
    VerificationCell cell;
    cell.node = node.name;
    cell.role = node.role;
    cell.component = component;
    cell.target = target.toString();
    cell.reachable = node.reachable;
    cell.service = node.service;
    cell.versionNow = node.component(component).version.toString();
    if (step) {
        cell.versionBefore = step->versionBefore.isEmpty() ? step->step.fromVersion.toString()
                                                           : step->versionBefore;
        cell.rebootRequested = step->rebootRequested;
        if (component == Component::Server)
            cell.flowKeeping = step->flowKeeping;
    }
    if (!node.reachable) {
        cell.verdict = Verdict::Unreachable;
        cell.versionNow.clear();
        cell.sentence = tr("%1 did not answer: %2").arg(node.name, node.unreachableReason);
        return cell;
    }
    if (component == Component::Server && node.receivesFlows) {
        const bool recent = node.lastFlowAt.isValid()
                            && node.lastFlowAt.secsTo(now) <= kFlowFreshSeconds;
        cell.flowsArriving = recent || node.flowsPerSecondRecent > 0;
    }

    const Version now_ = node.component(component).version;
    const bool atTarget = !now_.isNull() && !target.isNull() && now_ >= target;
    const bool changed = step && !cell.versionBefore.isEmpty() && cell.versionBefore != cell.versionNow;
    const bool serviceMatters = component != Component::WebUi;

    if (atTarget) {
        if (!step) {
            cell.verdict = Verdict::Upgraded;
            cell.sentence = tr("At the target version %1.").arg(cell.versionNow);
        } else if (changed) {
            cell.verdict = Verdict::Upgraded;
            cell.sentence = tr("Upgraded from %1 to %2.").arg(orNone(cell.versionBefore), cell.versionNow);
        } else {
            cell.verdict = Verdict::AlreadyCurrent;
            cell.sentence = tr("Already at %1; not touched.").arg(cell.versionNow);
        }
        if (cell.rebootRequested && changed)
            cell.sentence += QLatin1Char(' ')
                             + tr("The installer asked for a reboot, but the version changed, so the "
                                  "reboot is not needed.");
        if (serviceMatters && node.service != ServiceState::Running) {
            cell.verdict = Verdict::Failed;
            cell.sentence = tr("At %1, but the FlowTraq service is %2.")
                                .arg(cell.versionNow, displayName(node.service).toLower());
        }
        return cell;
    }

    if (step && step->rebootRequested && !changed) {
        cell.verdict = Verdict::RebootNeeded;
        cell.sentence = tr("The installer asked for a reboot and the version did not change (still %1): "
                           "reboot %2 to finish the upgrade.")
                            .arg(orNone(cell.versionNow), node.name);
        return cell;
    }
    if (step && step->state == RunStepState::Skipped && step->wave >= 0) {
        const QString by = skippedBy(*step);
        cell.verdict = Verdict::Skipped;
        cell.sentence = by.isEmpty()
                            ? tr("Skipped; left on %1, the target is %2.").arg(orNone(cell.versionNow), cell.target)
                            : tr("Skipped by %1; left on %2, the target is %3.")
                                  .arg(by, orNone(cell.versionNow), cell.target);
        return cell;
    }
    if (step && (step->state == RunStepState::Pending) && step->attempts == 0) {
        cell.verdict = Verdict::NotAttempted;
        cell.sentence = tr("Not attempted (%1); still on %2.")
                            .arg(stepStatus(*step, runState, runSentence).detail, orNone(cell.versionNow));
        return cell;
    }
    cell.verdict = Verdict::Failed;
    if (step && !step->error.isEmpty())
        cell.sentence = tr("Still on %1 instead of %2: %3").arg(orNone(cell.versionNow), cell.target, step->error);
    else
        cell.sentence = tr("Still on %1 instead of %2.").arg(orNone(cell.versionNow), cell.target);
    return cell;
}

VerificationReport buildVerification(const QList<NodeStatus> &nodes,
                                     const QHash<Component, Version> &targets,
                                     const RunJournal *journal, const QDateTime &now)
{
    VerificationReport report;
    report.checkedAt = now;
    QList<NodeStatus> all = nodes;
    if (journal) {
        QSet<QString> known;
        for (const NodeStatus &node : nodes)
            known.insert(node.name);
        for (const RunStepRecord &record : journal->steps) {
            if (known.contains(record.step.node))
                continue;
            NodeStatus missing;
            missing.name = record.step.node;
            missing.role = record.step.role;
            missing.reachable = false;
            missing.unreachableReason = tr("it was not found in the cluster.");
            all.append(missing);
            known.insert(missing.name);
        }
    }
    std::sort(all.begin(), all.end(), [](const NodeStatus &a, const NodeStatus &b) {
        if ((a.role == NodeRole::Worker) != (b.role == NodeRole::Worker))
            return b.role == NodeRole::Worker; // the portal first
        return naturalLess(a.name, b.name);
    });

    QMap<QString, QStringList> serverVersions; // version → nodes
    for (const NodeStatus &node : std::as_const(all)) {
        for (Component component : {Component::Server, Component::Nbi, Component::WebUi}) {
            if (!targets.contains(component))
                continue;
            const RunStepRecord *step = stepFor(journal, node.name, component);
            if (!step && node.reachable && !componentLivesOn(node, component))
                continue;
            if (!step && !node.reachable && component != Component::Server)
                continue;
            VerificationCell cell = verifyCell(node, component, targets.value(component), step, now,
                                               journal ? journal->state : RunState::Completed,
                                               journal ? journal->stateSentence : QString());
            if (cell.flowKeeping)
                cell.sentence += QLatin1Char(' ') + cell.flowKeeping->sentence();
            if (cell.flowKeeping && cell.flowKeeping->dropped > 0)
                report.warnings.append(tr("%1 dropped %2 flow datagrams during its outage: the spool reached its cap.")
                                           .arg(node.name, QLocale(QLocale::English).toString(cell.flowKeeping->dropped)));
            if (cell.flowsArriving && !*cell.flowsArriving)
                report.warnings.append(tr("Flows are not arriving on %1 again (last flow: %2).")
                                           .arg(node.name, node.lastFlowAt.isValid()
                                                               ? node.lastFlowAt.toString(Qt::ISODate)
                                                               : tr("never")));
            report.cells.append(cell);
        }
        if (node.reachable && node.server.installed)
            serverVersions[node.server.version.toString()].append(node.name);
        if (node.reachable && (node.role == NodeRole::Portal || node.role == NodeRole::Standalone)
            && node.webUi.installed)
            report.portalWebUiVersion = node.webUi.version.toString();
    }
    if (serverVersions.size() > 1) {
        QStringList parts;
        for (auto it = serverVersions.cbegin(); it != serverVersions.cend(); ++it)
            parts.append(tr("%1 on %2").arg(it.key(), it.value().join(QStringLiteral(", "))));
        report.warnings.prepend(tr("Mixed versions are left in the cluster: %1.")
                                    .arg(parts.join(QStringLiteral("; "))));
    }
    return report;
}

QHash<Component, Version> targetsOf(const RunJournal &journal)
{
    QHash<Component, Version> targets;
    for (const RunPackage &package : journal.packages) {
        if (const auto version = Version::parse(package.version))
            targets.insert(package.component, *version);
    }
    return targets;
}

bool VerificationReport::allAtTarget() const
{
    for (const VerificationCell &cell : cells) {
        if (cell.verdict != Verdict::Upgraded && cell.verdict != Verdict::AlreadyCurrent)
            return false;
    }
    return true;
}

bool VerificationReport::rebootNeeded() const
{
    for (const VerificationCell &cell : cells) {
        if (cell.verdict == Verdict::RebootNeeded)
            return true;
    }
    return false;
}

bool VerificationReport::anyFailed() const
{
    for (const VerificationCell &cell : cells) {
        if (cell.verdict == Verdict::Failed || cell.verdict == Verdict::Unreachable
            || cell.verdict == Verdict::NotAttempted || cell.verdict == Verdict::Skipped)
            return true;
    }
    return false;
}

QJsonObject VerificationReport::toJson() const
{
    QJsonArray cellsJson;
    for (const VerificationCell &cell : cells) {
        QJsonObject object{
            {QStringLiteral("node"), cell.node},
            {QStringLiteral("role"), toString(cell.role)},
            {QStringLiteral("component"), toString(cell.component)},
            {QStringLiteral("version_before"), cell.versionBefore},
            {QStringLiteral("version_now"), cell.versionNow},
            {QStringLiteral("target"), cell.target},
            {QStringLiteral("reachable"), cell.reachable},
            {QStringLiteral("service"), toString(cell.service)},
            {QStringLiteral("service_running"), cell.service == ServiceState::Running},
            {QStringLiteral("flows_arriving"),
             cell.flowsArriving ? QJsonValue(*cell.flowsArriving) : QJsonValue()},
            {QStringLiteral("flows_kept"),
             cell.flowKeeping ? QJsonValue(cell.flowKeeping->toJson()) : QJsonValue()},
            {QStringLiteral("reboot_requested"), cell.rebootRequested},
            {QStringLiteral("running_version"), cell.runningVersion.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(cell.runningVersion)},
            {QStringLiteral("verdict"), toString(cell.verdict)},
            {QStringLiteral("sentence"), cell.sentence},
        };
        cellsJson.append(object);
    }
    return {{QStringLiteral("checked_at"), checkedAt.toUTC().toString(Qt::ISODate)},
            {QStringLiteral("cells"), cellsJson},
            {QStringLiteral("warnings"), QJsonArray::fromStringList(warnings)},
            {QStringLiteral("portal_webui_version"), portalWebUiVersion},
            {QStringLiteral("all_at_target"), allAtTarget()},
            {QStringLiteral("reboot_needed"), rebootNeeded()},
            {QStringLiteral("any_failed"), anyFailed()}};
}

VerifyJob::VerifyJob(AgentClient *client, QObject *parent)
    : QObject(parent)
    , m_client(client)
{
}

void VerifyJob::setJournal(const RunJournal &journal)
{
    m_journal = journal;
}

void VerifyJob::start()
{
    m_nodes.clear();
    m_pending = int(m_endpoints.size());
    if (m_pending == 0) {
        QMetaObject::invokeMethod(this, [this] { probeFinished(); }, Qt::QueuedConnection);
        return;
    }
    for (int i = 0; i < m_endpoints.size(); ++i) {
        NodeStatus placeholder;
        placeholder.name = m_endpoints.at(i).nodeName;
        placeholder.agentUrl = m_endpoints.at(i).url;
        m_nodes.append(placeholder);
        auto *job = new FetchNodeJob(m_client, m_endpoints.at(i), this);
        connect(job, &AgentJob::finished, this, [this, job, i] {
            if (job->error() == AgentJob::NoError) {
                const QString name = m_nodes[i].name;
                m_nodes[i] = job->node();
                m_nodes[i].reachable = true;
                if (m_nodes[i].name.isEmpty())
                    m_nodes[i].name = name;
            } else {
                m_nodes[i].reachable = false;
                m_nodes[i].unreachableReason = job->errorString();
            }
            if (--m_pending == 0)
                probeFinished();
        });
        job->start();
    }
}

void VerifyJob::probeFinished()
{
    m_report = buildVerification(m_nodes, m_targets, m_journal ? &*m_journal : nullptr,
                                 QDateTime::currentDateTimeUtc());
    if (m_webApi.isConfigured()) {
        auto *job = new WebApiInfoJob(m_webApi, this);
        connect(job, &WebApiInfoJob::finished, this, [this, job] {
            job->deleteLater();
            webApiFinished(job);
        });
        job->start();
        return;
    }
    Q_EMIT finished(this);
}

void VerifyJob::webApiFinished(WebApiInfoJob *job)
{
    const QString reported = job->error() == WebApiInfoJob::NoError ? job->version().version : QString();
    bool applied = false;
    for (VerificationCell &cell : m_report.cells) {
        if (cell.component == Component::Server && cell.role != NodeRole::Worker) {
            applyRunningVersion(cell, reported, job->errorString());
            applied = true;
        }
    }
    if (!reported.isEmpty() && !applied)
        m_report.warnings.append(tr("FlowTraq's Web API reports version %1, but no portal was verified.").arg(reported));
    if (reported.isEmpty())
        m_report.warnings.append(tr("FlowTraq's Web API could not be asked: %1").arg(job->errorString()));
    Q_EMIT finished(this);
}

void applyRunningVersion(VerificationCell &cell, const QString &reported, const QString &error)
{
    if (reported.isEmpty()) {
        cell.sentence += QLatin1Char(' ') + tr("(FlowTraq's Web API was not read: %1)").arg(error);
        return;
    }
    cell.runningVersion = reported;
    const auto running = Version::parse(reported);
    const auto target = Version::parse(cell.target);
    const auto now = Version::parse(cell.versionNow);
    if (!running || !target || !now)
        return;
    if (*now == *target && *running != *target) {
        cell.verdict = Verdict::RebootNeeded;
        cell.sentence = tr("The installer registered %1, but FlowTraq still reports %2 through its Web API: "
                           "a reboot is needed (the version did not change in the running server).")
                            .arg(cell.versionNow, reported);
    } else if (*running == *target) {
        cell.sentence += QLatin1Char(' ') + tr("FlowTraq's Web API confirms %1.").arg(reported);
    }
}

} // namespace ft

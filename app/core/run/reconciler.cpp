#include "run/reconciler.h"

#include <memory>
#include <optional>

namespace ft {

namespace {

bool isUnderway(RunStepState state)
{
    return state == RunStepState::Starting || state == RunStepState::Running;
}

// The agent's record of this step's job, by id or (the wizard was killed before the id
// was written) by what it installs, newest first.
std::optional<AgentJobStatus> jobOf(const RunStepRecord &record, const QList<AgentJobStatus> &jobs,
                                    const QDateTime &runStart)
{
    if (!record.agentJobId.isEmpty()) {
        std::optional<AgentJobStatus> job;
        for (const AgentJobStatus &candidate : jobs) {
            if (candidate.id == record.agentJobId)
                job = candidate;
        }
        return job;
    }
    if (!isUnderway(record.state))
        return std::nullopt;
    for (const AgentJobStatus &candidate : jobs) {
        if (candidate.kind == QLatin1String("upgrade") && candidate.component == toString(record.step.component)
            && candidate.package == record.step.packageFile
            && (!candidate.created.isValid() || candidate.created >= runStart))
            return candidate;
    }
    return std::nullopt;
}

// What was found for one step, against what the journal said (its state before).
RunDifference difference(const RunStepRecord &record, int index, RunStepState journalState, const QString &found,
                         const Version &now, const QString &detail)
{
    RunDifference result;
    result.step = index;
    result.node = record.step.node;
    result.component = record.step.component;
    result.journalState = toString(journalState);
    result.found = found;
    result.foundVersion = now.isNull() ? QString() : now.toString();
    result.detail = detail;
    return result;
}

// The step was under way and the agent has a job for it: take the job's word.
void takeJob(RunStepRecord &record, int index, const AgentJobStatus &job, const Version &now, bool atTarget,
             Reconciliation &result)
{
    const RunStepState before = record.state;
    record.agentJobId = job.id;
    if (!job.isTerminal()) {
        record.state = RunStepState::Running;
        record.phase = job.phase;
        result.differences.append(difference(
            record, index, before, QStringLiteral("agent_job_running"), now,
            Reconciler::tr("the agent is still running the upgrade (phase %1); following it.").arg(job.phase)));
        result.running.append({index, job.id, record.logNext, job.phase});
        return;
    }
    record.exitCode = job.exitCode;
    record.rebootRequested = job.rebootRequested;
    record.flowKeeping = job.flowKeeping;
    if (!job.versionBefore.isEmpty())
        record.versionBefore = job.versionBefore;
    record.versionAfter = job.versionAfter;
    record.finished = job.finished.isValid() ? job.finished : QDateTime::currentDateTimeUtc();
    record.elapsedMs = record.started.isValid() ? record.started.msecsTo(record.finished) : 0;
    if (job.state == AgentJobState::Succeeded) {
        record.state = RunStepState::Succeeded;
        record.progress = 1;
        record.phase = QStringLiteral("done");
        result.differences.append(difference(
            record, index, before, QStringLiteral("agent_job_succeeded"), now,
            Reconciler::tr("the upgrade finished while the wizard was away (now %1).").arg(job.versionAfter)));
        return;
    }
    record.state = atTarget ? RunStepState::Succeeded : RunStepState::Pending;
    record.error = job.error;
    result.differences.append(difference(
        record, index, before, QStringLiteral("agent_job_failed"), now,
        atTarget ? Reconciler::tr("the agent's job ended as %1, but the node is at %2.")
                       .arg(toString(job.state), now.toString())
                 : Reconciler::tr("the upgrade ended as %1 while the wizard was away (%2); it will be tried again.")
                       .arg(toString(job.state), job.error)));
}

// No job to go by: the node's version decides.
void takeVersion(RunStepRecord &record, int index, const Version &now, bool atTarget,
                 QList<RunDifference> &differences)
{
    const RunStepState before = record.state;
    record.versionAfter = now.toString();
    switch (before) {
    case RunStepState::Succeeded:
        if (!atTarget && !record.rebootNeeded()) {
            record.state = RunStepState::Pending;
            differences.append(difference(record, index, before, QStringLiteral("not_at_target"), now,
                                          Reconciler::tr("the journal says upgraded, but the node runs %1; it will "
                                                         "be upgraded again.")
                                              .arg(now.toString())));
        }
        break;
    case RunStepState::Skipped:
    case RunStepState::AlreadyCurrent:
        break;
    case RunStepState::Failed:
        record.state = atTarget ? RunStepState::Succeeded : RunStepState::Pending;
        differences.append(difference(record, index, before,
                                      atTarget ? QStringLiteral("at_target") : QStringLiteral("not_at_target"), now,
                                      atTarget ? Reconciler::tr("failed before, but the node is at %1 now.")
                                                     .arg(now.toString())
                                               : Reconciler::tr("failed before; it will be tried again.")));
        break;
    case RunStepState::Starting:
    case RunStepState::Running:
    case RunStepState::Pending:
        if (atTarget) {
            record.state = before == RunStepState::Pending ? RunStepState::AlreadyCurrent : RunStepState::Succeeded;
            differences.append(difference(record, index, before, QStringLiteral("at_target"), now,
                                          Reconciler::tr("the node is already at %1; it will not be upgraded again.")
                                              .arg(now.toString())));
        } else {
            if (before != RunStepState::Pending)
                differences.append(difference(record, index, before, QStringLiteral("no_agent_job"), now,
                                              Reconciler::tr("the agent has no upgrade job for it; it will be "
                                                             "started again.")));
            record.state = RunStepState::Pending;
            record.versionBefore = now.toString();
        }
        break;
    }
}

} // namespace

Reconciler::Reconciler(RunContext &context, QObject *parent)
    : QObject(parent)
    , m_context(context)
{
    qRegisterMetaType<ft::ClusterProbe>();
}

void Reconciler::probe()
{
    QStringList nodes;
    for (const RunStepRecord &record : std::as_const(m_context.journal.steps)) {
        if (record.wave >= 0 && !nodes.contains(record.step.node))
            nodes.append(record.step.node);
    }
    struct Gathered
    {
        ClusterProbe probe;
        int pending = 0;
    };
    auto gathered = std::make_shared<Gathered>();
    auto done = [this, gathered] {
        if (--gathered->pending == 0)
            Q_EMIT probed(gathered->probe);
    };
    for (const QString &node : std::as_const(nodes)) {
        const auto endpoint = m_context.endpoint(node);
        if (!endpoint) {
            gathered->probe.unreachable.insert(node, endpoint.error());
            continue;
        }
        gathered->pending += 2;
        auto *fetch = new FetchNodeJob(m_context.client, *endpoint, this);
        connect(fetch, &AgentJob::finished, this, [fetch, node, gathered, done] {
            if (fetch->error() == AgentJob::NoError)
                gathered->probe.nodes.insert(node, fetch->node());
            else
                gathered->probe.unreachable.insert(node, fetch->errorString());
            done();
        });
        auto *list = new ListJobsJob(m_context.client, *endpoint, this);
        connect(list, &AgentJob::finished, this, [list, node, gathered, done] {
            if (list->error() == AgentJob::NoError)
                gathered->probe.jobs.insert(node, list->jobs());
            else
                gathered->probe.unreachable.insert(node, list->errorString());
            done();
        });
        fetch->start();
        list->start();
    }
    if (gathered->pending == 0) {
        ++gathered->pending;
        QMetaObject::invokeMethod(this, done, Qt::QueuedConnection);
    }
}

Reconciliation Reconciler::reconcile(RunJournal &journal, const ClusterProbe &probe)
{
    Reconciliation result;
    const QDateTime runStart = journal.created.addSecs(-120);
    for (int i = 0; i < journal.steps.size(); ++i) {
        RunStepRecord &record = journal.steps[i];
        if (record.wave < 0)
            continue;
        const QString node = record.step.node;
        if (probe.unreachable.contains(node) || !probe.nodes.contains(node)) {
            const QString reason = probe.unreachable.value(node);
            if (!isTerminal(record.state))
                result.differences.append(difference(record, i, record.state, QStringLiteral("no_answer"), Version(),
                                                     tr("the node did not answer (%1); the step waits for it.")
                                                         .arg(reason)));
            if (isUnderway(record.state)) {
                record.state = RunStepState::Failed;
                record.error = tr("The node did not answer when the run was resumed: %1").arg(reason);
            }
            continue;
        }
        const Version now = probe.nodes.value(node).component(record.step.component).version;
        const bool atTarget = !now.isNull() && now >= record.step.toVersion;
        const std::optional<AgentJobStatus> job = jobOf(record, probe.jobs.value(node), runStart);
        if (isUnderway(record.state) && job)
            takeJob(record, i, *job, now, atTarget, result);
        else
            takeVersion(record, i, now, atTarget, result.differences);
    }
    return result;
}

} // namespace ft


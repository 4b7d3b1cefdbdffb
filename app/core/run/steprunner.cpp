#include "run/steprunner.h"

#include "agentlink/agentjobs.h"
#include "agentlink/agentjobwatcher.h"
#include "support/logging.h"

#include <QPointer>

#include <algorithm>

namespace ft {

namespace {

void addPhase(PhaseDurations &phases, const QString &phase, qint64 ms)
{
    if (ms <= 0)
        return;
    if (phase == QLatin1String("stopping"))
        phases.stoppingMs += ms;
    else if (phase == QLatin1String("installing"))
        phases.installingMs += ms;
    else if (phase == QLatin1String("starting"))
        phases.startingMs += ms;
    else if (phase == QLatin1String("checking"))
        phases.checkingMs += ms;
}

} // namespace

struct StepRunner::StepRuntime
{
    AgentEndpoint endpoint;
    QPointer<AgentJobWatcher> watcher;
    QString phase;
    QDateTime phaseStarted;
    bool slowWarned = false;
    std::unique_ptr<QTimer> flowTimer;
    QDateTime flowsSince;
    QDateTime flowWaitStarted;
    bool flowProbe = false;
};

StepRunner::StepRunner(RunContext &context, QObject *parent)
    : QObject(parent)
    , m_context(context)
{
    qRegisterMetaType<ft::RunStepProgress>();
    m_tick.setInterval(1000);
    connect(&m_tick, &QTimer::timeout, this, &StepRunner::tick);
}

StepRunner::~StepRunner()
{
    for (const auto &runtime : std::as_const(m_runtime)) {
        if (runtime->watcher)
            runtime->watcher->disconnect(this);
    }
}

RunStepProgress StepRunner::progress(int index) const
{
    RunStepProgress progress;
    const RunStepRecord &record = m_context.journal.steps.at(index);
    progress.state = record.state;
    progress.phase = record.phase;
    progress.progress = record.progress;
    progress.estimateMs = record.step.estimate.totalMs;
    progress.lastLogLine = record.lastLogLine;
    const bool running = record.state == RunStepState::Starting || record.state == RunStepState::Running;
    progress.elapsedMs = running && record.started.isValid()
                             ? record.started.msecsTo(QDateTime::currentDateTimeUtc())
                             : record.elapsedMs;
    if (const auto runtime = m_runtime.value(index))
        progress.slow = runtime->slowWarned && running;
    return progress;
}

void StepRunner::publish(int index)
{
    Q_EMIT stepChanged(index, progress(index));
}

int StepRunner::timeoutSecondsFor(const RunStepRecord &record) const
{
    if (m_context.options.installerTimeoutSeconds > 0)
        return m_context.options.installerTimeoutSeconds;
    return int(std::max<qint64>(600, record.step.estimate.totalMs * 4 / 1000));
}

void StepRunner::run(int index)
{
    RunStepRecord &record = this->record(index);
    auto runtime = std::make_shared<StepRuntime>();
    m_runtime.insert(index, runtime);
    record.state = RunStepState::Starting;
    record.attempts += 1;
    record.started = QDateTime::currentDateTimeUtc();
    record.finished = {};
    record.phase.clear();
    record.progress = 0;
    record.agentJobId.clear();
    record.logNext = 0;
    record.phases = {};
    record.elapsedMs = 0;
    record.exitCode.reset();
    record.rebootRequested = false;
    record.flowsResumed.reset();
    record.flowKeeping.reset();
    record.error.clear();
    record.lastLogLine.clear();
    // Written before asking, so a crash right after is found on resume by the job list.
    Q_EMIT journalChanged();
    note(tr("Upgrading %1 to %2 with %3 (attempt %4).")
             .arg(runStepName(record), record.step.toVersion.toString(), record.step.packageFile)
             .arg(record.attempts));
    publish(index);

    const auto endpoint = m_context.endpoint(record.step.node);
    if (!endpoint) {
        failLater(index, endpoint.error());
        return;
    }
    runtime->endpoint = *endpoint;
    UpgradeRequest request;
    request.component = record.step.component;
    request.package = record.step.packageFile;
    request.timeoutSeconds = timeoutSecondsFor(record);
    if (const RunPackage *package = m_context.journal.package(record.step.packageFile))
        request.installerArguments = package->installerArguments;
    request.keepFlows = record.step.impact.keepFlows;
    auto *job = new StartUpgradeJob(m_context.client, *endpoint, request, this);
    connect(job, &AgentJob::finished, this, [this, job, index] {
        if (job->error() != AgentJob::NoError) {
            completeStep(index, RunStepState::Failed, job->errorString());
            return;
        }
        RunStepRecord &record = this->record(index);
        record.agentJobId = job->jobId();
        record.state = RunStepState::Running;
        Q_EMIT journalChanged();
        note(tr("%1: agent job %2.").arg(runStepName(record), job->jobId()));
        followJob(index, job->jobId(), 0);
    });
    job->start();
}

void StepRunner::follow(int index, const QString &jobId, qint64 logSince, const QString &phase)
{
    auto runtime = std::make_shared<StepRuntime>();
    m_runtime.insert(index, runtime);
    const auto endpoint = m_context.endpoint(record(index).step.node);
    if (!endpoint) {
        failLater(index, endpoint.error());
        return;
    }
    runtime->endpoint = *endpoint;
    runtime->phase = phase;
    runtime->phaseStarted = QDateTime::currentDateTimeUtc();
    followJob(index, jobId, logSince);
}

void StepRunner::failLater(int index, const QString &error)
{
    // Queued: the step's end is never announced inside run() or follow().
    QMetaObject::invokeMethod(this, [this, index, error] { completeStep(index, RunStepState::Failed, error); },
                              Qt::QueuedConnection);
}

void StepRunner::followJob(int index, const QString &jobId, qint64 since)
{
    auto runtime = m_runtime.value(index);
    auto *watcher = new AgentJobWatcher(m_context.client, runtime->endpoint, jobId, this);
    watcher->setAutoDelete(true);
    watcher->setSince(since);
    watcher->setPollWait(std::chrono::milliseconds(m_context.options.pollWaitMs));
    runtime->watcher = watcher;
    connect(watcher, &AgentJobWatcher::statusChanged, this,
            [this, index](const AgentJobStatus &status) { onJobStatus(index, status); });
    connect(watcher, &AgentJobWatcher::logLines, this, [this, index](const QList<AgentLogLine> &lines) {
        RunStepRecord &record = this->record(index);
        QStringList text;
        text.reserve(lines.size());
        for (const AgentLogLine &line : lines) {
            text.append(line.line);
            record.logNext = std::max(record.logNext, line.n + 1);
        }
        if (!text.isEmpty())
            record.lastLogLine = text.constLast();
        Q_EMIT logLines(index, text);
    });
    connect(watcher, &AgentJobWatcher::retrying, this, [this, index](const QString &reason) {
        note(tr("%1: the agent did not answer, trying again (%2).").arg(runStepName(record(index)), reason), true);
    });
    connect(watcher, &AgentJobWatcher::finished, this,
            [this, index](AgentJobWatcher *done) { onJobFinished(index, done); });
    watcher->start();
}

void StepRunner::onJobStatus(int index, const AgentJobStatus &status)
{
    RunStepRecord &record = this->record(index);
    auto runtime = m_runtime.value(index);
    const QDateTime now = QDateTime::currentDateTimeUtc();
    record.progress = status.progress;
    if (!status.versionBefore.isEmpty())
        record.versionBefore = status.versionBefore;
    if (runtime && status.phase != runtime->phase) {
        if (runtime->phaseStarted.isValid())
            addPhase(record.phases, runtime->phase, runtime->phaseStarted.msecsTo(now));
        runtime->phase = status.phase;
        runtime->phaseStarted = now;
        record.phase = status.phase;
        note(tr("%1: %2.").arg(runStepName(record), status.phase));
        Q_EMIT journalChanged();
    }
    publish(index);
}

void StepRunner::onJobFinished(int index, AgentJobWatcher *watcher)
{
    RunStepRecord &record = this->record(index);
    auto runtime = m_runtime.value(index);
    const QDateTime now = QDateTime::currentDateTimeUtc();
    if (runtime && runtime->phaseStarted.isValid()) {
        addPhase(record.phases, runtime->phase, runtime->phaseStarted.msecsTo(now));
        runtime->phaseStarted = {};
    }
    if (watcher->hasStatus() && watcher->status().phases.size() > 1) {
        // The agent's own phase start times are exact, even for phases too short to
        // be seen between two polls; they replace what the polls observed.
        const QList<AgentJobPhase> &phases = watcher->status().phases;
        PhaseDurations measured;
        for (qsizetype i = 0; i + 1 < phases.size(); ++i)
            addPhase(measured, phases.at(i).phase, phases.at(i).started.msecsTo(phases.at(i + 1).started));
        record.phases = measured;
    }
    if (watcher->error() != AgentJob::NoError || !watcher->hasStatus()) {
        completeStep(index, RunStepState::Failed,
                     tr("Lost track of the agent's job %1: %2").arg(watcher->jobId(), watcher->errorString()));
        return;
    }
    const AgentJobStatus &status = watcher->status();
    record.exitCode = status.exitCode;
    record.rebootRequested = status.rebootRequested;
    record.flowKeeping = status.flowKeeping;
    if (!status.versionBefore.isEmpty())
        record.versionBefore = status.versionBefore;
    record.versionAfter = status.versionAfter;
    if (status.state != AgentJobState::Succeeded) {
        QString error = status.error;
        if (error.isEmpty())
            error = tr("The agent's job ended as %1.").arg(toString(status.state));
        completeStep(index, RunStepState::Failed, error);
        return;
    }
    if (record.step.component == Component::Server && record.step.impact.receivesFlows) {
        waitForFlows(index, status.finished.isValid() ? status.finished : now);
        return;
    }
    completeStep(index, RunStepState::Succeeded);
}

void StepRunner::waitForFlows(int index, const QDateTime &since)
{
    RunStepRecord &record = this->record(index);
    auto runtime = m_runtime.value(index);
    record.phase = QStringLiteral("flows");
    note(tr("%1: waiting for flows to arrive again.").arg(runStepName(record)));
    Q_EMIT journalChanged();
    publish(index);
    runtime->flowsSince = since;
    runtime->flowWaitStarted = QDateTime::currentDateTimeUtc();
    runtime->flowTimer = std::make_unique<QTimer>();
    runtime->flowTimer->setInterval(1000);
    connect(runtime->flowTimer.get(), &QTimer::timeout, this, [this, index] { probeFlows(index); });
    runtime->flowTimer->start();
}

void StepRunner::probeFlows(int index)
{
    auto runtime = m_runtime.value(index);
    if (!runtime || runtime->flowProbe)
        return;
    const qint64 timeoutMs = m_context.options.flowResumeTimeoutMs;
    if (runtime->flowWaitStarted.msecsTo(QDateTime::currentDateTimeUtc()) > timeoutMs) {
        runtime->flowTimer->stop();
        RunStepRecord &record = this->record(index);
        record.flowsResumed = false;
        note(tr("%1: no flows arrived within %2 after the restart; check the exporters.")
                 .arg(runStepName(record), formatDuration(timeoutMs)),
             true);
        completeStep(index, RunStepState::Succeeded);
        return;
    }
    runtime->flowProbe = true;
    auto *fetch = new FetchNodeJob(m_context.client, runtime->endpoint, this);
    connect(fetch, &AgentJob::finished, this, [this, fetch, index] {
        auto runtime = m_runtime.value(index);
        if (!runtime)
            return;
        runtime->flowProbe = false;
        const NodeStatus &node = fetch->node();
        if (fetch->error() == AgentJob::NoError && node.lastFlowAt.isValid() && node.lastFlowAt > runtime->flowsSince
            && runtime->flowTimer && runtime->flowTimer->isActive()) {
            runtime->flowTimer->stop();
            record(index).flowsResumed = true;
            note(tr("%1: flows arrive again.").arg(runStepName(record(index))));
            completeStep(index, RunStepState::Succeeded);
        }
    });
    fetch->start();
}

void StepRunner::completeStep(int index, RunStepState newState, const QString &error)
{
    RunStepRecord &record = this->record(index);
    if (isTerminal(record.state) || record.state == RunStepState::Failed)
        return;
    record.state = newState;
    record.finished = QDateTime::currentDateTimeUtc();
    record.elapsedMs = record.started.isValid() ? record.started.msecsTo(record.finished) : 0;
    record.error = error;
    if (newState == RunStepState::Succeeded) {
        record.progress = 1;
        record.phase = QStringLiteral("done");
    }
    if (auto runtime = m_runtime.value(index))
        runtime->flowTimer.reset();
    if (!record.phases.isEmpty())
        recordHistory(index, newState == RunStepState::Succeeded ? StepOutcome::Succeeded : StepOutcome::Failed);
    Q_EMIT journalChanged();
    const QString name = runStepName(record);
    if (newState == RunStepState::Succeeded) {
        note(tr("%1: upgraded from %2 to %3 in %4 (estimate %5).")
                 .arg(name, record.versionBefore, record.versionAfter, formatDuration(record.elapsedMs),
                      formatDuration(record.step.estimate.totalMs)));
        if (record.rebootNeeded())
            note(tr("%1: the installer asked for a reboot and the version did not change: reboot %2.")
                     .arg(name, record.step.node),
                 true);
        else if (record.rebootRequested)
            note(tr("%1: the installer asked for a reboot, but the version changed, so none is needed.").arg(name));
    } else {
        note(tr("%1 failed after %2: %3").arg(name, formatDuration(record.elapsedMs), error), true);
    }
    publish(index);
    Q_EMIT stepEnded(index, newState);
}

void StepRunner::recordHistory(int index, StepOutcome outcome)
{
    DurationHistory *history = m_context.history;
    if (!history || !history->isOpen())
        return;
    const RunStepRecord &record = m_context.journal.steps.at(index);
    MeasuredStep measured;
    measured.clusterId = m_context.options.clusterId.isEmpty() ? m_context.journal.clusterId
                                                               : m_context.options.clusterId;
    measured.node = record.step.node;
    measured.os = record.step.os;
    measured.component = record.step.component;
    measured.phases = record.phases;
    measured.totalMs = record.phases.totalMs();
    measured.outcome = outcome;
    measured.recordedAt = QDateTime::currentDateTimeUtc();
    if (Result recorded = history->record(measured); !recorded)
        note(tr("Cannot record the step's durations: %1").arg(recorded.error()), true);
}

void StepRunner::tick()
{
    const QDateTime now = QDateTime::currentDateTimeUtc();
    const RunOptions &options = m_context.options;
    for (int i = 0; i < m_context.journal.steps.size(); ++i) {
        const RunStepRecord &record = m_context.journal.steps.at(i);
        if (record.state != RunStepState::Starting && record.state != RunStepState::Running)
            continue;
        publish(i);
        auto runtime = m_runtime.value(i);
        if (!runtime || runtime->slowWarned || !record.started.isValid())
            continue;
        const qint64 elapsed = record.started.msecsTo(now);
        const qint64 threshold = qint64(double(record.step.estimate.totalMs) * options.slowFactor)
                                 + options.slowGraceMs;
        if (elapsed <= threshold)
            continue;
        runtime->slowWarned = true;
        QString sentence = tr("%1 is taking longer than expected: %2 so far against an estimate of %3. "
                              "Phase: %4.")
                               .arg(runStepName(record), formatDuration(elapsed),
                                    formatDuration(record.step.estimate.totalMs),
                                    record.phase.isEmpty() ? tr("starting the job") : record.phase);
        if (!record.lastLogLine.isEmpty())
            sentence += QLatin1Char(' ') + tr("Last log line: \"%1\".").arg(record.lastLogLine);
        sentence += QLatin1Char(' ') + tr("The agent stops the installer after %1.")
                                           .arg(formatDuration(qint64(timeoutSecondsFor(record)) * 1000));
        note(sentence, true);
        Q_EMIT stepSlow(i, sentence);
        publish(i);
    }
}

} // namespace ft

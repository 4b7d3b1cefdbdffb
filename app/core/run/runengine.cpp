#include "run/runengine.h"

#include "agentlink/agentjobwatcher.h"
#include "support/logging.h"
#include "packages/packageserver.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QSet>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>

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

bool isEnd(RunState state)
{
    return state == RunState::Completed || state == RunState::Halted || state == RunState::Aborted;
}

} // namespace

struct RunEngine::StepRuntime
{
    AgentEndpoint endpoint;
    QPointer<AgentJobWatcher> watcher;
    QString phase;
    QDateTime phaseStarted;
    bool slowWarned = false;
    bool decisionAsked = false;
    bool haltOnFailure = false; // the policy (or the limit) says halt
    std::unique_ptr<QTimer> flowTimer;
    QDateTime flowsSince;
    QDateTime flowWaitStarted;
    bool flowProbe = false;
};

struct RunEngine::StageRuntime
{
    AgentEndpoint endpoint;
    QPointer<AgentJobWatcher> watcher;
    int record = -1;
};

RunEngine::RunEngine(AgentClient *client, QObject *parent)
    : QObject(parent)
    , m_client(client)
{
    qRegisterMetaType<ft::RunStepProgress>();
    qRegisterMetaType<ft::RunState>();
    m_tick.setInterval(1000);
    connect(&m_tick, &QTimer::timeout, this, &RunEngine::tick);
}

RunEngine::~RunEngine()
{
    for (const auto &runtime : std::as_const(m_runtime)) {
        if (runtime->watcher)
            runtime->watcher->disconnect(this);
    }
    for (const auto &stage : std::as_const(m_staging)) {
        if (stage->watcher)
            stage->watcher->disconnect(this);
    }
    if (m_audit)
        m_audit->flush();
}

QString RunEngine::auditLogPath() const
{
    if (!m_options.auditLogPath.isEmpty())
        return m_options.auditLogPath;
    return m_options.journalPath.isEmpty() ? QString() : m_options.journalPath + QStringLiteral(".log");
}

Result RunEngine::prepare(const UpgradePlan &plan, const UpgradeTarget &target,
                          const QStringList &customizationsAcknowledged, const QString &noticeSent)
{
    if (m_started)
        return makeError(tr("This run has already started."));
    if (m_options.journalPath.isEmpty())
        return makeError(tr("Say where the run journal goes."));
    if (plan.nothingToDo())
        return makeError(tr("The plan has nothing to upgrade."));
    QList<RunPackage> packages;
    for (Component component : {Component::Server, Component::Nbi, Component::WebUi}) {
        const std::optional<PackageChoice> &choice = target.package(component);
        if (!choice)
            continue;
        if (!QFileInfo(choice->filePath).isFile())
            return makeError(tr("The package %1 is not there any more.").arg(choice->filePath));
        if (choice->sha256.isEmpty() || choice->size <= 0)
            return makeError(tr("The package %1 has not been checked yet (its SHA-256 is not known).")
                                 .arg(choice->filePath));
        RunPackage package;
        package.component = component;
        package.path = QFileInfo(choice->filePath).absoluteFilePath();
        package.fileName = choice->fileName();
        package.sha256 = choice->sha256;
        package.size = choice->size;
        package.version = choice->version.toString();
        packages.append(package);
    }
    RunJournal journal = RunJournal::fromPlan(plan, packages);
    for (const RunStepRecord &record : journal.steps) {
        if (record.wave >= 0 && !journal.package(record.step.packageFile))
            return makeError(tr("The plan installs %1 on %2, but no such package was chosen.")
                                 .arg(record.step.packageFile, record.step.node));
    }
    journal.clusterId = m_options.clusterId;
    journal.customizationsAcknowledged = customizationsAcknowledged;
    journal.noticeSent = noticeSent;
    journal.auditLogPath = auditLogPath();
    m_journal = journal;
    m_prepared = true;
    m_resuming = false;
    audit(tr("Run %1 prepared: %2 steps in %3 waves, %4 packages to stage on %5 nodes.")
              .arg(m_journal.runId)
              .arg(plan.stepCount())
              .arg(plan.waves.size())
              .arg(m_journal.stage.size())
              .arg(plan.stage.size()));
    if (Result saved = m_journal.save(m_options.journalPath); !saved)
        return saved;
    return {};
}

Result RunEngine::resumeFrom(const RunJournal &journal)
{
    if (m_started)
        return makeError(tr("This run has already started."));
    if (m_options.journalPath.isEmpty())
        return makeError(tr("Say where the run journal goes."));
    for (const RunPackage &package : journal.packages) {
        const QFileInfo info(package.path);
        if (!info.isFile() || info.size() != package.size)
            return makeError(tr("The package %1 of this run is missing or changed; the run cannot be "
                                "resumed with it.")
                                 .arg(package.path));
    }
    m_journal = journal;
    if (m_journal.auditLogPath.isEmpty())
        m_journal.auditLogPath = auditLogPath();
    if (m_options.clusterId.isEmpty())
        m_options.clusterId = m_journal.clusterId;
    m_prepared = true;
    m_resuming = true;
    audit(tr("Resuming run %1 (it was %2).").arg(m_journal.runId, toString(journal.state)));
    return {};
}

void RunEngine::start()
{
    if (m_started || !m_prepared) {
        audit(tr("start() ignored: the run is %1.").arg(m_started ? tr("started already") : tr("not prepared")),
              true);
        return;
    }
    m_started = true;
    QTimer::singleShot(0, this, [this] {
        m_server = new PackageServer(this);
        m_server->setAdvertisedHost(m_options.advertisedHost);
        m_server->setTlsConfiguration(m_options.tls);
        if (Result listening = m_server->listen(m_options.serveAddress, m_options.servePort); !listening) {
            finishRun(RunState::Halted, listening.error());
            return;
        }
        for (const RunPackage &package : std::as_const(m_journal.packages)) {
            const auto url = m_server->addFile(package.path);
            if (!url) {
                finishRun(RunState::Halted, url.error());
                return;
            }
            m_packageUrls.insert(package.fileName, *url);
        }
        audit(tr("Serving %1 packages over %2 on %3 port %4.")
                  .arg(m_journal.packages.size())
                  .arg(m_server->isTls() ? QStringLiteral("HTTPS") : QStringLiteral("HTTP"))
                  .arg(m_server->address().toString())
                  .arg(m_server->port()));
        if (m_resuming)
            reconcile();
        else
            startStaging();
    });
}

void RunEngine::pause()
{
    if (isEnd(state()) || m_abortRequested)
        return;
    m_pauseRequested = true;
    audit(tr("Pause asked."));
    if (state() == RunState::Running || state() == RunState::WaitingForDecision) {
        setState(anyStepRunning() ? RunState::Pausing : RunState::Paused,
                 anyStepRunning() ? tr("Pausing once the running steps have finished.")
                                  : tr("Paused; no service is stopped."));
        QMetaObject::invokeMethod(this, &RunEngine::advance, Qt::QueuedConnection);
    }
}

void RunEngine::resume()
{
    if (!m_pauseRequested)
        return;
    m_pauseRequested = false;
    audit(tr("Resume asked."));
    if (state() == RunState::Paused || state() == RunState::Pausing) {
        setState(RunState::Running);
        QMetaObject::invokeMethod(this, &RunEngine::advance, Qt::QueuedConnection);
    }
}

void RunEngine::abort()
{
    if (isEnd(state()) || m_abortRequested)
        return;
    m_abortRequested = true;
    audit(tr("Abort asked."), true);
    if (state() == RunState::Staging || state() == RunState::Reconciling) {
        // Nothing is stopped while staging: cancel the downloads right away.
        for (const auto &stage : std::as_const(m_staging)) {
            if (!stage->watcher)
                continue;
            auto *cancel = new CancelJobJob(m_client, stage->endpoint, stage->watcher->jobId(), this);
            cancel->start();
        }
        if (!m_prepared || (m_staging.isEmpty() && state() == RunState::Staging))
            QMetaObject::invokeMethod(this, [this] { finishRun(RunState::Aborted, tr("Aborted.")); },
                                      Qt::QueuedConnection);
        return;
    }
    if (!m_started || state() == RunState::Idle) {
        QMetaObject::invokeMethod(this, [this] { finishRun(RunState::Aborted, tr("Aborted before it started.")); },
                                  Qt::QueuedConnection);
        return;
    }
    if (anyStepRunning())
        setState(RunState::Aborting, tr("Aborting once the running steps have finished; no service is "
                                        "left stopped."));
    QMetaObject::invokeMethod(this, &RunEngine::advance, Qt::QueuedConnection);
}

Result RunEngine::decide(int index, RunDecision decision, const QString &by)
{
    if (index < 0 || index >= m_journal.steps.size())
        return makeError(tr("There is no step %1.").arg(index));
    RunStepRecord &record = m_journal.steps[index];
    if (record.state != RunStepState::Failed)
        return makeError(tr("%1 has not failed; there is nothing to decide.").arg(stepName(record)));
    if (decision == RunDecision::Defer && record.deferred && m_wave >= m_journal.plan.waves.size())
        return makeError(tr("%1 already runs at the end; retry or skip it.").arg(stepName(record)));
    record.decisions.append({decision, QDateTime::currentDateTimeUtc(),
                             by.isEmpty() ? QStringLiteral("administrator") : by});
    switch (decision) {
    case RunDecision::Retry:
        record.state = RunStepState::Pending;
        audit(tr("%1: retry.").arg(stepName(record)));
        break;
    case RunDecision::Skip:
        record.state = RunStepState::Skipped;
        audit(tr("%1: skipped; %2 stays on %3 (flagged).")
                  .arg(stepName(record), record.step.node,
                       record.versionAfter.isEmpty() ? record.versionBefore : record.versionAfter),
              true);
        break;
    case RunDecision::Defer:
        record.state = RunStepState::Pending;
        record.deferred = true;
        audit(tr("%1: deferred to the end of the run.").arg(stepName(record)));
        break;
    case RunDecision::Abort:
        m_abortRequested = true;
        audit(tr("%1: abort the run.").arg(stepName(record)), true);
        break;
    }
    if (auto runtime = m_runtime.value(index))
        runtime->decisionAsked = false;
    saveJournal();
    emitStep(index);
    if (state() == RunState::WaitingForDecision && decision != RunDecision::Abort)
        setState(m_pauseRequested ? RunState::Paused : RunState::Running);
    QMetaObject::invokeMethod(this, &RunEngine::advance, Qt::QueuedConnection);
    return {};
}

RunStepProgress RunEngine::progress(int index) const
{
    RunStepProgress progress;
    const RunStepRecord &record = m_journal.steps.at(index);
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

bool RunEngine::allUpgraded() const
{
    if (state() != RunState::Completed)
        return false;
    for (const RunStepRecord &record : m_journal.steps) {
        if (record.wave < 0)
            continue;
        if (record.state != RunStepState::Succeeded && record.state != RunStepState::AlreadyCurrent)
            return false;
        if (record.rebootNeeded())
            return false;
    }
    return true;
}

bool RunEngine::rebootNeeded() const
{
    for (const RunStepRecord &record : m_journal.steps) {
        if (record.rebootNeeded())
            return true;
    }
    return false;
}

// ---- state, journal, audit ---------------------------------------------------------------

void RunEngine::setState(RunState newState, const QString &sentence)
{
    if (m_journal.state == newState && m_journal.stateSentence == sentence)
        return;
    m_journal.state = newState;
    m_journal.stateSentence = sentence;
    saveJournal();
    audit(sentence.isEmpty() ? tr("Run state: %1.").arg(displayName(newState))
                             : tr("Run state: %1. %2").arg(displayName(newState), sentence),
          newState == RunState::Halted || newState == RunState::Aborted);
    Q_EMIT stateChanged(newState);
}

void RunEngine::saveJournal()
{
    m_journal.updated = QDateTime::currentDateTimeUtc();
    if (Result saved = m_journal.save(m_options.journalPath); !saved)
        audit(saved.error(), true);
}

void RunEngine::audit(const QString &sentence, bool warning)
{
    if (!m_audit && !auditLogPath().isEmpty()) {
        try {
            QDir().mkpath(QFileInfo(auditLogPath()).absolutePath());
            auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(auditLogPath().toStdString(), false);
            m_audit = std::make_shared<spdlog::logger>("run", sink);
            m_audit->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ [%l] %v", spdlog::pattern_time_type::utc);
            m_audit->flush_on(spdlog::level::info);
        } catch (const spdlog::spdlog_ex &error) {
            logging::logger()->error("Cannot open the run's audit log {}: {}",
                                     auditLogPath().toStdString(), error.what());
        }
    }
    const std::string line = (m_journal.runId.isEmpty() ? QString() : m_journal.runId.left(8) + QLatin1Char(' '))
                                 .toStdString()
                             + sentence.toStdString();
    if (m_audit)
        m_audit->log(warning ? spdlog::level::warn : spdlog::level::info, line);
    logging::logger()->log(warning ? spdlog::level::warn : spdlog::level::info, line);
    Q_EMIT activity(sentence);
}

void RunEngine::finishRun(RunState endState, const QString &sentence)
{
    if (isEnd(state()))
        return;
    m_tick.stop();
    if (m_server)
        m_server->close();
    setState(endState, sentence);
    QMetaObject::invokeMethod(this, [this] { Q_EMIT finished(); }, Qt::QueuedConnection);
}

QString RunEngine::stepName(const RunStepRecord &record) const
{
    return tr("%1 on %2").arg(displayName(record.step.component), record.step.node);
}

// ---- reconciliation ------------------------------------------------------------------------

void RunEngine::reconcile()
{
    setState(RunState::Reconciling, tr("Re-probing every node and comparing it with the journal."));
    QStringList nodes;
    for (const RunStepRecord &record : std::as_const(m_journal.steps)) {
        if (record.wave >= 0 && !nodes.contains(record.step.node))
            nodes.append(record.step.node);
    }
    struct Gathered
    {
        QHash<QString, NodeStatus> nodes;
        QHash<QString, QList<AgentJobStatus>> jobs;
        QHash<QString, QString> unreachable;
        int pending = 0;
    };
    auto gathered = std::make_shared<Gathered>();
    auto done = [this, gathered] {
        if (--gathered->pending == 0)
            applyReconciliation(gathered->nodes, gathered->jobs, gathered->unreachable);
    };
    for (const QString &node : std::as_const(nodes)) {
        const auto endpoint = m_lookup ? m_lookup(node) : Expected<AgentEndpoint>(makeError(tr("no address")));
        if (!endpoint) {
            gathered->unreachable.insert(node, endpoint.error());
            continue;
        }
        gathered->pending += 2;
        auto *fetch = new FetchNodeJob(m_client, *endpoint, this);
        connect(fetch, &AgentJob::finished, this, [fetch, node, gathered, done] {
            if (fetch->error() == AgentJob::NoError)
                gathered->nodes.insert(node, fetch->node());
            else
                gathered->unreachable.insert(node, fetch->errorString());
            done();
        });
        auto *list = new ListJobsJob(m_client, *endpoint, this);
        connect(list, &AgentJob::finished, this, [list, node, gathered, done] {
            if (list->error() == AgentJob::NoError)
                gathered->jobs.insert(node, list->jobs());
            else
                gathered->unreachable.insert(node, list->errorString());
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

void RunEngine::applyReconciliation(const QHash<QString, NodeStatus> &nodes,
                                    const QHash<QString, QList<AgentJobStatus>> &jobs,
                                    const QHash<QString, QString> &unreachable)
{
    if (m_abortRequested) {
        finishRun(RunState::Aborted, tr("Aborted."));
        return;
    }
    QStringList differences;
    const QDateTime runStart = m_journal.created.addSecs(-120);
    for (int i = 0; i < m_journal.steps.size(); ++i) {
        RunStepRecord &record = m_journal.steps[i];
        if (record.wave < 0)
            continue;
        const QString node = record.step.node;
        const QString name = stepName(record);
        if (unreachable.contains(node) || !nodes.contains(node)) {
            if (!isTerminal(record.state))
                differences.append(tr("%1: the node did not answer (%2); the step waits for it.")
                                       .arg(name, unreachable.value(node)));
            if (record.state == RunStepState::Starting || record.state == RunStepState::Running) {
                record.state = RunStepState::Failed;
                record.error = tr("The node did not answer when the run was resumed: %1").arg(unreachable.value(node));
            }
            continue;
        }
        const NodeStatus &status = nodes.value(node);
        const Version now = status.component(record.step.component).version;
        const bool atTarget = !now.isNull() && now >= record.step.toVersion;

        // The agent's record of this step's job, by id or (killed before the id was
        // written) by what it installs.
        std::optional<AgentJobStatus> job;
        const QList<AgentJobStatus> nodeJobs = jobs.value(node);
        if (!record.agentJobId.isEmpty()) {
            for (const AgentJobStatus &candidate : nodeJobs) {
                if (candidate.id == record.agentJobId)
                    job = candidate;
            }
        } else if (record.state == RunStepState::Starting || record.state == RunStepState::Running) {
            for (const AgentJobStatus &candidate : nodeJobs) {
                if (candidate.kind == QLatin1String("upgrade")
                    && candidate.component == toString(record.step.component)
                    && candidate.package == record.step.packageFile
                    && (!candidate.created.isValid() || candidate.created >= runStart)) {
                    job = candidate; // newest first
                    break;
                }
            }
        }

        const RunStepState before = record.state;
        if ((before == RunStepState::Starting || before == RunStepState::Running) && job) {
            record.agentJobId = job->id;
            if (!job->isTerminal()) {
                record.state = RunStepState::Running;
                record.phase = job->phase;
                differences.append(tr("%1: the agent is still running the upgrade (phase %2); following it.")
                                       .arg(name, job->phase));
                auto runtime = std::make_shared<StepRuntime>();
                runtime->endpoint = *m_lookup(node);
                runtime->phase = job->phase;
                runtime->phaseStarted = QDateTime::currentDateTimeUtc();
                m_runtime.insert(i, runtime);
                followJob(i, job->id, record.logNext);
                continue;
            }
            record.exitCode = job->exitCode;
            record.rebootRequested = job->rebootRequested;
            if (!job->versionBefore.isEmpty())
                record.versionBefore = job->versionBefore;
            record.versionAfter = job->versionAfter;
            record.finished = job->finished.isValid() ? job->finished : QDateTime::currentDateTimeUtc();
            record.elapsedMs = record.started.isValid() ? record.started.msecsTo(record.finished) : 0;
            if (job->state == AgentJobState::Succeeded) {
                record.state = RunStepState::Succeeded;
                record.progress = 1;
                record.phase = QStringLiteral("done");
                differences.append(tr("%1: the upgrade finished while the wizard was away (now %2).")
                                       .arg(name, job->versionAfter));
            } else {
                record.state = atTarget ? RunStepState::Succeeded : RunStepState::Pending;
                record.error = job->error;
                differences.append(atTarget ? tr("%1: the agent's job ended as %2, but the node is at %3.")
                                                  .arg(name, toString(job->state), now.toString())
                                            : tr("%1: the upgrade ended as %2 while the wizard was away (%3); "
                                                 "it will be tried again.")
                                                  .arg(name, toString(job->state), job->error));
            }
            continue;
        }

        record.versionAfter = now.toString();
        switch (before) {
        case RunStepState::Succeeded:
            if (!atTarget && !record.rebootNeeded()) {
                record.state = RunStepState::Pending;
                differences.append(tr("%1: the journal says upgraded, but the node runs %2; it will be "
                                      "upgraded again.")
                                       .arg(name, now.toString()));
            }
            break;
        case RunStepState::Skipped:
        case RunStepState::AlreadyCurrent:
            break;
        case RunStepState::Failed:
            record.state = atTarget ? RunStepState::Succeeded : RunStepState::Pending;
            differences.append(atTarget ? tr("%1: failed before, but the node is at %2 now.")
                                              .arg(name, now.toString())
                                        : tr("%1: failed before; it will be tried again.").arg(name));
            break;
        case RunStepState::Starting:
        case RunStepState::Running:
        case RunStepState::Pending:
            if (atTarget) {
                record.state = before == RunStepState::Pending ? RunStepState::AlreadyCurrent
                                                               : RunStepState::Succeeded;
                differences.append(tr("%1: the node is already at %2; it will not be upgraded again.")
                                       .arg(name, now.toString()));
            } else {
                if (before != RunStepState::Pending)
                    differences.append(tr("%1: the agent has no upgrade job for it; it will be started "
                                          "again.")
                                           .arg(name));
                record.state = RunStepState::Pending;
                record.versionBefore = now.toString();
            }
            break;
        }
    }
    m_journal.differences = differences;
    for (const QString &difference : std::as_const(differences))
        audit(tr("Reconciled: %1").arg(difference));
    if (differences.isEmpty())
        audit(tr("Reconciled: the nodes are as the journal says."));
    saveJournal();
    for (int i = 0; i < m_journal.steps.size(); ++i)
        emitStep(i);
    if (!differences.isEmpty())
        Q_EMIT differencesFound(differences);
    startStaging();
}

// ---- staging -----------------------------------------------------------------------------

void RunEngine::startStaging()
{
    setState(RunState::Staging, tr("Staging and verifying the packages on every node that needs them; "
                                   "no service is stopped until all of them succeeded."));
    QSet<QString> nodesWithWork;
    for (const RunStepRecord &record : std::as_const(m_journal.steps)) {
        if (record.wave >= 0 && record.state == RunStepState::Pending)
            nodesWithWork.insert(record.step.node);
    }
    m_stageQueue.clear();
    m_stageBytesTotal = 0;
    m_stageBytesDone.clear();
    for (RunStageRecord &record : m_journal.stage) {
        if (!nodesWithWork.contains(record.node))
            continue;
        if (record.state != QLatin1String("staged") || m_resuming)
            record.state = QStringLiteral("pending");
        if (const RunPackage *package = m_journal.package(record.packageFile))
            m_stageBytesTotal += package->size;
        if (!m_stageQueue.contains(record.node))
            m_stageQueue.append(record.node);
    }
    saveJournal();
    pumpStaging();
}

void RunEngine::pumpStaging()
{
    if (m_abortRequested || !m_stageErrors.isEmpty())
        m_stageQueue.clear();
    while (!m_stageQueue.isEmpty() && m_staging.size() < std::max(1, m_options.stageConcurrency))
        stageNode(m_stageQueue.takeFirst());
    if (m_stageQueue.isEmpty() && m_staging.isEmpty())
        stagingDone();
}

void RunEngine::stageNode(const QString &node)
{
    auto runtime = std::make_shared<StageRuntime>();
    m_staging.insert(node, runtime);
    const auto endpoint = m_lookup ? m_lookup(node) : Expected<AgentEndpoint>(makeError(tr("no address")));
    if (!endpoint) {
        m_stageErrors.append(tr("%1: %2").arg(node, endpoint.error()));
        QMetaObject::invokeMethod(this, [this, node] { stageFinished(node, false); }, Qt::QueuedConnection);
        return;
    }
    runtime->endpoint = *endpoint;
    audit(tr("Staging on %1.").arg(node));
    // What the node has staged already (same name and SHA-256) is not fetched again.
    auto *list = new ListStagedJob(m_client, *endpoint, this);
    connect(list, &AgentJob::finished, this, [this, list, node] {
        if (list->error() == AgentJob::NoError) {
            for (RunStageRecord &record : m_journal.stage) {
                if (record.node != node || record.state == QLatin1String("staged"))
                    continue;
                const RunPackage *package = m_journal.package(record.packageFile);
                for (const StagedPackage &staged : list->packages()) {
                    if (package && staged.name == package->fileName
                        && staged.sha256.compare(package->sha256, Qt::CaseInsensitive) == 0) {
                        record.state = QStringLiteral("staged");
                        record.bytes = package->size;
                        m_stageBytesDone.insert(node + QLatin1Char('/') + record.packageFile, package->size);
                        audit(tr("%1 is staged on %2 already.").arg(record.packageFile, node));
                    }
                }
            }
        }
        stageNext(node);
    });
    list->start();
}

void RunEngine::stageNext(const QString &node)
{
    auto runtime = m_staging.value(node);
    if (!runtime)
        return;
    int index = -1;
    for (int i = 0; i < m_journal.stage.size(); ++i) {
        const RunStageRecord &record = m_journal.stage.at(i);
        if (record.node == node && record.state == QLatin1String("pending")) {
            index = i;
            break;
        }
    }
    if (index < 0 || m_abortRequested || !m_stageErrors.isEmpty()) {
        stageFinished(node, index < 0);
        return;
    }
    RunStageRecord &record = m_journal.stage[index];
    const RunPackage *package = m_journal.package(record.packageFile);
    if (!package) {
        record.state = QStringLiteral("failed");
        record.error = tr("No package %1 in this run.").arg(record.packageFile);
        m_stageErrors.append(tr("%1: %2").arg(node, record.error));
        stageFinished(node, false);
        return;
    }
    runtime->record = index;
    StageRequest request;
    request.url = m_packageUrls.value(package->fileName);
    request.sha256 = package->sha256;
    request.size = package->size;
    request.name = package->fileName;
    request.fingerprint = m_server->fingerprint();
    auto *job = new StartStageJob(m_client, runtime->endpoint, request, this);
    connect(job, &AgentJob::finished, this, [this, job, node, index] {
        auto runtime = m_staging.value(node);
        RunStageRecord &record = m_journal.stage[index];
        if (job->error() != AgentJob::NoError) {
            record.state = QStringLiteral("failed");
            record.error = job->errorString();
            m_stageErrors.append(job->errorString());
            saveJournal();
            stageFinished(node, false);
            return;
        }
        record.state = QStringLiteral("running");
        record.agentJobId = job->jobId();
        saveJournal();
        auto *watcher = new AgentJobWatcher(m_client, runtime->endpoint, job->jobId(), this);
        watcher->setAutoDelete(true);
        watcher->setPollWait(std::chrono::milliseconds(m_options.pollWaitMs));
        runtime->watcher = watcher;
        const QString key = node + QLatin1Char('/') + record.packageFile;
        connect(watcher, &AgentJobWatcher::statusChanged, this, [this, key](const AgentJobStatus &status) {
            m_stageBytesDone.insert(key, status.bytesDone);
            qint64 done = 0;
            for (qint64 bytes : std::as_const(m_stageBytesDone))
                done += bytes;
            Q_EMIT stagingProgress(done, m_stageBytesTotal);
        });
        connect(watcher, &AgentJobWatcher::finished, this, [this, node, index, key](AgentJobWatcher *done) {
            RunStageRecord &record = m_journal.stage[index];
            const bool ok = done->error() == AgentJob::NoError && done->hasStatus()
                            && done->status().state == AgentJobState::Succeeded;
            if (ok) {
                record.state = QStringLiteral("staged");
                record.bytes = done->status().bytesTotal;
                audit(tr("%1 staged and verified on %2.").arg(record.packageFile, node));
                stageNext(node);
            } else {
                record.state = QStringLiteral("failed");
                record.error = done->error() != AgentJob::NoError
                                   ? done->errorString()
                                   : (done->status().error.isEmpty()
                                          ? tr("the staging job ended as %1").arg(toString(done->status().state))
                                          : done->status().error);
                m_stageErrors.append(tr("%1: %2").arg(node, record.error));
                audit(tr("Staging %1 on %2 failed: %3").arg(record.packageFile, node, record.error), true);
                saveJournal();
                stageFinished(node, false);
            }
        });
        watcher->start();
    });
    job->start();
}

void RunEngine::stageFinished(const QString &node, bool)
{
    m_staging.remove(node);
    saveJournal();
    pumpStaging();
}

void RunEngine::stagingDone()
{
    if (state() != RunState::Staging)
        return;
    if (m_abortRequested) {
        finishRun(RunState::Aborted, tr("Aborted during staging; no service was stopped."));
        return;
    }
    if (!m_stageErrors.isEmpty()) {
        finishRun(RunState::Halted, tr("Staging failed, so no service was stopped: %1")
                                        .arg(m_stageErrors.join(QLatin1Char(' '))));
        return;
    }
    audit(tr("Every package is staged and verified."));
    m_wave = 0;
    m_tick.start();
    setState(m_pauseRequested ? RunState::Paused : RunState::Running,
             m_pauseRequested ? tr("Paused after staging; no service is stopped.") : QString());
    advance();
}

// ---- steps -------------------------------------------------------------------------------

bool RunEngine::anyStepRunning() const
{
    for (const RunStepRecord &record : m_journal.steps) {
        if (record.state == RunStepState::Starting || record.state == RunStepState::Running)
            return true;
    }
    return false;
}

QList<int> RunEngine::nextSteps()
{
    for (int &wave = m_wave; wave < m_journal.plan.waves.size(); ++wave) {
        QList<int> steps;
        for (int i = 0; i < m_journal.steps.size(); ++i) {
            const RunStepRecord &record = m_journal.steps.at(i);
            if (record.wave == wave && !record.deferred && record.state == RunStepState::Pending)
                steps.append(i);
        }
        if (!steps.isEmpty())
            return steps;
    }
    // Deferred steps run at the end, one at a time.
    for (int i = 0; i < m_journal.steps.size(); ++i) {
        const RunStepRecord &record = m_journal.steps.at(i);
        if (record.deferred && record.state == RunStepState::Pending)
            return {i};
    }
    return {};
}

void RunEngine::advance()
{
    const RunState current = state();
    if (current == RunState::Idle || current == RunState::Reconciling || current == RunState::Staging
        || isEnd(current))
        return;
    if (anyStepRunning()) {
        if (m_abortRequested && current != RunState::Aborting)
            setState(RunState::Aborting, tr("Aborting once the running steps have finished."));
        else if (m_pauseRequested && !m_abortRequested && current != RunState::Pausing)
            setState(RunState::Pausing, tr("Pausing once the running steps have finished."));
        return;
    }
    // A safe point: no service is stopped by this run now.
    if (m_abortRequested) {
        finishRun(RunState::Aborted, tr("Aborted by the administrator; no service was left stopped."));
        return;
    }
    for (int i = 0; i < m_journal.steps.size(); ++i) {
        RunStepRecord &record = m_journal.steps[i];
        if (record.state != RunStepState::Failed)
            continue;
        auto runtime = m_runtime.value(i);
        const QString sentence =
            tr("%1 failed: %2 The rollout is halted before the next outage; no other node was touched.")
                .arg(stepName(record), record.error.isEmpty() ? tr("(no reason given)") : record.error);
        if (m_options.onFailure != FailurePolicy::Ask) {
            finishRun(RunState::Halted, sentence);
            return;
        }
        if (current != RunState::WaitingForDecision)
            setState(RunState::WaitingForDecision, sentence);
        if (!runtime || !runtime->decisionAsked) {
            if (!runtime) {
                runtime = std::make_shared<StepRuntime>();
                m_runtime.insert(i, runtime);
            }
            runtime->decisionAsked = true;
            Q_EMIT decisionNeeded(i, sentence + QLatin1Char(' ')
                                         + tr("Retry, skip (leave %1 on %2, flagged), defer it to the end, "
                                              "or abort?")
                                               .arg(record.step.node, record.versionBefore));
        }
        return;
    }
    if (m_pauseRequested) {
        if (current != RunState::Paused)
            setState(RunState::Paused, tr("Paused; no service is stopped."));
        return;
    }
    const QList<int> next = nextSteps();
    if (next.isEmpty()) {
        finishRun(RunState::Completed, rebootNeeded() ? tr("Every step ended; a node needs a reboot.")
                                                      : tr("Every step ended."));
        return;
    }
    if (current != RunState::Running)
        setState(RunState::Running);
    for (int index : next)
        runStep(index);
}

int RunEngine::timeoutSecondsFor(const RunStepRecord &record) const
{
    if (m_options.installerTimeoutSeconds > 0)
        return m_options.installerTimeoutSeconds;
    return int(std::max<qint64>(600, record.step.estimate.totalMs * 4 / 1000));
}

void RunEngine::runStep(int index)
{
    RunStepRecord &record = m_journal.steps[index];
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
    record.error.clear();
    record.lastLogLine.clear();
    // Written before asking, so a crash right after is found on resume by the job list.
    saveJournal();
    audit(tr("Upgrading %1 to %2 with %3 (attempt %4).")
              .arg(stepName(record), record.step.toVersion.toString(), record.step.packageFile)
              .arg(record.attempts));
    emitStep(index);

    const auto endpoint = m_lookup ? m_lookup(record.step.node)
                                   : Expected<AgentEndpoint>(makeError(tr("no address")));
    if (!endpoint) {
        const QString error = endpoint.error();
        QMetaObject::invokeMethod(this, [this, index, error] { completeStep(index, RunStepState::Failed, error); },
                                  Qt::QueuedConnection);
        return;
    }
    runtime->endpoint = *endpoint;
    UpgradeRequest request;
    request.component = record.step.component;
    request.package = record.step.packageFile;
    request.timeoutSeconds = timeoutSecondsFor(record);
    auto *job = new StartUpgradeJob(m_client, *endpoint, request, this);
    connect(job, &AgentJob::finished, this, [this, job, index] {
        if (job->error() != AgentJob::NoError) {
            completeStep(index, RunStepState::Failed, job->errorString());
            return;
        }
        RunStepRecord &record = m_journal.steps[index];
        record.agentJobId = job->jobId();
        record.state = RunStepState::Running;
        saveJournal();
        audit(tr("%1: agent job %2.").arg(stepName(record), job->jobId()));
        followJob(index, job->jobId(), 0);
    });
    job->start();
}

void RunEngine::followJob(int index, const QString &jobId, qint64 since)
{
    auto runtime = m_runtime.value(index);
    auto *watcher = new AgentJobWatcher(m_client, runtime->endpoint, jobId, this);
    watcher->setAutoDelete(true);
    watcher->setSince(since);
    watcher->setPollWait(std::chrono::milliseconds(m_options.pollWaitMs));
    runtime->watcher = watcher;
    connect(watcher, &AgentJobWatcher::statusChanged, this,
            [this, index](const AgentJobStatus &status) { onJobStatus(index, status); });
    connect(watcher, &AgentJobWatcher::logLines, this, [this, index](const QList<AgentLogLine> &lines) {
        RunStepRecord &record = m_journal.steps[index];
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
        audit(tr("%1: the agent did not answer, trying again (%2).")
                  .arg(stepName(m_journal.steps.at(index)), reason),
              true);
    });
    connect(watcher, &AgentJobWatcher::finished, this,
            [this, index](AgentJobWatcher *done) { onJobFinished(index, done); });
    watcher->start();
}

void RunEngine::onJobStatus(int index, const AgentJobStatus &status)
{
    RunStepRecord &record = m_journal.steps[index];
    auto runtime = m_runtime.value(index);
    const QDateTime now = QDateTime::currentDateTimeUtc();
    record.progress = status.progress;
    if (record.versionBefore.isEmpty() && !status.versionBefore.isEmpty())
        record.versionBefore = status.versionBefore;
    if (!status.versionBefore.isEmpty())
        record.versionBefore = status.versionBefore;
    if (runtime && status.phase != runtime->phase) {
        if (runtime->phaseStarted.isValid())
            addPhase(record.phases, runtime->phase, runtime->phaseStarted.msecsTo(now));
        runtime->phase = status.phase;
        runtime->phaseStarted = now;
        record.phase = status.phase;
        audit(tr("%1: %2.").arg(stepName(record), status.phase));
        saveJournal();
    }
    emitStep(index);
}

void RunEngine::onJobFinished(int index, AgentJobWatcher *watcher)
{
    RunStepRecord &record = m_journal.steps[index];
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

void RunEngine::waitForFlows(int index, const QDateTime &since)
{
    RunStepRecord &record = m_journal.steps[index];
    auto runtime = m_runtime.value(index);
    record.phase = QStringLiteral("flows");
    audit(tr("%1: waiting for flows to arrive again.").arg(stepName(record)));
    saveJournal();
    emitStep(index);
    runtime->flowsSince = since;
    runtime->flowWaitStarted = QDateTime::currentDateTimeUtc();
    runtime->flowTimer = std::make_unique<QTimer>();
    runtime->flowTimer->setInterval(1000);
    QTimer *timer = runtime->flowTimer.get();
    connect(timer, &QTimer::timeout, this, [this, index] {
        auto runtime = m_runtime.value(index);
        if (!runtime || runtime->flowProbe)
            return;
        if (runtime->flowWaitStarted.msecsTo(QDateTime::currentDateTimeUtc()) > m_options.flowResumeTimeoutMs) {
            runtime->flowTimer->stop();
            RunStepRecord &record = m_journal.steps[index];
            record.flowsResumed = false;
            audit(tr("%1: no flows arrived within %2 after the restart; check the exporters.")
                      .arg(stepName(record), formatDuration(m_options.flowResumeTimeoutMs)),
                  true);
            completeStep(index, RunStepState::Succeeded);
            return;
        }
        runtime->flowProbe = true;
        auto *fetch = new FetchNodeJob(m_client, runtime->endpoint, this);
        connect(fetch, &AgentJob::finished, this, [this, fetch, index] {
            auto runtime = m_runtime.value(index);
            if (!runtime)
                return;
            runtime->flowProbe = false;
            const NodeStatus &node = fetch->node();
            if (fetch->error() == AgentJob::NoError && node.lastFlowAt.isValid()
                && node.lastFlowAt > runtime->flowsSince && runtime->flowTimer
                && runtime->flowTimer->isActive()) {
                runtime->flowTimer->stop();
                m_journal.steps[index].flowsResumed = true;
                audit(tr("%1: flows arrive again.").arg(stepName(m_journal.steps.at(index))));
                completeStep(index, RunStepState::Succeeded);
            }
        });
        fetch->start();
    });
    timer->start();
}

void RunEngine::completeStep(int index, RunStepState newState, const QString &error)
{
    RunStepRecord &record = m_journal.steps[index];
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
    saveJournal();
    if (newState == RunStepState::Succeeded) {
        audit(tr("%1: upgraded from %2 to %3 in %4 (estimate %5).")
                  .arg(stepName(record), record.versionBefore, record.versionAfter,
                       formatDuration(record.elapsedMs), formatDuration(record.step.estimate.totalMs)));
        if (record.rebootNeeded())
            audit(tr("%1: the installer asked for a reboot and the version did not change: reboot %2.")
                      .arg(stepName(record), record.step.node),
                  true);
        else if (record.rebootRequested)
            audit(tr("%1: the installer asked for a reboot, but the version changed, so none is needed.")
                      .arg(stepName(record)));
    } else {
        audit(tr("%1 failed after %2: %3").arg(stepName(record), formatDuration(record.elapsedMs), error), true);
    }
    emitStep(index);
    if (newState == RunStepState::Failed)
        stepFailed(index);
    QMetaObject::invokeMethod(this, &RunEngine::advance, Qt::QueuedConnection);
}

void RunEngine::stepFailed(int index)
{
    RunStepRecord &record = m_journal.steps[index];
    const int failed = m_journal.failedNodeCount();
    const bool limitReached = m_options.stopAfterFailedNodes > 0 && failed >= m_options.stopAfterFailedNodes;
    const QString by = tr("policy: %1").arg(toString(m_options.onFailure));
    if (limitReached || m_options.onFailure == FailurePolicy::Ask || m_options.onFailure == FailurePolicy::Halt) {
        if (limitReached && m_options.onFailure != FailurePolicy::Ask && m_options.onFailure != FailurePolicy::Halt)
            audit(tr("%1 node(s) failed, the limit set for this run: halting.").arg(failed), true);
        return; // advance() halts or asks at the next safe point
    }
    RunDecision decision = m_options.onFailure == FailurePolicy::Skip ? RunDecision::Skip : RunDecision::Defer;
    if (decision == RunDecision::Defer && record.deferred)
        decision = RunDecision::Skip; // it ran at the end already
    (void)decide(index, decision, by);
}

void RunEngine::recordHistory(int index, StepOutcome outcome)
{
    if (!m_history || !m_history->isOpen())
        return;
    const RunStepRecord &record = m_journal.steps.at(index);
    MeasuredStep measured;
    measured.clusterId = m_options.clusterId.isEmpty() ? m_journal.clusterId : m_options.clusterId;
    measured.node = record.step.node;
    measured.os = record.step.os;
    measured.component = record.step.component;
    measured.phases = record.phases;
    measured.totalMs = record.phases.totalMs();
    measured.outcome = outcome;
    measured.recordedAt = QDateTime::currentDateTimeUtc();
    if (Result recorded = m_history->record(measured); !recorded)
        audit(tr("Cannot record the step's durations: %1").arg(recorded.error()), true);
}

void RunEngine::tick()
{
    const QDateTime now = QDateTime::currentDateTimeUtc();
    for (int i = 0; i < m_journal.steps.size(); ++i) {
        const RunStepRecord &record = m_journal.steps.at(i);
        if (record.state != RunStepState::Starting && record.state != RunStepState::Running)
            continue;
        emitStep(i);
        auto runtime = m_runtime.value(i);
        if (!runtime || runtime->slowWarned || !record.started.isValid())
            continue;
        const qint64 elapsed = record.started.msecsTo(now);
        const qint64 threshold = qint64(double(record.step.estimate.totalMs) * m_options.slowFactor)
                                 + m_options.slowGraceMs;
        if (elapsed <= threshold)
            continue;
        runtime->slowWarned = true;
        QString sentence = tr("%1 is taking longer than expected: %2 so far against an estimate of %3. "
                              "Phase: %4.")
                               .arg(stepName(record), formatDuration(elapsed),
                                    formatDuration(record.step.estimate.totalMs),
                                    record.phase.isEmpty() ? tr("starting the job") : record.phase);
        if (!record.lastLogLine.isEmpty())
            sentence += QLatin1Char(' ') + tr("Last log line: \"%1\".").arg(record.lastLogLine);
        sentence += QLatin1Char(' ') + tr("The agent stops the installer after %1.")
                                           .arg(formatDuration(qint64(timeoutSecondsFor(record)) * 1000));
        audit(sentence, true);
        Q_EMIT stepSlow(i, sentence);
        emitStep(i);
    }
}

void RunEngine::emitStep(int index)
{
    Q_EMIT stepChanged(index, progress(index));
}

} // namespace ft

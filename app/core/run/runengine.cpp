#include "run/runengine.h"

#include "agentlink/agentjobs.h"
#include "packages/packageserver.h"
#include "run/reconciler.h"
#include "run/stager.h"
#include "run/steprunner.h"
#include "support/logging.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QSet>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>

namespace ft {

namespace {

bool isEnd(RunState state)
{
    return state == RunState::Completed || state == RunState::Halted || state == RunState::Aborted;
}

} // namespace

RunEngine::RunEngine(AgentClient *client, QObject *parent)
    : QObject(parent)
    , m_stager(std::make_unique<Stager>(m_run, this))
    , m_steps(std::make_unique<StepRunner>(m_run, this))
    , m_reconciler(std::make_unique<Reconciler>(m_run, this))
{
    qRegisterMetaType<ft::RunStepProgress>();
    qRegisterMetaType<ft::RunState>();
    m_run.client = client;

    m_windowTimer.setSingleShot(true);
    connect(&m_windowTimer, &QTimer::timeout, this, &RunEngine::advance);

    connect(m_stager.get(), &Stager::activity, this, &RunEngine::audit);
    connect(m_stager.get(), &Stager::journalChanged, this, &RunEngine::saveJournal);
    connect(m_stager.get(), &Stager::progress, this, &RunEngine::stagingProgress);
    connect(m_stager.get(), &Stager::finished, this, &RunEngine::stagingDone);

    connect(m_steps.get(), &StepRunner::activity, this, &RunEngine::audit);
    connect(m_steps.get(), &StepRunner::journalChanged, this, &RunEngine::saveJournal);
    connect(m_steps.get(), &StepRunner::stepChanged, this, &RunEngine::stepChanged);
    connect(m_steps.get(), &StepRunner::logLines, this, &RunEngine::logLines);
    connect(m_steps.get(), &StepRunner::stepSlow, this, &RunEngine::stepSlow);
    connect(m_steps.get(), &StepRunner::stepEnded, this, &RunEngine::stepEnded);

    connect(m_reconciler.get(), &Reconciler::probed, this, &RunEngine::applyReconciliation);
}

RunEngine::~RunEngine()
{
    // The parts go first (they hold the context), and say nothing more on the way.
    m_stager->disconnect(this);
    m_steps->disconnect(this);
    m_reconciler->disconnect(this);
    m_stager.reset();
    m_steps.reset();
    m_reconciler.reset();
    if (m_audit)
        m_audit->flush();
}

PackageServer *RunEngine::packageServer() const
{
    return m_stager->server();
}

qint64 RunEngine::deliveryBytesSent() const
{
    return m_stager->bytesSent();
}

QString RunEngine::auditLogPath() const
{
    if (!m_run.options.auditLogPath.isEmpty())
        return m_run.options.auditLogPath;
    return m_run.options.journalPath.isEmpty() ? QString() : m_run.options.journalPath + QStringLiteral(".log");
}

Result RunEngine::prepare(const UpgradePlan &plan, const UpgradeTarget &target,
                          const QStringList &customizationsAcknowledged, const QString &noticeSent)
{
    if (m_started)
        return makeError(tr("This run has already started."));
    if (m_run.options.journalPath.isEmpty())
        return makeError(tr("Say where the run journal goes."));
    if (plan.nothingToDo())
        return makeError(tr("The plan has nothing to upgrade."));
    QList<RunPackage> packages;
    for (Component component : {Component::Server, Component::Nbi, Component::WebUi}) {
        // Both packages of a component in a mixed Linux/Windows cluster: the plan's steps
        // name the one each node installs.
        for (const PackageChoice *choice : target.packages(component)) {
            if (!QFileInfo(choice->filePath).isFile())
                return makeError(tr("The package %1 is not there any more.").arg(choice->filePath));
            if (choice->sha256.isEmpty() || choice->size <= 0)
                return makeError(tr("The package %1 has not been checked yet (its SHA-256 is not known).")
                                     .arg(choice->filePath));
            packages.append(RunPackage::fromChoice(component, *choice));
        }
    }
    RunJournal journal = RunJournal::fromPlan(plan, packages);
    for (const RunStepRecord &record : journal.steps) {
        if (record.wave >= 0 && !journal.package(record.step.packageFile))
            return makeError(tr("The plan installs %1 on %2, but no such package was chosen.")
                                 .arg(record.step.packageFile, record.step.node));
    }
    journal.clusterId = m_run.options.clusterId;
    journal.customizationsAcknowledged = customizationsAcknowledged;
    journal.noticeSent = noticeSent;
    journal.announcedStart = m_run.options.announcedStart.toUTC();
    journal.auditLogPath = auditLogPath();
    journal.delivery = deliveryRecord(m_run.options);
    m_run.journal = journal;
    m_prepared = true;
    m_resuming = false;
    audit(tr("Run %1 prepared: %2 steps in %3 waves, %4 packages to stage on %5 nodes.")
              .arg(m_run.journal.runId)
              .arg(plan.stepCount())
              .arg(plan.waves.size())
              .arg(m_run.journal.stage.size())
              .arg(plan.stage.size()));
    if (Result saved = m_run.journal.save(m_run.options.journalPath); !saved)
        return saved;
    return {};
}

Result RunEngine::resumeFrom(const RunJournal &journal)
{
    if (m_started)
        return makeError(tr("This run has already started."));
    if (m_run.options.journalPath.isEmpty())
        return makeError(tr("Say where the run journal goes."));
    for (const RunPackage &package : journal.packages) {
        const QFileInfo info(package.path);
        if (!info.isFile() || info.size() != package.size)
            return makeError(tr("The package %1 of this run is missing or changed; the run cannot be "
                                "resumed with it.")
                                 .arg(package.path));
    }
    // The packages travel as they did: the nodes may hold partial downloads from that
    // source, and the administrator chose it for this cluster's network.
    RunOptions options = m_run.options;
    if (!journal.delivery.isEmpty()) {
        if (Result applied = applyDeliveryRecord(journal.delivery, &options); !applied)
            return makeError(tr("The run journal's delivery cannot be used: %1").arg(applied.error()));
    }
    const PackageDelivery asked = m_run.options.delivery;
    m_run.options = options;
    m_run.journal = journal;
    if (m_run.journal.delivery.isEmpty())
        m_run.journal.delivery = deliveryRecord(m_run.options); // a journal from before deliveries were kept
    else if (asked != m_run.options.delivery)
        audit(tr("The run started with delivery \"%1\", so it goes on with it (not \"%2\").")
                  .arg(journal.delivery.method, toString(asked)));
    if (m_run.journal.auditLogPath.isEmpty())
        m_run.journal.auditLogPath = auditLogPath();
    if (m_run.options.clusterId.isEmpty())
        m_run.options.clusterId = m_run.journal.clusterId;
    m_prepared = true;
    m_resuming = true;
    m_canaryConfirmed = true; // resuming is the administrator's go-ahead
    audit(tr("Resuming run %1 (it was %2).").arg(m_run.journal.runId, toString(journal.state)));
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
    QTimer::singleShot(0, this, &RunEngine::serveAndBegin);
}

void RunEngine::serveAndBegin()
{
    if (Result served = m_stager->serve(); !served) {
        finishRun(RunState::Halted, served.error());
        return;
    }
    if (m_resuming) {
        setState(RunState::Reconciling, tr("Re-probing every node and comparing it with the journal."));
        m_reconciler->probe();
    } else {
        startStaging();
    }
}

void RunEngine::setAnnouncedStart(const QDateTime &start)
{
    if (m_started)
        return;
    m_run.journal.announcedStart = start.toUTC();
    m_run.journal.startedEarly = false;
    if (m_prepared)
        saveJournal();
}

void RunEngine::startNow(const QString &by)
{
    if (!m_run.journal.announcedStart.isValid() || m_run.journal.startedEarly || isEnd(state()))
        return;
    m_run.journal.startedEarly = true;
    audit(tr("Started before the announced window (%1), as %2 asked.")
              .arg(m_run.journal.announcedStart.toString(Qt::ISODate),
                   by.isEmpty() ? tr("the administrator") : by),
          true);
    saveJournal();
    if (m_waitingForWindow)
        QMetaObject::invokeMethod(this, &RunEngine::advance, Qt::QueuedConnection);
}

bool RunEngine::holdForWindow()
{
    // The moment a service would stop: never before the window users were told about.
    const QDateTime window = m_run.journal.announcedStart;
    const qint64 left = window.isValid() && !m_run.journal.startedEarly
                            ? QDateTime::currentDateTimeUtc().msecsTo(window)
                            : 0;
    if (left <= 0) {
        if (m_waitingForWindow) {
            m_waitingForWindow = false;
            m_windowTimer.stop();
            audit(m_run.journal.startedEarly ? tr("Going on before the announced window.")
                                             : tr("The announced window has opened (%1).")
                                                   .arg(window.toString(Qt::ISODate)));
        }
        return false;
    }
    if (!m_waitingForWindow) {
        m_waitingForWindow = true;
        audit(tr("Staged; holding until the announced window at %1.").arg(window.toString(Qt::ISODate)));
    }
    // A whole-day wait is re-armed in steps; a timer holds at most ~24 days anyway.
    m_windowTimer.start(int(std::min<qint64>(left + 50, 3600 * 1000)));
    if (state() != RunState::Paused)
        setState(RunState::Paused, tr("Staged and verified; no service stops before the announced window "
                                      "at %1.")
                                       .arg(window.toString(QStringLiteral("yyyy-MM-dd HH:mm 'UTC'"))));
    return true;
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
        m_stager->cancel();
        if (!m_prepared || (!m_stager->isStaging() && state() == RunState::Staging))
            QMetaObject::invokeMethod(this, [this] { finishRun(RunState::Aborted, tr("Aborted.")); },
                                      Qt::QueuedConnection);
        return;
    }
    if (!m_started || state() == RunState::Idle) {
        m_stager->cancel(); // start() may be on its way: stage nothing
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
    if (index < 0 || index >= m_run.journal.steps.size())
        return makeError(tr("There is no step %1.").arg(index));
    RunStepRecord &record = m_run.journal.steps[index];
    if (record.state != RunStepState::Failed)
        return makeError(tr("%1 has not failed; there is nothing to decide.").arg(runStepName(record)));
    if (decision == RunDecision::Defer && record.deferred && m_wave >= m_run.journal.plan.waves.size())
        return makeError(tr("%1 already runs at the end; retry or skip it.").arg(runStepName(record)));
    record.decisions.append({decision, QDateTime::currentDateTimeUtc(),
                             by.isEmpty() ? QStringLiteral("administrator") : by});
    switch (decision) {
    case RunDecision::Retry:
        record.state = RunStepState::Pending;
        audit(tr("%1: retry.").arg(runStepName(record)));
        break;
    case RunDecision::Skip:
        record.state = RunStepState::Skipped;
        audit(tr("%1: skipped; %2 stays on %3 (flagged).")
                  .arg(runStepName(record), record.step.node,
                       record.versionAfter.isEmpty() ? record.versionBefore : record.versionAfter),
              true);
        break;
    case RunDecision::Defer:
        record.state = RunStepState::Pending;
        record.deferred = true;
        audit(tr("%1: deferred to the end of the run.").arg(runStepName(record)));
        break;
    case RunDecision::Abort:
        m_abortRequested = true;
        audit(tr("%1: abort the run.").arg(runStepName(record)), true);
        break;
    case RunDecision::StartService:
        record.state = RunStepState::Skipped;
        audit(tr("%1: left as installed (flagged); starting the FlowTraq service on %2.")
                  .arg(runStepName(record), record.step.node),
              true);
        startService(index);
        break;
    }
    m_decisionAsked.remove(index);
    saveJournal();
    m_steps->publish(index);
    if (state() == RunState::WaitingForDecision && decision != RunDecision::Abort)
        setState(m_pauseRequested ? RunState::Paused : RunState::Running);
    QMetaObject::invokeMethod(this, &RunEngine::advance, Qt::QueuedConnection);
    return {};
}

RunStepProgress RunEngine::progress(int index) const
{
    return m_steps->progress(index);
}

bool RunEngine::allUpgraded() const
{
    if (state() != RunState::Completed)
        return false;
    for (const RunStepRecord &record : m_run.journal.steps) {
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
    for (const RunStepRecord &record : m_run.journal.steps) {
        if (record.rebootNeeded())
            return true;
    }
    return false;
}

// ---- state, journal, audit ---------------------------------------------------------------

void RunEngine::setState(RunState newState, const QString &sentence)
{
    if (m_run.journal.state == newState && m_run.journal.stateSentence == sentence)
        return;
    m_run.journal.state = newState;
    m_run.journal.stateSentence = sentence;
    saveJournal();
    audit(sentence.isEmpty() ? tr("Run state: %1.").arg(displayName(newState))
                             : tr("Run state: %1. %2").arg(displayName(newState), sentence),
          newState == RunState::Halted || newState == RunState::Aborted);
    Q_EMIT stateChanged(newState);
}

void RunEngine::saveJournal()
{
    m_run.journal.updated = QDateTime::currentDateTimeUtc();
    if (Result saved = m_run.journal.save(m_run.options.journalPath); !saved)
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
    const std::string line = (m_run.journal.runId.isEmpty() ? QString() : m_run.journal.runId.left(8) + QLatin1Char(' '))
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
    m_steps->stopTicking();
    m_stager->close();
    m_windowTimer.stop();
    m_waitingForWindow = false;
    setState(endState, sentence);
    // A halted run may be resumed and need its uploads; a finished one does not. The
    // end is told once they are gone, so a CLI that exits then leaves nothing behind.
    if ((endState == RunState::Completed || endState == RunState::Aborted) && m_stager->removeUploads()) {
        connect(m_stager.get(), &Stager::uploadsRemoved, this, [this] { Q_EMIT finished(); },
                Qt::SingleShotConnection);
        return;
    }
    QMetaObject::invokeMethod(this, [this] { Q_EMIT finished(); }, Qt::QueuedConnection);
}

// ---- reconciliation, staging --------------------------------------------------------------

void RunEngine::applyReconciliation(const ClusterProbe &probe)
{
    if (m_abortRequested) {
        finishRun(RunState::Aborted, tr("Aborted."));
        return;
    }
    const Reconciliation reconciled = Reconciler::reconcile(m_run.journal, probe);
    for (const RunningUpgrade &running : reconciled.running)
        m_steps->follow(running.step, running.jobId, running.logNext, running.phase);
    m_run.journal.differences = reconciled.differences;
    for (const RunDifference &difference : reconciled.differences)
        audit(tr("Reconciled: %1").arg(difference.text()));
    if (reconciled.differences.isEmpty())
        audit(tr("Reconciled: the nodes are as the journal says."));
    saveJournal();
    for (int i = 0; i < m_run.journal.steps.size(); ++i)
        m_steps->publish(i);
    if (!reconciled.differences.isEmpty())
        Q_EMIT differencesFound(reconciled.differences);
    startStaging();
}

void RunEngine::startStaging()
{
    setState(RunState::Staging, tr("Staging and verifying the packages on every node that needs them; "
                                   "no service is stopped until all of them succeeded."));
    m_stager->start(m_resuming);
}

void RunEngine::stagingDone()
{
    if (state() != RunState::Staging)
        return;
    if (m_abortRequested) {
        finishRun(RunState::Aborted, tr("Aborted during staging; no service was stopped."));
        return;
    }
    if (const QStringList errors = m_stager->errors(); !errors.isEmpty()) {
        finishRun(RunState::Halted, tr("Staging failed, so no service was stopped: %1")
                                        .arg(errors.join(QLatin1Char(' '))));
        return;
    }
    audit(tr("Every package is staged and verified."));
    m_wave = 0;
    m_steps->startTicking();
    if (!m_pauseRequested && holdForWindow())
        return; // Paused until the window; the timer goes on
    setState(m_pauseRequested ? RunState::Paused : RunState::Running,
             m_pauseRequested ? tr("Paused after staging; no service is stopped.") : QString());
    advance();
}

// ---- steps -------------------------------------------------------------------------------

void RunEngine::startService(int index)
{
    const RunStepRecord &record = m_run.journal.steps.at(index);
    const QString node = record.step.node;
    const Expected<AgentEndpoint> endpoint = m_run.endpoint(node);
    if (!endpoint) {
        audit(tr("Cannot start the FlowTraq service on %1: %2").arg(node, endpoint.error()), true);
        return;
    }
    // Nothing goes on until the service is up (or said not to be): the run never
    // stops another node while this one may still be down.
    m_startingService.insert(index);
    auto *job = new ServiceActionJob(m_run.client, *endpoint, ServiceActionJob::Action::Start, this);
    connect(job, &AgentJob::finished, this, [this, job, index, node] {
        job->deleteLater();
        m_startingService.remove(index);
        if (job->error() == AgentJob::NoError && job->state() == ServiceState::Running)
            audit(tr("The FlowTraq service on %1 runs again, on what is installed.").arg(node));
        else
            audit(tr("The FlowTraq service on %1 did not start: %2")
                      .arg(node, job->error() == AgentJob::NoError ? displayName(job->state()) : job->errorString()),
                  true);
        saveJournal();
        QMetaObject::invokeMethod(this, &RunEngine::advance, Qt::QueuedConnection);
    });
    job->start();
}

bool RunEngine::anyStepRunning() const
{
    if (!m_startingService.isEmpty())
        return true;
    for (const RunStepRecord &record : m_run.journal.steps) {
        if (record.state == RunStepState::Starting || record.state == RunStepState::Running)
            return true;
    }
    return false;
}

QList<int> RunEngine::nextSteps()
{
    for (int &wave = m_wave; wave < m_run.journal.plan.waves.size(); ++wave) {
        QList<int> steps;
        for (int i = 0; i < m_run.journal.steps.size(); ++i) {
            const RunStepRecord &record = m_run.journal.steps.at(i);
            if (record.wave == wave && !record.deferred && record.state == RunStepState::Pending)
                steps.append(i);
        }
        if (!steps.isEmpty())
            return steps;
    }
    // Deferred steps run at the end, one at a time.
    for (int i = 0; i < m_run.journal.steps.size(); ++i) {
        const RunStepRecord &record = m_run.journal.steps.at(i);
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
    for (int i = 0; i < m_run.journal.steps.size(); ++i) {
        RunStepRecord &record = m_run.journal.steps[i];
        if (record.state != RunStepState::Failed)
            continue;
        const QString sentence =
            tr("%1 failed: %2 The rollout is halted before the next outage; no other node was touched.")
                .arg(runStepName(record), record.error.isEmpty() ? tr("(no reason given)") : record.error);
        if (m_run.options.onFailure != FailurePolicy::Ask) {
            finishRun(RunState::Halted, sentence);
            return;
        }
        if (current != RunState::WaitingForDecision)
            setState(RunState::WaitingForDecision, sentence);
        if (!m_decisionAsked.contains(i)) {
            m_decisionAsked.insert(i);
            // An installer cut off with the service stopped: both ways out are offered.
            const bool serviceStopped = record.error.contains(QLatin1String("service is stopped"));
            Q_EMIT decisionNeeded(i, sentence + QLatin1Char(' ')
                                         + (serviceStopped
                                                ? tr("Retry runs the installer again; Start service brings up what "
                                                     "is installed (%1 stays flagged). Retry, start service, skip, "
                                                     "defer it to the end, or abort?")
                                                      .arg(record.step.node)
                                                : tr("Retry, skip (leave %1 on %2, flagged), defer it to the end, "
                                                     "or abort?")
                                                      .arg(record.step.node, record.versionBefore)));
        }
        return;
    }
    if (m_pauseRequested) {
        if (current != RunState::Paused)
            setState(RunState::Paused, tr("Paused; no service is stopped."));
        return;
    }
    if (holdForWindow())
        return;
    if (!m_canaryConfirmed && !m_run.journal.plan.canaryNode.isEmpty()) {
        for (const RunStepRecord &record : std::as_const(m_run.journal.steps)) {
            if (record.step.node != m_run.journal.plan.canaryNode || record.wave < 0
                || record.state != RunStepState::Succeeded)
                continue;
            m_canaryConfirmed = true;
            const QString sentence =
                tr("The canary %1 is upgraded to %2 with the typed installer arguments. Check it (service, flows, "
                   "Web UI); then go on to upgrade the other nodes, or abort here.")
                    .arg(record.step.node, record.versionAfter.isEmpty() ? record.step.toVersion.toString()
                                                                         : record.versionAfter);
            audit(sentence);
            if (m_run.options.onFailure != FailurePolicy::Ask) {
                // Nobody to ask (the CLI): halt; `run --resume` is the confirmation.
                finishRun(RunState::Halted, sentence);
                return;
            }
            m_pauseRequested = true;
            setState(RunState::Paused, sentence);
            return;
        }
    }
    const QList<int> next = nextSteps();
    if (next.isEmpty()) {
        finishRun(RunState::Completed, rebootNeeded() ? tr("Every step ended; a node needs a reboot.")
                                                      : tr("Every step ended."));
        return;
    }
    if (current != RunState::Running)
        setState(RunState::Running);
    for (int index : next) {
        m_decisionAsked.remove(index);
        m_steps->run(index);
    }
}

void RunEngine::stepEnded(int index, RunStepState state)
{
    if (state == RunStepState::Failed)
        stepFailed(index);
    QMetaObject::invokeMethod(this, &RunEngine::advance, Qt::QueuedConnection);
}

void RunEngine::stepFailed(int index)
{
    RunStepRecord &record = m_run.journal.steps[index];
    const int failed = m_run.journal.failedNodeCount();
    const bool limitReached = m_run.options.stopAfterFailedNodes > 0 && failed >= m_run.options.stopAfterFailedNodes;
    const QString by = tr("policy: %1").arg(toString(m_run.options.onFailure));
    if (limitReached || m_run.options.onFailure == FailurePolicy::Ask || m_run.options.onFailure == FailurePolicy::Halt) {
        if (limitReached && m_run.options.onFailure != FailurePolicy::Ask && m_run.options.onFailure != FailurePolicy::Halt)
            audit(tr("%1 node(s) failed, the limit set for this run: halting.").arg(failed), true);
        return; // advance() halts or asks at the next safe point
    }
    RunDecision decision = m_run.options.onFailure == FailurePolicy::Skip ? RunDecision::Skip : RunDecision::Defer;
    if (decision == RunDecision::Defer && record.deferred)
        decision = RunDecision::Skip; // it ran at the end already
    (void)decide(index, decision, by);
}

} // namespace ft

#pragma once

#include "agentlink/agentclient.h"
#include "agentlink/agentjobs.h"
#include "model/expected.h"
#include "model/upgradetarget.h"
#include "plan/durationhistory.h"
#include "run/runcontext.h"
#include "run/runjournal.h"

#include <QObject>
#include <QTimer>
#include <QSet>

#include <memory>

namespace spdlog {
class logger;
}

namespace ft {

class PackageServer;
class Reconciler;
class Stager;
class StepRunner;
struct ClusterProbe;

// Carries out an upgrade plan through the node agents, as a state machine that the
// wizard's run page and the CLI both drive. Staging first (every package on every
// node that needs it, served from this workstation by a PackageServer), and only when
// all of it succeeded the waves, in order. A failed step halts the rollout before the
// next outage and asks (decisionNeeded) or follows the policy; pause and abort take
// effect at safe points, when no service is stopped. Every change is written to the
// run journal, so a run killed mid-way is resumed with resumeFrom() without
// upgrading anything twice. Never blocks, never shows anything itself.
//
// The engine is the state machine; the work is done by its parts, which share the
// run's context (journal, options, agents): a Stager puts the packages on the nodes, a
// StepRunner carries out one step at a time, and a Reconciler compares the journal with
// the nodes when a run is resumed.
class RunEngine : public QObject
{
    Q_OBJECT

public:
    // The agent of a node by name (pin and token included), or an error sentence.
    using EndpointLookup = RunEndpointLookup;

    explicit RunEngine(AgentClient *client, QObject *parent = nullptr);
    ~RunEngine() override;

    void setEndpointLookup(EndpointLookup lookup) { m_run.lookup = std::move(lookup); }
    // Where measured durations are recorded; must outlive the engine. Null: none.
    void setHistory(DurationHistory *history) { m_run.history = history; }
    void setOptions(const RunOptions &options) { m_run.options = options; }
    const RunOptions &options() const { return m_run.options; }

    // A new run of `plan` with the packages of `target` (their SHA-256 and size known).
    // Writes the journal. Bad input (no journal path, a package missing) is an error.
    Result prepare(const UpgradePlan &plan, const UpgradeTarget &target,
                   const QStringList &customizationsAcknowledged = {},
                   const QString &noticeSent = {});
    // Continues the run a journal describes: start() re-probes every node first and
    // reconciles (differences()).
    Result resumeFrom(const RunJournal &journal);

    void start();
    // The announced window (from the options, or the resumed journal); null: none.
    QDateTime announcedStart() const { return m_run.journal.announcedStart; }
    // Resuming with another window (the CLI's --at): before start() only.
    void setAnnouncedStart(const QDateTime &start);
    // True while everything is staged and the run holds for its window (state Paused).
    bool isWaitingForWindow() const { return m_waitingForWindow; }
    // Lets the run go before its window (the caller asked the administrator). Recorded
    // in the journal and the audit log.
    void startNow(const QString &by = {});
    // Pauses at the next safe point (no service stopped): Pausing, then Paused.
    void pause();
    void resume();
    // Stops at the next safe point; running steps are allowed to finish.
    void abort();
    // Answers decisionNeeded for a failed step.
    Result decide(int step, RunDecision decision, const QString &by = {});

    RunState state() const { return m_run.journal.state; }
    const RunJournal &journal() const { return m_run.journal; }
    int stepCount() const { return int(m_run.journal.steps.size()); }
    const RunStepRecord &step(int index) const { return m_run.journal.steps.at(index); }
    RunStepProgress progress(int index) const;
    // From the last reconciliation, as sentences.
    QList<RunDifference> differences() const { return m_run.journal.differences; }
    QString auditLogPath() const;
    // The package server (for figures: bytes sent); null before the run started.
    PackageServer *packageServer() const;
    // Package bytes this workstation sent for the run, whatever the delivery.
    qint64 deliveryBytesSent() const;
    // True when the run completed and every planned step upgraded or was current.
    bool allUpgraded() const;
    bool rebootNeeded() const;

Q_SIGNALS:
    void stateChanged(ft::RunState state);
    void stepChanged(int step, const ft::RunStepProgress &progress);
    void logLines(int step, const QStringList &lines);
    // Staging: bytes verified so far on all nodes together.
    void stagingProgress(qint64 bytesDone, qint64 bytesTotal);
    void stepSlow(int step, const QString &sentence);
    // A step failed; answer with decide(step, …). Not emitted when the policy answers.
    void decisionNeeded(int step, const QString &sentence);
    // Resuming found the nodes differ from the journal.
    void differencesFound(const QList<ft::RunDifference> &differences);
    // A sentence for the activity log (also in the audit log).
    void activity(const QString &sentence);
    // Completed, Halted or Aborted.
    void finished();

private:
    // states
    void setState(RunState state, const QString &sentence = {});
    void saveJournal();
    void audit(const QString &sentence, bool warning = false);
    void finishRun(RunState state, const QString &sentence);
    void serveAndBegin();

    // reconciliation (Reconciler), staging (Stager)
    void applyReconciliation(const ClusterProbe &probe);
    void startStaging();
    void stagingDone();

    // steps (StepRunner)
    void advance();
    bool holdForWindow();
    bool anyStepRunning() const;
    QList<int> nextSteps();
    void stepEnded(int index, RunStepState state);
    void stepFailed(int index);
    void startService(int index);

    // Declared before the parts, which hold a reference to it, so it outlives them.
    RunContext m_run;
    std::shared_ptr<spdlog::logger> m_audit;
    bool m_prepared = false;
    bool m_resuming = false;
    bool m_started = false;
    bool m_pauseRequested = false;
    bool m_canaryConfirmed = false; // the canary's halt happened (or a resumed run: confirmed)
    bool m_abortRequested = false;
    bool m_waitingForWindow = false;
    QTimer m_windowTimer;
    int m_wave = 0;
    QSet<int> m_decisionAsked; // failed steps whose decisionNeeded went out
    QSet<int> m_startingService; // steps decided StartService whose service start is under way
    std::unique_ptr<Stager> m_stager;
    std::unique_ptr<StepRunner> m_steps;
    std::unique_ptr<Reconciler> m_reconciler;
};

} // namespace ft

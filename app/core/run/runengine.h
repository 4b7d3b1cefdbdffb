#pragma once

#include "agentlink/agentclient.h"
#include "agentlink/agentjobs.h"
#include "plan/durationhistory.h"
#include "model/expected.h"
#include "run/runjournal.h"
#include "model/upgradetarget.h"

#include <QHash>
#include <QHostAddress>
#include <QObject>
#include <QPointer>
#include <QSslConfiguration>
#include <QTimer>

#include <functional>
#include <memory>

namespace spdlog {
class logger;
}

namespace ft {

class AgentJobWatcher;
class PackageServer;

struct RunOptions
{
    // Failures are answered by decide() (Ask), or by the policy without asking.
    FailurePolicy onFailure = FailurePolicy::Ask;
    // The run halts (asks) once this many nodes have failed, whatever the policy;
    // 0 means no limit.
    int stopAfterFailedNodes = 1;
    // The agent stops an installer that runs longer. 0: 4 × the step's estimate, at
    // least 10 minutes.
    int installerTimeoutSeconds = 0;
    // "Taking longer than expected" once a step runs slowFactor × its estimate plus
    // slowGraceMs.
    double slowFactor = 1.5;
    qint64 slowGraceMs = 60000;
    // Nodes staging at once.
    int stageConcurrency = 8;
    // After a flow-receiving server restarts: how long to wait for flows to arrive again.
    qint64 flowResumeTimeoutMs = 60000;
    // How long each poll of an agent job may be held (long poll).
    qint64 pollWaitMs = 25000;
    // Where the journal goes (required) and the audit log (default: journal + ".log").
    QString journalPath;
    QString auditLogPath;
    // The package server: the workstation's address facing the nodes.
    QHostAddress serveAddress = QHostAddress(QHostAddress::LocalHost);
    quint16 servePort = 0;
    QString advertisedHost;
    // Certificate and key to serve the packages over HTTPS (the agents pin the
    // certificate's SHA-256); null: plain HTTP, the package's SHA-256 still verified.
    QSslConfiguration tls;
    QString clusterId; // key in the duration history
};

// What a live progress pane shows for one step.
struct RunStepProgress
{
    RunStepState state = RunStepState::Pending;
    QString phase;          // stopping, installing, starting, checking, flows, …
    double progress = 0;    // 0…1, the agent's
    qint64 elapsedMs = 0;
    qint64 estimateMs = 0;
    QString lastLogLine;
    bool slow = false;
};

// Carries out an upgrade plan through the node agents, as a state machine that the
// wizard's run page and the CLI both drive. Staging first (every package on every
// node that needs it, served from this workstation by a PackageServer), and only when
// all of it succeeded the waves, in order. A failed step halts the rollout before the
// next outage and asks (decisionNeeded) or follows the policy; pause and abort take
// effect at safe points, when no service is stopped. Every change is written to the
// run journal, so a run killed mid-way is resumed with resumeFrom() without
// upgrading anything twice. Never blocks, never shows anything itself.
class RunEngine : public QObject
{
    Q_OBJECT

public:
    // The agent of a node by name (pin and token included), or an error sentence.
    using EndpointLookup = std::function<Expected<AgentEndpoint>(const QString &node)>;

    explicit RunEngine(AgentClient *client, QObject *parent = nullptr);
    ~RunEngine() override;

    void setEndpointLookup(EndpointLookup lookup) { m_lookup = std::move(lookup); }
    // Where measured durations are recorded; must outlive the engine. Null: none.
    void setHistory(DurationHistory *history) { m_history = history; }
    void setOptions(const RunOptions &options) { m_options = options; }
    const RunOptions &options() const { return m_options; }

    // A new run of `plan` with the packages of `target` (their SHA-256 and size known).
    // Writes the journal. Bad input (no journal path, a package missing) is an error.
    Result prepare(const UpgradePlan &plan, const UpgradeTarget &target,
                   const QStringList &customizationsAcknowledged = {},
                   const QString &noticeSent = {});
    // Continues the run a journal describes: start() re-probes every node first and
    // reconciles (differences()).
    Result resumeFrom(const RunJournal &journal);

    void start();
    // Pauses at the next safe point (no service stopped): Pausing, then Paused.
    void pause();
    void resume();
    // Stops at the next safe point; running steps are allowed to finish.
    void abort();
    // Answers decisionNeeded for a failed step.
    Result decide(int step, RunDecision decision, const QString &by = {});

    RunState state() const { return m_journal.state; }
    const RunJournal &journal() const { return m_journal; }
    int stepCount() const { return int(m_journal.steps.size()); }
    const RunStepRecord &step(int index) const { return m_journal.steps.at(index); }
    RunStepProgress progress(int index) const;
    // From the last reconciliation, as sentences.
    QStringList differences() const { return m_journal.differences; }
    QString auditLogPath() const;
    // The package server (for figures: bytes sent).
    PackageServer *packageServer() const { return m_server; }
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
    void differencesFound(const QStringList &sentences);
    // A sentence for the activity log (also in the audit log).
    void activity(const QString &sentence);
    // Completed, Halted or Aborted.
    void finished();

private:
    struct StepRuntime;
    struct StageRuntime;

    // states
    void setState(RunState state, const QString &sentence = {});
    void saveJournal();
    void audit(const QString &sentence, bool warning = false);
    void finishRun(RunState state, const QString &sentence);

    // reconciliation
    void reconcile();
    void applyReconciliation(const QHash<QString, NodeStatus> &nodes,
                             const QHash<QString, QList<AgentJobStatus>> &jobs,
                             const QHash<QString, QString> &unreachable);

    // staging
    void startStaging();
    void pumpStaging();
    void stageNode(const QString &node);
    void stageNext(const QString &node);
    void stageFinished(const QString &node, bool ok);
    void stagingDone();

    // steps
    void advance();
    bool anyStepRunning() const;
    QList<int> nextSteps();
    void runStep(int index);
    void followJob(int index, const QString &jobId, qint64 since);
    void onJobStatus(int index, const AgentJobStatus &status);
    void onJobFinished(int index, AgentJobWatcher *watcher);
    void waitForFlows(int index, const QDateTime &since);
    void completeStep(int index, RunStepState state, const QString &error = {});
    void stepFailed(int index);
    void recordHistory(int index, StepOutcome outcome);
    void tick();
    void emitStep(int index);
    int timeoutSecondsFor(const RunStepRecord &record) const;
    QString stepName(const RunStepRecord &record) const;

    AgentClient *m_client;
    EndpointLookup m_lookup;
    DurationHistory *m_history = nullptr;
    RunOptions m_options;
    RunJournal m_journal;
    PackageServer *m_server = nullptr;
    std::shared_ptr<spdlog::logger> m_audit;
    bool m_prepared = false;
    bool m_resuming = false;
    bool m_started = false;
    bool m_pauseRequested = false;
    bool m_abortRequested = false;
    int m_wave = 0;
    QTimer m_tick;
    QHash<int, std::shared_ptr<StepRuntime>> m_runtime;
    // staging
    QStringList m_stageQueue;
    QHash<QString, std::shared_ptr<StageRuntime>> m_staging;
    QStringList m_stageErrors;
    qint64 m_stageBytesTotal = 0;
    QHash<QString, qint64> m_stageBytesDone; // node/file → bytes
    QHash<QString, QUrl> m_packageUrls;      // file name → URL
};

} // namespace ft

Q_DECLARE_METATYPE(ft::RunStepProgress)

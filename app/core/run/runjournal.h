#pragma once

#include "model/domain.h"
#include "plan/estimate.h"
#include "model/expected.h"
#include "model/plan.h"
#include "model/flowkeeping.h"

#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace ft {

// Where a whole run stands.
enum class RunState {
    Idle,          // prepared, not started
    Reconciling,   // resuming: re-probing the nodes and comparing them with the journal
    Staging,       // downloading and verifying packages on the nodes; nothing stopped yet
    Running,       // upgrading, wave by wave
    Pausing,       // pause asked; waits for the running steps to end (a safe point)
    Paused,        // no service is stopped; resume() continues
    WaitingForDecision, // a step failed; decide() answers retry/skip/defer/abort
    Aborting,      // abort asked; waits for the running steps to end
    Completed,     // every step ended (upgraded, current, skipped or deferred and done)
    Halted,        // stopped on a failure (or a staging failure); resumable
    Aborted,       // stopped by the administrator; resumable
};

// Where one step stands.
enum class RunStepState {
    Pending,
    Starting,       // the upgrade was asked for; no job id known yet
    Running,        // the agent's job runs (phase says where)
    Succeeded,      // upgraded (the version is the target)
    Failed,
    Skipped,        // left on its old version by decision (flagged)
    AlreadyCurrent, // the node was at the target already (planned so, or found on resume)
};

// The answer to a failed step.
// StartService: the step is left as it is (skipped, flagged) and the node's FlowTraq
// service is started on what is installed: for a node an interrupted installer left
// with its service stopped.
enum class RunDecision { Retry, Skip, Defer, Abort, StartService };

// How failures are answered without asking (the CLI's --on-failure).
enum class FailurePolicy { Ask, Halt, Skip, Defer };

QString toString(RunState state);
QString toString(RunStepState state);
QString toString(RunDecision decision);
QString toString(FailurePolicy policy);
QString displayName(RunState state);
QString displayName(RunStepState state);
Expected<RunState> parseRunState(const QString &text);
Expected<RunStepState> parseRunStepState(const QString &text);
Expected<RunDecision> parseRunDecision(const QString &text);
Expected<FailurePolicy> parseFailurePolicy(const QString &text);

bool isTerminal(RunStepState state);

struct PackageChoice;

// A package the run serves to the nodes.
struct RunPackage
{
    // The chosen package as the run carries it (its path made absolute). The caller
    // makes sure it was hashed (sha256 and size known).
    static RunPackage fromChoice(Component component, const PackageChoice &choice);

    Component component = Component::Server;
    QString path;     // on the workstation
    QString fileName; // as the agents stage it
    QString sha256;
    qint64 size = 0;
    QString version;
    // The SHA-256 is of bytes that passed the package's own check when it was chosen
    // (PackageChoice::contentsChecked): staging need not read the file again while its
    // last-modified time is still modifiedMs.
    bool contentsChecked = false;
    qint64 modifiedMs = 0;
    // Silent-install arguments typed for an installer that needs them (kept so a
    // resumed run sends the same ones).
    QStringList installerArguments;
};

// How the run's packages travel, as chosen when it was prepared: a resumed run uses
// the same way (the same URL and pin for "url", the same address the nodes use for the
// portal), and knows which uploads on the portal's agent are its own.
struct RunDelivery
{
    QString method;               // "portal", "workstation", "url"; empty: not recorded
    QString url;                  // url: the folder the packages are in
    QString fingerprint;          // url: the pinned certificate's SHA-256 (may be empty)
    QString portalAddressForNodes; // portal: host[:port] the nodes use (empty: the workstation's)
    QString serveAddress;         // workstation: where the package server listened
    QString advertisedHost;       // workstation: the host put into the URLs
    QStringList uploads;          // portal: upload ids on the portal's agent, until removed

    bool isEmpty() const { return method.isEmpty(); }
    QJsonObject toJson() const;
    static RunDelivery fromJson(const QJsonObject &json);
};

// One package staged on one node.
struct RunStageRecord
{
    QString node;
    QString packageFile;
    QString state = QStringLiteral("pending"); // pending | running | staged | failed
    QString agentJobId;
    QString error;
    qint64 bytes = 0;
};

// One decision taken on a failed step, for the report.
struct RunDecisionRecord
{
    RunDecision decision = RunDecision::Retry;
    QDateTime time;
    QString by; // "administrator" or the policy, e.g. "--on-failure skip"
};

// One plan step as the run carries it out.
struct RunStepRecord
{
    PlanStep step;            // node, component, versions, package, estimate
    int wave = 0;             // index of its plan wave
    bool deferred = false;    // moved to the end by decision
    RunStepState state = RunStepState::Pending;
    QString phase;            // the agent's phase, or "flows" while waiting for flows
    double progress = 0;
    QString agentJobId;
    qint64 logNext = 0;       // log lines already seen
    QDateTime started;
    QDateTime finished;
    PhaseDurations phases;    // measured
    qint64 elapsedMs = 0;
    QString versionBefore;
    QString versionAfter;
    std::optional<int> exitCode;
    bool rebootRequested = false;
    std::optional<bool> flowsResumed; // for a node that receives flows
    std::optional<FlowKeeping> flowKeeping; // what the agent kept and replayed (keep_flows)
    QString error;
    QString lastLogLine;
    int attempts = 0;
    QList<RunDecisionRecord> decisions;

    // Rebooting is needed only when the installer asked AND the version did not change.
    bool rebootNeeded() const;
};

// One thing a resumed run found different from its journal, tied to the step it concerns
// by index, node and component (never by parsing a sentence).
struct RunDifference
{
    int step = -1;          // index into RunJournal::steps; -1: from a journal of an older format
    QString node;
    Component component = Component::Server;
    QString journalState;   // what the journal said: the step's state, e.g. "running"
    QString found;          // what the node said: "agent_job_running", "agent_job_succeeded",
                            // "agent_job_failed", "no_agent_job", "at_target", "not_at_target",
                            // "no_answer"
    QString foundVersion;   // the version the node runs now, when it answered
    QString detail;         // for people, without the step's name: what was found, what happens now

    // "Server on w2: <detail>"
    QString text() const;
    QJsonObject toJson() const;
    static RunDifference fromJson(const QJsonValue &value);
    bool operator==(const RunDifference &) const = default;
};

// The run journal: everything needed to continue a run after the wizard died, written
// atomically (QSaveFile) on every change.
struct RunJournal
{
    static constexpr int kFormat = 1;

    QString runId;
    QString clusterId;
    QDateTime created;
    QDateTime updated;
    RunState state = RunState::Idle;
    QString stateSentence;    // why it halted, what it waits for
    UpgradePlan plan;
    QList<RunPackage> packages;
    QList<RunStageRecord> stage;
    QList<RunStepRecord> steps;
    QStringList customizationsAcknowledged;
    QString noticeSent;
    // The window the notice announced (UTC): no service is stopped before it, also after a
    // resume, unless the administrator started early (startedEarly).
    QDateTime announcedStart;
    bool startedEarly = false;
    QList<RunDifference> differences; // from the last reconciliation
    QString auditLogPath;
    RunDelivery delivery;

    // Steps of the plan's waves in order (plan-skipped steps as AlreadyCurrent at the end).
    static RunJournal fromPlan(const UpgradePlan &plan, const QList<RunPackage> &packages);

    QJsonObject toJson() const;
    static Expected<RunJournal> fromJson(const QJsonObject &json);

    // Atomic write: a crash leaves the previous journal or the new one, never a mix.
    Result save(const QString &path) const;
    static Expected<RunJournal> load(const QString &path);

    const RunPackage *package(const QString &fileName) const;
    int failedNodeCount() const;
};

// A run of a cluster that started and did not complete (halted, aborted, or cut short
// by a crash of the wizard), and where its journal is.
struct UnfinishedRun
{
    QString path;
    RunJournal journal;
};

// The most recently updated unfinished run of `clusterId` among the journals (*.json)
// in `directory`; nullopt when there is none. Unreadable files are passed over.
std::optional<UnfinishedRun> findUnfinishedRun(const QString &directory, const QString &clusterId);

} // namespace ft

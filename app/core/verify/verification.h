#pragma once

#include "agentlink/agentclient.h"
#include "model/domain.h"
#include "model/nodestatus.h"
#include "run/runjournal.h"
#include "model/version.h"
#include "webapi/webapiinfo.h"

#include <QDateTime>
#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QObject>

namespace ft {

// What became of one component on one node.
enum class Verdict {
    Upgraded,       // at the target now, and it was not before
    AlreadyCurrent, // at the target before the run already (skipped)
    Failed,         // not at the target after trying (or at it with the service not running)
    RebootNeeded,   // the installer asked for a reboot (3010) and the version did not change
    Unreachable,    // the node did not answer
    NotAttempted,   // the run ended before it tried this step
    Skipped,        // left on its old version by a decision (the administrator or a policy)
};
QString toString(Verdict verdict);      // "upgraded" | "already_current" | "failed" | …
QString displayName(Verdict verdict);   // "Upgraded", "Skipped (already current)", …

// One cell of the verification matrix: node × component.
struct VerificationCell
{
    QString node;
    NodeRole role = NodeRole::Worker;
    Component component = Component::Server;
    QString versionBefore;  // from the run (empty when verified without one)
    QString versionNow;
    QString target;
    bool reachable = true;
    ServiceState service = ServiceState::Unknown; // the node's FlowTraq service
    std::optional<bool> flowsArriving; // server cells of nodes that receive flows
    // Flows kept during the outage and replayed to the new service (keep_flows), from
    // the run's record of the step; null when they were not kept or without a run.
    std::optional<FlowKeeping> flowKeeping;
    bool rebootRequested = false;      // the installer exited 3010
    QString runningVersion;            // what FlowTraq's Web API reports (portal), "" when not asked
    Verdict verdict = Verdict::Failed;
    QString sentence;       // why, for people
};

struct VerificationReport
{
    QDateTime checkedAt;
    QList<VerificationCell> cells;
    QStringList warnings;   // mixed versions, flows not arriving
    QString portalWebUiVersion;

    bool allAtTarget() const;   // every cell upgraded or already current
    bool rebootNeeded() const;
    bool anyFailed() const;     // failed, unreachable, not attempted or skipped
    QJsonObject toJson() const;
};

// The verdict rules, pure so they are tested on their own. `step` is the run's record
// of this node and component (null when verifying without a run).
// `runState` and `runSentence` say why a step that never ran did not.
VerificationCell verifyCell(const NodeStatus &node, Component component, const Version &target,
                            const RunStepRecord *step, const QDateTime &now,
                            RunState runState = RunState::Completed, const QString &runSentence = {});

// The matrix for every node × every component with a target, plus the warnings.
// Nodes the journal knows but `nodes` lacks are reported unreachable.
VerificationReport buildVerification(const QList<NodeStatus> &nodes,
                                     const QHash<Component, Version> &targets,
                                     const RunJournal *journal, const QDateTime &now);

// The vendor's rule, with FlowTraq's own Web API: the installer registered the target
// (versionNow) but the running FlowTraq still reports another version → reboot needed.
// `reported` is the Web API's version ("" when it could not be read; `error` says why).
void applyRunningVersion(VerificationCell &cell, const QString &reported, const QString &error);

// The targets a journal's packages name.
QHash<Component, Version> targetsOf(const RunJournal &journal);

// Probes the nodes afresh (GET /v1/node on each, in parallel) and builds the matrix.
// Job pattern: set up, start(), finished() once, never inside start().
class VerifyJob : public QObject
{
    Q_OBJECT

public:
    VerifyJob(AgentClient *client, QObject *parent = nullptr);

    void setEndpoints(const QList<AgentEndpoint> &endpoints) { m_endpoints = endpoints; }
    void setTargets(const QHash<Component, Version> &targets) { m_targets = targets; }
    // Optional: the run whose outcome is verified (copied).
    void setJournal(const RunJournal &journal);
    // Optional: FlowTraq's Web API on the portal; the portal's server cell then also
    // checks the version the running FlowTraq reports (applyRunningVersion).
    void setWebApi(const WebApiSettings &settings) { m_webApi = settings; }

    void start();
    const VerificationReport &report() const { return m_report; }
    const QList<NodeStatus> &nodes() const { return m_nodes; }

Q_SIGNALS:
    void finished(ft::VerifyJob *job);

private:
    void probeFinished();
    void webApiFinished(class WebApiInfoJob *job);

    AgentClient *m_client;
    QList<AgentEndpoint> m_endpoints;
    QHash<Component, Version> m_targets;
    std::optional<RunJournal> m_journal;
    QList<NodeStatus> m_nodes;
    int m_pending = 0;
    VerificationReport m_report;
    WebApiSettings m_webApi;
};

} // namespace ft

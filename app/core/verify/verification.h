#pragma once

#include "agentlink/agentclient.h"
#include "model/domain.h"
#include "model/nodestatus.h"
#include "run/runjournal.h"
#include "model/version.h"

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
    Failed,         // not at the target (failed, skipped by decision, or not running)
    RebootNeeded,   // the installer asked for a reboot (3010) and the version did not change
    Unreachable,    // the node did not answer
    NotAttempted,   // the run halted (or was aborted) before this step: untouched, not failed
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
    bool rebootRequested = false;      // the installer exited 3010
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
    bool anyFailed() const;     // failed or unreachable
    QJsonObject toJson() const;
};

// The verdict rules, pure so they are tested on their own. `step` is the run's record
// of this node and component (null when verifying without a run).
VerificationCell verifyCell(const NodeStatus &node, Component component, const Version &target,
                            const RunStepRecord *step, const QDateTime &now);

// The matrix for every node × every component with a target, plus the warnings.
// Nodes the journal knows but `nodes` lacks are reported unreachable.
VerificationReport buildVerification(const QList<NodeStatus> &nodes,
                                     const QHash<Component, Version> &targets,
                                     const RunJournal *journal, const QDateTime &now);

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

    void start();
    const VerificationReport &report() const { return m_report; }
    const QList<NodeStatus> &nodes() const { return m_nodes; }

Q_SIGNALS:
    void finished(ft::VerifyJob *job);

private:
    void probeFinished();

    AgentClient *m_client;
    QList<AgentEndpoint> m_endpoints;
    QHash<Component, Version> m_targets;
    std::optional<RunJournal> m_journal;
    QList<NodeStatus> m_nodes;
    int m_pending = 0;
    VerificationReport m_report;
};

} // namespace ft

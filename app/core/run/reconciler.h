#pragma once

#include "agentlink/agentjobs.h"
#include "model/nodestatus.h"
#include "run/runcontext.h"

#include <QHash>
#include <QList>
#include <QObject>
#include <QStringList>

namespace ft {

// What the nodes of a run said when they were asked again: their state, the jobs their
// agents keep (newest first), and why a node did not answer.
struct ClusterProbe
{
    QHash<QString, NodeStatus> nodes;
    QHash<QString, QList<AgentJobStatus>> jobs;
    QHash<QString, QString> unreachable;
};

// An upgrade the agent still runs for a step: the engine follows it instead of
// starting the step again.
struct RunningUpgrade
{
    int step = -1;
    QString jobId;
    qint64 logNext = 0;
    QString phase;
};

struct Reconciliation
{
    QList<RunDifference> differences; // each tied to its step, with a sentence for the administrator
    QList<RunningUpgrade> running;
};

// Resuming a run: the journal says what the wizard last knew, the nodes say what is
// true now (a step may have finished, failed or still be running while the wizard
// was away, or a node was upgraded by hand). probe() asks every node of the run;
// reconcile() brings the journal's steps in line with the answers, so nothing is
// upgraded twice and nothing is taken as done that is not.
class Reconciler : public QObject
{
    Q_OBJECT

public:
    explicit Reconciler(RunContext &context, QObject *parent = nullptr);

    // Asks every node with a planned step for its state and its agent's jobs;
    // probed() follows, never inside probe().
    void probe();

    // Changes the steps of `journal` to what `probe` says and tells what changed. Pure:
    // asks nobody, saves nothing.
    static Reconciliation reconcile(RunJournal &journal, const ClusterProbe &probe);

Q_SIGNALS:
    void probed(const ft::ClusterProbe &probe);

private:
    RunContext &m_context;
};

} // namespace ft

Q_DECLARE_METATYPE(ft::ClusterProbe)

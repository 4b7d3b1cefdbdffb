#pragma once

#include <QSet>

#include "plan/estimate.h"
#include "model/nodestatus.h"
#include "model/plan.h"
#include "model/upgradetarget.h"

#include <QDateTime>
#include <QList>

namespace ft {

class DurationHistory;

struct PlanOptions
{
    // Workers upgraded at the same time. More than one warns (queries get slower and
    // less complete); it is clamped so that at least one worker always stays up: a
    // value of the worker count or more becomes workers − 1, with a warning.
    int maxWorkersDown = 1;
    bool includeNbi = true;
    bool includeWebUi = true;
    QDateTime startTime;  // null: now
    QString clusterId;    // key of this cluster in the duration history
    // A worker to upgrade first, alone, with a halt for confirmation after it.
    QString canaryNode;
    // Nodes where "Keep flows during the outage" is turned off; on by default wherever
    // the node can (a Linux node that receives flows).
    QSet<QString> dropFlowsOn;
};

// Orders a rolling upgrade from what discovery found: stage everything first, then
// worker servers (by name, w2 before w10; maxWorkersDown at a time), then the portal's
// own server, then the NBI, then the Web UI last. Pure and deterministic; it never
// refuses: problems are the pre-checks' job, and unreachable or current nodes are
// listed as skipped with the reason.
class UpgradePlanner
{
public:
    explicit UpgradePlanner(EstimateDefaults defaults = EstimateDefaults::builtIn());

    // Measured durations to prefer over the defaults; the history must outlive the
    // planner's use. Null: defaults only.
    void setHistory(const DurationHistory *history) { m_history = history; }
    const EstimateDefaults &defaults() const { return m_defaults; }

    UpgradePlan plan(const QList<NodeStatus> &nodes, const UpgradeTarget &target,
                     const PlanOptions &options = {}) const;

    DurationEstimate estimateFor(const NodeStatus &node, Component component,
                                 const QString &clusterId) const;

private:
    EstimateDefaults m_defaults;
    const DurationHistory *m_history = nullptr;
};

// The sentence for users about one step, and the flows it loses.
StepImpact impactOf(const NodeStatus &node, Component component, const DurationEstimate &estimate,
                    bool keepFlowsWanted = true);

} // namespace ft

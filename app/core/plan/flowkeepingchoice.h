#pragma once

#include "model/plan.h"
#include "plan/planner.h"

#include <QStringList>

namespace ft {

// "Keep flows during the outage", as the plan page offers it: one switch for every
// node that can keep its flows (a Linux node that receives flows, with a server step),
// and one per node that overrides it. The choice lives in PlanOptions::dropFlowsOn.

// The nodes of the plan whose flows can be kept, in plan order.
QStringList nodesThatCanKeepFlows(const UpgradePlan &plan);

// The one switch's state: every such node keeps its flows, none does, or some do.
enum class KeepFlowsState { NotApplicable, All, None, Some };
KeepFlowsState keepFlowsState(const UpgradePlan &plan);

// The options with keeping turned on or off for one node.
PlanOptions withKeepFlows(PlanOptions options, const QString &node, bool keep);
// The options with keeping on or off for every node that can keep flows.
PlanOptions withKeepFlowsEverywhere(PlanOptions options, const UpgradePlan &plan, bool keep);

} // namespace ft

#include "plan/flowkeepingchoice.h"

namespace ft {

namespace {

bool canKeep(const PlanStep &step)
{
    return step.component == Component::Server && step.impact.receivesFlows && step.os == OsKind::Linux;
}

} // namespace

QStringList nodesThatCanKeepFlows(const UpgradePlan &plan)
{
    QStringList nodes;
    for (const PlanWave &wave : plan.waves) {
        for (const PlanStep &step : wave.steps) {
            if (canKeep(step) && !nodes.contains(step.node))
                nodes.append(step.node);
        }
    }
    return nodes;
}

KeepFlowsState keepFlowsState(const UpgradePlan &plan)
{
    int keeping = 0;
    int dropping = 0;
    for (const PlanWave &wave : plan.waves) {
        for (const PlanStep &step : wave.steps) {
            if (!canKeep(step))
                continue;
            if (step.impact.keepFlows)
                ++keeping;
            else
                ++dropping;
        }
    }
    if (keeping == 0 && dropping == 0)
        return KeepFlowsState::NotApplicable;
    if (dropping == 0)
        return KeepFlowsState::All;
    return keeping == 0 ? KeepFlowsState::None : KeepFlowsState::Some;
}

PlanOptions withKeepFlows(PlanOptions options, const QString &node, bool keep)
{
    if (keep)
        options.dropFlowsOn.remove(node);
    else
        options.dropFlowsOn.insert(node);
    return options;
}

PlanOptions withKeepFlowsEverywhere(PlanOptions options, const UpgradePlan &plan, bool keep)
{
    for (const QString &node : nodesThatCanKeepFlows(plan))
        options = withKeepFlows(std::move(options), node, keep);
    return options;
}

} // namespace ft

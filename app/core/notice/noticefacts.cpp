#include "notice/noticefacts.h"

#include <algorithm>
#include <cmath>

namespace ft {

namespace {

ImpactPeriod::Kind kindOf(const PlanStep &step)
{
    switch (step.component) {
    case Component::Nbi:
        return ImpactPeriod::NbiDown;
    case Component::WebUi:
        return ImpactPeriod::WebUiDown;
    case Component::Server:
        break;
    }
    return step.role == NodeRole::Worker ? ImpactPeriod::WorkersSlow : ImpactPeriod::PortalDown;
}

// Joins periods of one kind that follow each other closely, keeping each node once.
QList<ImpactPeriod> merged(QList<ImpactPeriod> periods, qint64 gapMs)
{
    std::stable_sort(periods.begin(), periods.end(),
                     [](const ImpactPeriod &a, const ImpactPeriod &b) {
                         return a.kind != b.kind ? a.kind < b.kind : a.start < b.start;
                     });
    QList<ImpactPeriod> result;
    for (const ImpactPeriod &period : periods) {
        if (!result.isEmpty() && result.last().kind == period.kind
            && result.last().end.msecsTo(period.start) <= gapMs) {
            ImpactPeriod &last = result.last();
            last.end = std::max(last.end, period.end);
            for (const QString &node : period.nodes) {
                if (!last.nodes.contains(node))
                    last.nodes.append(node);
            }
            continue;
        }
        result.append(period);
    }
    // Users read the notice as a timeline: what happens first comes first.
    std::stable_sort(result.begin(), result.end(),
                     [](const ImpactPeriod &a, const ImpactPeriod &b) { return a.start < b.start; });
    return result;
}

} // namespace

NoticeFacts noticeFactsFromPlan(const UpgradePlan &plan, const NoticeFactsOptions &options)
{
    NoticeFacts facts;
    const QDateTime start = (options.start.isValid() ? options.start : plan.startTime).toUTC();
    facts.windowStart = start;
    facts.windowEnd = start.addMSecs(plan.wallTimeMs);
    facts.adminZone = options.adminZone;
    facts.clusterName = options.clusterName;
    facts.targetVersion = options.targetVersion;

    QList<ImpactPeriod> periods;
    for (const PlanWave &wave : plan.waves) {
        for (const PlanStep &step : wave.steps) {
            if (step.skipped)
                continue;
            if (facts.targetVersion.isEmpty() && !step.toVersion.isNull())
                facts.targetVersion = step.toVersion.toString();
            const QDateTime downFrom = start.addMSecs(step.startOffsetMs);
            const qint64 outageMs = step.estimate.outageMs;
            periods.append({kindOf(step), downFrom, downFrom.addMSecs(outageMs), {step.node}});
            // A node whose flows are kept and replayed has no gap in its flow data.
            if (step.component == Component::Server && step.impact.receivesFlows && !step.impact.keepFlows
                && outageMs > 0) {
                const int minutes = std::max(1, int(std::ceil(double(outageMs) / 60000.0)));
                facts.flowGaps.append({step.node, minutes, downFrom});
            }
        }
    }
    facts.periods = merged(periods, options.mergeGapMs);
    return facts;
}

} // namespace ft

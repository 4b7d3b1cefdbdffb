#include "plan/quietwindow.h"

#include <QTimeZone>

#include <cmath>

namespace ft {

namespace {

constexpr qint64 kHourMs = 3600 * 1000;

QDateTime hourFloor(const QDateTime &utc)
{
    const qint64 ms = utc.toMSecsSinceEpoch();
    const qint64 floored = ms - (((ms % kHourMs) + kHourMs) % kHourMs);
    return QDateTime::fromMSecsSinceEpoch(floored, QTimeZone::utc());
}

} // namespace

QList<NodeOutage> flowOutages(const UpgradePlan &plan)
{
    QList<NodeOutage> outages;
    for (const PlanWave &wave : plan.waves) {
        for (const PlanStep &step : wave.steps) {
            if (step.skipped || step.component != Component::Server || !step.impact.receivesFlows
                || step.impact.keepFlows) // kept and replayed: nothing lost whenever it runs
                continue;
            outages.append({step.node, step.startOffsetMs, step.estimate.outageMs,
                            step.impact.flowsPerSecond});
        }
    }
    return outages;
}

WeeklyProfile::WeeklyProfile(const QList<HourlyFlows> &history)
{
    std::array<double, kHoursPerWeek> sums{};
    std::array<int, kHoursPerWeek> counts{};
    double total = 0;
    for (const HourlyFlows &hour : history) {
        if (!hour.hourStartUtc.isValid() || hour.flows < 0)
            continue;
        const int index = hourOfWeek(hour.hourStartUtc);
        sums[index] += double(hour.flows);
        ++counts[index];
        total += double(hour.flows);
        ++m_samples;
    }
    if (m_samples == 0)
        return;
    const double overallMean = total / double(m_samples);
    for (int i = 0; i < kHoursPerWeek; ++i)
        m_perHour[i] = counts[i] > 0 ? sums[i] / counts[i] : overallMean;
}

int WeeklyProfile::hourOfWeek(const QDateTime &utc)
{
    const QDateTime t = utc.toUTC();
    return (t.date().dayOfWeek() - 1) * 24 + t.time().hour();
}

double WeeklyProfile::flowsPerSecond(int hourOfWeek) const
{
    if (hourOfWeek < 0 || hourOfWeek >= kHoursPerWeek)
        return 0;
    return m_perHour[hourOfWeek] / 3600.0;
}

double WeeklyProfile::flowsBetween(const QDateTime &start, qint64 durationMs) const
{
    double flows = 0;
    QDateTime cursor = start.toUTC();
    qint64 remaining = durationMs;
    while (remaining > 0) {
        const QDateTime hourEnd = hourFloor(cursor).addMSecs(kHourMs);
        const qint64 chunk = std::min(remaining, cursor.msecsTo(hourEnd));
        flows += m_perHour[hourOfWeek(cursor)] * double(chunk) / double(kHourMs);
        cursor = cursor.addMSecs(chunk);
        remaining -= chunk;
    }
    return flows;
}

QuietWindowFinder::QuietWindowFinder(const FlowHistory &history, QList<NodeOutage> outages)
    : m_outages(std::move(outages))
{
    for (auto it = history.cbegin(); it != history.cend(); ++it) {
        WeeklyProfile profile(it.value());
        if (!profile.isEmpty())
            m_profiles.insert(it.key(), profile);
    }
}

qint64 QuietWindowFinder::lossAt(const QDateTime &start) const
{
    double lost = 0;
    for (const NodeOutage &outage : m_outages) {
        if (outage.durationMs <= 0)
            continue;
        const auto profile = m_profiles.constFind(outage.node);
        if (profile != m_profiles.cend())
            lost += profile->flowsBetween(start.addMSecs(outage.offsetMs), outage.durationMs);
        else
            lost += std::max(0.0, outage.fallbackFlowsPerSecond) * double(outage.durationMs)
                    / 1000.0;
    }
    return qint64(std::llround(lost));
}

QuietWindowFinder::Suggestion QuietWindowFinder::best(const QDateTime &now, int days,
                                                      int stepMinutes) const
{
    const qint64 stepMs = qint64(stepMinutes > 0 ? stepMinutes : 60) * 60 * 1000;
    const QDateTime from = now.toUTC();
    const QDateTime hour = hourFloor(from);
    // The first grid point at or after now, counted from the whole hour.
    const qint64 intoHour = hour.msecsTo(from);
    QDateTime candidate = hour.addMSecs(((intoHour + stepMs - 1) / stepMs) * stepMs);
    const QDateTime until = from.addDays(std::max(1, days));

    Suggestion best{candidate, lossAt(candidate)};
    for (; candidate < until; candidate = candidate.addMSecs(stepMs)) {
        const qint64 loss = lossAt(candidate);
        if (loss < best.flowsLost)
            best = {candidate, loss};
    }
    return best;
}

} // namespace ft

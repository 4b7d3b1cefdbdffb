#pragma once

#include "model/plan.h"

#include <QDateTime>
#include <QHash>
#include <QList>
#include <QString>

#include <array>

namespace ft {

// One whole UTC hour of a node's flow history (GET /v1/flows/history).
struct HourlyFlows
{
    QDateTime hourStartUtc;
    qint64 flows = 0;
};

using FlowHistory = QHash<QString, QList<HourlyFlows>>; // node name → its hours

// When a node's flow service is down, relative to the plan's start.
struct NodeOutage
{
    QString node;
    qint64 offsetMs = 0;
    qint64 durationMs = 0;
    double fallbackFlowsPerSecond = 0; // used where the history has no figure
};

// The outages of a plan that lose flows: each server step on a node that receives
// flow data, from the step's start for the estimated outage.
QList<NodeOutage> flowOutages(const UpgradePlan &plan);

// A node's typical week: mean flows per hour-of-week (Monday 00:00 UTC is hour 0),
// averaged over every week of its history. Hours the history lacks use the mean of
// the hours it has.
class WeeklyProfile
{
public:
    static constexpr int kHoursPerWeek = 7 * 24;

    WeeklyProfile() = default;
    explicit WeeklyProfile(const QList<HourlyFlows> &history);

    bool isEmpty() const { return m_samples == 0; }
    static int hourOfWeek(const QDateTime &utc);
    // Expected flows per second during the given hour-of-week.
    double flowsPerSecond(int hourOfWeek) const;
    // Expected flows in [start, start + durationMs), hour by hour.
    double flowsBetween(const QDateTime &start, qint64 durationMs) const;

private:
    std::array<double, kHoursPerWeek> m_perHour{}; // mean flows in that hour
    qint64 m_samples = 0;
};

// Suggests when to start a plan so that it loses the fewest flows, from the nodes'
// hourly flow history, and tells what any other start would lose.
class QuietWindowFinder
{
public:
    struct Suggestion
    {
        QDateTime start;       // UTC
        qint64 flowsLost = 0;  // expected, at that start
    };

    QuietWindowFinder(const FlowHistory &history, QList<NodeOutage> outages);

    // Expected flows lost if the plan starts at `start`.
    qint64 lossAt(const QDateTime &start) const;

    // The start in [now, now + days) on a stepMinutes grid (aligned to whole UTC
    // hours) with the lowest expected loss; the earliest wins a tie.
    Suggestion best(const QDateTime &now, int days = 7, int stepMinutes = 15) const;

private:
    QHash<QString, WeeklyProfile> m_profiles;
    QList<NodeOutage> m_outages;
};

} // namespace ft

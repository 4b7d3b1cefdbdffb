#include "../planner/clusterfixture.h"

#include "plan/planner.h"
#include "plan/quietwindow.h"

#include <QTest>
#include <QTimeZone>

using namespace ft;
using namespace fixture;

namespace {

QDateTime utc(int y, int m, int d, int h, int min = 0)
{
    return QDateTime(QDate(y, m, d), QTime(h, min), QTimeZone::utc());
}

// Wednesday, 25 November 2026, 10:07 UTC.
const QDateTime kNow = utc(2026, 11, 25, 10, 7);

// Fourteen days of an office pattern: busy weekday daytime, calm otherwise, and one
// very quiet hour on Sunday at `quietHour` (its neighbours are calm but not quiet).
QList<HourlyFlows> officeHistory(int quietHour = 3)
{
    QList<HourlyFlows> hours;
    const QDateTime from = utc(2026, 11, 11, 0);
    for (int i = 0; i < 14 * 24; ++i) {
        const QDateTime start = from.addSecs(qint64(i) * 3600);
        const int day = start.date().dayOfWeek();
        const int hour = start.time().hour();
        qint64 flows = 100'000;
        if (day <= 5 && hour >= 8 && hour < 18)
            flows = 1'000'000;
        if (day == 7 && hour == quietHour)
            flows = 1'000;
        else if (day == 7 && (hour == quietHour - 1 || hour == quietHour + 1))
            flows = 20'000;
        hours.append({start, flows});
    }
    return hours;
}

} // namespace

class tst_QuietWindow : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void profileAveragesWeeks();
    void profileFillsMissingHours();
    void quietSundayIsChosen();
    void pickedBusyTimeLosesMore();
    void outageAcrossAnHourBoundary();
    void severalNodesWithOffsets();
    void nodeWithoutHistoryUsesItsRate();
    void gridIsAlignedAndBounded_data();
    void gridIsAlignedAndBounded();
    void outagesFromAPlan();
};

void tst_QuietWindow::profileAveragesWeeks()
{
    // Monday 05:00 in two weeks: 100 and 300 flows; the profile expects 200.
    const QList<HourlyFlows> history{{utc(2026, 11, 16, 5), 100}, {utc(2026, 11, 23, 5), 300},
                                     {utc(2026, 11, 23, 6), 7200}};
    const WeeklyProfile profile(history);
    QCOMPARE(WeeklyProfile::hourOfWeek(utc(2026, 11, 23, 5)), 5);
    QCOMPARE(WeeklyProfile::hourOfWeek(utc(2026, 11, 29, 23)), 167);
    QCOMPARE(profile.flowsPerSecond(5), 200.0 / 3600);
    QCOMPARE(profile.flowsPerSecond(6), 2.0);
    QCOMPARE(profile.flowsBetween(utc(2026, 12, 7, 6), 30 * 60 * 1000), 3600.0);
}

void tst_QuietWindow::profileFillsMissingHours()
{
    const WeeklyProfile profile({{utc(2026, 11, 23, 5), 3600}, {utc(2026, 11, 23, 6), 10'800}});
    // Hours without data expect the mean of the hours with data: 7200 per hour.
    QCOMPARE(profile.flowsPerSecond(100), 2.0);
    QVERIFY(!profile.isEmpty());
    QVERIFY(WeeklyProfile(QList<HourlyFlows>()).isEmpty());
}

void tst_QuietWindow::quietSundayIsChosen()
{
    const QuietWindowFinder finder({{"w1", officeHistory()}}, {{"w1", 0, 10 * 60 * 1000, 0}});
    const auto best = finder.best(kNow);
    QCOMPARE(best.start, utc(2026, 11, 29, 3, 0));
    QCOMPARE(best.flowsLost, 167); // 1000 flows/h for 10 min
    QCOMPARE(finder.lossAt(best.start), best.flowsLost);

    // Another quiet hour moves the suggestion with it.
    const QuietWindowFinder later({{"w1", officeHistory(5)}}, {{"w1", 0, 10 * 60 * 1000, 0}});
    QCOMPARE(later.best(kNow).start, utc(2026, 11, 29, 5, 0));
}

void tst_QuietWindow::pickedBusyTimeLosesMore()
{
    const QuietWindowFinder finder({{"w1", officeHistory()}}, {{"w1", 0, 10 * 60 * 1000, 0}});
    const qint64 best = finder.best(kNow).flowsLost;
    const qint64 busy = finder.lossAt(utc(2026, 12, 2, 10, 0)); // Wednesday mid-morning
    QCOMPARE(busy, 166'667);
    QVERIFY(busy > best);
    QCOMPARE(finder.lossAt(utc(2026, 12, 2, 22, 0)), 16'667); // a calm night
}

void tst_QuietWindow::outageAcrossAnHourBoundary()
{
    const QuietWindowFinder finder({{"w1", officeHistory()}}, {{"w1", 0, 10 * 60 * 1000, 0}});
    // 02:55–03:05 on Sunday: five minutes at 20,000/h, five at 1,000/h.
    QCOMPARE(finder.lossAt(utc(2026, 11, 29, 2, 55)), 1750);
}

void tst_QuietWindow::severalNodesWithOffsets()
{
    // w1 goes down at the start for an hour, w2 an hour later for an hour; w1 is
    // quiet at 03:00, w2 at 04:00, so starting at 03:00 suits both.
    const QList<NodeOutage> outages{{"w1", 0, 3600 * 1000, 0}, {"w2", 3600 * 1000, 3600 * 1000, 0}};
    const QuietWindowFinder finder({{"w1", officeHistory(3)}, {"w2", officeHistory(4)}}, outages);
    const auto best = finder.best(kNow);
    QCOMPARE(best.start, utc(2026, 11, 29, 3, 0));
    QCOMPARE(best.flowsLost, 2000);
    // Starting an hour earlier catches both nodes in a calm hour instead.
    QCOMPARE(finder.lossAt(utc(2026, 11, 29, 2, 0)), 20'000 + 20'000);
}

void tst_QuietWindow::nodeWithoutHistoryUsesItsRate()
{
    const QuietWindowFinder finder({}, {{"w1", 0, 10 * 60 * 1000, 5.0}});
    QCOMPARE(finder.lossAt(utc(2026, 11, 29, 3, 0)), 3000);
    QCOMPARE(finder.lossAt(utc(2026, 12, 2, 10, 0)), 3000);
    // Flat cost everywhere: the earliest grid point wins.
    QCOMPARE(finder.best(kNow).start, utc(2026, 11, 25, 10, 15));
}

void tst_QuietWindow::gridIsAlignedAndBounded_data()
{
    QTest::addColumn<QDateTime>("now");
    QTest::addColumn<int>("stepMinutes");
    QTest::addColumn<QDateTime>("first");

    QTest::newRow("quarter past after 10:07") << kNow << 15 << utc(2026, 11, 25, 10, 15);
    QTest::newRow("on the grid already") << utc(2026, 11, 25, 10, 30) << 15 << utc(2026, 11, 25, 10, 30);
    QTest::newRow("hourly") << kNow << 60 << utc(2026, 11, 25, 11, 0);
    QTest::newRow("zero means hourly") << kNow << 0 << utc(2026, 11, 25, 11, 0);
}

void tst_QuietWindow::gridIsAlignedAndBounded()
{
    QFETCH(QDateTime, now);
    QFETCH(int, stepMinutes);
    QFETCH(QDateTime, first);
    const QuietWindowFinder flat({}, {{"w1", 0, 60 * 1000, 1.0}});
    QCOMPARE(flat.best(now, 7, stepMinutes).start, first);

    // The quiet Sunday is 3 days and 17 h away: a 3-day search cannot reach it.
    const QuietWindowFinder finder({{"w1", officeHistory()}}, {{"w1", 0, 10 * 60 * 1000, 0}});
    const auto shortSearch = finder.best(now, 3, stepMinutes);
    QVERIFY(shortSearch.start >= now);
    QVERIFY(shortSearch.start < now.addDays(3));
    QVERIFY(shortSearch.flowsLost > 167);
}

void tst_QuietWindow::outagesFromAPlan()
{
    const QList<NodeStatus> nodes{withFlows(portal(), 0), withFlows(worker("w1"), 100),
                                  worker("w2")};
    PlanOptions options;
    options.startTime = kNow;
    options.dropFlowsOn = {QStringLiteral("portal"), QStringLiteral("w1")}; // not kept: they lose flows
    const UpgradePlan plan = UpgradePlanner().plan(nodes, target(false), options);
    const QList<NodeOutage> outages = flowOutages(plan);
    PlanOptions keeping = options;
    keeping.dropFlowsOn.clear();
    // Kept and replayed: no outage loses flows, whenever it starts.
    QVERIFY(flowOutages(UpgradePlanner().plan(nodes, target(false), keeping)).isEmpty());
    // w2 receives no flows; the portal does (at no rate right now) and counts.
    QCOMPARE(outages.size(), 2);
    QCOMPARE(outages.at(0).node, QStringLiteral("w1"));
    QCOMPARE(outages.at(0).offsetMs, plan.waves.at(0).startOffsetMs);
    QCOMPARE(outages.at(0).durationMs, 210'000);
    QCOMPARE(outages.at(0).fallbackFlowsPerSecond, 100.0);
    QCOMPARE(outages.at(1).node, QStringLiteral("portal"));
    QCOMPARE(outages.at(1).offsetMs, plan.waves.at(2).startOffsetMs);

    // Without history the estimate is the plan's own: rate × downtime.
    const QuietWindowFinder finder({}, outages);
    QCOMPARE(finder.lossAt(kNow), plan.totalFlowsLost);
}

QTEST_GUILESS_MAIN(tst_QuietWindow)
#include "tst_quietwindow.moc"

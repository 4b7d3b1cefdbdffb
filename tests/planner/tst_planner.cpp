#include "../planner/clusterfixture.h"

#include "plan/durationhistory.h"
#include "plan/planner.h"
#include "plan/precheck.h"

#include <QTemporaryDir>
#include <QTimeZone>
#include <QTest>

using namespace ft;
using namespace fixture;

namespace {

const QDateTime kStart(QDate(2026, 11, 29), QTime(3, 0), QTimeZone::utc());

// "server:w1+server:w2 | server:portal | webui:portal"
QString describeWaves(const UpgradePlan &plan)
{
    QStringList waves;
    for (const PlanWave &wave : plan.waves) {
        QStringList steps;
        for (const PlanStep &step : wave.steps)
            steps.append(toString(step.component) + QLatin1Char(':') + step.node);
        waves.append(steps.join(QLatin1Char('+')));
    }
    return waves.join(QStringLiteral(" | "));
}

QStringList describeSkipped(const UpgradePlan &plan)
{
    QStringList skipped;
    for (const PlanStep &step : plan.skipped)
        skipped.append(toString(step.component) + QLatin1Char(':') + step.node);
    return skipped;
}

PlanOptions options(int maxWorkersDown = 1)
{
    PlanOptions o;
    o.maxWorkersDown = maxWorkersDown;
    o.startTime = kStart;
    return o;
}

} // namespace

class tst_Planner : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void naturalOrder_data();
    void naturalOrder();
    void ordering_data();
    void ordering();
    void allCurrentIsNothingToDo();
    void stagingComesBeforeAnyOutage();
    void timingAndMixedVersionWindow();
    void mixedBeforeStartOpensWindowAtZero();
    void impactSentencesAndFlowsLost();
    void windowsNodesUseWindowsDefaults();
    void keptFlowsAreNotLost_data();
    void keptFlowsAreNotLost();
    void measuredHistoryIsPreferred();
    void unreachablePortalIsSkippedAndBlocked();
    void windowsPackageOnLinuxNodes();
    void canaryGoesFirstAndAlone();
};

void tst_Planner::naturalOrder_data()
{
    QTest::addColumn<QString>("a");
    QTest::addColumn<QString>("b");
    QTest::addColumn<bool>("less");

    QTest::newRow("w2 < w10") << "w2" << "w10" << true;
    QTest::newRow("w10 !< w2") << "w10" << "w2" << false;
    QTest::newRow("prefix shorter first") << "w" << "w1" << true;
    QTest::newRow("letters") << "alpha" << "beta" << true;
    QTest::newRow("case-insensitive") << "Beta" << "alpha" << false;
    QTest::newRow("multi-number") << "rack2-w9" << "rack2-w10" << true;
    QTest::newRow("leading zeros equal value") << "w01" << "w1" << true;
    QTest::newRow("equal") << "w1" << "w1" << false;
    QTest::newRow("huge numbers") << "w99999999999999999999" << "w100000000000000000000" << true;
}

void tst_Planner::naturalOrder()
{
    QFETCH(QString, a);
    QFETCH(QString, b);
    QFETCH(bool, less);
    QCOMPARE(naturalLess(a, b), less);
}

void tst_Planner::ordering_data()
{
    QTest::addColumn<QList<NodeStatus>>("nodes");
    QTest::addColumn<UpgradeTarget>("upgrade");
    QTest::addColumn<int>("maxWorkersDown");
    QTest::addColumn<bool>("includeNbi");
    QTest::addColumn<QString>("waves");
    QTest::addColumn<QStringList>("skipped");
    QTest::addColumn<int>("effectiveWorkersDown");
    QTest::addColumn<int>("warnings");

    QTest::newRow("portal and three workers")
        << QList<NodeStatus>{worker("w3"), portal(), worker("w1"), worker("w2")} << target(false)
        << 1 << true << "server:w1 | server:w2 | server:w3 | server:portal | webui:portal"
        << QStringList() << 1 << 0;

    QTest::newRow("workers in natural order")
        << QList<NodeStatus>{worker("w10"), worker("w2"), portal(), worker("w1")} << target(false)
        << 1 << true << "server:w1 | server:w2 | server:w10 | server:portal | webui:portal"
        << QStringList() << 1 << 0;

    QTest::newRow("standalone, no workers")
        << QList<NodeStatus>{node("ft1", NodeRole::Standalone)} << target(false) << 1 << true
        << "server:ft1 | webui:ft1" << QStringList() << 1 << 0;

    QTest::newRow("NBI on the portal after all servers")
        << QList<NodeStatus>{withNbi(portal()), worker("w1")} << target() << 1 << true
        << "server:w1 | server:portal | nbi:portal | webui:portal" << QStringList() << 1 << 0;

    QTest::newRow("NBI on a worker after the portal's server")
        << QList<NodeStatus>{portal(), worker("w1"), withNbi(worker("w2"))} << target() << 1
        << true << "server:w1 | server:w2 | server:portal | nbi:w2 | webui:portal"
        << QStringList() << 1 << 0;

    QTest::newRow("NBI left out")
        << QList<NodeStatus>{withNbi(portal()), worker("w1")} << target() << 1 << false
        << "server:w1 | server:portal | webui:portal" << QStringList{"nbi:portal"} << 1 << 0;

    QTest::newRow("no Web UI package")
        << cluster(1) << target(false, false) << 1 << true << "server:w1 | server:portal"
        << QStringList() << 1 << 1; // warned: the Web UI stays behind the servers

    QTest::newRow("two workers down at a time")
        << cluster(5) << target(false) << 2 << true
        << "server:w1+server:w2 | server:w3+server:w4 | server:w5 | server:portal | webui:portal"
        << QStringList() << 2 << 1;

    QTest::newRow("all workers down is clamped to workers - 1")
        << cluster(3) << target(false) << 3 << true
        << "server:w1+server:w2 | server:w3 | server:portal | webui:portal" << QStringList() << 2
        << 2;

    QTest::newRow("more than the workers is clamped as well")
        << cluster(3) << target(false) << 10 << true
        << "server:w1+server:w2 | server:w3 | server:portal | webui:portal" << QStringList() << 2
        << 2;

    QTest::newRow("one worker: always one at a time")
        << cluster(1) << target(false) << 2 << true << "server:w1 | server:portal | webui:portal"
        << QStringList() << 1 << 1;

    QTest::newRow("zero is raised to one")
        << cluster(2) << target(false) << 0 << true
        << "server:w1 | server:w2 | server:portal | webui:portal" << QStringList() << 1 << 1;

    QTest::newRow("current and newer nodes are skipped")
        << QList<NodeStatus>{portal(), worker("w1", "6.3.0-1500"), worker("w2"),
                             worker("w3", "6.4.0")}
        << target(false) << 1 << true << "server:w2 | server:portal | webui:portal"
        << QStringList{"server:w1", "server:w3"} << 1 << 0;

    QTest::newRow("unreachable worker is skipped")
        << QList<NodeStatus>{portal(), unreachable(worker("w1")), worker("w2")} << target(false)
        << 1 << true << "server:w2 | server:portal | webui:portal" << QStringList{"server:w1"}
        << 1 << 0;
}

void tst_Planner::ordering()
{
    QFETCH(QList<NodeStatus>, nodes);
    QFETCH(UpgradeTarget, upgrade);
    QFETCH(int, maxWorkersDown);
    QFETCH(bool, includeNbi);
    QFETCH(QString, waves);
    QFETCH(QStringList, skipped);
    QFETCH(int, effectiveWorkersDown);
    QFETCH(int, warnings);

    PlanOptions o = options(maxWorkersDown);
    o.includeNbi = includeNbi;
    const UpgradePlan plan = UpgradePlanner().plan(nodes, upgrade, o);
    QCOMPARE(describeWaves(plan), waves);
    QCOMPARE(describeSkipped(plan), skipped);
    QCOMPARE(plan.maxWorkersDown, effectiveWorkersDown);
    QVERIFY2(plan.warnings.size() == warnings, qPrintable(plan.warnings.join(QLatin1Char('\n'))));
    for (const PlanStep &step : plan.skipped)
        QVERIFY(!step.skipReason.isEmpty());

    // The same input in another order gives the same plan.
    QList<NodeStatus> reversed(nodes.crbegin(), nodes.crend());
    QCOMPARE(describeWaves(UpgradePlanner().plan(reversed, upgrade, o)), waves);
}

void tst_Planner::allCurrentIsNothingToDo()
{
    const QList<NodeStatus> nodes{withNbi(portal("6.3.0-1500"), "6.3.0-1500"),
                                  worker("w1", "6.3.0-1500")};
    const UpgradePlan plan = UpgradePlanner().plan(nodes, target(), options());
    QVERIFY(plan.nothingToDo());
    QCOMPARE(plan.stepCount(), 0);
    QVERIFY(plan.stage.isEmpty());
    QCOMPARE(plan.wallTimeMs, 0);
    QCOMPARE(plan.totalFlowsLost, 0);
    QCOMPARE(plan.mixedVersionWindowMs, 0);
    QCOMPARE(describeSkipped(plan),
             (QStringList{"server:portal", "nbi:portal", "webui:portal", "server:w1"}));
    QVERIFY(plan.skipped.first().skipReason.contains("6.3.0-1500"));
}

void tst_Planner::stagingComesBeforeAnyOutage()
{
    QList<NodeStatus> nodes{withNbi(portal()), worker("w1"), worker("w2", "6.3.0-1500")};
    UpgradeTarget upgrade = target();
    upgrade.server->size = 300 * kMiB;
    upgrade.nbi->size = 50 * kMiB;
    upgrade.webUi->size = 20 * kMiB;

    const UpgradePlan plan = UpgradePlanner().plan(nodes, upgrade, options());
    QCOMPARE(plan.stage.size(), 2); // w2 is current: nothing to stage there
    QCOMPARE(plan.stage.at(0).node, QStringLiteral("portal"));
    QCOMPARE(names(plan.stage.at(0).components), (QStringList{"server", "nbi", "webui"}));
    QCOMPARE(plan.stage.at(0).packageFiles,
             (QStringList{"server-6.3.0-1500.ftpkg", "nbi-6.3.0-1500.ftpkg",
                          "webui-6.3.0-1500.ftpkg"}));
    QCOMPARE(plan.stage.at(0).bytes, 370 * kMiB);
    QCOMPARE(plan.stage.at(1).node, QStringLiteral("w1"));
    QCOMPARE(plan.stage.at(1).bytes, 300 * kMiB);

    // 670 MiB at the default 50 MiB/s: 13.4 s, and the first outage after it.
    QCOMPARE(plan.stageDurationMs, 13400);
    QVERIFY(!plan.stageBasis.isEmpty());
    QCOMPARE(plan.waves.first().startOffsetMs, plan.stageDurationMs);
    for (const PlanWave &wave : plan.waves)
        QVERIFY(wave.startOffsetMs >= plan.stageDurationMs);
}

void tst_Planner::timingAndMixedVersionWindow()
{
    UpgradeTarget upgrade = target(false);
    upgrade.server->size = 0;
    upgrade.webUi->size = 0;
    const UpgradePlan plan = UpgradePlanner().plan(cluster(3), upgrade, options());
    QCOMPARE(plan.stageDurationMs, 0);

    // Defaults: a Linux server takes 4 min, the Web UI 1 min.
    const qint64 server = 240'000, webUi = 60'000;
    QCOMPARE(plan.waves.size(), 5);
    for (int i = 0; i < 4; ++i) {
        QCOMPARE(plan.waves.at(i).startOffsetMs, i * server);
        QCOMPARE(plan.waves.at(i).durationMs, server);
        QCOMPARE(plan.waves.at(i).steps.first().startOffsetMs, i * server);
    }
    QCOMPARE(plan.waves.at(4).startOffsetMs, 4 * server);
    QCOMPARE(plan.wallTimeMs, 4 * server + webUi);
    // Mixed from when w1 is done until the portal is done.
    QCOMPARE(plan.mixedVersionStartMs, server);
    QCOMPARE(plan.mixedVersionWindowMs, 3 * server);

    // Two at a time: the wave lasts as long as its longest step.
    const UpgradePlan pairs = UpgradePlanner().plan(cluster(3), upgrade, options(2));
    QCOMPARE(pairs.waves.at(0).durationMs, server);
    QCOMPARE(pairs.waves.at(1).startOffsetMs, server);
    QCOMPARE(pairs.wallTimeMs, 3 * server + webUi);

    // A standalone server is never mixed.
    const UpgradePlan single =
        UpgradePlanner().plan({node("ft1", NodeRole::Standalone)}, upgrade, options());
    QCOMPARE(single.mixedVersionWindowMs, 0);
}

void tst_Planner::mixedBeforeStartOpensWindowAtZero()
{
    UpgradeTarget upgrade = target(false, false);
    upgrade.server->size = 0;
    const QList<NodeStatus> nodes{portal(), worker("w1", "6.3.0-1500"), worker("w2")};
    const UpgradePlan plan = UpgradePlanner().plan(nodes, upgrade, options());
    QCOMPARE(describeWaves(plan), QStringLiteral("server:w2 | server:portal"));
    QCOMPARE(plan.mixedVersionStartMs, 0);
    QCOMPARE(plan.mixedVersionWindowMs, 2 * 240'000);
}

void tst_Planner::impactSentencesAndFlowsLost()
{
    QList<NodeStatus> nodes{withFlows(portal(), 50), withFlows(worker("w1"), 100), worker("w2"),
                            withNbi(worker("w3"))};
    PlanOptions dropping = options();
    dropping.dropFlowsOn = {QStringLiteral("w1"), QStringLiteral("portal")}; // "Keep flows" turned off
    const UpgradePlan plan = UpgradePlanner().plan(nodes, target(), dropping);
    QCOMPARE(describeWaves(plan),
             QStringLiteral("server:w1 | server:w2 | server:w3 | server:portal | nbi:w3 | "
                            "webui:portal"));

    // Linux server outage by default: stopping 20 + installing 150 + starting 40 s.
    const PlanStep w1 = plan.waves.at(0).steps.first();
    QCOMPARE(w1.estimate.outageMs, 210'000);
    QCOMPARE(toString(w1.estimate.source), toString(EstimateSource::Default));
    QVERIFY(w1.impact.receivesFlows);
    QCOMPARE(w1.impact.flowsLost, 21'000);
    QVERIFY(w1.impact.sentence.contains("incomplete"));
    QVERIFY(w1.impact.sentence.contains("21"));

    const PlanStep w2 = plan.waves.at(1).steps.first();
    QCOMPARE(w2.impact.flowsLost, 0);
    QVERIFY(w2.impact.sentence.contains("receives none"));

    const PlanStep portalStep = plan.waves.at(3).steps.first();
    QCOMPARE(portalStep.impact.flowsLost, 10'500);
    QVERIFY(portalStep.impact.sentence.contains("No queries at all"));

    const PlanStep nbi = plan.waves.at(4).steps.first();
    QCOMPARE(nbi.impact.flowsLost, 0);
    QVERIFY(nbi.impact.sentence.contains("NBI"));

    const PlanStep webUi = plan.waves.at(5).steps.first();
    QCOMPARE(webUi.estimate.outageMs, 45'000);
    QVERIFY(webUi.impact.sentence.contains("No Web UI"));

    QCOMPARE(plan.totalFlowsLost, 31'500);
}

void tst_Planner::keptFlowsAreNotLost_data()
{
    QTest::addColumn<bool>("windows");
    QTest::addColumn<bool>("turnedOff");
    QTest::addColumn<bool>("kept");
    QTest::newRow("linux, default") << false << false << true;
    QTest::newRow("linux, turned off") << false << true << false;
    QTest::newRow("windows") << true << false << false;
}

void tst_Planner::keptFlowsAreNotLost()
{
    QFETCH(bool, windows);
    QFETCH(bool, turnedOff);
    QFETCH(bool, kept);
    QList<NodeStatus> nodes{portal(), withFlows(worker("w1", "6.2.1-1200", windows ? OsKind::Windows : OsKind::Linux), 100)};
    PlanOptions o = options();
    if (turnedOff)
        o.dropFlowsOn = {QStringLiteral("w1")};
    const UpgradePlan plan = UpgradePlanner().plan(nodes, target(false, false), o);
    const PlanStep w1 = plan.waves.at(0).steps.first();
    QCOMPARE(w1.node, QStringLiteral("w1"));
    QCOMPARE(w1.impact.keepFlows, kept);
    QCOMPARE(w1.impact.flowsLost == 0, kept);
    QCOMPARE(plan.totalFlowsLost == 0, kept);
    QCOMPARE(w1.impact.sentence.contains("0 expected lost (kept and replayed)"), kept);
    QCOMPARE(w1.impact.sentence.contains("not available on Windows nodes"), windows);
}

void tst_Planner::windowsNodesUseWindowsDefaults()
{
    UpgradeTarget upgrade = target(false, false);
    const QList<NodeStatus> nodes{portal(), worker("w1", "6.2.1-1200", OsKind::Windows)};
    const UpgradePlan plan = UpgradePlanner().plan(nodes, upgrade, options());
    QCOMPARE(toString(plan.waves.at(0).steps.first().os), toString(OsKind::Windows));
    QCOMPARE(plan.waves.at(0).steps.first().estimate.totalMs, 360'000);
    QCOMPARE(plan.waves.at(1).steps.first().estimate.totalMs, 240'000);
    QVERIFY(plan.waves.at(0).steps.first().estimate.basis.contains("Windows"));
}

void tst_Planner::measuredHistoryIsPreferred()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    DurationHistory history;
    QVERIFY(history.open(dir.filePath("history.sqlite")).has_value());
    for (qint64 install : {100'000, 120'000, 140'000}) {
        MeasuredStep step;
        step.clusterId = "c1";
        step.node = "w1";
        step.phases = {10'000, install, 10'000, 5'000};
        QVERIFY(history.record(step).has_value());
    }

    UpgradePlanner planner;
    planner.setHistory(&history);
    PlanOptions o = options();
    o.clusterId = "c1";
    const UpgradePlan plan = planner.plan(cluster(2), target(false, false), o);
    const PlanStep w1 = plan.waves.at(0).steps.first();
    QCOMPARE(w1.node, QStringLiteral("w1"));
    QCOMPARE(toString(w1.estimate.source), toString(EstimateSource::Measured));
    QCOMPARE(w1.estimate.runs, 3);
    QCOMPARE(w1.estimate.totalMs, 145'000);
    QVERIFY(w1.estimate.basis.contains("w1"));
    // w2 has no runs of its own: the cluster's Linux server runs stand in.
    QCOMPARE(toString(plan.waves.at(1).steps.first().estimate.source), toString(EstimateSource::Measured));
    // Another cluster's plan ignores them.
    o.clusterId = "c2";
    const UpgradePlan other = planner.plan(cluster(2), target(false, false), o);
    QCOMPARE(toString(other.waves.at(0).steps.first().estimate.source), toString(EstimateSource::Default));
}

void tst_Planner::unreachablePortalIsSkippedAndBlocked()
{
    const QList<NodeStatus> nodes{unreachable(portal()), worker("w1"), worker("w2")};
    const UpgradePlan plan = UpgradePlanner().plan(nodes, target(false), options());
    QCOMPARE(describeWaves(plan), QStringLiteral("server:w1 | server:w2"));
    QCOMPARE(describeSkipped(plan), QStringList{"server:portal"});
    QVERIFY(plan.skipped.first().skipReason.contains("no answer after 5 s"));

    const PreCheckReport report = runPreChecks(nodes, target(false));
    QVERIFY(report.hasErrors());
    QVERIFY(report.contains(PreCheckId::Unreachable, "portal"));
    QVERIFY(report.contains(PreCheckId::NoPortal));
}

void tst_Planner::windowsPackageOnLinuxNodes()
{
    UpgradeTarget upgrade = target(false, false);
    upgrade.server->os = "windows";
    const PreCheckReport report = runPreChecks(cluster(2), upgrade);
    QVERIFY(report.contains(PreCheckId::OsMismatch));
    const Result valid = validateTarget(upgrade, cluster(2));
    QVERIFY(!valid);
    QVERIFY(valid.error().contains("portal, w1, w2"));
}


// The canary: the chosen worker is the first wave, alone, whatever the workers-down
// setting; a name that is no worker to upgrade gives a warning and no canary.
void tst_Planner::canaryGoesFirstAndAlone()
{
    const QList<NodeStatus> nodes{portal(), worker("w1"), worker("w2"), worker("w3")};
    PlanOptions withCanary = options(2);
    withCanary.canaryNode = QStringLiteral("w3");
    const UpgradePlan plan = UpgradePlanner().plan(nodes, target(), withCanary);
    QCOMPARE(plan.canaryNode, QStringLiteral("w3"));
    QVERIFY(describeWaves(plan).startsWith(QStringLiteral("server:w3 | server:w1+server:w2 | server:portal")));
    QVERIFY(plan.waves.first().title.contains(QStringLiteral("Canary")));

    withCanary.canaryNode = QStringLiteral("portal");
    const UpgradePlan noCanary = UpgradePlanner().plan(nodes, target(), withCanary);
    QVERIFY(noCanary.canaryNode.isEmpty());
    QVERIFY(describeWaves(noCanary).startsWith(QStringLiteral("server:w1+server:w2 | server:w3")));
    QVERIFY(noCanary.warnings.join(QLatin1Char(' ')).contains(QStringLiteral("no canary")));
}

QTEST_GUILESS_MAIN(tst_Planner)
#include "tst_planner.moc"

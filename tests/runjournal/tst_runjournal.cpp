#include "run/runjournal.h"
#include "run/runengine.h"
#include "agentlink/agentclient.h"

#include <QFile>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QtTest>

using namespace ft;

namespace {

Version v(const char *text)
{
    return *Version::parse(QString::fromLatin1(text));
}

PlanStep step(const QString &node, NodeRole role, Component component, const char *from)
{
    PlanStep s;
    s.node = node;
    s.role = role;
    s.component = component;
    s.fromVersion = v(from);
    s.toVersion = v("6.3.0-1500");
    s.packageFile = component == Component::WebUi ? QStringLiteral("webui-6.3.0-1500.ftpkg")
                                                  : QStringLiteral("server-6.3.0-1500.ftpkg");
    s.estimate.totalMs = 120000;
    s.estimate.outageMs = 90000;
    s.estimate.basis = QStringLiteral("built-in default");
    return s;
}

UpgradePlan samplePlan()
{
    UpgradePlan plan;
    plan.startTime = QDateTime(QDate(2026, 11, 27), QTime(8, 0), Qt::UTC);
    plan.stage.append({QStringLiteral("w1"), {Component::Server}, {QStringLiteral("server-6.3.0-1500.ftpkg")}, 100});
    plan.stage.append({QStringLiteral("portal"), {Component::Server, Component::WebUi},
                       {QStringLiteral("server-6.3.0-1500.ftpkg"), QStringLiteral("webui-6.3.0-1500.ftpkg")}, 300});
    PlanWave w1{QStringLiteral("Worker w1"), {step(QStringLiteral("w1"), NodeRole::Worker, Component::Server, "6.2.1-1200")}, 0, 120000};
    PlanWave portal{QStringLiteral("Portal server"),
                    {step(QStringLiteral("portal"), NodeRole::Portal, Component::Server, "6.2.1-1200")}, 120000, 120000};
    PlanWave web{QStringLiteral("Web UI"),
                 {step(QStringLiteral("portal"), NodeRole::Portal, Component::WebUi, "6.2.1-1200")}, 240000, 120000};
    plan.waves = {w1, portal, web};
    PlanStep current = step(QStringLiteral("w2"), NodeRole::Worker, Component::Server, "6.3.0-1500");
    current.skipped = true;
    current.skipReason = QStringLiteral("already at 6.3.0-1500");
    plan.skipped.append(current);
    PlanStep unreachable = step(QStringLiteral("w3"), NodeRole::Worker, Component::Server, "6.2.1-1200");
    unreachable.skipped = true;
    unreachable.skipReason = QStringLiteral("w3 did not answer");
    plan.skipped.append(unreachable);
    return plan;
}

QList<RunPackage> samplePackages()
{
    return {{Component::Server, QStringLiteral("/p/server-6.3.0-1500.ftpkg"), QStringLiteral("server-6.3.0-1500.ftpkg"),
             QStringLiteral("ab12"), 100, QStringLiteral("6.3.0-1500")},
            {Component::WebUi, QStringLiteral("/p/webui-6.3.0-1500.ftpkg"), QStringLiteral("webui-6.3.0-1500.ftpkg"),
             QStringLiteral("cd34"), 200, QStringLiteral("6.3.0-1500")}};
}

} // namespace

class TestRunJournal : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void fromPlanOrdersStepsAndStage()
    {
        const RunJournal journal = RunJournal::fromPlan(samplePlan(), samplePackages());
        QVERIFY(!journal.runId.isEmpty());
        QCOMPARE(journal.stage.size(), 3); // one record per node × package
        QCOMPARE(journal.steps.size(), 5);
        QCOMPARE(journal.steps.at(0).step.node, QStringLiteral("w1"));
        QCOMPARE(journal.steps.at(0).wave, 0);
        QCOMPARE(toString(journal.steps.at(2).step.component), toString(Component::WebUi));
        QCOMPARE(journal.steps.at(2).wave, 2);
        QCOMPARE(toString(journal.steps.at(0).state), toString(RunStepState::Pending));
        // Plan-skipped steps: current ones are "already current", others skipped with the reason.
        QCOMPARE(toString(journal.steps.at(3).state), toString(RunStepState::AlreadyCurrent));
        QCOMPARE(journal.steps.at(3).wave, -1);
        QCOMPARE(toString(journal.steps.at(4).state), toString(RunStepState::Skipped));
        QCOMPARE(journal.steps.at(4).error, QStringLiteral("w3 did not answer"));
        QVERIFY(journal.package(QStringLiteral("webui-6.3.0-1500.ftpkg")));
        QVERIFY(!journal.package(QStringLiteral("nbi.ftpkg")));
    }

    void roundTripsThroughAFile()
    {
        QTemporaryDir dir;
        RunJournal journal = RunJournal::fromPlan(samplePlan(), samplePackages());
        journal.clusterId = QStringLiteral("127.0.0.1:40200");
        journal.state = RunState::WaitingForDecision;
        journal.stateSentence = QStringLiteral("FlowTraq Server on w1 failed");
        journal.customizationsAcknowledged = {QStringLiteral("css/site.css (modified)")};
        journal.noticeSent = QStringLiteral("mail to ops@example.com, 2026-11-26");
        RunStepRecord &first = journal.steps[0];
        first.state = RunStepState::Failed;
        first.agentJobId = QStringLiteral("j-17");
        first.phase = QStringLiteral("installing");
        first.started = QDateTime(QDate(2026, 11, 27), QTime(8, 1, 2, 345), Qt::UTC);
        first.finished = first.started.addSecs(42);
        first.phases = {1000, 30000, 2000, 500};
        first.exitCode = 1603;
        first.rebootRequested = false;
        first.flowsResumed = false;
        first.error = QStringLiteral("The installer failed with exit code 1603.");
        first.attempts = 2;
        first.logNext = 57;
        first.decisions.append({RunDecision::Retry, first.finished, QStringLiteral("administrator")});
        journal.steps[1].deferred = true;
        RunDifference difference;
        difference.step = 0;
        difference.node = QStringLiteral("w1");
        difference.journalState = QStringLiteral("running");
        difference.found = QStringLiteral("agent_job_succeeded");
        difference.foundVersion = QStringLiteral("6.3.0-1500");
        difference.detail = QStringLiteral("finished while away");
        journal.differences = {difference};
        journal.packages[0].contentsChecked = true;
        journal.packages[0].modifiedMs = 1796000000123;

        const QString path = dir.filePath(QStringLiteral("runs/run.json"));
        QVERIFY(journal.save(path).has_value());
        const auto loaded = RunJournal::load(path);
        QVERIFY2(loaded.has_value(), loaded ? "" : qPrintable(loaded.error()));
        QCOMPARE(loaded->runId, journal.runId);
        QCOMPARE(toString(loaded->state), toString(RunState::WaitingForDecision));
        QCOMPARE(loaded->stateSentence, journal.stateSentence);
        QCOMPARE(loaded->plan.waves.size(), 3);
        QCOMPARE(loaded->packages.size(), 2);
        QCOMPARE(loaded->packages.at(1).sha256, QStringLiteral("cd34"));
        QVERIFY(loaded->packages.at(0).contentsChecked);
        QCOMPARE(loaded->packages.at(0).modifiedMs, qint64(1796000000123));
        QVERIFY(!loaded->packages.at(1).contentsChecked);
        QCOMPARE(loaded->stage.size(), 3);
        QCOMPARE(loaded->steps.size(), 5);
        const RunStepRecord &back = loaded->steps.at(0);
        QCOMPARE(toString(back.state), toString(RunStepState::Failed));
        QCOMPARE(back.agentJobId, QStringLiteral("j-17"));
        QCOMPARE(back.started, first.started);
        QCOMPARE(back.finished, first.finished);
        QCOMPARE(back.phases, first.phases);
        QCOMPARE(back.exitCode, std::optional<int>(1603));
        QCOMPARE(back.flowsResumed, std::optional<bool>(false));
        QCOMPARE(back.error, first.error);
        QCOMPARE(back.attempts, 2);
        QCOMPARE(back.logNext, qint64(57));
        QCOMPARE(back.decisions.size(), 1);
        QCOMPARE(toString(back.decisions.at(0).decision), toString(RunDecision::Retry));
        QCOMPARE(back.step.node, QStringLiteral("w1"));
        QCOMPARE(back.step.toVersion, v("6.3.0-1500"));
        QCOMPARE(back.step.estimate.totalMs, qint64(120000));
        QVERIFY(loaded->steps.at(1).deferred);
        QCOMPARE(loaded->steps.at(1).exitCode, std::optional<int>());
        QCOMPARE(loaded->customizationsAcknowledged, journal.customizationsAcknowledged);
        QCOMPARE(loaded->noticeSent, journal.noticeSent);
        QCOMPARE(loaded->differences, journal.differences);
        QCOMPARE(loaded->failedNodeCount(), 1);
    }

    // The delivery chosen when the run was prepared is in the journal, and a resumed run
    // goes on with it (the same URL and pin), whatever the options of the resuming
    // process say; a journal from before deliveries were kept takes the options'.
    void resumedRunKeepsItsDelivery()
    {
        QTemporaryDir dir;
        RunJournal journal = RunJournal::fromPlan(samplePlan(), {});
        journal.state = RunState::Halted;
        journal.delivery.method = QStringLiteral("url");
        journal.delivery.url = QStringLiteral("https://files.example.net/flowtraq/");
        journal.delivery.fingerprint = QString(64, QLatin1Char('e'));
        journal.delivery.uploads = {QStringLiteral("u0123456789abcdef01234567")};
        const QString path = dir.filePath(QStringLiteral("run.json"));
        QVERIFY(journal.save(path).has_value());
        const auto loaded = RunJournal::load(path);
        QVERIFY(loaded.has_value());
        QCOMPARE(loaded->delivery.method, QStringLiteral("url"));
        QCOMPARE(loaded->delivery.url, journal.delivery.url);
        QCOMPARE(loaded->delivery.fingerprint, journal.delivery.fingerprint);
        QCOMPARE(loaded->delivery.uploads, journal.delivery.uploads);

        AgentClient client;
        RunEngine engine(&client);
        RunOptions options;
        options.journalPath = dir.filePath(QStringLiteral("resumed.json"));
        options.delivery = PackageDelivery::Portal; // what the resuming process would default to
        engine.setOptions(options);
        QVERIFY(engine.resumeFrom(*loaded).has_value());
        QCOMPARE(toString(engine.options().delivery), QStringLiteral("url"));
        QCOMPARE(engine.options().deliveryUrl, QUrl(journal.delivery.url));
        QCOMPARE(engine.options().deliveryFingerprint, journal.delivery.fingerprint);

        // Portal with the nodes' own address for it.
        RunJournal portal = *loaded;
        portal.delivery = {};
        portal.delivery.method = QStringLiteral("portal");
        portal.delivery.portalAddressForNodes = QStringLiteral("192.0.2.7:7443");
        RunEngine second(&client);
        options.delivery = PackageDelivery::Workstation;
        second.setOptions(options);
        QVERIFY(second.resumeFrom(portal).has_value());
        QCOMPARE(toString(second.options().delivery), QStringLiteral("portal"));
        QCOMPARE(second.options().portalAddressForNodes, QStringLiteral("192.0.2.7:7443"));

        // An older journal without a delivery: the options' own, now recorded.
        RunJournal older = *loaded;
        older.delivery = {};
        RunEngine third(&client);
        third.setOptions(options);
        QVERIFY(third.resumeFrom(older).has_value());
        QCOMPARE(toString(third.options().delivery), QStringLiteral("workstation"));
        QCOMPARE(third.journal().delivery.method, QStringLiteral("workstation"));

        // A journal naming a delivery this wizard does not know: refused, nothing taken.
        RunJournal unknown = *loaded;
        unknown.delivery.method = QStringLiteral("carrier-pigeon");
        RunEngine fourth(&client);
        fourth.setOptions(options);
        const Result refused = fourth.resumeFrom(unknown);
        QVERIFY(!refused.has_value());
        QVERIFY2(refused.error().contains(QLatin1String("carrier-pigeon")), qPrintable(refused.error()));
    }

    // QSaveFile: a write that cannot complete leaves the previous journal whole.
    void failedSaveKeepsThePreviousJournal()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("run.json"));
        RunJournal journal = RunJournal::fromPlan(samplePlan(), samplePackages());
        QVERIFY(journal.save(path).has_value());
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QByteArray before = file.readAll();
        file.close();
        // The folder becomes read-only: the temporary file cannot be made.
        QFile::setPermissions(dir.path(), QFile::ReadOwner | QFile::ExeOwner);
        journal.state = RunState::Running;
        const Result saved = journal.save(path);
        QFile::setPermissions(dir.path(), QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
        if (saved.has_value())
            QSKIP("running as root: the folder's permissions do not stop the write");
        QVERIFY(saved.error().contains(QStringLiteral("run.json")));
        QVERIFY(file.open(QIODevice::ReadOnly));
        QCOMPARE(file.readAll(), before);
    }

    void badJournalsAreRefused_data()
    {
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QString>("expected");
        QTest::newRow("not json") << QByteArray("{\"format\": 1, ") << QStringLiteral("not valid JSON");
        QTest::newRow("other format") << QByteArray("{\"format\": 9, \"run_id\": \"x\"}")
                                      << QStringLiteral("another format");
        QTest::newRow("no run id") << QByteArray("{\"format\": 1}") << QStringLiteral("no run id");
        QTest::newRow("bad state") << QByteArray("{\"format\": 1, \"run_id\": \"x\", \"state\": \"dancing\"}")
                                   << QStringLiteral("dancing");
    }

    void badJournalsAreRefused()
    {
        QFETCH(QByteArray, content);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("run.json"));
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(content);
        file.close();
        const auto loaded = RunJournal::load(path);
        QVERIFY(!loaded.has_value());
        QVERIFY2(loaded.error().contains(expected), qPrintable(loaded.error()));
        QVERIFY(!RunJournal::load(dir.filePath(QStringLiteral("missing.json"))).has_value());
    }

    void rebootNeededOnlyWhenTheVersionStayed_data()
    {
        QTest::addColumn<bool>("requested");
        QTest::addColumn<QString>("before");
        QTest::addColumn<QString>("after");
        QTest::addColumn<bool>("needed");
        QTest::newRow("asked, unchanged") << true << "6.2.1-1200" << "6.2.1-1200" << true;
        QTest::newRow("asked, changed") << true << "6.2.1-1200" << "6.3.0-1500" << false;
        QTest::newRow("not asked, unchanged") << false << "6.2.1-1200" << "6.2.1-1200" << false;
        QTest::newRow("asked, unknown after") << true << "6.2.1-1200" << "" << false;
    }

    void rebootNeededOnlyWhenTheVersionStayed()
    {
        QFETCH(bool, requested);
        QFETCH(QString, before);
        QFETCH(QString, after);
        QFETCH(bool, needed);
        RunStepRecord record;
        record.rebootRequested = requested;
        record.versionBefore = before;
        record.versionAfter = after;
        QCOMPARE(record.rebootNeeded(), needed);
    }

    void namesRoundTrip()
    {
        for (RunState state : {RunState::Idle, RunState::Reconciling, RunState::Staging, RunState::Running,
                               RunState::Pausing, RunState::Paused, RunState::WaitingForDecision,
                               RunState::Aborting, RunState::Completed, RunState::Halted, RunState::Aborted})
            QVERIFY(*parseRunState(toString(state)) == state);
        for (RunDecision decision : {RunDecision::Retry, RunDecision::Skip, RunDecision::Defer, RunDecision::Abort})
            QVERIFY(*parseRunDecision(toString(decision)) == decision);
        QCOMPARE(toString(*parseFailurePolicy(QStringLiteral("defer"))), toString(FailurePolicy::Defer));
        QVERIFY(!parseFailurePolicy(QStringLiteral("panic")).has_value());
    }
};

QTEST_GUILESS_MAIN(TestRunJournal)
#include "tst_runjournal.moc"

#include "plan/durationhistory.h"

#include <QFile>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <QTimeZone>

using namespace ft;

namespace {

const QDateTime kBase(QDate(2026, 11, 1), QTime(2, 0), QTimeZone::utc());

MeasuredStep run(const QString &node, qint64 installingMs, int day,
                 StepOutcome outcome = StepOutcome::Succeeded, OsKind os = OsKind::Linux,
                 Component component = Component::Server, const QString &cluster = "c1")
{
    MeasuredStep step;
    step.clusterId = cluster;
    step.node = node;
    step.os = os;
    step.component = component;
    step.phases = {10'000, installingMs, 20'000, 5'000};
    step.outcome = outcome;
    step.recordedAt = kBase.addDays(day);
    return step;
}

} // namespace

class tst_DurationHistory : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void roundTrip();
    void persistsAcrossOpen();
    void medianOddAndEven_data();
    void medianOddAndEven();
    void nodeThenClusterThenDefault();
    void onlyLastSuccessfulRunsCount();
    void totalWithoutPhases();
    void refusesNewerSchema();
    void refusesNonDatabase();
    void refusesBadSteps();
    void twoHistoriesAtOnce();

private:
    QTemporaryDir m_dir;
    QString m_path;
};

void tst_DurationHistory::init()
{
    QVERIFY(m_dir.isValid());
    m_path = m_dir.filePath(QStringLiteral("%1.sqlite").arg(QTest::currentTestFunction()));
    QFile::remove(m_path);
}

void tst_DurationHistory::roundTrip()
{
    DurationHistory history;
    QVERIFY(!history.isOpen());
    const Result opened = history.open(m_path);
    QVERIFY2(opened.has_value(), qPrintable(opened ? QString() : opened.error()));
    QVERIFY(history.isOpen());

    QList<MeasuredStep> written{run("w1", 100'000, 1),
                                run("portal", 200'000, 2, StepOutcome::Failed, OsKind::Windows,
                                    Component::WebUi),
                                run("w2", 150'000, 3, StepOutcome::Cancelled, OsKind::Linux,
                                    Component::Nbi)};
    written[0].totalMs = 140'000; // wall time may exceed the phases
    for (const MeasuredStep &step : written)
        QVERIFY(history.record(step).has_value());
    QVERIFY(history.record(run("w9", 1, 1, StepOutcome::Succeeded, OsKind::Linux,
                               Component::Server, "other"))
                .has_value());

    const auto read = history.steps("c1");
    QVERIFY(read.has_value());
    QCOMPARE(read->size(), 3);
    for (qsizetype i = 0; i < written.size(); ++i) {
        const MeasuredStep &a = written.at(i);
        const MeasuredStep &b = read->at(i);
        QCOMPARE(b.clusterId, a.clusterId);
        QCOMPARE(b.node, a.node);
        QCOMPARE(toString(b.os), toString(a.os));
        QCOMPARE(toString(b.component), toString(a.component));
        QVERIFY(b.phases == a.phases);
        QCOMPARE(toString(b.outcome), toString(a.outcome));
        QCOMPARE(b.recordedAt, a.recordedAt);
    }
    QCOMPARE(read->at(0).totalMs, 140'000);
    QCOMPARE(read->at(1).totalMs, 235'000); // 0 given: the sum of the phases

    // The schema carries its version.
    history.close();
    {
        QSqlDatabase db = QSqlDatabase::addDatabase("QSQLITE", "peek");
        db.setDatabaseName(m_path);
        QVERIFY(db.open());
        QSqlQuery query(db);
        QVERIFY(query.exec("PRAGMA user_version"));
        QVERIFY(query.next());
        QCOMPARE(query.value(0).toInt(), DurationHistory::kSchemaVersion);
    }
    QSqlDatabase::removeDatabase("peek");
}

void tst_DurationHistory::persistsAcrossOpen()
{
    {
        DurationHistory history;
        QVERIFY(history.open(m_path).has_value());
        QVERIFY(history.record(run("w1", 100'000, 1)).has_value());
    }
    DurationHistory again;
    QVERIFY(again.open(m_path).has_value());
    QVERIFY(again.record(run("w1", 120'000, 2)).has_value());
    QCOMPARE(again.steps("c1")->size(), 2);
}

void tst_DurationHistory::medianOddAndEven_data()
{
    QTest::addColumn<QList<qint64>>("installs");
    QTest::addColumn<qint64>("total");
    QTest::addColumn<qint64>("outage");

    // Each run is 10 s + install + 20 s + 5 s; down for all but the 5 s check.
    QTest::newRow("one") << QList<qint64>{100'000} << 135'000LL << 130'000LL;
    QTest::newRow("odd, unsorted") << QList<qint64>{300'000, 100'000, 200'000} << 235'000LL
                                   << 230'000LL;
    QTest::newRow("even: mean of the middle two")
        << QList<qint64>{100'000, 400'000, 200'000, 300'000} << 285'000LL << 280'000LL;
    QTest::newRow("outlier does not move it")
        << QList<qint64>{100'000, 110'000, 3'600'000} << 145'000LL << 140'000LL;
}

void tst_DurationHistory::medianOddAndEven()
{
    QFETCH(QList<qint64>, installs);
    QFETCH(qint64, total);
    QFETCH(qint64, outage);

    DurationHistory history;
    QVERIFY(history.open(m_path).has_value());
    int day = 0;
    for (qint64 install : installs)
        QVERIFY(history.record(run("w1", install, ++day)).has_value());

    const DurationEstimate estimate = history.estimate("c1", OsKind::Linux, Component::Server,
                                                       "w1", EstimateDefaults::builtIn());
    QCOMPARE(toString(estimate.source), QStringLiteral("measured"));
    QCOMPARE(estimate.runs, int(installs.size()));
    QCOMPARE(estimate.totalMs, total);
    QCOMPARE(estimate.outageMs, outage);
    QCOMPARE(estimate.phases.stoppingMs, 10'000);
    QVERIFY(estimate.basis.contains("w1"));
}

void tst_DurationHistory::nodeThenClusterThenDefault()
{
    DurationHistory history;
    QVERIFY(history.open(m_path).has_value());
    QVERIFY(history.record(run("w1", 100'000, 1)).has_value());
    QVERIFY(history.record(run("w2", 300'000, 2)).has_value());
    QVERIFY(history.record(run("w3", 500'000, 3)).has_value());
    const EstimateDefaults defaults = EstimateDefaults::builtIn();

    // Its own runs first.
    const DurationEstimate own =
        history.estimate("c1", OsKind::Linux, Component::Server, "w2", defaults);
    QCOMPARE(own.totalMs, 335'000);
    QCOMPARE(own.runs, 1);
    QVERIFY(own.basis.contains("w2"));

    // A node without runs: the cluster's runs of that OS and component.
    const DurationEstimate cluster =
        history.estimate("c1", OsKind::Linux, Component::Server, "w4", defaults);
    QCOMPARE(toString(cluster.source), QStringLiteral("measured"));
    QCOMPARE(cluster.runs, 3);
    QCOMPARE(cluster.totalMs, 335'000);
    QVERIFY(cluster.basis.contains("cluster"));

    // Another OS, component or cluster: the default.
    for (const DurationEstimate &estimate :
         {history.estimate("c1", OsKind::Windows, Component::Server, "w4", defaults),
          history.estimate("c1", OsKind::Linux, Component::WebUi, "w1", defaults),
          history.estimate("c2", OsKind::Linux, Component::Server, "w1", defaults)}) {
        QCOMPARE(toString(estimate.source), QStringLiteral("default"));
        QCOMPARE(estimate.runs, 0);
    }
    QCOMPARE(history.estimate("c1", OsKind::Windows, Component::Server, {}, defaults).totalMs,
             360'000);

    // A closed history falls back to the default as well.
    history.close();
    QCOMPARE(toString(history.estimate("c1", OsKind::Linux, Component::Server, "w1", defaults).source),
             QStringLiteral("default"));
}

void tst_DurationHistory::onlyLastSuccessfulRunsCount()
{
    DurationHistory history;
    QVERIFY(history.open(m_path).has_value());
    // Old, slow runs, then five recent fast ones, then failures that must not count.
    for (int day = 1; day <= 4; ++day)
        QVERIFY(history.record(run("w1", 900'000, day)).has_value());
    for (int day = 5; day <= 9; ++day)
        QVERIFY(history.record(run("w1", 100'000 + day * 1000, day)).has_value());
    QVERIFY(history.record(run("w1", 5'000, 10, StepOutcome::Failed)).has_value());
    QVERIFY(history.record(run("w1", 5'000, 11, StepOutcome::Cancelled)).has_value());
    // Recorded out of order: what counts is when it ran, not when it was written.
    QVERIFY(history.record(run("w1", 900'000, 0)).has_value());

    const DurationEstimate estimate = history.estimate("c1", OsKind::Linux, Component::Server,
                                                       "w1", EstimateDefaults::builtIn());
    QCOMPARE(estimate.runs, DurationHistory::kDefaultRuns);
    QCOMPARE(estimate.totalMs, 35'000 + 107'000); // median of days 5…9

    const DurationEstimate lastTwo = history.estimate(
        "c1", OsKind::Linux, Component::Server, "w1", EstimateDefaults::builtIn(), 2);
    QCOMPARE(lastTwo.runs, 2);
    QCOMPARE(lastTwo.totalMs, 35'000 + 108'500);
}

void tst_DurationHistory::totalWithoutPhases()
{
    MeasuredStep step;
    step.clusterId = "c1";
    step.node = "w1";
    step.totalMs = 90'000;
    const DurationEstimate estimate = medianEstimate({step});
    QCOMPARE(estimate.totalMs, 90'000);
    QCOMPARE(estimate.outageMs, 90'000); // no phase figures: down the whole time
}

void tst_DurationHistory::refusesNewerSchema()
{
    {
        QSqlDatabase db = QSqlDatabase::addDatabase("QSQLITE", "future");
        db.setDatabaseName(m_path);
        QVERIFY(db.open());
        QSqlQuery query(db);
        QVERIFY(query.exec("CREATE TABLE future_things (x INTEGER)"));
        QVERIFY(query.exec("PRAGMA user_version = 99"));
    }
    QSqlDatabase::removeDatabase("future");
    QFile file(m_path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray before = file.readAll();
    file.close();

    DurationHistory history;
    const Result opened = history.open(m_path);
    QVERIFY(!opened.has_value());
    QVERIFY2(opened.error().contains("newer"), qPrintable(opened.error()));
    QVERIFY(!history.isOpen());
    QVERIFY(!history.record(run("w1", 1, 1)).has_value());

    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(file.readAll(), before);
}

void tst_DurationHistory::refusesNonDatabase()
{
    QFile file(m_path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(QByteArray("this is not a database, just some text in a file.\n").repeated(100));
    file.close();

    DurationHistory history;
    const Result opened = history.open(m_path);
    QVERIFY(!opened.has_value());
    QVERIFY(opened.error().contains(m_path));
    QVERIFY(!history.isOpen());

    DurationHistory missingFolder;
    QVERIFY(!missingFolder.open(m_dir.filePath("no/such/folder/history.sqlite")).has_value());
}

void tst_DurationHistory::refusesBadSteps()
{
    DurationHistory history;
    QVERIFY(history.open(m_path).has_value());
    MeasuredStep noNode = run("", 1000, 1);
    QVERIFY(!history.record(noNode).has_value());
    MeasuredStep negative = run("w1", -5, 1);
    QVERIFY(!history.record(negative).has_value());
    MeasuredStep empty = run("w1", 0, 1);
    empty.phases = {};
    QVERIFY(!history.record(empty).has_value());
    QCOMPARE(history.steps("c1")->size(), 0);
}

void tst_DurationHistory::twoHistoriesAtOnce()
{
    DurationHistory a;
    DurationHistory b;
    QVERIFY(a.open(m_path).has_value());
    QVERIFY(b.open(m_dir.filePath("second.sqlite")).has_value());
    QVERIFY(a.record(run("w1", 100'000, 1)).has_value());
    QCOMPARE(a.steps("c1")->size(), 1);
    QCOMPARE(b.steps("c1")->size(), 0);
}

QTEST_GUILESS_MAIN(tst_DurationHistory)
#include "tst_durationhistory.moc"

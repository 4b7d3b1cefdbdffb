#include "plan/estimate.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace ft;

class tst_Estimates : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void builtInDefaults_data();
    void builtInDefaults();
    void resourceFileMatchesBuiltIn();
    void overrideFileReplacesSome();
    void badFilesAreRefused_data();
    void badFilesAreRefused();
    void loadWithoutOverride();
    void flowsLostArithmetic_data();
    void flowsLostArithmetic();
    void stagingTime_data();
    void stagingTime();
    void formatsDurations_data();
    void formatsDurations();
};

void tst_Estimates::builtInDefaults_data()
{
    QTest::addColumn<Component>("component");
    QTest::addColumn<OsKind>("os");
    QTest::addColumn<qint64>("totalMs");
    QTest::addColumn<qint64>("outageMs");

    QTest::newRow("server linux ~4 min") << Component::Server << OsKind::Linux << 240'000LL << 210'000LL;
    QTest::newRow("server windows ~6 min") << Component::Server << OsKind::Windows << 360'000LL << 330'000LL;
    QTest::newRow("nbi ~2 min") << Component::Nbi << OsKind::Linux << 120'000LL << 100'000LL;
    QTest::newRow("nbi windows") << Component::Nbi << OsKind::Windows << 120'000LL << 100'000LL;
    QTest::newRow("web ui ~1 min") << Component::WebUi << OsKind::Linux << 60'000LL << 45'000LL;
}

void tst_Estimates::builtInDefaults()
{
    QFETCH(Component, component);
    QFETCH(OsKind, os);
    QFETCH(qint64, totalMs);
    QFETCH(qint64, outageMs);

    const DurationEstimate estimate = EstimateDefaults::builtIn().upgrade(component, os);
    QCOMPARE(estimate.totalMs, totalMs);
    QCOMPARE(estimate.outageMs, outageMs);
    QCOMPARE(estimate.phases.totalMs(), totalMs);
    QVERIFY(estimate.source == EstimateSource::Default);
    QCOMPARE(estimate.runs, 0);
    QVERIFY(estimate.basis.contains(displayName(os)));
    QVERIFY(estimate.basis.contains("built-in"));
}

void tst_Estimates::resourceFileMatchesBuiltIn()
{
    // The documented file and the compiled-in figures must not drift apart.
    const auto file = EstimateDefaults::fromFile(FT_SOURCE_DIR "/resources/default-estimates.json");
    QVERIFY2(file.has_value(), qPrintable(file ? QString() : file.error()));
    const EstimateDefaults builtIn = EstimateDefaults::builtIn();
    QCOMPARE(file->stagingBytesPerSecond(), builtIn.stagingBytesPerSecond());
    QCOMPARE(file->stagingBytesPerSecond(), 50LL * 1024 * 1024);
    for (Component component : {Component::Server, Component::Nbi, Component::WebUi}) {
        for (OsKind os : {OsKind::Linux, OsKind::Windows}) {
            QVERIFY2(file->phases(component, os) == builtIn.phases(component, os),
                     qPrintable(toString(component) + QLatin1Char('/') + toString(os)));
        }
    }
    QVERIFY(file->upgrade(Component::Server, OsKind::Linux).basis.contains("default-estimates.json"));
}

void tst_Estimates::overrideFileReplacesSome()
{
    QTemporaryDir dir;
    const QString path = dir.filePath("site.json");
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(R"({"format": 1, "staging_bytes_per_second": 1048576,
                  "upgrades": [{"component": "server", "os": "linux",
                                "phases": {"stopping": 5, "installing": 50.5, "starting": 5,
                                           "checking": 10}}]})");
    file.close();

    const auto defaults = EstimateDefaults::load(path);
    QVERIFY2(defaults.has_value(), qPrintable(defaults ? QString() : defaults.error()));
    QCOMPARE(defaults->origin(), path);
    QCOMPARE(defaults->stagingBytesPerSecond(), 1048576);
    QCOMPARE(defaults->upgrade(Component::Server, OsKind::Linux).totalMs, 70'500);
    QCOMPARE(defaults->upgrade(Component::Server, OsKind::Linux).outageMs, 60'500);
    // Entries the file does not name keep their built-in figures.
    QCOMPARE(defaults->upgrade(Component::Server, OsKind::Windows).totalMs, 360'000);
    QCOMPARE(defaults->stagingMs(10 * 1048576), 10'000);
}

void tst_Estimates::badFilesAreRefused_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::newRow("not json") << QByteArray("{nope");
    QTest::newRow("array") << QByteArray("[]");
    QTest::newRow("no format") << QByteArray(R"({"upgrades": []})");
    QTest::newRow("format 2") << QByteArray(R"({"format": 2})");
    QTest::newRow("zero speed") << QByteArray(R"({"format": 1, "staging_bytes_per_second": 0})");
    QTest::newRow("speed as text") << QByteArray(R"({"format": 1, "staging_bytes_per_second": "fast"})");
    QTest::newRow("upgrades not a list") << QByteArray(R"({"format": 1, "upgrades": {}})");
    QTest::newRow("unknown component")
        << QByteArray(R"({"format": 1, "upgrades": [{"component": "db", "os": "linux",
                      "phases": {"stopping": 1, "installing": 1, "starting": 1, "checking": 1}}]})");
    QTest::newRow("unknown os")
        << QByteArray(R"({"format": 1, "upgrades": [{"component": "server", "os": "bsd",
                      "phases": {"stopping": 1, "installing": 1, "starting": 1, "checking": 1}}]})");
    QTest::newRow("negative phase")
        << QByteArray(R"({"format": 1, "upgrades": [{"component": "server", "os": "linux",
                      "phases": {"stopping": -1, "installing": 1, "starting": 1, "checking": 1}}]})");
    QTest::newRow("missing phase")
        << QByteArray(R"({"format": 1, "upgrades": [{"component": "server", "os": "linux",
                      "phases": {"stopping": 1, "installing": 1, "starting": 1}}]})");
    QTest::newRow("no time at all")
        << QByteArray(R"({"format": 1, "upgrades": [{"component": "server", "os": "linux",
                      "phases": {"stopping": 0, "installing": 0, "starting": 0, "checking": 0}}]})");
}

void tst_Estimates::badFilesAreRefused()
{
    QFETCH(QByteArray, json);
    const auto defaults = EstimateDefaults::fromJson(json, QStringLiteral("site.json"));
    QVERIFY(!defaults.has_value());
    QVERIFY(defaults.error().contains("site.json"));
}

void tst_Estimates::loadWithoutOverride()
{
    // No override: the compiled-in resource when the build has it, else the built-in
    // figures; both carry the same numbers.
    const auto defaults = EstimateDefaults::load();
    QVERIFY(defaults.has_value());
    QCOMPARE(defaults->upgrade(Component::Server, OsKind::Linux).totalMs, 240'000);

    const auto missing = EstimateDefaults::load(QStringLiteral("/nonexistent/estimates.json"));
    QVERIFY(!missing.has_value());
    QVERIFY(missing.error().contains("/nonexistent/estimates.json"));
}

void tst_Estimates::flowsLostArithmetic_data()
{
    QTest::addColumn<double>("perSecond");
    QTest::addColumn<qint64>("outageMs");
    QTest::addColumn<qint64>("lost");

    QTest::newRow("100/s for 210 s") << 100.0 << 210'000LL << 21'000LL;
    QTest::newRow("fractional rate") << 2.5 << 4'000LL << 10LL;
    QTest::newRow("rounds to nearest") << 1.0 << 1'499LL << 1LL;
    QTest::newRow("rounds up at half") << 1.0 << 1'500LL << 2LL;
    QTest::newRow("no flows") << 0.0 << 210'000LL << 0LL;
    QTest::newRow("no outage") << 100.0 << 0LL << 0LL;
    QTest::newRow("negative rate is none") << -5.0 << 10'000LL << 0LL;
    QTest::newRow("large") << 250'000.0 << 3'600'000LL << 900'000'000LL;
}

void tst_Estimates::flowsLostArithmetic()
{
    QFETCH(double, perSecond);
    QFETCH(qint64, outageMs);
    QFETCH(qint64, lost);
    QCOMPARE(flowsLost(perSecond, outageMs), lost);
}

void tst_Estimates::stagingTime_data()
{
    QTest::addColumn<qint64>("bytes");
    QTest::addColumn<qint64>("ms");
    QTest::newRow("nothing") << 0LL << 0LL;
    QTest::newRow("50 MiB is one second") << 50LL * 1024 * 1024 << 1000LL;
    QTest::newRow("1 GiB") << 1024LL * 1024 * 1024 << 20'480LL;
    QTest::newRow("one byte rounds up") << 1LL << 1LL;
}

void tst_Estimates::stagingTime()
{
    QFETCH(qint64, bytes);
    QFETCH(qint64, ms);
    QCOMPARE(EstimateDefaults::builtIn().stagingMs(bytes), ms);
}

void tst_Estimates::formatsDurations_data()
{
    QTest::addColumn<qint64>("ms");
    QTest::addColumn<QString>("text");
    QTest::newRow("seconds") << 45'000LL << "45 s";
    QTest::newRow("minutes") << 240'000LL << "4 min";
    QTest::newRow("minutes and seconds") << 90'000LL << "1 min 30 s";
    QTest::newRow("hours") << 3'900'000LL << "1 h 5 min";
    QTest::newRow("whole hour") << 7'200'000LL << "2 h";
    QTest::newRow("zero") << 0LL << "0 s";
    QTest::newRow("rounds") << 1'600LL << "2 s";
}

void tst_Estimates::formatsDurations()
{
    QFETCH(qint64, ms);
    QFETCH(QString, text);
    QCOMPARE(formatDuration(ms), text);
}

QTEST_GUILESS_MAIN(tst_Estimates)
#include "tst_estimates.moc"

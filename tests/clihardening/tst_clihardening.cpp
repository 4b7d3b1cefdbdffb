// Fault tests of the CLI and the sandbox with real clusters and processes.

#include "run/runjournal.h"
#include "agentfaults.h"
#include "clirunner.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>


using namespace ft;
using namespace fixture;

namespace {

const QString kTarget = QStringLiteral("6.3.0-1500");

// The hour of day (UTC) with the fewest and the most flows in a node's seeded history.
std::pair<int, int> quietAndBusyHour(const QString &installDir)
{
    const QJsonObject history = QJsonDocument::fromJson(readAll(installDir + QStringLiteral("/data/flowhistory.json"))).object();
    QHash<int, double> sum;
    QHash<int, int> count;
    for (const QJsonValue &v : history.value(QStringLiteral("hours")).toArray()) {
        const QJsonObject hour = v.toObject();
        const QDateTime start = QDateTime::fromString(hour.value(QStringLiteral("start")).toString(), Qt::ISODate);
        sum[start.time().hour()] += hour.value(QStringLiteral("flows")).toDouble();
        ++count[start.time().hour()];
    }
    int quiet = -1;
    int busy = -1;
    for (auto it = sum.cbegin(); it != sum.cend(); ++it) {
        const double mean = it.value() / count.value(it.key());
        if (quiet < 0 || mean < sum.value(quiet) / count.value(quiet))
            quiet = it.key();
        if (busy < 0 || mean > sum.value(busy) / count.value(busy))
            busy = it.key();
    }
    return {quiet, busy};
}

QDateTime nextAt(int hour)
{
    QDateTime t = QDateTime::currentDateTimeUtc().addDays(1);
    t.setTime(QTime(hour, 0));
    return t;
}

} // namespace

class TestCliHardening : public QObject
{
    Q_OBJECT

private:
    CliRunner m_cli{120000};

    CliResult cli(const QStringList &arguments) const { return m_cli.run(arguments); }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_cli.isValid());
        // Whatever the test's environment turns on, the CLI's stderr is asserted on.
        m_cli.unsetVariable(QStringLiteral("QT_LOGGING_RULES"));
        if (!QFile::exists(tool(QStringLiteral("ftupgrade-cli"))) || !QFile::exists(tool(QStringLiteral("ftsandbox"))))
            QSKIP("ftupgrade-cli and ftsandbox are not built");
    }

    // Items 6, 7, 8: notify --export writes the plan (with formula-safe CSV); the
    // flow-loss figure follows --start through the nodes' hourly history.
    void planOptionsAreHonoured()
    {
        Cluster cluster;
        QVERIFY(cluster.up({QStringLiteral("--workers"), QStringLiteral("1"), QStringLiteral("--flows"), QStringLiteral("w1=100")}));
        const QString server = cluster.makePackage(QStringLiteral("server"), kTarget, QStringLiteral("normal"));
        QVERIFY(!server.isEmpty());

        // notify --export plan.json: the plan is written, as the option promises.
        const QString planFile = cluster.path(QStringLiteral("plan.json"));
        const CliResult notified = cli({QStringLiteral("notify"), QStringLiteral("--sandbox"), cluster.directory(),
                                        QStringLiteral("--server-package"), server, QStringLiteral("--start"),
                                        nextAt(3).toString(Qt::ISODate), QStringLiteral("--out"),
                                        cluster.path(QStringLiteral("notice")), QStringLiteral("--from"),
                                        QStringLiteral("NOC <noc@example.org>"), QStringLiteral("--export"), planFile});
        QVERIFY2(notified.exitCode == 0, notified.err.constData());
        QVERIFY2(QFile::exists(planFile), "notify --export wrote no plan");
        QVERIFY(QJsonDocument::fromJson(readAll(planFile)).object().contains(QStringLiteral("steps"))
                || QJsonDocument::fromJson(readAll(planFile)).object().contains(QStringLiteral("waves")));

        // The loss at the quietest hour of the history is lower than at the busiest.
        const SandboxNode *receiving = nullptr;
        for (const SandboxNode &node : cluster.file().nodes) {
            if (node.name == QLatin1String("w1"))
                receiving = &node;
        }
        QVERIFY2(receiving, "no node of the sandbox receives flows");
        const auto [quiet, busy] = quietAndBusyHour(receiving->installDir);
        QVERIFY(quiet >= 0 && busy >= 0 && quiet != busy);
        auto lossAt = [&](int hour, QString *basis) {
            const CliResult planned = cli({QStringLiteral("plan"), QStringLiteral("--sandbox"), cluster.directory(),
                                           QStringLiteral("--server-package"), server, QStringLiteral("--start"),
                                           nextAt(hour).toString(Qt::ISODate),
                                           // flows lost, not kept: what the start changes
                                           QStringLiteral("--drop-flows"), receiving->name});
            const QJsonObject totals = planned.json().value(QStringLiteral("plan")).toObject().value(QStringLiteral("totals")).toObject();
            *basis = totals.value(QStringLiteral("flows_lost_basis")).toString();
            return totals.value(QStringLiteral("flows_lost")).toInteger(-1);
        };
        QString quietBasis;
        QString busyBasis;
        const qint64 atQuiet = lossAt(quiet, &quietBasis);
        const qint64 atBusy = lossAt(busy, &busyBasis);
        qInfo("flows lost starting at %02d:00 UTC: %lld; at %02d:00 UTC: %lld", quiet, atQuiet, busy, atBusy);
        QCOMPARE(quietBasis, QStringLiteral("history_at_start"));
        QCOMPARE(busyBasis, QStringLiteral("history_at_start"));
        QVERIFY2(atQuiet >= 0 && atQuiet < atBusy, qPrintable(QStringLiteral("%1 vs %2").arg(atQuiet).arg(atBusy)));
    }

    // Item 9: cluster.json holds the token: owner only. logs/agent.out keeps its first
    // line (the agent's "listening:" line is written to stdout first).
    void sandboxFilesArePrivateAndComplete()
    {
        Cluster cluster;
        QVERIFY(cluster.up({QStringLiteral("--workers"), QStringLiteral("1")}));
        const QFileInfo info(cluster.directory() + QStringLiteral("/cluster.json"));
        QVERIFY(info.exists());
        QCOMPARE(info.permissions() & (QFileDevice::ReadGroup | QFileDevice::ReadOther | QFileDevice::WriteGroup
                                       | QFileDevice::WriteOther),
                 QFileDevice::Permissions());
        for (const SandboxNode &node : cluster.file().nodes) {
            const QByteArray out = readAll(node.installDir + QStringLiteral("/logs/agent.out"));
            QVERIFY2(out.contains("listening: https://"), out.left(400).constData());
            // Every line is whole: none begins in the middle of another's text.
            for (const QByteArray &line : out.split('\n')) {
                if (line.contains("listening:"))
                    QVERIFY2(line.startsWith("listening: ") || line.startsWith("fingerprint: "), line.constData());
            }
        }
    }

    // Item 9: neither run nor verify prints Qt warnings (a connect to a null object).
    // Item 9: after a halt, verify calls the nodes never attempted "not attempted".
    void haltedRunIsVerifiedHonestly()
    {
        Cluster cluster;
        QVERIFY(cluster.up({QStringLiteral("--workers"), QStringLiteral("2")}));
        const QString server = cluster.makePackage(QStringLiteral("server"), kTarget, QStringLiteral("fail"));
        QVERIFY(!server.isEmpty());
        const QString journal = cluster.path(QStringLiteral("run.json"));
        const CliResult ran = cli({QStringLiteral("run"), QStringLiteral("--sandbox"), cluster.directory(),
                                   QStringLiteral("--server-package"), server, QStringLiteral("--journal"), journal,
                                   QStringLiteral("--on-failure"), QStringLiteral("halt")});
        QCOMPARE(ran.exitCode, 1);
        QVERIFY2(!ran.err.contains("qt.core") && !ran.err.contains("QObject::connect"), ran.err.constData());
        const CliResult verified = cli({QStringLiteral("verify"), QStringLiteral("--sandbox"), cluster.directory(),
                                        QStringLiteral("--journal"), journal});
        QVERIFY2(!verified.err.contains("qt.core") && !verified.err.contains("QObject::connect"), verified.err.constData());
        QCOMPARE(verified.exitCode, 1);
        QHash<QString, QString> verdicts;
        for (const QJsonValue &cell : verified.json().value(QStringLiteral("verification")).toObject().value(QStringLiteral("cells")).toArray())
            verdicts.insert(cell.toObject().value(QStringLiteral("node")).toString(), cell.toObject().value(QStringLiteral("verdict")).toString());
        QCOMPARE(verdicts.value(QStringLiteral("w1")), QStringLiteral("failed"));
        QCOMPARE(verdicts.value(QStringLiteral("w2")), QStringLiteral("not_attempted"));
        QCOMPARE(verdicts.value(QStringLiteral("portal")), QStringLiteral("not_attempted"));
        QVERIFY2(verified.err.contains("Not attempted"), verified.err.constData());
    }

    // Item 4: the agent of the node being installed is SIGKILLed and restarted; the CLI
    // says on stderr that the node's service is stopped, and what each choice does.
    void agentKilledMidInstallIsReportedOnStderr()
    {
        Cluster cluster;
        QVERIFY(cluster.up({QStringLiteral("--workers"), QStringLiteral("1")}));
        const QString server = cluster.makePackage(QStringLiteral("server"), kTarget, QStringLiteral("slow"),
                                                   {QStringLiteral("--slow-seconds"), QStringLiteral("8")});
        QVERIFY(!server.isEmpty());
        const QString journalPath = cluster.path(QStringLiteral("run.json"));
        QProcess run;
        m_cli.start(run, {QStringLiteral("run"), QStringLiteral("--sandbox"), cluster.directory(), QStringLiteral("--server-package"),
                       server, QStringLiteral("--journal"), journalPath, QStringLiteral("--on-failure"), QStringLiteral("halt")});
        QVERIFY(run.waitForStarted(10000));
        const bool installing = QTest::qWaitFor(
            [&] {
                const auto journal = RunJournal::load(journalPath);
                if (!journal)
                    return run.state() == QProcess::NotRunning;
                for (const RunStepRecord &record : journal->steps) {
                    if (record.step.node == QLatin1String("w1") && record.phase == QLatin1String("installing"))
                        return true;
                }
                return run.state() == QProcess::NotRunning;
            },
            60000);
        QVERIFY(installing);
        AgentRestart restarted;
        QVERIFY(restarted.killAndRestart(cluster, QStringLiteral("w1")));

        QVERIFY(run.waitForFinished(180000));
        const QByteArray err = run.readAllStandardError();
        restarted.stop();
        QCOMPARE(run.exitCode(), 1);
        QVERIFY2(err.contains("w1: The FlowTraq service is stopped and the installer did not finish (the agent was "
                              "restarted). Retry runs the installer again; Start service brings up what is installed."),
                 err.constData());
    }
};

QTEST_GUILESS_MAIN(TestCliHardening)
#include "tst_clihardening.moc"

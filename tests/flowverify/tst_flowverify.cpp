// What the product shows of the flows kept during an outage, with real agents: a
// sandbox cluster in a network namespace of its own (portal + 1 worker, the worker
// receiving flows from the sandbox exporter), upgraded by ftupgrade-cli with a slow
// package. The verification (run's JSON and `verify`) carries, per node, the flows the
// agent kept and replayed, equal to the agent job's own figures; the report too.
// A second run with --drop-flows w1 keeps nothing and says so in the plan.

#include "netnscluster.h"

#include "agentlink/agentjobstatus.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <unistd.h>

using namespace fixture;

namespace {

using Result = CliResult;

QJsonObject cellOf(const QJsonObject &verification, const QString &node)
{
    for (const QJsonValue &cell : verification.value(QStringLiteral("cells")).toArray()) {
        if (cell.toObject().value(QStringLiteral("node")).toString() == node
            && cell.toObject().value(QStringLiteral("component")).toString() == QLatin1String("server"))
            return cell.toObject();
    }
    return {};
}

} // namespace

class TestFlowVerify : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_cluster;
    CliRunner m_cli{180000};
    NetnsCluster m_netCluster{m_cli};

    Result run(const QString &program, const QStringList &arguments) const { return m_cli.runProgram(program, arguments); }

    QString makePackage(const QString &version)
    {
        const QString path = m_dir.filePath(QStringLiteral("server-%1.ftpkg").arg(version));
        const Result made = run(tool(QStringLiteral("ftsandbox")),
                                {QStringLiteral("make-package"), QStringLiteral("--version"), version,
                                 QStringLiteral("--component"), QStringLiteral("server"), QStringLiteral("--mode"),
                                 QStringLiteral("slow"), QStringLiteral("--slow-seconds"), QStringLiteral("3"),
                                 QStringLiteral("-o"), path});
        return made.exitCode == 0 ? path : QString();
    }

    // The agent's own record of the worker's upgrade job, through the product's parser.
    ft::AgentJobStatus lastUpgradeJob(const QString &node)
    {
        const QString jobs = QStringLiteral("%1/nodes/%2/agent/jobs").arg(m_cluster, node);
        const QFileInfoList files = QDir(jobs).entryInfoList({QStringLiteral("*.json")}, QDir::Files, QDir::Time);
        for (const QFileInfo &file : files) {
            const QJsonObject json = QJsonDocument::fromJson(readAll(file.filePath())).object();
            if (json.value(QStringLiteral("kind")).toString() == QLatin1String("upgrade")) {
                auto status = ft::AgentJobStatus::fromAgentJson(json);
                return status ? *status : ft::AgentJobStatus();
            }
        }
        return {};
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid() && m_cli.isValid());
        if (::geteuid() != 0)
            QSKIP("Keeping flows needs root (nftables, a raw socket) and so do network namespaces; this test runs "
                  "as another user, so it is skipped.");
        m_cluster = m_dir.filePath(QStringLiteral("cluster"));
        const QString netns = QStringLiteral("ftu-fv-%1").arg(QCoreApplication::applicationPid());
        FT_REQUIRE_READY(m_netCluster.up(m_cluster, netns,
                                         {QStringLiteral("--workers"), QStringLiteral("1"), QStringLiteral("--flows"),
                                          QStringLiteral("w1=400")}));
    }

    void cleanupTestCase() { m_netCluster.down(); }

    void verifyShowsFlowsKeptAndReplayed()
    {
        const QString package = makePackage(QStringLiteral("6.3.0-1500"));
        QVERIFY(!package.isEmpty());
        const QString journal = m_dir.filePath(QStringLiteral("keep-run.json"));
        const Result result = run(tool(QStringLiteral("ftupgrade-cli")),
                                  {QStringLiteral("run"), QStringLiteral("--sandbox"), m_cluster,
                                   QStringLiteral("--server-package"), package, QStringLiteral("--journal"), journal});
        QVERIFY2(result.exitCode == 0, (result.err + result.out).constData());

        // The agent's own figures.
        const ft::AgentJobStatus job = lastUpgradeJob(QStringLiteral("w1"));
        QVERIFY2(job.flowKeeping.has_value(), qPrintable(job.id));
        QCOMPARE(job.flowKeeping->state, QStringLiteral("replayed"));
        QVERIFY(job.flowKeeping->kept > 0);
        QCOMPARE(job.flowKeeping->replayed, job.flowKeeping->kept);
        const QString figures = job.flowKeeping->figures();
        qInfo("w1: %s", qPrintable(figures));

        // The run's own verification and a later `verify` say the same, per node.
        const QJsonObject runCell = cellOf(result.json().value(QStringLiteral("verification")).toObject(),
                                           QStringLiteral("w1"));
        const Result verified = run(tool(QStringLiteral("ftupgrade-cli")),
                                    {QStringLiteral("verify"), QStringLiteral("--sandbox"), m_cluster,
                                     QStringLiteral("--journal"), journal, QStringLiteral("--report"),
                                     m_dir.filePath(QStringLiteral("report.html"))});
        QVERIFY2(verified.exitCode == 0, verified.err.constData());
        const QJsonObject verifyCell = cellOf(verified.json().value(QStringLiteral("verification")).toObject(),
                                              QStringLiteral("w1"));
        for (const QJsonObject &cell : {runCell, verifyCell}) {
            const QJsonObject kept = cell.value(QStringLiteral("flows_kept")).toObject();
            QCOMPARE(kept.value(QStringLiteral("kept")).toInteger(), job.flowKeeping->kept);
            QCOMPARE(kept.value(QStringLiteral("replayed")).toInteger(), job.flowKeeping->replayed);
            QCOMPARE(kept.value(QStringLiteral("dropped")).toInteger(), 0);
            QVERIFY2(cell.value(QStringLiteral("sentence")).toString().contains(figures),
                     qPrintable(cell.value(QStringLiteral("sentence")).toString()));
        }
        // The portal receives no flows: nothing kept there.
        QVERIFY(cellOf(verified.json().value(QStringLiteral("verification")).toObject(), QStringLiteral("portal"))
                    .value(QStringLiteral("flows_kept")).isNull());
        QVERIFY2(verified.err.contains(figures.toUtf8()), verified.err.constData());
        QVERIFY(readAll(m_dir.filePath(QStringLiteral("report.html"))).contains(figures.toUtf8()));
    }

    // --drop-flows: the plan says the loss, the agent keeps nothing, Verify shows no figures.
    void dropFlowsKeepsNothing()
    {
        const QString package = makePackage(QStringLiteral("6.4.0-1600"));
        QVERIFY(!package.isEmpty());
        const QString journal = m_dir.filePath(QStringLiteral("drop-run.json"));
        const Result result = run(tool(QStringLiteral("ftupgrade-cli")),
                                  {QStringLiteral("run"), QStringLiteral("--sandbox"), m_cluster,
                                   QStringLiteral("--server-package"), package, QStringLiteral("--drop-flows"),
                                   QStringLiteral("w1"), QStringLiteral("--journal"), journal});
        QVERIFY2(result.exitCode == 0, (result.err + result.out).constData());
        const ft::AgentJobStatus job = lastUpgradeJob(QStringLiteral("w1"));
        QCOMPARE(job.versionAfter, QStringLiteral("6.4.0-1600"));
        QVERIFY(!job.flowKeeping.has_value());
        const QJsonObject cell = cellOf(result.json().value(QStringLiteral("verification")).toObject(), QStringLiteral("w1"));
        QVERIFY(cell.value(QStringLiteral("flows_kept")).isNull());
        QVERIFY(!cell.value(QStringLiteral("sentence")).toString().contains(QStringLiteral("kept")));
    }
};

QTEST_GUILESS_MAIN(TestFlowVerify)
#include "tst_flowverify.moc"

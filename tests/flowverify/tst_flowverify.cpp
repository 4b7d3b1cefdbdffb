// What the product shows of the flows kept during an outage, with real agents: a
// sandbox cluster in a network namespace of its own (portal + 1 worker, the worker
// receiving flows from the sandbox exporter), upgraded by ftupgrade-cli with a slow
// package. The verification (run's JSON and `verify`) carries, per node, the flows the
// agent kept and replayed, equal to the agent job's own figures; the report too.
// A second run with --drop-flows w1 keeps nothing and says so in the plan.

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

namespace {

QString tool(const QString &name)
{
    return QStringLiteral(FT_BIN_DIR "/") + name;
}

struct Result
{
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
    QJsonObject json() const { return QJsonDocument::fromJson(out).object(); }
};

QByteArray readAll(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

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
    bool m_up = false;

    Result run(const QString &program, const QStringList &arguments, int timeoutMs = 180000) const
    {
        QProcess process;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("XDG_DATA_HOME"), m_dir.filePath(QStringLiteral("data")));
        env.insert(QStringLiteral("XDG_CONFIG_HOME"), m_dir.filePath(QStringLiteral("config")));
        env.remove(QStringLiteral("FTUPGRADE_TOKEN"));
        process.setProcessEnvironment(env);
        process.start(program, arguments);
        Result result;
        if (!process.waitForFinished(timeoutMs)) {
            process.kill();
            process.waitForFinished();
        }
        result.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
        result.out = process.readAllStandardOutput();
        result.err = process.readAllStandardError();
        return result;
    }

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
        QVERIFY(m_dir.isValid());
        for (const QString &name : {QStringLiteral("ftupgrade-cli"), QStringLiteral("ftsandbox"),
                                    QStringLiteral("ftupgrade-agent"), QStringLiteral("ftsandbox-server")}) {
            if (!QFile::exists(tool(name)))
                QSKIP("ftupgrade-cli, ftsandbox and ftupgrade-agent are not built");
        }
        if (::geteuid() != 0)
            QSKIP("Keeping flows needs root (nftables, a raw socket) and so do network namespaces; this test runs "
                  "as another user, so it is skipped.");
        m_cluster = m_dir.filePath(QStringLiteral("cluster"));
        const QString netns = QStringLiteral("ftu-fv-%1").arg(QCoreApplication::applicationPid());
        const Result up = run(tool(QStringLiteral("ftsandbox")),
                              {QStringLiteral("up"), m_cluster, QStringLiteral("--workers"), QStringLiteral("1"),
                               QStringLiteral("--flows"), QStringLiteral("w1=400"), QStringLiteral("--netns"), netns});
        if (up.exitCode != 0) {
            const QString said = QString::fromUtf8(up.err + up.out);
            if (said.contains(QLatin1String("not available")) || said.contains(QLatin1String("Operation not permitted"))
                || said.contains(QLatin1String("Could not set up the cluster's network")))
                QSKIP(qPrintable(QStringLiteral("Network namespaces are not permitted here, so the namespaced cluster "
                                                "cannot be built: ") + said.trimmed()));
            QFAIL(qPrintable(QStringLiteral("ftsandbox up --netns failed: ") + said));
        }
        m_up = true;
    }

    void cleanupTestCase()
    {
        if (m_up)
            run(tool(QStringLiteral("ftsandbox")), {QStringLiteral("down"), m_cluster});
    }

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

#include "sandboxfixture.h"

#include "run/runjournal.h"

#include <QDirIterator>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

using namespace ft;
using namespace fixture;

namespace {

const QString kOld = QStringLiteral("6.2.1-1200");
const QString kTarget = QStringLiteral("6.3.0-1500");
const QString kDebName = QStringLiteral("flowtraq-server_6.3.0-1500_all.deb");
const QString kMsiName = QStringLiteral("FlowTraq-Server-6.3.0.1500.msi");

struct CliResult
{
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
    QJsonObject json() const { return QJsonDocument::fromJson(out).object(); }
};

// The lines the node's agent logged for its jobs (not the installers' own logs).
QString agentJobLogs(const QString &installDir)
{
    QString text;
    QDirIterator it(QDir(installDir).filePath(QStringLiteral("agent/jobs")), {QStringLiteral("*.log")}, QDir::Files);
    while (it.hasNext()) {
        const QString file = it.next();
        if (!QFileInfo(file).fileName().startsWith(QLatin1String("installer-")))
            text += QString::fromUtf8(readAll(file));
    }
    return text;
}

// What the node's own dpkg database says of flowtraq-server ("" when it has none).
QString dpkgStatus(const QString &installDir)
{
    QProcess query;
    query.start(QStringLiteral("dpkg-query"), {QStringLiteral("--admindir=") + installDir + QStringLiteral("/dpkg"),
                                               QStringLiteral("-W"), QStringLiteral("-f=${Version} ${Status}"),
                                               QStringLiteral("flowtraq-server")});
    if (!query.waitForFinished(20000))
        return QStringLiteral("dpkg-query hung");
    return QString::fromUtf8(query.readAllStandardOutput());
}

} // namespace

class TestMixedCluster : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_home;

    CliResult cli(const QStringList &arguments, int timeoutMs = 180000) const
    {
        QProcess process;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("XDG_DATA_HOME"), m_home.filePath(QStringLiteral("data")));
        env.insert(QStringLiteral("XDG_CONFIG_HOME"), m_home.filePath(QStringLiteral("config")));
        env.remove(QStringLiteral("FTUPGRADE_TOKEN"));
        process.setProcessEnvironment(env);
        process.start(tool(QStringLiteral("ftupgrade-cli")), arguments);
        CliResult result;
        if (!process.waitForFinished(timeoutMs)) {
            process.kill();
            process.waitForFinished(5000);
        }
        result.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
        result.out = process.readAllStandardOutput();
        result.err = process.readAllStandardError();
        return result;
    }

    static QString makeVendor(Cluster &cluster, const QString &format, const QString &name)
    {
        const QString file = cluster.path(name);
        if (!runTool(QStringLiteral("ftsandbox"),
                     {QStringLiteral("make-package"), QStringLiteral("--format"), format, QStringLiteral("--version"),
                      kTarget, QStringLiteral("--component"), QStringLiteral("server"), QStringLiteral("-o"), file}))
            return {};
        return file;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_home.isValid());
        if (!QFile::exists(tool(QStringLiteral("ftupgrade-cli"))) || !QFile::exists(tool(QStringLiteral("ftupgrade-agent"))))
            QSKIP("ftupgrade-cli and ftupgrade-agent are not built");
        for (const char *program : {"dpkg", "dpkg-deb", "dpkg-query", "wixl", "msiextract"}) {
            if (QStandardPaths::findExecutable(QLatin1String(program)).isEmpty())
                QFAIL(qPrintable(QStringLiteral("%1 is missing: install .ci/packages.txt").arg(QLatin1String(program))));
        }
    }

    // A Linux portal, a Linux worker w1 and a Windows worker w2: the .deb goes to the
    // Linux nodes and the .msi to the Windows one, in the plan, in staging and in the
    // install; a halt after the canary and --resume keep it so from the journal.
    void debForLinuxMsiForWindows()
    {
        Cluster cluster;
        QVERIFY(cluster.up({QStringLiteral("--workers"), QStringLiteral("2"), QStringLiteral("--windows"), QStringLiteral("1")}));
        const QString deb = makeVendor(cluster, QStringLiteral("deb"), kDebName);
        const QString msi = makeVendor(cluster, QStringLiteral("msi"), kMsiName);
        QVERIFY(!deb.isEmpty() && !msi.isEmpty());
        const QString journal = cluster.path(QStringLiteral("run.json"));

        // One package only: the Windows node is refused, nothing changes.
        const CliResult single = cli({QStringLiteral("run"), QStringLiteral("--sandbox"), cluster.directory(),
                                      QStringLiteral("--server-package"), deb, QStringLiteral("--journal"), journal});
        QVERIFY2(single.exitCode == 1 || single.exitCode == 2, single.err.constData());
        QVERIFY2(QString::fromUtf8(single.err).contains(QStringLiteral("w2")), single.err.constData());

        // The plan says which package goes where.
        const CliResult plan = cli({QStringLiteral("plan"), QStringLiteral("--sandbox"), cluster.directory(),
                                    QStringLiteral("--server-package"), deb, QStringLiteral("--server-package"), msi});
        QVERIFY2(plan.exitCode == 0, plan.err.constData());
        QHash<QString, QStringList> staged;
        for (const QJsonValue &entry : plan.json().value(QStringLiteral("plan")).toObject().value(QStringLiteral("stage")).toObject().value(QStringLiteral("nodes")).toArray()) {
            QStringList files;
            for (const QJsonValue &file : entry.toObject().value(QStringLiteral("packages")).toArray())
                files.append(file.toString());
            staged.insert(entry.toObject().value(QStringLiteral("node")).toString(), files);
        }
        QCOMPARE(staged.value(QStringLiteral("portal")), QStringList{kDebName});
        QCOMPARE(staged.value(QStringLiteral("w1")), QStringList{kDebName});
        QCOMPARE(staged.value(QStringLiteral("w2")), QStringList{kMsiName});

        // The canary w1 first, then a halt.
        const CliResult canary = cli({QStringLiteral("run"), QStringLiteral("--sandbox"), cluster.directory(),
                                      QStringLiteral("--server-package"), msi, QStringLiteral("--server-package"), deb,
                                      QStringLiteral("--journal"), journal, QStringLiteral("--canary"), QStringLiteral("w1")});
        QVERIFY2(canary.exitCode == 1, canary.err.constData());
        QCOMPARE(canary.json().value(QStringLiteral("state")).toString(), QStringLiteral("halted"));
        QCOMPARE(installedVersion(cluster.node(QStringLiteral("w1"))->installDir, Component::Server), kTarget);
        QCOMPARE(installedVersion(cluster.node(QStringLiteral("w2"))->installDir, Component::Server), kOld);
        QCOMPARE(installedVersion(cluster.node(QStringLiteral("portal"))->installDir, Component::Server), kOld);

        // --resume: the rest, each node with its own package, from the journal alone.
        const CliResult resumed = cli({QStringLiteral("run"), QStringLiteral("--resume"), QStringLiteral("--sandbox"),
                                       cluster.directory(), QStringLiteral("--journal"), journal});
        QVERIFY2(resumed.exitCode == 0, resumed.err.constData());
        for (const SandboxNode &node : cluster.file().nodes) {
            QCOMPARE(installedVersion(node.installDir, Component::Server), kTarget);
            const QString logs = agentJobLogs(node.installDir);
            if (node.name == QLatin1String("w2")) {
                QVERIFY2(logs.contains(QStringLiteral("msiexec")), qPrintable(logs.right(2000)));
                QVERIFY2(!logs.contains(QStringLiteral("dpkg")), qPrintable(logs.right(2000)));
                QVERIFY(readAll(node.installDir + QStringLiteral("/bin/FlowTraqServer.exe")).contains(kTarget.toUtf8()));
                QVERIFY(QFile::exists(node.installDir + QStringLiteral("/agent/staging/") + kMsiName));
                QVERIFY(!QFile::exists(node.installDir + QStringLiteral("/agent/staging/") + kDebName));
            } else {
                QCOMPARE(dpkgStatus(node.installDir), QStringLiteral("6.3.0-1500 install ok installed"));
                QVERIFY2(!logs.contains(QStringLiteral("msiexec")), qPrintable(node.name));
            }
        }
        const auto saved = RunJournal::load(journal);
        QVERIFY2(saved, qPrintable(saved.error()));
        QCOMPARE(saved->packages.size(), 2);
    }

    // Bad input: a third server package is one sentence, nothing runs.
    void threePackagesRefused()
    {
        const CliResult result = cli({QStringLiteral("plan"), QStringLiteral("--sandbox"), m_home.path(),
                                      QStringLiteral("--server-package"), QStringLiteral("a.deb"),
                                      QStringLiteral("--server-package"), QStringLiteral("b.msi"),
                                      QStringLiteral("--server-package"), QStringLiteral("c.rpm")});
        QCOMPARE(result.exitCode, 2);
        QVERIFY2(QString::fromUtf8(result.err).contains(QStringLiteral("at most twice")), result.err.constData());
    }
};

QTEST_GUILESS_MAIN(TestMixedCluster)
#include "tst_mixedcluster.moc"

#include "clirunner.h"
#include "vendornodes.h"

#include "run/runjournal.h"

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

} // namespace

class TestMixedCluster : public QObject
{
    Q_OBJECT

private:
    CliRunner m_cli{180000};

    CliResult cli(const QStringList &arguments) const { return m_cli.run(arguments); }

    static QString makeVendor(const Cluster &cluster, const QString &format, const QString &name)
    {
        return makeVendorPackage(cluster, format, kTarget, name);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_cli.isValid());
        FT_REQUIRE_READY(vendorReadiness());
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
        const CliResult result = cli({QStringLiteral("plan"), QStringLiteral("--sandbox"), m_cli.homePath(QStringLiteral("cluster")),
                                      QStringLiteral("--server-package"), QStringLiteral("a.deb"),
                                      QStringLiteral("--server-package"), QStringLiteral("b.msi"),
                                      QStringLiteral("--server-package"), QStringLiteral("c.rpm")});
        QCOMPARE(result.exitCode, 2);
        QVERIFY2(QString::fromUtf8(result.err).contains(QStringLiteral("at most twice")), result.err.constData());
    }
};

QTEST_GUILESS_MAIN(TestMixedCluster)
#include "tst_mixedcluster.moc"

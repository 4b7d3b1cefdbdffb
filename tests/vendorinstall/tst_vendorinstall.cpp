#include "clirunner.h"
#include "vendornodes.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

using namespace ft;
using namespace fixture;

namespace {

const QString kTarget = QStringLiteral("6.3.0-1500");

} // namespace

class TestVendorInstall : public QObject
{
    Q_OBJECT

private:
    CliRunner m_cli{120000};

    CliResult cli(const QStringList &arguments) const { return m_cli.run(arguments); }

    static QString makeVendor(const Cluster &cluster, const QString &format, const QString &mode, const QString &name)
    {
        return makeVendorPackage(cluster, format, kTarget, name, mode);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_cli.isValid());
        FT_REQUIRE_READY(vendorReadiness());
    }

    // Linux-like nodes upgraded from a .deb: dpkg installs into each node's folder and
    // records the package in the node's own database; dpkg's log streams into the job.
    void debianPackage()
    {
        Cluster cluster;
        QVERIFY(cluster.up({QStringLiteral("--workers"), QStringLiteral("2")}));
        const QString deb = makeVendor(cluster, QStringLiteral("deb"), QStringLiteral("normal"),
                                       QStringLiteral("flowtraq-server_6.3.0-1500_all.deb"));
        QVERIFY(!deb.isEmpty());
        const CliResult result = cli({QStringLiteral("run"), QStringLiteral("--sandbox"), cluster.directory(),
                                      QStringLiteral("--server-package"), deb, QStringLiteral("--journal"),
                                      cluster.path(QStringLiteral("run.json"))});
        QVERIFY2(result.exitCode == 0, result.err.constData());
        for (const SandboxNode &node : cluster.file().nodes) {
            QCOMPARE(installedVersion(node.installDir, Component::Server), kTarget);
            QCOMPARE(dpkgStatus(node.installDir), QStringLiteral("6.3.0-1500 install ok installed"));
            const QString logs = agentJobLogs(node.installDir);
            QVERIFY2(logs.contains(QStringLiteral("installer-log")), qPrintable(node.name));
            QVERIFY2(logs.contains(QStringLiteral("status installed flowtraq-server:all 6.3.0-1500")), qPrintable(logs.right(2000)));
        }
    }

    // A .deb whose maintainer script fails: dpkg fails, the run halts, the node runs
    // its old version again.
    void debianPackageThatFails()
    {
        Cluster cluster;
        QVERIFY(cluster.up({QStringLiteral("--workers"), QStringLiteral("1")}));
        const QString deb = makeVendor(cluster, QStringLiteral("deb"), QStringLiteral("fail"),
                                       QStringLiteral("flowtraq-server-6.3.0-1500.deb"));
        QVERIFY(!deb.isEmpty());
        const CliResult result = cli({QStringLiteral("run"), QStringLiteral("--sandbox"), cluster.directory(),
                                      QStringLiteral("--server-package"), deb, QStringLiteral("--journal"),
                                      cluster.path(QStringLiteral("run.json")), QStringLiteral("--on-failure"),
                                      QStringLiteral("halt")});
        QVERIFY2(result.exitCode == 1, result.err.constData());
        QCOMPARE(result.json().value(QStringLiteral("state")).toString(), QStringLiteral("halted"));
        const SandboxNode *worker = cluster.node(QStringLiteral("w1"));
        QVERIFY(worker);
        QCOMPARE(installedVersion(worker->installDir, Component::Server), QStringLiteral("6.2.1-1200"));
        QVERIFY(agentJobLogs(worker->installDir).contains(QStringLiteral("sandbox mode fail")));
    }

    // Windows-like nodes upgraded from an .msi with msiexec's own arguments; its
    // verbose log (UTF-16) streams into the job; 3010 with a changed version is
    // success, no reboot needed.
    void windowsInstallerPackage_data()
    {
        QTest::addColumn<QString>("mode");
        QTest::addColumn<int>("exitCode");
        QTest::newRow("normal") << QStringLiteral("normal") << 0;
        QTest::newRow("asks for a reboot it does not need") << QStringLiteral("reboot") << 0;
    }

    void windowsInstallerPackage()
    {
        QFETCH(QString, mode);
        QFETCH(int, exitCode);
        Cluster cluster;
        QVERIFY(cluster.up({QStringLiteral("--workers"), QStringLiteral("1"), QStringLiteral("--windows"), QStringLiteral("1"),
                            QStringLiteral("--windows-portal")}));
        const QString msi = makeVendor(cluster, QStringLiteral("msi"), mode, QStringLiteral("FlowTraq-Server-6.3.0.1500.msi"));
        QVERIFY(!msi.isEmpty());
        const CliResult result = cli({QStringLiteral("run"), QStringLiteral("--sandbox"), cluster.directory(),
                                      QStringLiteral("--server-package"), msi, QStringLiteral("--journal"),
                                      cluster.path(QStringLiteral("run.json"))});
        QVERIFY2(result.exitCode == exitCode, result.err.constData());
        for (const SandboxNode &node : cluster.file().nodes) {
            QCOMPARE(installedVersion(node.installDir, Component::Server), kTarget);
            QVERIFY(readAll(node.installDir + QStringLiteral("/bin/FlowTraqServer.exe")).contains(kTarget.toUtf8()));
            const QString logs = agentJobLogs(node.installDir);
            QVERIFY2(logs.contains(QStringLiteral("msiexec")), qPrintable(node.name));
            QVERIFY2(logs.contains(QStringLiteral("MSI (s)")), qPrintable(logs.right(2000)));
            QVERIFY2(logs.contains(QStringLiteral("Installation completed with status: %1")
                                       .arg(mode == QLatin1String("reboot") ? 3010 : 0)),
                     qPrintable(logs.right(2000)));
        }
    }

    // A self-extracting installer: the vendor does not document its silent switches, so
    // without them nothing runs; with the typed ones every node installs with them.
    void selfExtractingWithTypedSwitches()
    {
        Cluster cluster;
        QVERIFY(cluster.up({QStringLiteral("--workers"), QStringLiteral("2")}));
        const QString sh = makeVendor(cluster, QStringLiteral("sh"), QStringLiteral("normal"),
                                      QStringLiteral("flowtraq-server-6.3.0-1500.sh"));
        QVERIFY(!sh.isEmpty());
        const QStringList run{QStringLiteral("run"), QStringLiteral("--sandbox"), cluster.directory(),
                              QStringLiteral("--server-package"), sh, QStringLiteral("--journal"),
                              cluster.path(QStringLiteral("run.json"))};
        const CliResult untyped = cli(run);
        QCOMPARE(untyped.exitCode, 2);
        QVERIFY2(QString::fromUtf8(untyped.err).contains(QStringLiteral("--server-switches")), untyped.err.constData());
        for (const SandboxNode &node : cluster.file().nodes)
            QCOMPARE(installedVersion(node.installDir, Component::Server), QStringLiteral("6.2.1-1200"));

        // Typed, not documented switches: the canary w2 goes first and the run halts.
        const CliResult canary = cli(run + QStringList{QStringLiteral("--server-switches"),
                                                       QStringLiteral("--unattended --install-dir {install}"),
                                                       QStringLiteral("--canary"), QStringLiteral("w2")});
        QVERIFY2(canary.exitCode == 1, canary.err.constData());
        QCOMPARE(canary.json().value(QStringLiteral("state")).toString(), QStringLiteral("halted"));
        QVERIFY2(QString::fromUtf8(canary.out + canary.err).contains(QStringLiteral("The canary w2 is upgraded")),
                 canary.out.constData());
        QCOMPARE(installedVersion(cluster.node(QStringLiteral("w2"))->installDir, Component::Server), kTarget);
        QCOMPARE(installedVersion(cluster.node(QStringLiteral("w1"))->installDir, Component::Server), QStringLiteral("6.2.1-1200"));
        QCOMPARE(installedVersion(cluster.node(QStringLiteral("portal"))->installDir, Component::Server),
                 QStringLiteral("6.2.1-1200"));

        // --resume is the confirmation: the rest, with the same switches from the journal.
        const CliResult typed = cli({QStringLiteral("run"), QStringLiteral("--resume"), QStringLiteral("--sandbox"),
                                     cluster.directory(), QStringLiteral("--journal"), cluster.path(QStringLiteral("run.json"))});
        QVERIFY2(typed.exitCode == 0, typed.err.constData());
        for (const SandboxNode &node : cluster.file().nodes) {
            QCOMPARE(installedVersion(node.installDir, Component::Server), kTarget);
            // The agent filled in its own install folder; each typed word stayed one argument.
            QVERIFY2(agentJobLogs(node.installDir).contains(QStringLiteral("--unattended --install-dir ") + node.installDir),
                     qPrintable(node.name));
        }

        // Verify installs nothing: it reads the version the binary installs and asks for
        // no switches.
        const CliResult verified = cli({QStringLiteral("verify"), QStringLiteral("--sandbox"), cluster.directory(),
                                        QStringLiteral("--server-package"), sh});
        QVERIFY2(verified.exitCode == 0, verified.err.constData());
        QVERIFY(verified.json().value(QStringLiteral("verification")).toObject().value(QStringLiteral("all_at_target")).toBool());
    }

    // A Linux package for Windows-like nodes is refused before anything is staged.
    void wrongOperatingSystemRefused()
    {
        Cluster cluster;
        QVERIFY(cluster.up({QStringLiteral("--workers"), QStringLiteral("1"), QStringLiteral("--windows"), QStringLiteral("1")}));
        const QString msi = makeVendor(cluster, QStringLiteral("msi"), QStringLiteral("normal"),
                                       QStringLiteral("FlowTraq-Server-6.3.0.1500.msi"));
        const CliResult result = cli({QStringLiteral("run"), QStringLiteral("--sandbox"), cluster.directory(),
                                      QStringLiteral("--server-package"), msi, QStringLiteral("--journal"),
                                      cluster.path(QStringLiteral("run.json"))});
        QVERIFY2(result.exitCode == 1 || result.exitCode == 2, result.err.constData());
        QVERIFY2(QString::fromUtf8(result.err).contains(QStringLiteral("portal")), result.err.constData());
        for (const SandboxNode &node : cluster.file().nodes)
            QCOMPARE(installedVersion(node.installDir, Component::Server), QStringLiteral("6.2.1-1200"));
    }
};

QTEST_GUILESS_MAIN(TestVendorInstall)
#include "tst_vendorinstall.moc"

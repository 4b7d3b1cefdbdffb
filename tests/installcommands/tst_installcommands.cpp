#include "../agentapi/agentharness.h"
#include "sandboxfixture.h"
#include "../planner/clusterfixture.h"

#include "packages/installcommand.h"
#include "packages/nodeinstallcommands.h"
#include "pages/packagespage.h"
#include "plan/precheck.h"
#include "widgets/packagepicker.h"

#include <QLabel>
#include <QLineEdit>
#include <QSettings>
#include <QTemporaryDir>
#include <QtTest>

using namespace ft;

namespace {

const QString kConfigured = QStringLiteral("/usr/bin/dpkg --force-confold --log={log} -i {package}");

NodeStatus linuxNode(const QString &name, const QString &debCommand, NodeRole role = NodeRole::Worker)
{
    NodeStatus node = fixture::node(name, role);
    if (!debCommand.isEmpty())
        node.installerCommands.insert(QStringLiteral("deb"), debCommand);
    return node;
}

PackageChoice deb()
{
    PackageChoice choice;
    choice.format = QStringLiteral("deb");
    choice.os = QStringLiteral("linux");
    choice.filePath = QStringLiteral("/packages/flowtraq-server_6.3.0-1500_all.deb");
    choice.version = fixture::v(QStringLiteral("6.3.0-1500"));
    return choice;
}

QString infoText(ui::PackagePicker *picker, const QString &name)
{
    return picker->findChild<QLabel *>(QStringLiteral("packageInfo_") + name)->text();
}

} // namespace

class TestInstallCommands : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;

    QString make(const QString &format, const QString &name)
    {
        const QString file = m_dir.filePath(name);
        if (!fixture::runTool(QStringLiteral("ftsandbox"),
                              {QStringLiteral("make-package"), QStringLiteral("--format"), format, QStringLiteral("--version"),
                               QStringLiteral("6.3.0-1500"), QStringLiteral("--component"), QStringLiteral("server"),
                               QStringLiteral("-o"), file}))
            return {};
        return file;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, m_dir.filePath(QStringLiteral("config")));
        QCoreApplication::setOrganizationName(QStringLiteral("ftupgrade-test"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_installcommands"));
        if (!QFile::exists(fixture::tool(QStringLiteral("ftupgrade-agent"))) || !QFile::exists(fixture::tool(QStringLiteral("ftsandbox"))))
            QSKIP("ftupgrade-agent and ftsandbox are not built");
    }

    // Grouped by the command each node's agent reported; Windows nodes do not get a .deb;
    // an agent that said nothing is shown with the format's default, marked as such.
    void groupedPerNode()
    {
        const QList<NodeStatus> nodes{linuxNode(QStringLiteral("portal"), QStringLiteral("dpkg -i {package}"), NodeRole::Portal),
                                      linuxNode(QStringLiteral("w10"), kConfigured), linuxNode(QStringLiteral("w2"), kConfigured),
                                      linuxNode(QStringLiteral("w3"), QString()),
                                      fixture::worker(QStringLiteral("w4"), QStringLiteral("6.2.1-1200"), OsKind::Windows)};
        const QList<NodeInstallCommand> commands = installCommandsFor(deb(), Component::Server, nodes);
        QCOMPARE(commands.size(), 3);
        QCOMPARE(commands.at(0).nodes, QStringList{QStringLiteral("portal")});
        QCOMPARE(commands.at(0).command, QStringLiteral("dpkg -i flowtraq-server_6.3.0-1500_all.deb"));
        QVERIFY(commands.at(0).fromAgent);
        QCOMPARE(commands.at(1).nodes, (QStringList{QStringLiteral("w2"), QStringLiteral("w10")}));
        QCOMPARE(commands.at(1).command,
                 QStringLiteral("/usr/bin/dpkg --force-confold --log=<log> -i flowtraq-server_6.3.0-1500_all.deb"));
        QCOMPARE(commands.at(2).nodes, QStringList{QStringLiteral("w3")});
        QVERIFY(!commands.at(2).fromAgent);
        QCOMPARE(commands.at(2).command, QStringLiteral("dpkg --log=<log> -i flowtraq-server_6.3.0-1500_all.deb"));
        // An .ftpkg is the sandbox's own: no vendor command to show.
        PackageChoice ftpkg = deb();
        ftpkg.format = QStringLiteral("ftpkg");
        QVERIFY(installCommandsFor(ftpkg, Component::Server, nodes).isEmpty());
        // A malformed report is refused with the field's name.
        QJsonObject json = nodes.first().toJson();
        QVERIFY(json.contains(QStringLiteral("installers")));
        json.insert(QStringLiteral("installers"), QJsonArray{1});
        json.insert(QStringLiteral("components"), QJsonObject());
        const auto refused = NodeStatus::fromAgentJson(json);
        QVERIFY(!refused);
        QVERIFY2(refused.error().contains(QStringLiteral("installers")), qPrintable(refused.error()));
    }

    // A real agent with [installers] deb=… in agent.conf reports it; discovery carries
    // it; the Packages page shows it instead of the format's default.
    void configuredCommandReachesThePage()
    {
        agenttest::Agent agent;
        QString error = agent.setUp();
        QVERIFY2(error.isEmpty(), qPrintable(error));
        error = agent.initAgent();
        QVERIFY2(error.isEmpty(), qPrintable(error));
        {
            QSettings conf(agent.configFile, QSettings::IniFormat);
            conf.setValue(QStringLiteral("installers/deb"), kConfigured);
        }
        error = agent.start();
        QVERIFY2(error.isEmpty(), qPrintable(error));

        UpgradeSession session;
        AgentEndpoint endpoint;
        endpoint.nodeName = QStringLiteral("portal");
        endpoint.url = agent.url;
        endpoint.fingerprint = QString::fromLatin1(agent.fingerprint);
        endpoint.token = QString::fromLatin1(agent.token);
        session.setPortal(endpoint);
        QSignalSpy discovered(session.discovery(), &ClusterDiscovery::finished);
        session.discovery()->start();
        QVERIFY(discovered.wait(30000));
        QCOMPARE(session.nodes().size(), 1);
        const NodeStatus &node = session.nodes().first();
        QVERIFY2(node.reachable, qPrintable(node.unreachableReason));
        QCOMPARE(node.installerCommands.value(QStringLiteral("deb")), kConfigured);
        // Formats not configured: the agent's backend default (here the sandbox's).
        QCOMPARE(node.installerCommands.value(QStringLiteral("msi")), defaultInstallCommand(PackageFormat::Msi, true));

        const QString file = make(QStringLiteral("deb"), QStringLiteral("flowtraq-server_6.3.0-1500_all.deb"));
        QVERIFY(!file.isEmpty());
        ui::PackagesPage page(&session);
        page.resize(1000, 720);
        page.show();
        QVERIFY(QTest::qWaitForWindowExposed(&page));
        ui::PackagePicker *server = page.picker(0);
        server->setPath(file);
        QTRY_VERIFY_WITH_TIMEOUT(!server->isInspecting(), 20000);
        const QString info = infoText(server, QStringLiteral("server"));
        QVERIFY2(info.contains(QStringLiteral("/usr/bin/dpkg --force-confold --log=&lt;log&gt; -i flowtraq-server_6.3.0-1500_all.deb")),
                 qPrintable(info));
        QVERIFY2(info.contains(QStringLiteral("as its agent is configured")), qPrintable(info));
        // Only one system here: no second server slot.
        QVERIFY(!page.picker(3)->isVisible());
        agent.stop();
        agent.stopDaemon();
    }

    // A cluster of Linux and Windows nodes: the second server slot appears; a .deb and
    // an .msi pass the checks; each picker shows the command its own nodes' agents run.
    void mixedClusterOffersASecondServerSlot()
    {
        fixture::Cluster cluster;
        QVERIFY(cluster.up({QStringLiteral("--workers"), QStringLiteral("2"), QStringLiteral("--windows"), QStringLiteral("1")}));
        UpgradeSession session;
        QVERIFY(fixture::connectAndDiscover(session, cluster.file()));
        QVERIFY(session.mixesOperatingSystems());
        const QString debFile = make(QStringLiteral("deb"), QStringLiteral("flowtraq-server_6.3.0-1500_all.deb"));
        const QString msiFile = make(QStringLiteral("msi"), QStringLiteral("FlowTraq-Server-6.3.0.1500.msi"));
        QVERIFY(!debFile.isEmpty() && !msiFile.isEmpty());

        ui::PackagesPage page(&session);
        page.resize(1024, 768);
        page.show();
        page.initializePage();
        QVERIFY(QTest::qWaitForWindowExposed(&page));
        ui::PackagePicker *first = page.picker(0);
        ui::PackagePicker *second = page.picker(3);
        QVERIFY(second->isVisible());
        const auto *hint = page.findChild<QLabel *>(QStringLiteral("mixedClusterHint"));
        QVERIFY(hint->isVisible());
        QVERIFY2(hint->text().contains(QStringLiteral("choose a server package for each")), qPrintable(hint->text()));

        first->setPath(debFile);
        QTRY_VERIFY_WITH_TIMEOUT(!first->isInspecting(), 20000);
        // The hint now names what is missing, and for which node.
        QVERIFY2(hint->text().contains(QStringLiteral("is for Linux. Choose the Windows package for w2")), qPrintable(hint->text()));
        // The .deb alone: the Windows node w2 is refused.
        QVERIFY(session.preChecks().contains(QString::fromLatin1(PreCheckId::OsMismatch)));
        QVERIFY(!page.isComplete());

        second->setPath(msiFile);
        QTRY_VERIFY_WITH_TIMEOUT(!second->isInspecting(), 20000);
        QVERIFY2(second->errorString().isEmpty(), qPrintable(second->errorString()));
        QVERIFY(session.target().secondServer);
        QCOMPARE(session.target().secondServer->format, QStringLiteral("msi"));
        const PreCheckReport report = session.preChecks();
        QVERIFY2(!report.hasErrors(), qPrintable(report.findings.value(0).message));

        // What the sandbox agents run (their backend's commands), not the vendor default.
        const QString debInfo = infoText(first, QStringLiteral("server"));
        QVERIFY2(debInfo.contains(QStringLiteral("dpkg --force-not-root")), qPrintable(debInfo));
        QVERIFY2(debInfo.contains(QStringLiteral("as its agent is configured")), qPrintable(debInfo));
        const QString msiInfo = infoText(second, QStringLiteral("server2"));
        QVERIFY2(msiInfo.contains(QStringLiteral("ftsandbox msiexec /i FlowTraq-Server-6.3.0.1500.msi")), qPrintable(msiInfo));
        // Which nodes each package goes to.
        QVERIFY2(debInfo.contains(QStringLiteral("Each node that gets it (portal, w1) runs")), qPrintable(debInfo));
        QVERIFY2(msiInfo.contains(QStringLiteral("Each node that gets it (w2) runs")), qPrintable(msiInfo));

        if (const QString folder = qEnvironmentVariable("FT_SCREENSHOT_DIR"); !folder.isEmpty()) {
            QDir().mkpath(folder);
            QVERIFY(page.grab().save(QDir(folder).filePath(QStringLiteral("packages-mixed-cluster.png"))));
        }
    }
};

QTEST_MAIN(TestInstallCommands)
#include "tst_installcommands.moc"

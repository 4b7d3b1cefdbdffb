// Drives the real wizard over a sandbox cluster on addresses of its own (a network
// namespace, nodes on 10.213.X.1-4, this machine unreachable from them): Connect →
// Discover → Packages (delivery through the portal's agent, the default) → Plan →
// Run, until every node is upgraded. With FT_SCREENSHOT_DIR set, pages are saved there.

#include "pages/connectpage.h"
#include "pages/noticepage.h"
#include "pages/packagespage.h"
#include "pages/runpage.h"
#include "pages/upgradewizard.h"
#include "session/sandboxcluster.h"
#include "session/upgradesession.h"
#include "widgets/packagepicker.h"
#include "agentlink/trustedcertificates.h"

#include <QCheckBox>
#include <QCoreApplication>
#include <QDir>
#include <QHostAddress>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QProcess>
#include <QPushButton>
#include <QRadioButton>
#include <QSettings>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

#include <unistd.h>

using namespace ft;

class tst_WizardNet : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void stagesAndRunsThroughThePortal();

private:
    int tool(const QStringList &arguments, QByteArray *output = nullptr)
    {
        QProcess process;
        process.setProcessChannelMode(QProcess::MergedChannels);
        process.start(QStringLiteral(FT_BIN_DIR "/ftsandbox"), arguments);
        if (!process.waitForFinished(180000)) {
            process.kill();
            process.waitForFinished();
        }
        if (output)
            *output = process.readAll();
        return process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    }
    void screenshot(QWidget *widget, const QString &name)
    {
        const QString folder = qEnvironmentVariable("FT_SCREENSHOT_DIR");
        if (folder.isEmpty())
            return;
        QDir().mkpath(folder);
        QVERIFY(widget->grab().save(QDir(folder).filePath(name + QStringLiteral(".png"))));
    }

    QTemporaryDir m_dir;
    QString m_clusterDir;
    SandboxClusterFile m_cluster;
    bool m_up = false;
};

void tst_WizardNet::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QSettings::setDefaultFormat(QSettings::IniFormat);
    QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, m_dir.filePath(QStringLiteral("settings")));
    if (::geteuid() != 0)
        QSKIP("Network namespaces need root (CAP_NET_ADMIN, CAP_SYS_ADMIN); this test runs as another user, so it "
              "is skipped.");
    m_clusterDir = m_dir.filePath(QStringLiteral("cluster"));
    QByteArray output;
    const int code = tool({QStringLiteral("up"), m_clusterDir, QStringLiteral("--workers"), QStringLiteral("3"),
                           QStringLiteral("--webui-files"), QStringLiteral("40"), QStringLiteral("--netns"),
                           QStringLiteral("ftu-gui-%1").arg(QCoreApplication::applicationPid())},
                          &output);
    if (code != 0) {
        if (output.contains("not available") || output.contains("need `ip`")
            || output.contains("Could not set up the cluster's network"))
            QSKIP(qPrintable(QStringLiteral("Network namespaces are not permitted here: ") + QString::fromUtf8(output)));
        QFAIL(output.constData());
    }
    m_up = true;
    QCOMPARE(tool({QStringLiteral("make-package"), QStringLiteral("--version"), QStringLiteral("6.3.0-1500"),
                   QStringLiteral("--component"), QStringLiteral("server"), QStringLiteral("--mode"),
                   QStringLiteral("normal"), QStringLiteral("-o"), m_dir.filePath(QStringLiteral("server.ftpkg"))}),
             0);
    auto cluster = SandboxClusterFile::read(m_clusterDir);
    QVERIFY2(cluster, cluster ? "" : qPrintable(cluster.error()));
    m_cluster = *cluster;
    QCOMPARE(m_cluster.nodes.size(), 4);
}

void tst_WizardNet::cleanupTestCase()
{
    if (m_up)
        QCOMPARE(tool({QStringLiteral("down"), m_clusterDir}), 0);
}

void tst_WizardNet::stagesAndRunsThroughThePortal()
{
    UpgradeSession session;
    ui::UpgradeWizard wizard(&session);
    wizard.resize(1100, 800);
    wizard.show();
    QVERIFY(QTest::qWaitForWindowExposed(&wizard));
    const SandboxNode *portal = m_cluster.portal();
    QVERIFY(portal);
    QVERIFY(!QHostAddress(portal->agentUrl.host()).isLoopback());

    auto *connectPage = wizard.findChild<ui::ConnectPage *>(QStringLiteral("connectPage"));
    auto *next = qobject_cast<QPushButton *>(wizard.button(QWizard::NextButton));
    connectPage->preset(TrustedCertificates::addressOf(portal->agentUrl), m_cluster.token);
    auto *fingerprint = wizard.findChild<QLabel *>(QStringLiteral("fingerprint"));
    QTRY_VERIFY_WITH_TIMEOUT(!fingerprint->text().isEmpty(), 10000);
    wizard.findChild<QCheckBox *>(QStringLiteral("trustCertificate"))->setChecked(true);
    for (const SandboxNode &node : m_cluster.nodes)
        session.addKnownFingerprint(node.agentUrl, node.agentFingerprint);
    QTest::mouseClick(next, Qt::LeftButton);

    // Discover: four nodes on four addresses, from the portal agent's agent.conf.
    QCOMPARE(wizard.currentId(), int(ui::UpgradeWizard::DiscoverPageId));
    QTRY_VERIFY_WITH_TIMEOUT(next->isEnabled(), 30000);
    QCOMPARE(session.nodes().size(), 4);
    for (const NodeStatus &node : session.nodes())
        QVERIFY2(node.reachable, qPrintable(node.name + QStringLiteral(": ") + node.unreachableReason));
    screenshot(&wizard, QStringLiteral("net-2-discover"));
    QTest::mouseClick(next, Qt::LeftButton);

    // Packages: the default delivery is through the portal's agent.
    QCOMPARE(wizard.currentId(), int(ui::UpgradeWizard::PackagesPageId));
    auto *packagesPage = wizard.findChild<ui::PackagesPage *>(QStringLiteral("packagesPage"));
    QVERIFY(wizard.findChild<QRadioButton *>(QStringLiteral("deliveryPortal"))->isChecked());
    packagesPage->picker(0)->setPath(m_dir.filePath(QStringLiteral("server.ftpkg")));
    QTRY_VERIFY_WITH_TIMEOUT(session.target().server.has_value(), 20000);
    // This machine's address facing the portal, from a real connection (for the other choice).
    auto *address = wizard.findChild<QLineEdit *>(QStringLiteral("deliveryAddress"));
    QFile clusterFile(m_clusterDir + QStringLiteral("/cluster.json"));
    QVERIFY(clusterFile.open(QIODevice::ReadOnly));
    const QString caller = QJsonDocument::fromJson(clusterFile.readAll()).object().value(QStringLiteral("network"))
                               .toObject().value(QStringLiteral("caller_address")).toString();
    QVERIFY(!caller.isEmpty());
    QTRY_COMPARE_WITH_TIMEOUT(address->text(), caller, 10000);
    // Where the nodes reach the portal (behind NAT it differs from ours; here it is the
    // portal's own address): something that is no host:port is refused on the page.
    auto *portalAddress = wizard.findChild<QLineEdit *>(QStringLiteral("deliveryPortalAddress"));
    QVERIFY(portalAddress && portalAddress->isEnabled());
    QTest::keyClicks(portalAddress, QStringLiteral("https://x/y"));
    QVERIFY(!packagesPage->isComplete());
    QVERIFY(wizard.findChild<QLabel *>(QStringLiteral("deliveryNote"))->text().contains(QStringLiteral("not a host")));
    portalAddress->clear();
    const QString forNodes = QStringLiteral("%1:%2").arg(portal->agentUrl.host()).arg(portal->agentUrl.port());
    QTest::keyClicks(portalAddress, forNodes);
    QCOMPARE(session.delivery().portalAddressForNodes, forNodes);
    auto *acknowledge = wizard.findChild<QCheckBox *>(QStringLiteral("acknowledgeWarnings"));
    if (acknowledge->isVisible())
        acknowledge->setChecked(true);
    QTRY_VERIFY(next->isEnabled());
    screenshot(&wizard, QStringLiteral("net-3-packages"));
    QTest::mouseClick(next, Qt::LeftButton);

    QCOMPARE(wizard.currentId(), int(ui::UpgradeWizard::PlanPageId));
    QVERIFY(wizard.findChild<QLabel *>(QStringLiteral("planSummary"))->text().contains(QStringLiteral("portal's agent")));
    PlanOptions options = session.planOptions();
    options.startTime = QDateTime::currentDateTimeUtc(); // the window is now: no countdown
    session.setPlanOptions(options);
    QTest::mouseClick(next, Qt::LeftButton);
    QCOMPARE(wizard.currentId(), int(ui::UpgradeWizard::CustomizationsPageId));
    QTRY_VERIFY_WITH_TIMEOUT(next->isEnabled(), 20000);
    QTest::mouseClick(next, Qt::LeftButton);
    QCOMPARE(wizard.currentId(), int(ui::UpgradeWizard::NoticePageId));
    auto *noticePage = wizard.findChild<ui::NoticePage *>(QStringLiteral("noticePage"));
    QTest::mouseClick(qobject_cast<QPushButton *>(wizard.button(QWizard::CommitButton)), Qt::LeftButton);
    // Start upgrade asks first (it restates the window and what stops).
    QTRY_VERIFY(noticePage->confirmation() && noticePage->confirmation()->isVisible());
    QTest::mouseClick(noticePage->confirmation()->findChild<QPushButton *>(QStringLiteral("confirmStart")),
                      Qt::LeftButton);
    QTRY_COMPARE(wizard.currentId(), int(ui::UpgradeWizard::RunPageId));

    // Run: staging through the portal's agent, then the waves.
    QCOMPARE(wizard.currentId(), int(ui::UpgradeWizard::RunPageId));
    auto *runPage = wizard.findChild<ui::RunPage *>(QStringLiteral("runPage"));
    QTRY_VERIFY_WITH_TIMEOUT(runPage->engine() && runPage->engine()->state() == RunState::Running, 90000);
    screenshot(&wizard, QStringLiteral("net-7-run"));
    QTRY_VERIFY_WITH_TIMEOUT(runPage->isComplete(), 180000);
    QCOMPARE(toString(runPage->engine()->state()), toString(RunState::Completed));
    QCOMPARE(runPage->engine()->deliveryBytesSent(), session.target().server->size);
    // The journal keeps the delivery for a resume; the upload left the portal's disk.
    QCOMPARE(runPage->engine()->journal().delivery.method, QStringLiteral("portal"));
    QCOMPARE(runPage->engine()->journal().delivery.portalAddressForNodes, forNodes);
    QVERIFY(runPage->engine()->journal().delivery.uploads.isEmpty());
    screenshot(&wizard, QStringLiteral("net-8-run-done"));
    for (const SandboxNode &node : m_cluster.nodes) {
        QFile version(QDir(node.installDir).filePath(QStringLiteral("VERSION")));
        QVERIFY(version.open(QIODevice::ReadOnly));
        QCOMPARE(version.readAll().trimmed(), QByteArray("6.3.0-1500"));
    }
}

QTEST_MAIN(tst_WizardNet)
#include "tst_wizardnet.moc"

#include "pages/packagespage.h"
#include "pages/planpage.h"
#include "sandboxfixture.h"
#include "session/upgradesession.h"
#include "widgets/packagepicker.h"

#include <QApplication>
#include <QComboBox>
#include <QTreeWidget>
#include <QLabel>
#include <QLineEdit>
#include <QSettings>
#include <QTemporaryDir>
#include <QtTest>

using namespace ft;
using fixture::runTool;

class TestPackagesPage : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;

    QString make(const QString &format, const QString &name, const QString &component = QStringLiteral("server"))
    {
        const QString file = m_dir.filePath(name);
        if (!runTool(QStringLiteral("ftsandbox"),
                     {QStringLiteral("make-package"), QStringLiteral("--format"), format, QStringLiteral("--version"),
                      QStringLiteral("6.3.0-1500"), QStringLiteral("--component"), component, QStringLiteral("-o"), file}))
            return {};
        return file;
    }

    static QString infoOf(ui::PackagePicker *picker, Component slot)
    {
        return picker->findChild<QLabel *>(QStringLiteral("packageInfo_%1").arg(toString(slot)))->text();
    }

    static void screenshot(QWidget *widget, const QString &name)
    {
        QString folder = qEnvironmentVariable("FT_SCREENSHOT_DIR");
        if (folder.isEmpty())
            return;
        QDir().mkpath(folder);
        QVERIFY(widget->grab().save(QDir(folder).filePath(name + QStringLiteral(".png"))));
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        // Remembered switches go to this test's own settings.
        QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, m_dir.filePath(QStringLiteral("config")));
        QCoreApplication::setOrganizationName(QStringLiteral("ftupgrade-test"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_packagespage"));
        if (!QFile::exists(fixture::tool(QStringLiteral("ftsandbox"))))
            QSKIP("ftsandbox is not built");
    }

    void vendorPackagesShowTheirSources()
    {
        const QString deb = make(QStringLiteral("deb"), QStringLiteral("flowtraq-server_6.3.0-1500_all.deb"));
        const QString msi = make(QStringLiteral("msi"), QStringLiteral("FlowTraqNBI.msi"), QStringLiteral("nbi"));
        const QString sh = make(QStringLiteral("sh"), QStringLiteral("flowtraq-webui-installer.sh"), QStringLiteral("webui"));
        QVERIFY(!deb.isEmpty() && !msi.isEmpty() && !sh.isEmpty());

        UpgradeSession session;
        ui::PackagesPage page(&session);
        page.resize(1000, 720);
        page.show();
        QVERIFY(QTest::qWaitForWindowExposed(&page));

        // .deb: version and component from its control file; dpkg is the command line.
        ui::PackagePicker *server = page.picker(0);
        server->setPath(deb);
        QTRY_VERIFY_WITH_TIMEOUT(!server->isInspecting(), 20000);
        QVERIFY2(server->errorString().isEmpty(), qPrintable(server->errorString()));
        QString info = infoOf(server, Component::Server);
        QVERIFY2(info.contains(QStringLiteral("Version from the deb control file; component from the deb control file")), qPrintable(info));
        QVERIFY2(info.contains(QStringLiteral("dpkg --log=&lt;log&gt; -i flowtraq-server_6.3.0-1500_all.deb")), qPrintable(info));
        QVERIFY(session.target().server);
        QCOMPARE(session.target().server->format, QStringLiteral("deb"));

        // .msi: from the MSI's Property table; msiexec with its log.
        ui::PackagePicker *nbi = page.picker(1);
        nbi->setPath(msi);
        QTRY_VERIFY_WITH_TIMEOUT(!nbi->isInspecting(), 20000);
        info = infoOf(nbi, Component::Nbi);
        QVERIFY2(info.contains(QStringLiteral("Version from the MSI; component from the MSI")), qPrintable(info));
        QVERIFY2(info.contains(QStringLiteral("It names itself \"FlowTraq NBI\" by FlowTraq sandbox")), qPrintable(info));
        QVERIFY2(info.contains(QStringLiteral("msiexec /i FlowTraqNBI.msi /qn /norestart /l*v &lt;log&gt;")), qPrintable(info));

        // .sh named without a version: the version is typed, then the switches.
        ui::PackagePicker *webUi = page.picker(2);
        webUi->setPath(sh);
        QTRY_VERIFY_WITH_TIMEOUT(!webUi->isInspecting(), 20000);
        auto *versionField = webUi->findChild<QLineEdit *>(QStringLiteral("packageVersion_webui"));
        QVERIFY(versionField->isVisible());
        QVERIFY(!webUi->errorString().isEmpty());
        QVERIFY(!session.target().webUi);
        webUi->setTypedVersion(QStringLiteral("6.3.0-1500"));
        QTRY_VERIFY_WITH_TIMEOUT(!webUi->isInspecting(), 20000);
        auto *switches = webUi->findChild<QLineEdit *>(QStringLiteral("packageSwitches_webui"));
        QVERIFY(switches->isVisible());
        // Without switches the package is not usable: the wizard does not guess them.
        QVERIFY2(webUi->errorString().contains(QStringLiteral("silent-install arguments")), qPrintable(webUi->errorString()));
        QVERIFY(!session.target().webUi);
        webUi->setSwitches(QStringLiteral("--unattended --install-dir {install}"));
        QVERIFY(webUi->errorString().isEmpty());
        QVERIFY(session.target().webUi);
        QCOMPARE(session.target().webUi->installerArguments,
                 (QStringList{QStringLiteral("--unattended"), QStringLiteral("--install-dir"), QStringLiteral("{install}")}));
        QCOMPARE(session.target().webUi->versionSource, QStringLiteral("typed by you"));
        info = infoOf(webUi, Component::WebUi);
        QVERIFY2(info.contains(QStringLiteral("Version typed by you")), qPrintable(info));
        QVERIFY2(info.contains(QStringLiteral("/bin/sh flowtraq-webui-installer.sh --unattended --install-dir {install}")),
                 qPrintable(info));
        screenshot(&page, QStringLiteral("3-packages-vendor"));

        // The switches are remembered for the next file of the same pattern.
        QSettings settings;
        QCOMPARE(settings.value(QStringLiteral("installer_switches/flowtraq-webui-installer.sh")).toString(),
                 QStringLiteral("--unattended --install-dir {install}"));
    }

    // Typed switches: the Plan page offers a canary and chooses the first worker; the
    // plan upgrades it first and alone.
    void typedSwitchesOfferACanary()
    {
        fixture::Cluster cluster;
        QVERIFY(cluster.up({QStringLiteral("--workers"), QStringLiteral("2")}));
        UpgradeSession session;
        QVERIFY(fixture::connectAndDiscover(session, cluster.file()));
        const QString sh = make(QStringLiteral("sh"), QStringLiteral("flowtraq-server-6.3.0-1500.sh"));
        QVERIFY(!sh.isEmpty());
        ui::PackagesPage packages(&session);
        packages.picker(0)->setPath(sh);
        QTRY_VERIFY_WITH_TIMEOUT(!packages.picker(0)->isInspecting(), 20000);
        packages.picker(0)->setSwitches(QStringLiteral("--unattended --install-dir {install}"));
        QVERIFY(session.target().server);

        ui::PlanPage plan(&session);
        plan.resize(1100, 700);
        plan.show();
        plan.initializePage();
        auto *canary = plan.findChild<QComboBox *>(QStringLiteral("canaryWorker"));
        QVERIFY(canary);
        QCOMPARE(canary->currentData().toString(), QStringLiteral("w1"));
        QCOMPARE(session.planOptions().canaryNode, QStringLiteral("w1"));
        auto *steps = plan.findChild<QTreeWidget *>(QStringLiteral("planSteps"));
        QTRY_VERIFY(steps->topLevelItemCount() > 2);
        QVERIFY2(steps->topLevelItem(1)->text(0).contains(QStringLiteral("Canary: worker w1")),
                 qPrintable(steps->topLevelItem(1)->text(0)));
        screenshot(&plan, QStringLiteral("4-plan-canary"));
        // "none" takes the canary away.
        canary->setCurrentIndex(0);
        QVERIFY(session.planOptions().canaryNode.isEmpty());
    }

    void metadataThatDisagreesIsRefusedOnThePage()
    {
        const QString deb = make(QStringLiteral("deb"), QStringLiteral("made.deb"));
        const QString renamed = m_dir.filePath(QStringLiteral("flowtraq-server-7.0.0-1.deb"));
        QVERIFY(QFile::copy(deb, renamed));
        UpgradeSession session;
        ui::PackagesPage page(&session);
        page.picker(0)->setPath(renamed);
        QTRY_VERIFY_WITH_TIMEOUT(!page.picker(0)->isInspecting(), 20000);
        QVERIFY2(page.picker(0)->errorString().contains(QStringLiteral("its file name says version 7.0.0-1")),
                 qPrintable(page.picker(0)->errorString()));
        QVERIFY(!session.target().server);
        QVERIFY(!page.isComplete());
    }
};

QTEST_MAIN(TestPackagesPage)
#include "tst_packagespage.moc"

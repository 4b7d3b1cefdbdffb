// The wizard dies mid-run and is opened again: Discover offers the unfinished run,
// resuming it finishes the upgrade, and no node is upgraded twice. Real sandbox
// daemons and agents on 127.0.0.1; the "crash" destroys the whole wizard while a
// slow installer is running on a worker.

#include "agentlink/agentjobs.h"
#include "pages/connectpage.h"
#include "pages/noticepage.h"
#include "pages/runpage.h"
#include "widgets/progresspane.h"
#include "session/sandboxcluster.h"
#include "agentlink/trustedcertificates.h"
#include "session/upgradesession.h"
#include "pages/upgradewizard.h"

#include <QCheckBox>
#include <QDir>
#include <QLabel>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include "widgets/packagepicker.h"
#include "pages/packagespage.h"

using namespace ft;

class tst_WizardResume : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void resumesAfterTheWizardDied();

private:
    // A wizard connected to the sandbox, on the Discover page with discovery done.
    std::unique_ptr<ui::UpgradeWizard> openWizard(UpgradeSession &session);
    int upgradeJobsOn(const SandboxNode &node);

    QTemporaryDir m_dir;
    SandboxClusterFile m_cluster;
    QString m_package;
};

void tst_WizardResume::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QStandardPaths::setTestModeEnabled(true);
    QDir(UpgradeSession::runsDirectory()).removeRecursively();
    QSettings::setDefaultFormat(QSettings::IniFormat);
    QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, m_dir.filePath(QStringLiteral("settings")));

    m_package = m_dir.filePath(QStringLiteral("server-slow.ftpkg"));
    SandboxLaunchJob job;
    job.setToolDirectory(QStringLiteral(FT_BIN_DIR));
    job.setDirectory(m_dir.filePath(QStringLiteral("cluster")));
    job.setArguments({QStringLiteral("--workers"), QStringLiteral("3")});
    job.addPackage({QStringLiteral("--version"), QStringLiteral("6.3.0-1500"), QStringLiteral("--component"),
                    QStringLiteral("server"), QStringLiteral("--mode"), QStringLiteral("slow"),
                    QStringLiteral("--slow-seconds"), QStringLiteral("3"), QStringLiteral("-o"), m_package});
    QSignalSpy finished(&job, &SandboxLaunchJob::finished);
    job.start();
    QVERIFY(finished.wait(120000));
    QVERIFY2(!job.hasError(), qPrintable(job.errorString()));
    m_cluster = job.cluster();
}

void tst_WizardResume::cleanupTestCase()
{
    if (QFile::exists(m_dir.filePath(QStringLiteral("cluster/cluster.json"))))
        QVERIFY(stopSandboxCluster(m_dir.filePath(QStringLiteral("cluster")), QStringLiteral(FT_BIN_DIR)));
    QDir(UpgradeSession::runsDirectory()).removeRecursively();
}

std::unique_ptr<ui::UpgradeWizard> tst_WizardResume::openWizard(UpgradeSession &session)
{
    for (const SandboxNode &node : m_cluster.nodes)
        session.addKnownFingerprint(node.agentUrl, node.agentFingerprint);
    auto wizard = std::make_unique<ui::UpgradeWizard>(&session);
    wizard->show();
    auto *connectPage = wizard->findChild<ui::ConnectPage *>(QStringLiteral("connectPage"));
    connectPage->preset(TrustedCertificates::addressOf(m_cluster.portal()->agentUrl), m_cluster.token);
    auto *trust = wizard->findChild<QCheckBox *>(QStringLiteral("trustCertificate"));
    // Known fingerprint: ticked once the probe answered.
    if (!QTest::qWaitFor([&] { return trust->isChecked(); }, 10000))
        return nullptr;
    wizard->next();
    auto *next = wizard->button(QWizard::NextButton);
    if (!QTest::qWaitFor([&] { return next->isEnabled(); }, 20000))
        return nullptr;
    return wizard;
}

int tst_WizardResume::upgradeJobsOn(const SandboxNode &node)
{
    AgentClient client;
    AgentEndpoint endpoint{node.name, node.agentUrl, node.agentFingerprint, m_cluster.token};
    auto *job = new ListJobsJob(&client, endpoint);
    QSignalSpy done(job, &AgentJob::finished);
    job->start();
    if (!done.wait(10000) || job->error() != AgentJob::NoError)
        return -1;
    int upgrades = 0;
    for (const AgentJobStatus &status : job->jobs())
        upgrades += status.kind == QLatin1String("upgrade") ? 1 : 0;
    return upgrades;
}

void tst_WizardResume::resumesAfterTheWizardDied()
{
    // First wizard: plan and start the run, then die while w2 is installing.
    {
        UpgradeSession session;
        auto wizard = openWizard(session);
        QVERIFY(wizard);
        // No unfinished run yet: no banner.
        QTRY_VERIFY(!wizard->findChild<QWidget *>(QStringLiteral("unfinishedRun"))->isVisible());
        wizard->next();
        auto *packages = wizard->findChild<ui::PackagesPage *>(QStringLiteral("packagesPage"));
        packages->picker(0)->setPath(m_package);
        QTRY_VERIFY_WITH_TIMEOUT(wizard->button(QWizard::NextButton)->isEnabled(), 20000);
        wizard->next(); // plan
        PlanOptions options = session.planOptions();
        options.startTime = QDateTime::currentDateTimeUtc(); // the window is now: no countdown
        session.setPlanOptions(options);
        wizard->next(); // Web UI: not upgraded
        QTRY_VERIFY_WITH_TIMEOUT(wizard->button(QWizard::NextButton)->isEnabled(), 20000);
        wizard->next(); // notice (commit page)
        wizard->next(); // asks first
        auto *notice = wizard->findChild<ui::NoticePage *>(QStringLiteral("noticePage"));
        QTRY_VERIFY(notice->confirmation());
        QTest::mouseClick(notice->confirmation()->findChild<QPushButton *>(QStringLiteral("confirmStart")),
                          Qt::LeftButton); // run starts
        auto *runPage = wizard->findChild<ui::RunPage *>(QStringLiteral("runPage"));
        QTRY_VERIFY(runPage->engine());
        RunEngine *engine = runPage->engine();
        const auto installing = [&](const QString &node) {
            for (int i = 0; i < engine->stepCount(); ++i) {
                if (engine->step(i).step.node == node && engine->step(i).phase == QLatin1String("installing"))
                    return true;
            }
            return false;
        };
        QTRY_VERIFY_WITH_TIMEOUT(installing(QStringLiteral("w2")), 60000);
        // The wizard "crashes": everything is destroyed without a goodbye. The agent
        // finishes w2's step on its own.
    }

    // Second wizard: Discover offers the run; resuming it ends the upgrade.
    UpgradeSession session;
    auto wizard = openWizard(session);
    QVERIFY(wizard);
    auto *banner = wizard->findChild<QWidget *>(QStringLiteral("unfinishedRun"));
    QTRY_VERIFY_WITH_TIMEOUT(banner->isVisible(), 10000);
    QVERIFY(session.unfinishedRun().has_value());
    if (const QString folder = qEnvironmentVariable("FT_SCREENSHOT_DIR"); !folder.isEmpty()) {
        QDir().mkpath(folder);
        QVERIFY(wizard->grab().save(QDir(folder).filePath(QStringLiteral("2b-discover-unfinished-run.png"))));
    }
    QTest::mouseClick(wizard->findChild<QPushButton *>(QStringLiteral("resumeUnfinishedRun")), Qt::LeftButton);
    QCOMPARE(wizard->currentId(), int(ui::UpgradeWizard::RunPageId));
    auto *runPage = wizard->findChild<ui::RunPage *>(QStringLiteral("runPage"));
    // What changed while the wizard was away: in a summary and in w2's pane.
    auto *summary = wizard->findChild<QLabel *>(QStringLiteral("reconciledSummary"));
    QTRY_VERIFY_WITH_TIMEOUT(summary->isVisible(), 60000);
    QVERIFY2(summary->text().contains(QStringLiteral("w2")), qPrintable(summary->text()));
    auto *w2 = runPage->findChild<ui::ProgressPane *>(QStringLiteral("pane_w2_server"));
    QVERIFY(w2);
    auto *w2Difference = w2->findChild<QLabel *>(QStringLiteral("reconciled"));
    QVERIFY2(w2Difference->isVisibleTo(w2) && w2Difference->text().contains(QStringLiteral("away")),
             qPrintable(w2Difference->text()));
    // The engine said which step, by index, node and component, and what it found against
    // the journal; only that step's pane shows it.
    const QList<RunDifference> differences = runPage->engine()->differences();
    QVERIFY(!differences.isEmpty());
    for (const RunDifference &difference : differences) {
        QVERIFY(difference.step >= 0 && difference.step < runPage->engine()->stepCount());
        QCOMPARE(runPage->engine()->step(difference.step).step.node, difference.node);
        QCOMPARE(difference.node, QStringLiteral("w2"));
        QCOMPARE(toString(difference.component), toString(Component::Server));
        QCOMPARE(difference.journalState, toString(RunStepState::Running));
        QVERIFY2(difference.found == QLatin1String("agent_job_succeeded")
                     || difference.found == QLatin1String("agent_job_running"),
                 qPrintable(difference.found));
        QVERIFY2(w2Difference->text().contains(difference.detail.toHtmlEscaped())
                     || w2Difference->text().contains(difference.detail),
                 qPrintable(w2Difference->text()));
    }
    for (auto *pane : runPage->findChildren<ui::ProgressPane *>()) {
        if (pane != w2)
            QVERIFY2(!pane->findChild<QLabel *>(QStringLiteral("reconciled"))->isVisibleTo(pane),
                     qPrintable(pane->objectName()));
    }
    if (const QString folder = qEnvironmentVariable("FT_SCREENSHOT_DIR"); !folder.isEmpty())
        QVERIFY(wizard->grab().save(QDir(folder).filePath(QStringLiteral("2c-resumed-differences.png"))));
    QTRY_VERIFY_WITH_TIMEOUT(runPage->isComplete(), 120000);
    QCOMPARE(toString(runPage->engine()->state()), toString(RunState::Completed));
    QCOMPARE(runPage->journalPath(), session.unfinishedRun()->path);

    // Every node at the target, and each upgraded exactly once.
    for (const SandboxNode &node : m_cluster.nodes) {
        QFile version(QDir(node.installDir).filePath(QStringLiteral("VERSION")));
        QVERIFY(version.open(QIODevice::ReadOnly));
        QCOMPARE(version.readAll().trimmed(), QByteArray("6.3.0-1500"));
        QCOMPARE(upgradeJobsOn(node), 1);
    }
}

QTEST_MAIN(tst_WizardResume)
#include "tst_wizardresume.moc"

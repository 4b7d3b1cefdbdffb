// Drives the real wizard over a real sandbox cluster (daemons and agents on
// 127.0.0.1): Connect → Discover → Packages → Plan, checking what each page shows.
// With FT_SCREENSHOT_DIR set, every page is saved there as a PNG.

#include "pages/connectpage.h"
#include "discover/discovery.h"
#include "webapi/webapiinfo.h"
#include "widgets/packagepicker.h"
#include "pages/noticepage.h"
#include "pages/packagespage.h"
#include "pages/planpage.h"
#include "widgets/progresspane.h"
#include "pages/runpage.h"
#include "pages/verifypage.h"
#include "session/sandboxcluster.h"
#include "verify/stepstatus.h"
#include "widgets/timelinechart.h"
#include "agentlink/trustedcertificates.h"
#include "session/upgradesession.h"
#include "pages/upgradewizard.h"

#include <QCheckBox>
#include <QDir>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTableWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QScopeGuard>
#include <QTest>
#include <QTreeWidget>
#include <QTreeWidgetItemIterator>
#include <QRegularExpression>

#include <unistd.h>
#include <QHeaderView>
#include <QPlainTextEdit>
#include <QStyle>
#include <QStyleOptionViewItem>

using namespace ft;

class tst_WizardGui : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void walksConnectDiscoverPackagesPlan();
    void runsTheUpgradeAndVerifies();
    void failuresShowTrueStates();

private:
    void screenshot(QWidget *widget, const QString &name);
    void keepFlowsFollowsTheBoxes();
    QString packagePath(Component component) const;

    QTemporaryDir m_dir;
    SandboxClusterFile m_cluster;
    // The wizard lives across the two test functions: the second goes on where the
    // first stopped, on the Plan page.
    UpgradeSession *m_session = nullptr;
    ui::UpgradeWizard *m_wizard = nullptr;
    QDateTime m_windowStart;
};

void tst_WizardGui::initTestCase()
{
    QVERIFY(m_dir.isValid());
    // The wizard's settings (trusted fingerprints, profiles) stay inside the test.
    QSettings::setDefaultFormat(QSettings::IniFormat);
    QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, m_dir.filePath(QStringLiteral("settings")));

    SandboxLaunchJob job;
    job.setToolDirectory(QStringLiteral(FT_BIN_DIR));
    job.setDirectory(m_dir.filePath(QStringLiteral("cluster")));
    job.setArguments({QStringLiteral("--workers"), QStringLiteral("3"), QStringLiteral("--windows"),
                      QStringLiteral("1"), QStringLiteral("--nbi"), QStringLiteral("--flows"),
                      QStringLiteral("w1=150")});
    for (Component component : {Component::Server, Component::Nbi, Component::WebUi})
        job.addPackage({QStringLiteral("--version"), QStringLiteral("6.3.0-1500"),
                        QStringLiteral("--component"), toString(component), QStringLiteral("-o"),
                        packagePath(component)});
    QSignalSpy finished(&job, &SandboxLaunchJob::finished);
    job.start();
    QVERIFY(finished.wait(120000));
    QVERIFY2(!job.hasError(), qPrintable(job.errorString()));
    m_cluster = job.cluster();
    QCOMPARE(m_cluster.nodes.size(), 4);
}

void tst_WizardGui::cleanupTestCase()
{
    delete m_wizard;
    delete m_session;
    if (QFile::exists(m_dir.filePath(QStringLiteral("cluster/cluster.json"))))
        QVERIFY(stopSandboxCluster(m_dir.filePath(QStringLiteral("cluster")), QStringLiteral(FT_BIN_DIR)));
}

QString tst_WizardGui::packagePath(Component component) const
{
    return m_dir.filePath(QStringLiteral("%1-6.3.0.ftpkg").arg(toString(component)));
}

void tst_WizardGui::screenshot(QWidget *widget, const QString &name)
{
    const QString folder = qEnvironmentVariable("FT_SCREENSHOT_DIR");
    if (folder.isEmpty())
        return;
    QDir().mkpath(folder);
    QVERIFY(widget->grab().save(QDir(folder).filePath(name + QStringLiteral(".png"))));
}

void tst_WizardGui::walksConnectDiscoverPackagesPlan()
{
    m_session = new UpgradeSession;
    m_wizard = new ui::UpgradeWizard(m_session);
    UpgradeSession &session = *m_session;
    ui::UpgradeWizard &wizard = *m_wizard;
    wizard.resize(1100, 760);
    wizard.show();
    QVERIFY(QTest::qWaitForWindowExposed(&wizard));

    // Connect: the agent's certificate is looked at before anything is sent.
    const SandboxNode *portal = m_cluster.portal();
    QVERIFY(portal);
    auto *connectPage = wizard.findChild<ui::ConnectPage *>(QStringLiteral("connectPage"));
    QVERIFY(connectPage);
    QPushButton *next = qobject_cast<QPushButton *>(wizard.button(QWizard::NextButton));
    QVERIFY(!next->isEnabled());
    connectPage->preset(TrustedCertificates::addressOf(portal->agentUrl), m_cluster.token);
    auto *fingerprint = wizard.findChild<QLabel *>(QStringLiteral("fingerprint"));
    QTRY_VERIFY_WITH_TIMEOUT(!fingerprint->text().isEmpty(), 10000);
    QCOMPARE(fingerprint->text().remove(QLatin1Char('\n')), TrustedCertificates::formatForPeople(portal->agentFingerprint));
    // First contact: not trusted until the administrator says so.
    auto *trust = wizard.findChild<QCheckBox *>(QStringLiteral("trustCertificate"));
    QVERIFY(!trust->isChecked());
    QVERIFY(!next->isEnabled());
    trust->setChecked(true);
    QVERIFY(next->isEnabled());

    // FlowTraq's Web API: plain http is refused with one sentence and the page stays.
    QVERIFY(m_cluster.webApi.isConfigured());
    WebApiSettings plain = m_cluster.webApi;
    plain.portal.setScheme(QStringLiteral("http"));
    connectPage->presetWebApi(plain);
    QTest::mouseClick(next, Qt::LeftButton);
    QCOMPARE(wizard.currentId(), int(ui::UpgradeWizard::ConnectPageId));
    QVERIFY(wizard.findChild<QLabel *>(QStringLiteral("webApiStatus"))->text().contains(QStringLiteral("https")));
    connectPage->presetWebApi(m_cluster.webApi);
    screenshot(&wizard, QStringLiteral("1-connect"));

    // The workers' agents are trusted from the sandbox file (their fingerprints are known).
    for (const SandboxNode &node : m_cluster.nodes)
        session.addKnownFingerprint(node.agentUrl, node.agentFingerprint);
    QTest::mouseClick(next, Qt::LeftButton);
    QCOMPARE(wizard.currentId(), int(ui::UpgradeWizard::DiscoverPageId));

    // Discover: every node answers and the table shows them all.
    auto *table = wizard.findChild<QTableView *>(QStringLiteral("nodeTable"));
    QVERIFY(table);
    QTRY_VERIFY_WITH_TIMEOUT(next->isEnabled(), 20000);
    QCOMPARE(table->model()->rowCount(), 4);
    QStringList names;
    for (const NodeStatus &node : session.nodes()) {
        QVERIFY2(node.reachable, qPrintable(node.name + QStringLiteral(": ") + node.unreachableReason));
        names << node.name;
        QCOMPARE(node.server.version.toString(), QStringLiteral("6.2.1-1200"));
    }
    QCOMPARE(names.size(), 4);
    QVERIFY(names.contains(QStringLiteral("w3")));
    // Each version names its source; the portal's also came from FlowTraq's Web API.
    QTRY_VERIFY_WITH_TIMEOUT(!session.discovery()->isRunning(), 20000);
    for (int row = 0; row < int(session.nodes().size()); ++row) {
        const NodeStatus &node = session.nodes().at(row);
        const QString cell = table->model()->index(row, 4).data().toString(); // Server column
        QVERIFY2(cell.contains(QStringLiteral("6.2.1-1200 (version_file)")), qPrintable(cell));
        if (node.role == NodeRole::Portal) {
            QCOMPARE(node.server.readings.last().source, QStringLiteral("webapi"));
            QCOMPARE(node.server.readings.last().version, QStringLiteral("6.2.1-1200"));
            QVERIFY(table->model()->index(row, 4).data(Qt::ToolTipRole).toString().contains(QStringLiteral("webapi")));
        }
        if (node.name == QLatin1String("w1")) {
            // w1's rate comes from its agent's packet counter, or says why it does not.
            QCOMPARE(node.flowRateSource, QStringLiteral("agent_capture"));
            if (!node.flowRateMeasured) {
                QVERIFY(!node.flowRateNotMeasuredReason.isEmpty());
                QCOMPARE(table->model()->index(row, 8).data().toString(), QStringLiteral("not measured"));
            }
        }
    }
    screenshot(&wizard, QStringLiteral("2-discover"));
    QTest::mouseClick(next, Qt::LeftButton);

    // Packages: nothing chosen, no way on; then the three packages, checked.
    QCOMPARE(wizard.currentId(), int(ui::UpgradeWizard::PackagesPageId));
    QVERIFY(!next->isEnabled());
    auto *packagesPage = wizard.findChild<ui::PackagesPage *>(QStringLiteral("packagesPage"));
    packagesPage->picker(0)->setPath(m_dir.filePath(QStringLiteral("no-such.ftpkg")));
    QTRY_VERIFY(!packagesPage->picker(0)->isInspecting());
    QVERIFY(!packagesPage->picker(0)->errorString().isEmpty());
    QVERIFY(!next->isEnabled());
    // A Web UI package in the server slot is refused.
    packagesPage->picker(0)->setPath(packagePath(Component::WebUi));
    QTRY_VERIFY(!packagesPage->picker(0)->isInspecting());
    QVERIFY(!packagesPage->picker(0)->errorString().isEmpty());
    const Component slots[] = {Component::Server, Component::Nbi, Component::WebUi};
    for (int slot = 0; slot < 3; ++slot)
        packagesPage->picker(slot)->setPath(packagePath(slots[slot]));
    QTRY_VERIFY_WITH_TIMEOUT(session.target().server && session.target().nbi && session.target().webUi,
                             20000);
    auto *checks = wizard.findChild<QTreeWidget *>(QStringLiteral("preChecks"));
    auto *acknowledge = wizard.findChild<QCheckBox *>(QStringLiteral("acknowledgeWarnings"));
    if (acknowledge->isVisible())
        acknowledge->setChecked(true);
    QTRY_VERIFY(next->isEnabled());
    screenshot(&wizard, QStringLiteral("3-packages"));
    Q_UNUSED(checks)
    QTest::mouseClick(next, Qt::LeftButton);

    // Plan: staging first, workers one at a time, then the portal, the NBI, the Web UI.
    QCOMPARE(wizard.currentId(), int(ui::UpgradeWizard::PlanPageId));
    auto *steps = wizard.findChild<QTreeWidget *>(QStringLiteral("planSteps"));
    QVERIFY(steps);
    QStringList titles;
    for (int i = 0; i < steps->topLevelItemCount(); ++i)
        titles << steps->topLevelItem(i)->text(0);
    QVERIFY2(titles.size() >= 7, qPrintable(titles.join(QStringLiteral(" | "))));
    QVERIFY(titles.at(0).startsWith(QStringLiteral("Stage")));
    QVERIFY2(titles.at(1).contains(QStringLiteral("w1")), qPrintable(titles.at(1)));
    QVERIFY2(titles.at(2).contains(QStringLiteral("w2")), qPrintable(titles.at(2)));
    QVERIFY2(titles.at(3).contains(QStringLiteral("w3")), qPrintable(titles.at(3)));
    QVERIFY2(titles.at(4).contains(QStringLiteral("ortal")), qPrintable(titles.at(4)));
    QVERIFY2(titles.at(5).contains(QStringLiteral("NBI")), qPrintable(titles.at(5)));
    QVERIFY2(titles.at(6).contains(QStringLiteral("Web UI")), qPrintable(titles.at(6)));

    auto *timeline = wizard.findChild<ui::TimelineChart *>(QStringLiteral("timeline"));
    QVERIFY(timeline);
    Q_UNUSED(timeline) // its loss mark follows "keep flows": keepFlowsFollowsTheBoxes()

    // Two workers at once: fewer waves, and a warning.
    auto *workersDown = wizard.findChild<QSpinBox *>(QStringLiteral("maxWorkersDown"));
    const int wavesBefore = steps->topLevelItemCount();
    workersDown->setValue(2);
    QVERIFY(steps->topLevelItemCount() < wavesBefore);
    QVERIFY(!wizard.findChild<QLabel *>(QStringLiteral("planWarnings"))->text().isEmpty());
    workersDown->setValue(1);

    auto *loss = wizard.findChild<QLabel *>(QStringLiteral("flowLoss"));
    QTRY_VERIFY_WITH_TIMEOUT(loss->text().contains(QStringLiteral("quietest")), 10000);

    // One flow-loss figure: the page's plan is the session's (which the notice and the
    // confirmation use), also once the flow history priced it.
    auto *planPage = wizard.findChild<ui::PlanPage *>(QStringLiteral("planPage"));
    QVERIFY(planPage);
    QTRY_VERIFY(session.hasFlowHistory());
    QCOMPARE(planPage->plan().totalFlowsLost, session.plan().totalFlowsLost);
    // A node whose flows are kept and replayed loses none, whatever the hour's traffic.
    int kept = 0;
    for (const PlanWave &wave : session.plan().waves) {
        for (const PlanStep &step : wave.steps) {
            if (step.impact.keepFlows) {
                ++kept;
                QCOMPARE(step.impact.flowsLost, qint64(0));
            }
        }
    }
    QVERIFY(kept > 0); // w1 receives flows and keeps them (Linux, keeping on by default)

    // The notice lead time is chosen beside the quietest start, which follows it, and is
    // kept in the settings.
    auto *lead = wizard.findChild<QSpinBox *>(QStringLiteral("noticeLeadHours"));
    QVERIFY(lead);
    QCOMPARE(lead->value(), 24);
    auto *suggest = wizard.findChild<QPushButton *>(QStringLiteral("useQuietWindow"));
    const auto suggested = [&] { return suggest->property("suggestedStart").toDateTime(); };
    QVERIFY(suggested() >= QDateTime::currentDateTimeUtc().addSecs(24 * 3600 - 60));
    lead->setFocus();
    lead->selectAll();
    QTest::keyClicks(lead, QStringLiteral("72"));
    QCOMPARE(lead->value(), 72);
    QCOMPARE(session.noticeLeadMs(), qint64(72) * 3600 * 1000);
    QCOMPARE(QSettings().value(QStringLiteral("notice/leadTimeHours")).toInt(), 72);
    QVERIFY2(suggested() >= QDateTime::currentDateTimeUtc().addSecs(72 * 3600 - 60),
             qPrintable(suggested().toString(Qt::ISODate)));
    QVERIFY2(loss->text().contains(QStringLiteral("3 days")) || loss->text().contains(QStringLiteral("72")),
             qPrintable(loss->text()));
    QTest::mouseClick(suggest, Qt::LeftButton);
    QCOMPARE(session.planOptions().startTime, suggested());
    // Back to a day.
    lead->selectAll();
    QTest::keyClicks(lead, QStringLiteral("24"));
    QCOMPARE(session.noticeLeadMs(), qint64(24) * 3600 * 1000);
    QVERIFY(suggested() >= QDateTime::currentDateTimeUtc().addSecs(24 * 3600 - 60));
    QCOMPARE(QSettings().value(QStringLiteral("notice/leadTimeHours")).toInt(), 24);
    screenshot(&wizard, QStringLiteral("4-plan"));

    keepFlowsFollowsTheBoxes();
}

// "Keep flows during outages" on the Plan page: on by default for w1 (Linux, receives
// flows); its box in the Flows column and the one for all follow each other, and the
// figures, the summary and the notice follow them.
void tst_WizardGui::keepFlowsFollowsTheBoxes()
{
    ui::UpgradeWizard &wizard = *m_wizard;
    auto *next = qobject_cast<QPushButton *>(wizard.button(QWizard::NextButton));
    auto *steps = wizard.findChild<QTreeWidget *>(QStringLiteral("planSteps"));
    auto *keepAll = wizard.findChild<QCheckBox *>(QStringLiteral("keepFlowsAll"));
    auto *summary = wizard.findChild<QLabel *>(QStringLiteral("planSummary"));
    QVERIFY(keepAll);
    QVERIFY(keepAll->isVisible());
    const auto itemOf = [steps](const QString &node) -> QTreeWidgetItem * {
        for (QTreeWidgetItemIterator it(steps); *it; ++it) {
            if ((*it)->data(4, Qt::UserRole).toString() == node)
                return *it;
        }
        return nullptr;
    };
    const auto keeps = [this](const QString &node) {
        for (const PlanWave &wave : m_session->plan().waves)
            for (const PlanStep &step : wave.steps)
                if (step.node == node && step.component == Component::Server)
                    return step.impact.keepFlows;
        return false;
    };
    // Only w1 can keep flows: the Windows worker and the nodes without flows have no box.
    int boxes = 0;
    for (QTreeWidgetItemIterator it(steps); *it; ++it)
        for (int column = 0; column < steps->columnCount(); ++column)
            boxes += (*it)->data(column, Qt::CheckStateRole).isValid() ? 1 : 0;
    QCOMPARE(boxes, 1);
    QTreeWidgetItem *w1 = itemOf(QStringLiteral("w1"));
    QVERIFY(w1);
    QCOMPARE(w1->checkState(4), Qt::Checked);
    QCOMPARE(w1->text(4), QStringLiteral("0 (kept)"));
    QCOMPARE(keepAll->checkState(), Qt::Checked);
    QVERIFY(keeps(QStringLiteral("w1")));
    QCOMPARE(m_session->plan().totalFlowsLost, 0);
    QVERIFY2(summary->text().contains(QStringLiteral("<b>no</b> flow records are lost")), qPrintable(summary->text()));
    auto *timeline = wizard.findChild<ui::TimelineChart *>(QStringLiteral("timeline"));
    const auto lossMarked = [timeline] {
        bool marked = false;
        for (const auto &bar : timeline->bars())
            marked = marked || (bar.lane == QLatin1String("w1") && bar.receivesFlows);
        return marked;
    };
    QVERIFY(!lossMarked());
    const QString shots = qEnvironmentVariable("FT_SCREENSHOT_DIR");
    const QSize size = wizard.size();
    if (!shots.isEmpty()) {
        wizard.resize(1024, 768);
        steps->scrollToItem(w1);
        QTest::qWait(100);
        screenshot(&wizard, QStringLiteral("4-plan-keep-flows-1024"));
    }

    // A click on w1's box in the Flows column (where the style draws it) lets its flows go.
    steps->scrollToItem(w1);
    QStyleOptionViewItem option;
    option.initFrom(steps);
    option.rect = steps->visualItemRect(w1);
    option.rect.setLeft(steps->header()->sectionViewportPosition(4));
    option.rect.setWidth(steps->header()->sectionSize(4));
    option.features |= QStyleOptionViewItem::HasCheckIndicator | QStyleOptionViewItem::HasDisplay;
    const QRect indicator = steps->style()->subElementRect(QStyle::SE_ItemViewItemCheckIndicator, &option, steps);
    QTest::mouseClick(steps->viewport(), Qt::LeftButton, {}, indicator.center());
    QTRY_VERIFY(!keeps(QStringLiteral("w1")));
    QVERIFY(m_session->planOptions().dropFlowsOn.contains(QStringLiteral("w1")));
    w1 = itemOf(QStringLiteral("w1"));
    QCOMPARE(w1->checkState(4), Qt::Unchecked);
    bool ok = false;
    const qint64 lost = QLocale().toLongLong(w1->text(4), &ok);
    QVERIFY2(ok && lost > 0, qPrintable(w1->text(4)));
    QCOMPARE(m_session->plan().totalFlowsLost, lost);
    QCOMPARE(keepAll->checkState(), Qt::Unchecked);
    QVERIFY(lossMarked());
    QVERIFY2(summary->text().contains(QStringLiteral("about <b>%1</b> flow records").arg(QLocale().toString(lost))),
             qPrintable(summary->text()));
    if (!shots.isEmpty()) {
        wizard.resize(1024, 768);
        steps->scrollToItem(w1);
        QTest::qWait(100);
        screenshot(&wizard, QStringLiteral("4-plan-drop-flows-1024"));
        wizard.resize(size);
    }

    // The notice says w1's flow data will be missing, then, with keeping back on, not.
    const auto noticeText = [&wizard, next]() -> QString {
        QTest::mouseClick(next, Qt::LeftButton);
        if (wizard.currentId() != int(ui::UpgradeWizard::CustomizationsPageId))
            return QStringLiteral("(not on the customizations page)");
        if (!QTest::qWaitFor([next] { return next->isEnabled(); }, 20000))
            return QStringLiteral("(customizations page did not let us on)");
        QTest::mouseClick(next, Qt::LeftButton);
        if (wizard.currentId() != int(ui::UpgradeWizard::NoticePageId))
            return QStringLiteral("(not on the notice page)");
        const QString text = wizard.findChild<QPlainTextEdit *>(QStringLiteral("noticeText"))->toPlainText();
        wizard.back();
        wizard.back();
        return text;
    };
    const QString dropped = noticeText();
    QCOMPARE(wizard.currentId(), int(ui::UpgradeWizard::PlanPageId));
    QVERIFY2(dropped.contains(QStringLiteral("Flow data will not be collected")) && dropped.contains(QStringLiteral("- w1:")),
             qPrintable(dropped));

    // The one box for all turns keeping back on everywhere.
    QTest::mouseClick(keepAll, Qt::LeftButton);
    QTRY_VERIFY(keeps(QStringLiteral("w1")));
    QCOMPARE(itemOf(QStringLiteral("w1"))->checkState(4), Qt::Checked);
    QCOMPARE(keepAll->checkState(), Qt::Checked);
    QCOMPARE(m_session->plan().totalFlowsLost, 0);
    const QString kept = noticeText();
    QCOMPARE(wizard.currentId(), int(ui::UpgradeWizard::PlanPageId));
    QVERIFY2(!kept.contains(QStringLiteral("Flow data will not be collected")), qPrintable(kept));
}

void tst_WizardGui::runsTheUpgradeAndVerifies()
{
    QVERIFY(m_wizard);
    ui::UpgradeWizard &wizard = *m_wizard;
    QCOMPARE(wizard.currentId(), int(ui::UpgradeWizard::PlanPageId));
    auto *next = qobject_cast<QPushButton *>(wizard.button(QWizard::NextButton));
    // The window announced lies a little ahead: the run must stage, then wait for it.
    PlanOptions options = m_session->planOptions();
    m_windowStart = QDateTime::currentDateTimeUtc().addSecs(40);
    m_windowStart.setTime(QTime(m_windowStart.time().hour(), m_windowStart.time().minute(),
                                m_windowStart.time().second()));
    options.startTime = m_windowStart;
    m_session->setPlanOptions(options);
    QTest::mouseClick(next, Qt::LeftButton);

    // The sandbox's Web UI is as installed: nothing to lose, the page lets us on.
    QCOMPARE(wizard.currentId(), int(ui::UpgradeWizard::CustomizationsPageId));
    QTRY_VERIFY_WITH_TIMEOUT(next->isEnabled(), 20000);
    QTest::mouseClick(next, Qt::LeftButton);

    // The notice is the commit page: its button starts the upgrade, but never by Enter.
    QCOMPARE(wizard.currentId(), int(ui::UpgradeWizard::NoticePageId));
    auto *noticePage = wizard.findChild<ui::NoticePage *>(QStringLiteral("noticePage"));
    auto *commit = qobject_cast<QPushButton *>(wizard.button(QWizard::CommitButton));
    QVERIFY(commit->isVisible());
    QVERIFY(!commit->isDefault());
    // The window starts in 40 s, far less than the 24 h users are to be told ahead: said
    // on the page, and again in the question before anything starts.
    const auto *shortNotice = wizard.findChild<QLabel *>(QStringLiteral("shortNoticeWarning"));
    QVERIFY(shortNotice->isVisible());
    QVERIFY2(shortNotice->text().startsWith(QStringLiteral("Users get no notice"))
                 && shortNotice->text().contains(QStringLiteral("24 h")),
             qPrintable(shortNotice->text()));
    auto *recipients = wizard.findChild<QLineEdit *>(QStringLiteral("noticeRecipients"));
    recipients->setFocus();
    QTest::keyClick(recipients, Qt::Key_Return);
    QTest::keyClick(recipients, Qt::Key_Enter);
    commit->setFocus();
    QTest::keyClick(commit, Qt::Key_Return);
    QTest::qWait(200);
    QCOMPARE(wizard.currentId(), int(ui::UpgradeWizard::NoticePageId));
    QVERIFY(!noticePage->confirmation());
    auto *runPage = wizard.findChild<ui::RunPage *>(QStringLiteral("runPage"));
    QVERIFY(!runPage->engine());

    // Start asks first, restating what stops when, the window and the flow loss; Enter
    // in that question keeps everything as it is.
    QTest::mouseClick(commit, Qt::LeftButton);
    QTRY_VERIFY(noticePage->confirmation() && noticePage->confirmation()->isVisible());
    auto *question = qobject_cast<QMessageBox *>(noticePage->confirmation());
    QVERIFY(question);
    QVERIFY2(question->text().contains(QStringLiteral("Announced window")), qPrintable(question->text()));
    QVERIFY(question->text().contains(QStringLiteral("What will be stopped")));
    QVERIFY(question->text().contains(QStringLiteral("flow loss")));
    // w1 keeps its flows: the question says so, not "no server receives flows".
    QVERIFY2(question->text().contains(QStringLiteral("w1")) && question->text().contains(QStringLiteral("kept by their agents"))
                 && !question->text().contains(QStringLiteral("no upgraded server receives flows")),
             qPrintable(question->text()));
    QVERIFY2(question->text().contains(QStringLiteral("no service stops before")), qPrintable(question->text()));
    QVERIFY2(question->text().contains(QStringLiteral("Users get no notice")), qPrintable(question->text()));
    screenshot(question, QStringLiteral("6-confirm-start"));
    QTest::keyClick(question, Qt::Key_Return);
    QTRY_VERIFY(!noticePage->confirmation());
    QCOMPARE(wizard.currentId(), int(ui::UpgradeWizard::NoticePageId));
    QVERIFY(!runPage->engine());
    QTest::mouseClick(commit, Qt::LeftButton);
    QTRY_VERIFY(noticePage->confirmation() && noticePage->confirmation()->isVisible());
    QTest::mouseClick(noticePage->confirmation()->findChild<QPushButton *>(QStringLiteral("confirmStart")),
                      Qt::LeftButton);

    // Run: staging at once, then a countdown to the announced window; nothing stops
    // before it, and the first step starts at it.
    QTRY_COMPARE(wizard.currentId(), int(ui::UpgradeWizard::RunPageId));
    QVERIFY(!wizard.button(QWizard::BackButton)->isVisible()
            || !wizard.button(QWizard::BackButton)->isEnabled());
    QVERIFY(runPage->engine());
    QCOMPARE(runPage->engine()->announcedStart(), m_windowStart);
    auto *countdown = wizard.findChild<QLabel *>(QStringLiteral("countdown"));
    QVERIFY(wizard.findChild<QWidget *>(QStringLiteral("schedulePanel"))->isVisible());
    QTRY_VERIFY_WITH_TIMEOUT(runPage->engine()->isWaitingForWindow(), 60000);
    QVERIFY(QDateTime::currentDateTimeUtc() < m_windowStart);
    QCOMPARE(runPage->engine()->journal().announcedStart, m_windowStart);
    for (int i = 0; i < runPage->engine()->stepCount(); ++i)
        QVERIFY(runPage->engine()->step(i).state == RunStepState::Pending
                || runPage->engine()->step(i).state == RunStepState::AlreadyCurrent);
    QTRY_VERIFY(countdown->text().contains(QStringLiteral("staged")));
    QVERIFY2(countdown->text().contains(QStringLiteral("starts in")), qPrintable(countdown->text()));
    // Resume (of a pause) does not jump the window.
    QVERIFY(!wizard.findChild<QPushButton *>(QStringLiteral("resumeRun"))->isEnabled());
    screenshot(&wizard, QStringLiteral("7-countdown"));
    // Esc while it counts down asks first (closing would cancel the start); Esc again stays.
    QTest::keyClick(&wizard, Qt::Key_Escape);
    auto *closeQuestion = wizard.findChild<QMessageBox *>(QStringLiteral("closeQuestion"));
    QTRY_VERIFY(closeQuestion && closeQuestion->isVisible());
    QVERIFY2(closeQuestion->text().contains(QStringLiteral("waits for the announced window")),
             qPrintable(closeQuestion->text()));
    QTest::keyClick(closeQuestion, Qt::Key_Escape);
    QTRY_VERIFY(!wizard.findChild<QMessageBox *>(QStringLiteral("closeQuestion")));
    QVERIFY(wizard.isVisible());
    QCOMPARE(wizard.currentId(), int(ui::UpgradeWizard::RunPageId));
    QTRY_VERIFY_WITH_TIMEOUT(runPage->engine()->state() == RunState::Running, 90000);
    QVERIFY(!wizard.findChild<QWidget *>(QStringLiteral("schedulePanel"))->isVisible());
    for (const RunStepRecord &record : runPage->engine()->journal().steps) {
        if (record.started.isValid())
            QVERIFY2(record.started >= m_windowStart.addMSecs(-500),
                     qPrintable(record.step.node + QStringLiteral(" started before the window")));
    }
    screenshot(&wizard, QStringLiteral("7-run"));
    // The overall bar counts finished work only: it never goes down and ends full.
    auto *overall = wizard.findChild<QProgressBar *>(QStringLiteral("overallProgress"));
    int lastOverall = overall->value();
    QTRY_VERIFY_WITH_TIMEOUT((lastOverall = std::max(lastOverall, overall->value()), runPage->isComplete()),
                             180000);
    QCOMPARE(toString(runPage->engine()->state()), toString(RunState::Completed));
    QCOMPARE(overall->value(), 1000);
    const QList<ui::ProgressPane *> panes = runPage->findChildren<ui::ProgressPane *>();
    QCOMPARE(panes.size(), runPage->engine()->stepCount());
    for (const ui::ProgressPane *pane : panes) {
        QVERIFY2(pane->state() == RunStepState::Succeeded, qPrintable(pane->objectName()));
        QCOMPARE(toString(pane->status().kind), QStringLiteral("succeeded"));
        QVERIFY2(pane->phaseText().startsWith(QStringLiteral("Succeeded")), qPrintable(pane->phaseText()));
    }
    // The page says what happened, and its Cancel became Close.
    QCOMPARE(runPage->title(), QStringLiteral("Upgrade finished"));
    QCOMPARE(wizard.buttonText(QWizard::CancelButton), QStringLiteral("&Close"));
    screenshot(&wizard, QStringLiteral("8-run-done"));
    QTest::mouseClick(next, Qt::LeftButton);

    // Verify: every node × component upgraded, as the nodes' own files say.
    QCOMPARE(wizard.currentId(), int(ui::UpgradeWizard::VerifyPageId));
    auto *verifyPage = wizard.findChild<ui::VerifyPage *>(QStringLiteral("verifyPage"));
    auto *matrix = wizard.findChild<QTableWidget *>(QStringLiteral("verificationMatrix"));
    QTRY_VERIFY_WITH_TIMEOUT(verifyPage->isComplete() && matrix->rowCount() > 0, 30000);
    // 4 servers, the NBI and the Web UI.
    QCOMPARE(matrix->rowCount(), 6);
    for (int row = 0; row < matrix->rowCount(); ++row) {
        QCOMPARE(matrix->item(row, 7)->data(Qt::UserRole).toString(), QStringLiteral("upgraded"));
        // The reason is a column of its own, not only a tooltip.
        QVERIFY(matrix->item(row, 8)->text().startsWith(QStringLiteral("Upgraded from")));
    }
    QVERIFY(verifyPage->report().allAtTarget());
    QVERIFY(!verifyPage->report().rebootNeeded());
    // w1's agent kept its flows during the outage and replayed them: the Flows column says how many.
    if (::geteuid() == 0) {
        bool shown = false;
        for (int row = 0; row < matrix->rowCount(); ++row) {
            if (matrix->item(row, 0)->text() != QLatin1String("w1") || matrix->item(row, 1)->text() != displayName(Component::Server))
                continue;
            const QString flows = matrix->item(row, 6)->text();
            static const QRegularExpression figures(QStringLiteral("([\\d,]+) kept, ([\\d,]+) replayed, 0 dropped"));
            const auto match = figures.match(flows);
            QVERIFY2(match.hasMatch() && match.captured(1) == match.captured(2) && match.captured(1) != QLatin1String("0"),
                     qPrintable(flows));
            shown = true;
        }
        QVERIFY(shown);
    }
    screenshot(&wizard, QStringLiteral("9-verify"));

    for (const SandboxNode &node : m_cluster.nodes) {
        QFile version(QDir(node.installDir).filePath(QStringLiteral("VERSION")));
        QVERIFY(version.open(QIODevice::ReadOnly));
        QCOMPARE(version.readAll().trimmed(), QByteArray("6.3.0-1500"));
    }
}

// A second cluster whose server package fails to install: every answer to a failure
// (retry, skip, defer, abort) and what the panes, the overall bar and Verify then say.
void tst_WizardGui::failuresShowTrueStates()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString serverPackage = dir.filePath(QStringLiteral("server-fails.ftpkg"));
    const QString webUiPackage = dir.filePath(QStringLiteral("webui.ftpkg"));
    SandboxLaunchJob job;
    job.setToolDirectory(QStringLiteral(FT_BIN_DIR));
    job.setDirectory(dir.filePath(QStringLiteral("cluster")));
    job.setArguments({QStringLiteral("--workers"), QStringLiteral("2")});
    job.addPackage({QStringLiteral("--version"), QStringLiteral("6.3.0-1500"), QStringLiteral("--component"),
                    QStringLiteral("server"), QStringLiteral("--mode"), QStringLiteral("fail"), QStringLiteral("-o"),
                    serverPackage});
    job.addPackage({QStringLiteral("--version"), QStringLiteral("6.3.0-1500"), QStringLiteral("--component"),
                    QStringLiteral("webui"), QStringLiteral("-o"), webUiPackage});
    QSignalSpy launched(&job, &SandboxLaunchJob::finished);
    job.start();
    QVERIFY(launched.wait(120000));
    QVERIFY2(!job.hasError(), qPrintable(job.errorString()));
    const SandboxClusterFile cluster = job.cluster();
    const auto stopCluster = qScopeGuard([&dir] {
        (void)stopSandboxCluster(dir.filePath(QStringLiteral("cluster")), QStringLiteral(FT_BIN_DIR)); // best effort at the end
    });

    UpgradeSession session;
    ui::UpgradeWizard wizard(&session);
    wizard.show();
    QVERIFY(QTest::qWaitForWindowExposed(&wizard));
    auto *next = qobject_cast<QPushButton *>(wizard.button(QWizard::NextButton));
    wizard.findChild<ui::ConnectPage *>()->preset(TrustedCertificates::addressOf(cluster.portal()->agentUrl),
                                                  cluster.token);
    QTRY_VERIFY_WITH_TIMEOUT(!wizard.findChild<QLabel *>(QStringLiteral("fingerprint"))->text().isEmpty(), 10000);
    wizard.findChild<QCheckBox *>(QStringLiteral("trustCertificate"))->setChecked(true);
    for (const SandboxNode &node : cluster.nodes)
        session.addKnownFingerprint(node.agentUrl, node.agentFingerprint);
    QTest::mouseClick(next, Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(next->isEnabled(), 20000);
    QTest::mouseClick(next, Qt::LeftButton);
    auto *packagesPage = wizard.findChild<ui::PackagesPage *>(QStringLiteral("packagesPage"));
    packagesPage->picker(0)->setPath(serverPackage);
    packagesPage->picker(2)->setPath(webUiPackage);
    QTRY_VERIFY_WITH_TIMEOUT(session.target().server && session.target().webUi, 20000);
    auto *acknowledge = wizard.findChild<QCheckBox *>(QStringLiteral("acknowledgeWarnings"));
    if (acknowledge->isVisible())
        acknowledge->setChecked(true);
    QTRY_VERIFY(next->isEnabled());
    QTest::mouseClick(next, Qt::LeftButton);
    QCOMPARE(wizard.currentId(), int(ui::UpgradeWizard::PlanPageId));
    PlanOptions options = session.planOptions();
    options.startTime = QDateTime::currentDateTimeUtc(); // the window is now: no countdown
    session.setPlanOptions(options);
    QTest::mouseClick(next, Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(next->isEnabled(), 20000);
    QTest::mouseClick(next, Qt::LeftButton);
    QCOMPARE(wizard.currentId(), int(ui::UpgradeWizard::NoticePageId));
    auto *noticePage = wizard.findChild<ui::NoticePage *>(QStringLiteral("noticePage"));
    QTest::mouseClick(wizard.button(QWizard::CommitButton), Qt::LeftButton);
    QTRY_VERIFY(noticePage->confirmation() && noticePage->confirmation()->isVisible());
    QTest::mouseClick(noticePage->confirmation()->findChild<QPushButton *>(QStringLiteral("confirmStart")),
                      Qt::LeftButton);
    QTRY_COMPARE(wizard.currentId(), int(ui::UpgradeWizard::RunPageId));

    auto *runPage = wizard.findChild<ui::RunPage *>(QStringLiteral("runPage"));
    RunEngine *engine = runPage->engine();
    QVERIFY(engine);
    QVERIFY(!runPage->schedule());
    // Every word a pane showed, in order, from the one mapping.
    QStringList seen;
    connect(engine, &RunEngine::stepChanged, this, [&seen, engine](int step, const RunStepProgress &) {
        const QString text = engine->step(step).step.node + QLatin1Char(' ')
                             + stepStatus(engine->step(step), engine->state()).word;
        if (seen.isEmpty() || seen.last() != text)
            seen.append(text);
    });
    auto *overall = wizard.findChild<QProgressBar *>(QStringLiteral("overallProgress"));
    auto *decision = wizard.findChild<QWidget *>(QStringLiteral("decisionPanel"));
    auto paneOf = [runPage](const QString &node, Component component) {
        return runPage->findChild<ui::ProgressPane *>(QStringLiteral("pane_%1_%2").arg(node, toString(component)));
    };
    auto answer = [&wizard](RunDecision choice) {
        QTest::mouseClick(wizard.findChild<QPushButton *>(QStringLiteral("decision_%1").arg(toString(choice))),
                          Qt::LeftButton);
    };

    // w1 fails: a true "Failed" with its reason, the bar where staging left it.
    QTRY_VERIFY_WITH_TIMEOUT(decision->isVisible(), 120000);
    const int afterStaging = overall->value();
    QCOMPARE(afterStaging, 100); // staging done, no step done
    QCOMPARE(toString(paneOf(QStringLiteral("w1"), Component::Server)->status().kind), QStringLiteral("failed"));
    QVERIFY2(paneOf(QStringLiteral("w1"), Component::Server)->phaseText().startsWith(QStringLiteral("Failed: ")),
             qPrintable(paneOf(QStringLiteral("w1"), Component::Server)->phaseText()));
    screenshot(&wizard, QStringLiteral("10-failure"));

    // Retry: a second attempt that says so, and fails again.
    answer(RunDecision::Retry);
    QTRY_VERIFY_WITH_TIMEOUT(decision->isVisible() && engine->step(0).attempts == 2, 120000);
    QVERIFY2(seen.contains(QStringLiteral("w1 Retrying (attempt 2)")), qPrintable(seen.join(QStringLiteral(" | "))));
    QCOMPARE(paneOf(QStringLiteral("w1"), Component::Server)->status().word, QStringLiteral("Failed (attempt 2)"));
    QCOMPARE(overall->value(), afterStaging);

    // Skip w1: skipped by the administrator. w2 fails next; defer it; then the portal
    // fails; abort.
    answer(RunDecision::Skip);
    QTRY_VERIFY_WITH_TIMEOUT(decision->isVisible()
                                 && engine->step(1).state == RunStepState::Failed, 120000);
    QVERIFY2(paneOf(QStringLiteral("w1"), Component::Server)->phaseText().contains(QStringLiteral("by the administrator")),
             qPrintable(paneOf(QStringLiteral("w1"), Component::Server)->phaseText()));
    QCOMPARE(overall->value(), afterStaging);
    answer(RunDecision::Defer);
    QTRY_COMPARE(toString(paneOf(QStringLiteral("w2"), Component::Server)->status().kind), QStringLiteral("deferred"));
    QTRY_VERIFY_WITH_TIMEOUT(decision->isVisible()
                                 && paneOf(QStringLiteral("portal"), Component::Server)->status().kind
                                        == StepStatusKind::Failed,
                             120000);
    QCOMPARE(overall->value(), afterStaging);
    answer(RunDecision::Abort);
    QTRY_COMPARE_WITH_TIMEOUT(toString(engine->state()), toString(RunState::Aborted), 60000);
    QTRY_VERIFY(runPage->isComplete());

    // After the abort every pane tells its own truth; none says "Waiting" or shows a bar.
    QCOMPARE(toString(paneOf(QStringLiteral("w1"), Component::Server)->status().kind), QStringLiteral("skipped"));
    QCOMPARE(toString(paneOf(QStringLiteral("w2"), Component::Server)->status().kind), QStringLiteral("not_run"));
    QVERIFY(paneOf(QStringLiteral("w2"), Component::Server)->phaseText().contains(QStringLiteral("deferred")));
    QCOMPARE(toString(paneOf(QStringLiteral("portal"), Component::Server)->status().kind), QStringLiteral("failed"));
    QCOMPARE(toString(paneOf(QStringLiteral("portal"), Component::WebUi)->status().kind), QStringLiteral("not_run"));
    QVERIFY(paneOf(QStringLiteral("portal"), Component::WebUi)->phaseText().contains(QStringLiteral("aborted")));
    QCOMPARE(overall->value(), afterStaging);
    QCOMPARE(runPage->title(), QStringLiteral("Upgrade aborted"));
    screenshot(&wizard, QStringLiteral("11-after-abort"));

    // Verify: not attempted, skipped by the administrator and failed, each with its reason.
    QTest::mouseClick(next, Qt::LeftButton);
    QCOMPARE(wizard.currentId(), int(ui::UpgradeWizard::VerifyPageId));
    auto *verifyPage = wizard.findChild<ui::VerifyPage *>(QStringLiteral("verifyPage"));
    auto *matrix = wizard.findChild<QTableWidget *>(QStringLiteral("verificationMatrix"));
    QTRY_VERIFY_WITH_TIMEOUT(verifyPage->isComplete() && matrix->rowCount() > 0, 30000);
    QHash<QString, QString> verdicts;
    for (int row = 0; row < matrix->rowCount(); ++row) {
        const QString key = matrix->item(row, 0)->text() + QLatin1Char('/') + matrix->item(row, 1)->text();
        verdicts.insert(key, matrix->item(row, 7)->data(Qt::UserRole).toString());
        QVERIFY2(!matrix->item(row, 8)->text().isEmpty(), qPrintable(key));
    }
    QCOMPARE(verdicts.value(QStringLiteral("w1/FlowTraq Server")), QStringLiteral("skipped"));
    QCOMPARE(verdicts.value(QStringLiteral("w2/FlowTraq Server")), QStringLiteral("failed"));
    QCOMPARE(verdicts.value(QStringLiteral("portal/FlowTraq Server")), QStringLiteral("failed"));
    QCOMPARE(verdicts.value(QStringLiteral("portal/Web UI")), QStringLiteral("not_attempted"));
    screenshot(&wizard, QStringLiteral("12-verify-after-abort"));
}

QTEST_MAIN(tst_WizardGui)
#include "tst_wizardgui.moc"

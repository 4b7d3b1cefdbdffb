// Shows every page of the real wizard on the screen the test runs on (Xvfb at 1024×768
// and 1400×950, and 1024×768 with QT_SCALE_FACTOR=1.5) and checks that the window fits
// the screen and every one of its buttons is on it. Saves a screenshot of each page
// under FT_SCREENSHOT_DIR (default: <build>/screenshots/fit).

#include "pages/upgradewizard.h"
#include "run/runjournal.h"
#include "session/upgradesession.h"
#include "widgets/progresspane.h"
#include "widgets/steplist.h"

#include <QAbstractButton>
#include <QBoxLayout>
#include <QDir>
#include <QGuiApplication>
#include <QLabel>
#include <QScreen>
#include <QScrollArea>
#include <QScrollBar>
#include <QSettings>
#include <QTemporaryDir>
#include <QTest>

using namespace ft;

class tst_WizardFit : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void everyPageFits_data();
    void everyPageFits();
    void sizeIsRemembered();

private:
    QString screenshotPath(const QString &page) const;
    QTemporaryDir m_dir;
};

void tst_WizardFit::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QSettings::setDefaultFormat(QSettings::IniFormat);
    QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, m_dir.filePath(QStringLiteral("settings")));
}

QString tst_WizardFit::screenshotPath(const QString &page) const
{
    QString folder = qEnvironmentVariable("FT_SCREENSHOT_DIR");
    if (folder.isEmpty())
        folder = QStringLiteral(FT_BUILD_DIR "/screenshots/fit");
    QDir().mkpath(folder);
    const QScreen *screen = QGuiApplication::primaryScreen();
    const QSize physical = screen->size() * screen->devicePixelRatio();
    return QDir(folder).filePath(QStringLiteral("%1x%2-scale%3-%4.png")
                                     .arg(physical.width())
                                     .arg(physical.height())
                                     .arg(screen->devicePixelRatio())
                                     .arg(page));
}

void tst_WizardFit::everyPageFits_data()
{
    QTest::addColumn<int>("pageId");
    const std::pair<const char *, ui::UpgradeWizard::PageId> pages[] = {
        {"connect", ui::UpgradeWizard::ConnectPageId},
        {"discover", ui::UpgradeWizard::DiscoverPageId},
        {"packages", ui::UpgradeWizard::PackagesPageId},
        {"plan", ui::UpgradeWizard::PlanPageId},
        {"customizations", ui::UpgradeWizard::CustomizationsPageId},
        {"notice", ui::UpgradeWizard::NoticePageId},
        {"run", ui::UpgradeWizard::RunPageId},
        {"verify", ui::UpgradeWizard::VerifyPageId},
    };
    for (const auto &[name, id] : pages)
        QTest::newRow(name) << int(id);
}

void tst_WizardFit::everyPageFits()
{
    QFETCH(int, pageId);
    UpgradeSession session;
    ui::UpgradeWizard wizard(&session);
    wizard.setStartId(pageId);
    wizard.show();
    QVERIFY(QTest::qWaitForWindowExposed(&wizard));
    // The plan's "Keep flows" box shows only for a plan with flow-receiving nodes; it
    // must fit beside the rest then too.
    if (auto *keepFlows = wizard.page(pageId)->findChild<QWidget *>(QStringLiteral("keepFlowsAll")))
        keepFlows->show();
    // The run page's state as it reads while staged runs wait for their window (its
    // longest), beside its buttons.
    if (auto *runState = wizard.page(pageId)->findChild<QLabel *>(QStringLiteral("runState")))
        runState->setText(QStringLiteral("<b>Waiting for the window</b>"));
    // And as it looks then: the countdown panel, and eight steps' panes with the longest
    // title, more than the list shows at once.
    if (auto *schedule = wizard.page(pageId)->findChild<QWidget *>(QStringLiteral("schedulePanel")))
        schedule->show();
    auto *paneList = wizard.page(pageId)->findChild<QScrollArea *>(QStringLiteral("paneScroll"));
    if (paneList) {
        RunStepRecord record;
        record.step.node = QStringLiteral("portal");
        record.step.component = Component::Server;
        record.step.fromVersion = *Version::parse(QStringLiteral("6.2.1-1200"));
        record.step.toVersion = *Version::parse(QStringLiteral("6.3.0-1500"));
        record.step.estimate.totalMs = 35000;
        for (int i = 0; i < 8; ++i)
            qobject_cast<QBoxLayout *>(paneList->widget()->layout())->insertWidget(0, new ui::ProgressPane(record));
    }
    QTest::qWait(200); // let the page lay itself out

    const QRect available = wizard.screen()->availableGeometry();
    qInfo("screen %dx%d (logical), window %dx%d, minimum %dx%d", available.width(), available.height(),
          wizard.width(), wizard.height(), wizard.minimumSize().width(), wizard.minimumSize().height());
    QVERIFY2(wizard.minimumSize().width() <= available.width()
                 && wizard.minimumSize().height() <= available.height(),
             "the minimum size is larger than the screen");
    QVERIFY2(available.contains(wizard.frameGeometry()) || available.contains(wizard.geometry()),
             qPrintable(QStringLiteral("window %1,%2 %3x%4 is not inside the screen")
                            .arg(wizard.geometry().x())
                            .arg(wizard.geometry().y())
                            .arg(wizard.width())
                            .arg(wizard.height())));

    // Every button of the wizard itself is whole and on screen; a page's own buttons are
    // in the window or reachable by scrolling its page.
    const QRect windowRect = wizard.rect();
    for (QAbstractButton *button : wizard.findChildren<QAbstractButton *>()) {
        if (!button->isVisibleTo(&wizard) || button->window() != &wizard)
            continue;
        const QRect inWindow(button->mapTo(&wizard, QPoint(0, 0)), button->size());
        const bool scrolls = [button] {
            for (QWidget *w = button->parentWidget(); w; w = w->parentWidget()) {
                if (qobject_cast<QScrollArea *>(w))
                    return true;
            }
            return false;
        }();
        const QString name = button->objectName().isEmpty() ? button->text() : button->objectName();
        if (scrolls)
            continue;
        QVERIFY2(windowRect.contains(inWindow),
                 qPrintable(QStringLiteral("button \"%1\" at %2,%3 %4x%5 is outside the %6x%7 window")
                                .arg(name)
                                .arg(inWindow.x())
                                .arg(inWindow.y())
                                .arg(inWindow.width())
                                .arg(inWindow.height())
                                .arg(windowRect.width())
                                .arg(windowRect.height())));
    }
    for (const QWizard::WizardButton which : {QWizard::BackButton, QWizard::NextButton, QWizard::CancelButton}) {
        QAbstractButton *button = wizard.button(which);
        if (!button->isVisible())
            continue;
        const QRect global(button->mapToGlobal(QPoint(0, 0)), button->size());
        QVERIFY2(available.contains(global), qPrintable(button->text() + QStringLiteral(" is off screen")));
    }
    // A screenshot of every page, also (and most of all) of one that does not fit.
    QVERIFY(wizard.grab().save(screenshotPath(QString::fromLatin1(QTest::currentDataTag()))));

    // The page scrolls down when it must, never sideways: a row wider than the window
    // (a button row, a long form label) hides its end from a user at 150 %.
    const QWidget *page = wizard.page(pageId);
    const auto *scroll = page->findChild<QScrollArea *>(page->objectName() + QStringLiteral("Scroll"));
    QVERIFY(scroll);
    qInfo("page content needs %d px, has %d px", scroll->widget()->minimumSizeHint().width(),
          scroll->viewport()->width());
    for (const QWidget *child : scroll->widget()->findChildren<QWidget *>()) {
        if (child->isVisibleTo(scroll->widget()) && child->minimumSizeHint().width() > scroll->viewport()->width())
            qInfo("too wide: %s %s needs %d px", child->metaObject()->className(), qPrintable(child->objectName()),
                  child->minimumSizeHint().width());
    }
    QVERIFY2(scroll->horizontalScrollBar()->maximum() == 0,
             qPrintable(QStringLiteral("%1 scrolls sideways by %2 px")
                            .arg(page->objectName())
                            .arg(scroll->horizontalScrollBar()->maximum())));
    // The run page's list of step panes fits its width too: nothing of a pane is cut off.
    if (paneList) {
        const QWidget *pane = paneList->widget()->findChild<ui::ProgressPane *>();
        QVERIFY(pane);
        QVERIFY2(paneList->widget()->width() <= paneList->viewport()->width(),
                 qPrintable(QStringLiteral("the step panes need %1 px (one pane %2 px), their list has %3 px")
                                .arg(paneList->widget()->width())
                                .arg(pane->minimumSizeHint().width())
                                .arg(paneList->viewport()->width())));
    }
    // The side list says where we are.
    QCOMPARE(wizard.stepList()->current(), pageId);
}

void tst_WizardFit::sizeIsRemembered()
{
    UpgradeSession session;
    const QRect available = QGuiApplication::primaryScreen()->availableGeometry();
    // Between the minimum and the screen, so neither bound changes it.
    const QSize wanted(std::min(available.width() - 16, ui::UpgradeWizard::kMinimumWidth + 30),
                       std::min(available.height() - 40, ui::UpgradeWizard::kMinimumHeight + 10));
    {
        ui::UpgradeWizard wizard(&session);
        wizard.show();
        QVERIFY(QTest::qWaitForWindowExposed(&wizard));
        wizard.resize(wanted);
        QTRY_COMPARE(wizard.size(), wanted);
        wizard.done(QDialog::Accepted);
    }
    ui::UpgradeWizard again(&session);
    again.show();
    QVERIFY(QTest::qWaitForWindowExposed(&again));
    QTRY_COMPARE(again.size(), wanted);
}

QTEST_MAIN(tst_WizardFit)
#include "tst_wizardfit.moc"

#include "pages/upgradewizard.h"

#include "pages/connectpage.h"
#include "pages/customizationspage.h"
#include "pages/discoverpage.h"
#include "pages/noticepage.h"
#include "pages/packagespage.h"
#include "pages/planpage.h"
#include "pages/runpage.h"
#include "pages/verifypage.h"
#include "session/resumecommand.h"
#include "session/upgradesession.h"
#include "widgets/steplist.h"

#include <QAbstractButton>
#include <QApplication>
#include <QClipboard>
#include <QDir>
#include <QFrame>
#include <QIcon>
#include <QMessageBox>
#include <QPushButton>
#include <QScreen>
#include <QScrollArea>
#include <QSettings>
#include <QVBoxLayout>

namespace ft::ui {

namespace {

const char kSizeKey[] = "wizard/size";
const char kMaximizedKey[] = "wizard/maximized";

} // namespace

UpgradeWizard::UpgradeWizard(UpgradeSession *session, QWidget *parent)
    : QWizard(parent)
    , m_session(session)
{
    setObjectName(QStringLiteral("upgradeWizard"));
    setWindowTitle(tr("FlowTraq Upgrade Wizard"));
    setWindowIcon(QIcon(QStringLiteral(":/icons/ftupgrade.svg")));
    // Aero on Windows (QWizard picks it there by default); Modern elsewhere, which
    // gives the same header-and-body layout Windows administrators know.
#ifndef Q_OS_WIN
    setWizardStyle(QWizard::ModernStyle);
#endif
    setOption(QWizard::NoBackButtonOnStartPage);
    setOption(QWizard::HaveHelpButton, false);
    // A stray Enter must never act: no button is the default on any page. Buttons are
    // clicked, or reached with Tab and pressed with Space.
    setOption(QWizard::NoDefaultButton);

    const std::pair<PageId, QString> steps[] = {
        {ConnectPageId, tr("Connect")},
        {DiscoverPageId, tr("Discover the cluster")},
        {PackagesPageId, tr("Packages and checks")},
        {PlanPageId, tr("Plan")},
        {CustomizationsPageId, tr("Web UI customizations")},
        {NoticePageId, tr("Tell the users")},
        {RunPageId, tr("Upgrade")},
        {VerifyPageId, tr("Verify and report")},
    };
    setPage(ConnectPageId, new ConnectPage(session, this));
    setPage(DiscoverPageId, new DiscoverPage(session, this));
    setPage(PackagesPageId, new PackagesPage(session, this));
    setPage(PlanPageId, new PlanPage(session, this));
    setPage(CustomizationsPageId, new CustomizationsPage(session, this));
    auto *noticePage = new NoticePage(session, this);
    // Leaving the notice starts the run (after its confirmation): no way back once
    // services may be touched.
    noticePage->setCommitPage(true);
    setPage(NoticePageId, noticePage);
    setButtonText(QWizard::CommitButton, tr("&Start upgrade…"));
    auto *runPage = new RunPage(session, this);
    setPage(RunPageId, runPage);
    setPage(VerifyPageId, new VerifyPage(session, runPage, this));
    setStartId(ConnectPageId);

    for (const int id : pageIds())
        wrapInScrollArea(page(id));
    for (const QWizard::WizardButton which : {QWizard::BackButton, QWizard::NextButton, QWizard::CommitButton,
                                              QWizard::FinishButton, QWizard::CancelButton}) {
        if (auto *push = qobject_cast<QPushButton *>(button(which)))
            push->setAutoDefault(false);
    }

    m_steps = new StepList;
    for (const auto &[id, title] : steps)
        m_steps->addStep(id, title);
    setSideWidget(m_steps);
    connect(this, &QWizard::currentIdChanged, m_steps, &StepList::setCurrent);

    setMinimumSize(kMinimumWidth, kMinimumHeight);
}

UpgradeWizard::~UpgradeWizard() = default;

void UpgradeWizard::wrapInScrollArea(QWizardPage *page)
{
    // A page taller or wider than the window scrolls, so the wizard's own buttons stay
    // on screen however small the screen or large the scaling.
    QLayout *content = page->layout();
    if (!content)
        return;
    auto *inner = new QWidget;
    inner->setObjectName(page->objectName() + QStringLiteral("Content"));
    inner->setLayout(content); // takes the layout and its widgets from the page
    content->setContentsMargins(0, 0, 0, 0);
    auto *scroll = new QScrollArea;
    scroll->setObjectName(page->objectName() + QStringLiteral("Scroll"));
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setWidgetResizable(true);
    scroll->setWidget(inner);
    auto *outer = new QVBoxLayout(page);
    outer->setContentsMargins(0, 0, 0, 0);
    outer->addWidget(scroll);
}

void UpgradeWizard::showEvent(QShowEvent *event)
{
    if (!m_sizeRestored) {
        m_sizeRestored = true;
        restoreWindowSize();
    }
    QWizard::showEvent(event);
}

void UpgradeWizard::restoreWindowSize()
{
    const QSettings settings;
    QSize size = settings.value(QLatin1String(kSizeKey), QSize(1100, 760)).toSize();
    // Never larger than the screen it opens on (a smaller screen, a larger scaling).
    if (const QScreen *screen = this->screen() ? this->screen() : QGuiApplication::primaryScreen()) {
        const QSize available = screen->availableSize();
        size = size.boundedTo(available - QSize(16, 40));
    }
    resize(size.expandedTo(minimumSize()));
    if (settings.value(QLatin1String(kMaximizedKey), false).toBool())
        setWindowState(windowState() | Qt::WindowMaximized);
}

void UpgradeWizard::saveWindowSize() const
{
    QSettings settings;
    settings.setValue(QLatin1String(kMaximizedKey), isMaximized());
    if (!isMaximized())
        settings.setValue(QLatin1String(kSizeKey), size());
}

int UpgradeWizard::nextId() const
{
    if (currentId() == DiscoverPageId && m_session->isResumingUnfinishedRun())
        return RunPageId;
    return QWizard::nextId();
}

QString UpgradeWizard::resumeCommand() const
{
    const auto *runPage = qobject_cast<RunPage *>(page(RunPageId));
    if (!runPage || runPage->journalPath().isEmpty())
        return {};
    return resumeCommandLine(QDir::toNativeSeparators(runPage->journalPath()), m_session->portal());
}

void UpgradeWizard::done(int result)
{
    const auto *runPage = qobject_cast<RunPage *>(page(RunPageId));
    const bool running = runPage && runPage->isRunning();
    // Staged and counting down to the window is a run too: closing cancels its start.
    const bool scheduled = runPage && runPage->engine() && runPage->engine()->isWaitingForWindow();
    const bool beforeRun = currentId() >= 0 && currentId() < RunPageId;
    if (result == QDialog::Rejected && !m_closeConfirmed && (running || scheduled || beforeRun)) {
        askBeforeClosing(result);
        return;
    }
    saveWindowSize();
    QWizard::done(result);
}

void UpgradeWizard::askBeforeClosing(int result)
{
    if (m_closeQuestion)
        return;
    const auto *runPage = qobject_cast<RunPage *>(page(RunPageId));
    const bool scheduled = runPage && runPage->engine() && runPage->engine()->isWaitingForWindow();
    const bool running = (runPage && runPage->isRunning()) || scheduled;
    auto *box = new QMessageBox(this);
    box->setObjectName(QStringLiteral("closeQuestion"));
    box->setIcon(running ? QMessageBox::Warning : QMessageBox::Question);
    box->setTextFormat(Qt::RichText);
    QPushButton *copy = nullptr;
    if (!running) {
        box->setWindowTitle(tr("Quit the wizard?"));
        box->setText(tr("<p>Quit the wizard? Nothing has been changed on the nodes; the answers on "
                        "these pages are not kept.</p>"));
    } else if (scheduled && m_demo) {
        box->setWindowTitle(tr("Close before the window?"));
        box->setText(tr("<p>The packages are staged and the upgrade waits for the announced window. "
                        "If you close the wizard now, <b>no service is stopped and the upgrade does not "
                        "start</b>. This is the demo: its sandbox cluster is shut down when the wizard "
                        "closes.</p><p>Close anyway?</p>"));
    } else if (m_demo) {
        box->setWindowTitle(tr("Close during the upgrade?"));
        box->setText(tr("<p>The upgrade is still running. This is the demo: its sandbox cluster is "
                        "shut down when the wizard closes, so <b>this run cannot be resumed</b>.</p>"
                        "<p>Close anyway?</p>"));
    } else {
        box->setWindowTitle(tr("Close during the upgrade?"));
        const QString command = resumeCommand();
        box->setText((scheduled ? tr("<p>The packages are staged and the upgrade waits for the announced "
                                     "window. If you close the wizard now, no service is stopped and the "
                                     "upgrade does not start.</p>")
                                : tr("<p>The upgrade is still running. If you close the wizard now, the step "
                                     "under way still finishes on its node, but no further step starts.</p>"))
                     + tr(""
                        "<p>You can resume the run later: open the wizard again (it offers to resume), "
                        "or run this command with the cluster's access token in "
                        "<tt>FTUPGRADE_TOKEN</tt> (or add <tt>--token-file FILE</tt>):</p>"
                        "<pre>%1</pre><p>Close anyway?</p>")
                         .arg(command.toHtmlEscaped()));
        box->setTextInteractionFlags(Qt::TextSelectableByMouse);
        copy = box->addButton(tr("Copy the command"), QMessageBox::ActionRole);
        copy->setObjectName(QStringLiteral("copyResumeCommand"));
        // Copying keeps the question open.
        copy->disconnect();
        connect(copy, &QPushButton::clicked, box, [command] {
            QApplication::clipboard()->setText(command);
        });
    }
    auto *close = box->addButton(running ? tr("Close") : tr("Quit"), QMessageBox::DestructiveRole);
    close->setObjectName(QStringLiteral("confirmClose"));
    close->setAutoDefault(false);
    auto *stay = box->addButton(tr("Stay"), QMessageBox::RejectRole);
    box->setDefaultButton(stay);
    box->setEscapeButton(stay);
    box->setAttribute(Qt::WA_DeleteOnClose);
    m_closeQuestion = box;
    connect(box, &QMessageBox::finished, this, [this, box, close, result] {
        if (box->clickedButton() != close)
            return;
        m_closeConfirmed = true;
        done(result);
    });
    box->open();
}

} // namespace ft::ui

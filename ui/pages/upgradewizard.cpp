#include "pages/upgradewizard.h"

#include "pages/connectpage.h"
#include "pages/customizationspage.h"
#include "pages/discoverpage.h"
#include "pages/noticepage.h"
#include "pages/packagespage.h"
#include "pages/planpage.h"
#include "pages/runpage.h"
#include "session/upgradesession.h"
#include "pages/verifypage.h"

#include <QMessageBox>

#include <QIcon>

namespace ft::ui {

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
    setMinimumSize(960, 680);

    setPage(ConnectPageId, new ConnectPage(session, this));
    setPage(DiscoverPageId, new DiscoverPage(session, this));
    setPage(PackagesPageId, new PackagesPage(session, this));
    setPage(PlanPageId, new PlanPage(session, this));
    setPage(CustomizationsPageId, new CustomizationsPage(session, this));
    auto *noticePage = new NoticePage(session, this);
    // Leaving the notice starts the run: no way back once services may be touched.
    noticePage->setCommitPage(true);
    setPage(NoticePageId, noticePage);
    setButtonText(QWizard::CommitButton, tr("&Start upgrade"));
    auto *runPage = new RunPage(session, this);
    setPage(RunPageId, runPage);
    setPage(VerifyPageId, new VerifyPage(session, runPage, this));
    setStartId(ConnectPageId);
}

int UpgradeWizard::nextId() const
{
    if (currentId() == DiscoverPageId && m_session->isResumingUnfinishedRun())
        return RunPageId;
    return QWizard::nextId();
}

void UpgradeWizard::done(int result)
{
    const auto *runPage = qobject_cast<RunPage *>(page(RunPageId));
    if (result == QDialog::Rejected && runPage && runPage->isRunning()) {
        const auto answer = QMessageBox::warning(
            this, tr("Close during the upgrade?"),
            tr("<p>The upgrade is still running. If you close the wizard now, the step under "
               "way still finishes on its node, but no further step starts.</p>"
               "<p>You can resume the run later: open the wizard again, or run "
               "<tt>ftupgrade-cli run --resume %1</tt>.</p><p>Close anyway?</p>")
                .arg(runPage->journalPath().toHtmlEscaped()),
            QMessageBox::Close | QMessageBox::Cancel, QMessageBox::Cancel);
        if (answer != QMessageBox::Close)
            return;
    }
    QWizard::done(result);
}

} // namespace ft::ui

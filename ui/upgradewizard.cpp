#include "upgradewizard.h"

#include "connectpage.h"
#include "discoverpage.h"
#include "packagespage.h"
#include "planpage.h"

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
    setStartId(ConnectPageId);
}

} // namespace ft::ui

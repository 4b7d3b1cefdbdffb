#include "pages/packagespage.h"

#include "widgets/deliverychooser.h"
#include "widgets/packagepicker.h"
#include "plan/precheck.h"
#include "widgets/statusicons.h"
#include "session/upgradesession.h"

#include <QCheckBox>
#include <QFormLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace ft::ui {

PackagesPage::PackagesPage(UpgradeSession *session, QWidget *parent)
    : QWizardPage(parent)
    , m_session(session)
{
    setObjectName(QStringLiteral("packagesPage"));
    setTitle(tr("Packages and pre-checks"));
    setSubTitle(tr("Choose the new FlowTraq packages. The wizard reads their version, checks "
                   "them, and checks every node before anything is planned."));

    auto *form = new QFormLayout;
    m_form = form;
    for (Component slot : {Component::Server, Component::Nbi, Component::WebUi}) {
        auto *picker = new PackagePicker(session, slot);
        m_pickers.append(picker);
        form->addRow(displayName(slot) + QLatin1Char(':'), picker);
        connect(picker, &PackagePicker::stateChanged, this, &PackagesPage::refreshChecks);
    }
    // A cluster of Linux and Windows nodes needs a server package for each system; the
    // row appears only when discovery found both.
    m_mixedHint = new QLabel; // its text follows the first server package (mixedClusterHint())
    m_mixedHint->setObjectName(QStringLiteral("mixedClusterHint"));
    m_mixedHint->setWordWrap(true);
    form->insertRow(1, QString(), m_mixedHint);
    auto *secondServer = new PackagePicker(session, Component::Server, 1);
    m_pickers.append(secondServer);
    form->insertRow(2, tr("Second server:"), secondServer);
    connect(secondServer, &PackagePicker::stateChanged, this, &PackagesPage::refreshChecks);
    showSecondServerSlot();

    m_checks = new QTreeWidget;
    m_checks->setObjectName(QStringLiteral("preChecks"));
    m_checks->setRootIsDecorated(false);
    m_checks->setColumnCount(3);
    m_checks->setHeaderLabels({tr("Check"), tr("Node"), tr("Finding")});
    m_checks->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    m_checks->header()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
    m_checks->setWordWrap(true);

    m_verdict = new QLabel;
    m_verdict->setObjectName(QStringLiteral("preCheckVerdict"));
    m_verdict->setWordWrap(true);
    m_acknowledge = new QCheckBox(tr("I have read the &warnings above and want to go on"));
    m_acknowledge->setObjectName(QStringLiteral("acknowledgeWarnings"));

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(new QLabel(tr("Pre-checks:")));
    layout->addWidget(m_checks, 1);
    layout->addWidget(m_verdict);
    layout->addWidget(m_acknowledge);
    m_delivery = new DeliveryChooser(session);
    layout->addWidget(m_delivery);
    connect(m_delivery, &DeliveryChooser::changed, this, &PackagesPage::completeChanged);

    registerField(QStringLiteral("warningsAcknowledged"), m_acknowledge);
    connect(m_acknowledge, &QCheckBox::toggled, this, &PackagesPage::completeChanged);
    connect(session, &UpgradeSession::targetChanged, this, &PackagesPage::refreshChecks);
}

PackagePicker *PackagesPage::picker(int slot) const
{
    return m_pickers.value(slot);
}

void PackagesPage::showSecondServerSlot()
{
    const bool mixed = m_session->mixesOperatingSystems();
    // Not needed when the first package is made for both systems (a sandbox .ftpkg);
    // kept visible while it holds a package, so a choice never disappears unseen.
    const std::optional<PackageChoice> &first = m_session->target().package(Component::Server);
    const bool firstServesBoth = first && first->fitsOs(OsKind::Linux) && first->fitsOs(OsKind::Windows);
    const bool visible = (mixed && !firstServesBoth)
                      || m_session->target().package(Component::Server, 1).has_value();
    m_form->setRowVisible(m_mixedHint, mixed);
    m_form->setRowVisible(m_pickers.at(3), visible);
    if (mixed)
        m_mixedHint->setText(mixedClusterHint());
}

QString PackagesPage::mixedClusterHint() const
{
    const std::optional<PackageChoice> &first = m_session->target().package(Component::Server);
    if (!first)
        return tr("This cluster has Linux and Windows nodes. A vendor installer is made for one system: "
                  "choose a server package for each. Every node gets the package made for its own system.");
    const bool forLinux = first->fitsOs(OsKind::Linux);
    const bool forWindows = first->fitsOs(OsKind::Windows);
    if (forLinux && forWindows)
        return tr("This cluster has Linux and Windows nodes; the server package above is made for both, "
                  "so it serves every node.");
    QStringList others;
    for (const NodeStatus &node : m_session->nodes()) {
        if (node.reachable && node.os == (forLinux ? OsKind::Windows : OsKind::Linux))
            others.append(node.name);
    }
    return (forLinux ? tr("The server package above is for Linux. Choose the Windows package for %1 as the second server.")
                  : tr("The server package above is for Windows. Choose the Linux package for %1 as the second server."))
        .arg(QLocale().createSeparatedList(others));
}

void PackagesPage::initializePage()
{
    showSecondServerSlot();
    m_delivery->refresh();
    refreshChecks();
}

void PackagesPage::refreshChecks()
{
    showSecondServerSlot(); // the hint follows the server package just chosen
    const PreCheckReport report = m_session->preChecks();
    m_checks->clear();
    for (const PreCheckFinding &finding : report.findings) {
        auto *item = new QTreeWidgetItem(m_checks);
        switch (finding.severity) {
        case PreCheckSeverity::Error:
            item->setIcon(0, errorIcon());
            item->setText(0, tr("Error"));
            break;
        case PreCheckSeverity::Warning:
            item->setIcon(0, warningIcon());
            item->setText(0, tr("Warning"));
            break;
        case PreCheckSeverity::Notice:
            item->setIcon(0, informationIcon());
            item->setText(0, tr("Note"));
            break;
        }
        item->setText(1, finding.node);
        item->setText(2, finding.message);
        item->setToolTip(2, finding.message);
        item->setData(0, Qt::UserRole, finding.check);
    }

    // Passed checks are shown too: an empty table under "All checks passed" reads as
    // "nothing was checked".
    if (!m_session->target().isEmpty()) {
        const std::pair<const char *, QString> checks[] = {
            {PreCheckId::Unreachable, tr("Every node's agent answers")},
            {PreCheckId::AgentTooOld, tr("Every agent is recent enough")},
            {PreCheckId::Busy, tr("No node is busy with another job")},
            {PreCheckId::DiskSpace, tr("Enough disk space for the packages on every node")},
            {PreCheckId::PortalCount, tr("One portal")},
            {PreCheckId::NbiCount, tr("At most one NBI")},
            {PreCheckId::Package, tr("The packages are intact")},
            {PreCheckId::OsMismatch, tr("The packages fit every node's OS")},
            {PreCheckId::Downgrade, tr("No node would be downgraded")},
            {PreCheckId::ServiceStopped, tr("The FlowTraq service runs on every node")},
        };
        for (const auto &[check, description] : checks) {
            if (report.contains(QLatin1String(check)))
                continue;
            auto *item = new QTreeWidgetItem(m_checks);
            item->setIcon(0, okIcon());
            item->setText(0, tr("Passed"));
            item->setText(2, description);
            item->setData(0, Qt::UserRole, QLatin1String(check));
        }
    }

    const bool warnings = report.hasWarnings();
    m_acknowledge->setVisible(warnings);
    if (!warnings)
        m_acknowledge->setChecked(false);

    bool inspecting = false;
    for (const PackagePicker *picker : std::as_const(m_pickers))
        inspecting = inspecting || picker->isInspecting();
    if (inspecting)
        m_verdict->setText(tr("Checking the packages…"));
    else if (m_session->target().isEmpty())
        m_verdict->setText(tr("Choose at least the server package."));
    else if (report.hasErrors())
        m_verdict->setText(tr("<b>The upgrade cannot start:</b> fix the errors above first."));
    else if (warnings)
        m_verdict->setText(tr("The upgrade can start once you have read the warnings."));
    else
        m_verdict->setText(tr("All checks passed."));
    Q_EMIT completeChanged();
}

bool PackagesPage::isComplete() const
{
    for (const PackagePicker *picker : m_pickers) {
        if (picker->isInspecting() || !picker->errorString().isEmpty())
            return false;
    }
    if (m_session->target().isEmpty() || !m_delivery->problem().isEmpty())
        return false;
    return m_session->preChecks().allowsStart(m_acknowledge->isChecked());
}

} // namespace ft::ui

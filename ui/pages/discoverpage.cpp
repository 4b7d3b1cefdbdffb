#include "pages/discoverpage.h"

#include "agentlink/connectionprofile.h"
#include "discover/discovery.h"
#include "widgets/nodetablemodel.h"
#include "run/runjournal.h"
#include "agentlink/trustedcertificates.h"
#include "session/upgradesession.h"

#include <QDialog>
#include <QDialogButtonBox>
#include <QHBoxLayout>
#include <QListWidget>
#include <QHeaderView>
#include <QInputDialog>
#include <QItemSelectionModel>
#include <QFrame>
#include <QLabel>
#include <QLocale>
#include <QMessageBox>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

namespace ft::ui {

DiscoverPage::DiscoverPage(UpgradeSession *session, QWidget *parent)
    : QWizardPage(parent)
    , m_session(session)
{
    setObjectName(QStringLiteral("discoverPage"));
    setTitle(tr("Discover the nodes"));
    setSubTitle(tr("The portal lists its workers; every node's agent reports its versions, "
                   "service and flow rate. Unreachable nodes say why."));

    m_model = new NodeTableModel(session->discovery(), this);
    m_proxy = new QSortFilterProxyModel(this);
    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(Qt::UserRole);
    m_proxy->setSortCaseSensitivity(Qt::CaseInsensitive);

    m_table = new QTableView;
    m_table->setObjectName(QStringLiteral("nodeTable"));
    m_table->setModel(m_proxy);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(-1, Qt::AscendingOrder); // discovery order until the user sorts
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setAlternatingRowColors(true);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setSectionResizeMode(NodeTableModel::NotesColumn,
                                                      QHeaderView::Stretch);
    m_table->setWordWrap(false);

    m_summary = new QLabel;
    m_summary->setObjectName(QStringLiteral("discoverySummary"));
    m_summary->setWordWrap(true);

    m_rescan = new QPushButton(tr("&Scan again"));
    m_rescan->setObjectName(QStringLiteral("rescan"));
    m_addNode = new QPushButton(tr("&Add node…"));
    m_addNode->setObjectName(QStringLiteral("addNode"));
    m_addNode->setToolTip(tr("Add a node the portal does not list, by its agent's address."));
    m_trust = new QPushButton(tr("&Trust certificates…"));
    m_trust->setObjectName(QStringLiteral("trustCertificates"));
    m_trust->setToolTip(tr("Trust the certificates of the selected nodes that are not trusted "
                           "yet, after comparing their fingerprints."));

    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_rescan);
    buttons->addWidget(m_addNode);
    buttons->addWidget(m_trust);
    buttons->addStretch();

    // A run of this cluster that did not finish is offered for resumption.
    m_unfinished = new QFrame;
    m_unfinished->setObjectName(QStringLiteral("unfinishedRun"));
    m_unfinished->setStyleSheet(QStringLiteral("#unfinishedRun { background:#fdf6e3; border:1px solid #e0c97a; }"));
    m_unfinishedText = new QLabel;
    m_unfinishedText->setWordWrap(true);
    auto *resume = new QPushButton(tr("&Resume that run"));
    resume->setObjectName(QStringLiteral("resumeUnfinishedRun"));
    resume->setToolTip(tr("Re-checks every node, shows what changed since, and continues; "
                          "nothing is upgraded twice."));
    auto *unfinishedLayout = new QHBoxLayout(m_unfinished);
    unfinishedLayout->addWidget(m_unfinishedText, 1);
    unfinishedLayout->addWidget(resume);
    m_unfinished->hide();

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_unfinished);
    layout->addWidget(m_table, 1);
    layout->addWidget(m_summary);
    layout->addLayout(buttons);

    ClusterDiscovery *discovery = session->discovery();
    connect(discovery, &ClusterDiscovery::nodeUpdated, this, &DiscoverPage::updateSummary);
    connect(discovery, &ClusterDiscovery::nodesAdded, this, &DiscoverPage::updateSummary);
    connect(discovery, &ClusterDiscovery::finished, this, [this] {
        updateSummary();
        Q_EMIT completeChanged();
        m_session->lookForUnfinishedRun();
    });
    connect(session, &UpgradeSession::unfinishedRunChecked, this, &DiscoverPage::showUnfinishedRun);
    connect(resume, &QPushButton::clicked, this, &DiscoverPage::resumeUnfinishedRun);
    connect(m_rescan, &QPushButton::clicked, discovery, &ClusterDiscovery::start);
    connect(m_addNode, &QPushButton::clicked, this, &DiscoverPage::addNodeByHand);
    connect(m_trust, &QPushButton::clicked, this, &DiscoverPage::trustSelected);
}

void DiscoverPage::showUnfinishedRun()
{
    const auto &run = m_session->unfinishedRun();
    m_unfinished->setVisible(run.has_value());
    if (!run)
        return;
    const RunJournal &journal = run->journal;
    int done = 0;
    for (const RunStepRecord &step : journal.steps)
        done += isTerminal(step.state) ? 1 : 0;
    m_unfinishedText->setText(
        tr("<b>An upgrade of this cluster did not finish.</b> It started %1 and was last saved %2 "
           "(%3, %4 of %5 steps done). %6")
            .arg(QLocale().toString(journal.created.toLocalTime(), QLocale::ShortFormat),
                 QLocale().toString(journal.updated.toLocalTime(), QLocale::ShortFormat),
                 displayName(journal.state).toLower())
            .arg(done)
            .arg(journal.steps.size())
            .arg(journal.stateSentence.toHtmlEscaped()));
}

void DiscoverPage::resumeUnfinishedRun()
{
    if (!isComplete())
        return;
    m_session->setResumingUnfinishedRun(true);
    // Resuming touches services: there is no coming back to planning from here.
    setCommitPage(true);
    wizard()->next();
}

void DiscoverPage::initializePage()
{
    m_session->discovery()->start();
    updateSummary();
}

bool DiscoverPage::isComplete() const
{
    const ClusterDiscovery *discovery = m_session->discovery();
    if (discovery->isRunning())
        return false;
    for (const NodeStatus &node : discovery->nodes()) {
        if (node.reachable)
            return true;
    }
    return false;
}

void DiscoverPage::updateSummary()
{
    const ClusterDiscovery *discovery = m_session->discovery();
    int reachable = 0, unreachable = 0, untrusted = 0, waiting = 0;
    for (const NodeStatus &node : discovery->nodes()) {
        if (node.probing)
            ++waiting;
        else if (node.reachable)
            ++reachable;
        else if (node.untrusted)
            ++untrusted;
        else
            ++unreachable;
    }
    QStringList parts;
    const int count = int(discovery->nodes().size());
    parts << (count == 1 ? tr("1 node") : tr("%1 nodes").arg(count));
    parts << tr("%n ready", nullptr, reachable);
    if (unreachable)
        parts << tr("%n unreachable", nullptr, unreachable);
    if (untrusted)
        parts << tr("%n with a certificate to trust", nullptr, untrusted);
    QString text = parts.join(QStringLiteral(", ")) + QLatin1Char('.');
    if (waiting)
        text += QLatin1Char(' ') + (waiting == 1 ? tr("Waiting for 1 node…") : tr("Waiting for %1 nodes…").arg(waiting));
    else if (!discovery->isRunning())
        text += QLatin1Char(' ')
                + tr("Discovered in %1 s.").arg(discovery->elapsedMilliseconds() / 1000.0, 0, 'f', 1);
    if (!discovery->memberListError().isEmpty())
        text += QStringLiteral("<br><b>%1</b> %2")
                    .arg(tr("The portal's member list could not be read:"),
                         discovery->memberListError().toHtmlEscaped());
    for (const QString &warning : discovery->membershipWarnings())
        text += QStringLiteral("<br><span style='color:#9a6700'>%1</span>").arg(warning.toHtmlEscaped());
    m_summary->setText(text);
    m_trust->setEnabled(untrusted > 0);
}

QList<int> DiscoverPage::selectedRows() const
{
    QList<int> rows;
    for (const QModelIndex &index : m_table->selectionModel()->selectedRows())
        rows.append(m_proxy->mapToSource(index).row());
    return rows;
}

void DiscoverPage::addNodeByHand()
{
    bool ok = false;
    const QString text = QInputDialog::getText(this, tr("Add node"),
                                               tr("Address of the node's agent (host:port):"),
                                               QLineEdit::Normal, QString(), &ok);
    if (!ok || text.trimmed().isEmpty())
        return;
    const auto url = parseAgentAddress(text);
    if (!url) {
        QMessageBox::warning(this, tr("Add node"), url.error());
        return;
    }
    if (m_session->discovery()->addNode(QString(), *url) < 0)
        QMessageBox::information(this, tr("Add node"),
                                 tr("%1 is already in the list.").arg(TrustedCertificates::addressOf(*url)));
    Q_EMIT completeChanged();
}

void DiscoverPage::trustSelected()
{
    QList<int> rows = selectedRows();
    const QList<NodeStatus> &nodes = m_session->nodes();
    if (rows.isEmpty()) {
        for (int row = 0; row < nodes.size(); ++row)
            rows.append(row);
    }
    rows.removeIf([&](int row) { return !nodes.at(row).untrusted; });
    if (rows.isEmpty())
        return;

    // One box per node, none ticked: each fingerprint is compared and trusted on its own.
    auto *dialog = new QDialog(this);
    dialog->setObjectName(QStringLiteral("trustDialog"));
    dialog->setWindowTitle(tr("Trust certificates"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    auto *intro = new QLabel(tr("Compare each fingerprint with the one 'ftupgrade-agent init' printed "
                                "on that node, and tick only those that match."));
    intro->setWordWrap(true);
    auto *list = new QListWidget;
    list->setObjectName(QStringLiteral("trustList"));
    QFont mono = list->font();
    mono.setFamily(QStringLiteral("monospace"));
    mono.setStyleHint(QFont::TypeWriter);
    for (int row : std::as_const(rows)) {
        auto *item = new QListWidgetItem(QStringLiteral("%1\n%2").arg(
            nodes.at(row).name, TrustedCertificates::formatForPeople(nodes.at(row).presentedFingerprint)));
        item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsUserCheckable);
        item->setCheckState(Qt::Unchecked);
        item->setData(Qt::UserRole, row);
        item->setFont(mono);
        list->addItem(item);
    }
    auto *buttons = new QDialogButtonBox;
    auto *trust = buttons->addButton(tr("&Trust the ticked ones"), QDialogButtonBox::AcceptRole);
    trust->setObjectName(QStringLiteral("trustTicked"));
    trust->setAutoDefault(false);
    trust->setEnabled(false);
    auto *cancel = buttons->addButton(QDialogButtonBox::Cancel);
    cancel->setDefault(true);
    connect(list, &QListWidget::itemChanged, trust, [list, trust] {
        bool any = false;
        for (int i = 0; i < list->count(); ++i)
            any = any || list->item(i)->checkState() == Qt::Checked;
        trust->setEnabled(any);
    });
    connect(buttons, &QDialogButtonBox::accepted, dialog, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::reject);
    auto *layout = new QVBoxLayout(dialog);
    layout->addWidget(intro);
    layout->addWidget(list, 1);
    layout->addWidget(buttons);
    dialog->resize(640, 320);
    connect(dialog, &QDialog::accepted, this, [this, list] {
        for (int i = 0; i < list->count(); ++i) {
            if (list->item(i)->checkState() != Qt::Checked)
                continue;
            if (Result trusted = m_session->trustPresentedCertificate(list->item(i)->data(Qt::UserRole).toInt());
                !trusted)
                QMessageBox::warning(this, tr("Trust certificates"), trusted.error());
        }
        Q_EMIT completeChanged();
    });
    dialog->open();
}

} // namespace ft::ui

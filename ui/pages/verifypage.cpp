#include "pages/verifypage.h"

#include "discover/discovery.h"

#include "run/runengine.h"
#include "pages/runpage.h"
#include "verify/runreport.h"
#include "widgets/statusicons.h"
#include "session/upgradesession.h"

#include <QDir>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

namespace ft::ui {

namespace {

QIcon verdictIcon(Verdict verdict)
{
    switch (verdict) {
    case Verdict::Upgraded: return okIcon();
    case Verdict::AlreadyCurrent: return informationIcon();
    case Verdict::RebootNeeded:
    case Verdict::Skipped: return warningIcon();
    case Verdict::NotAttempted: return iconFor(NodeHealth::Waiting);
    case Verdict::Failed:
    case Verdict::Unreachable: return errorIcon();
    }
    return {};
}

} // namespace

VerifyPage::VerifyPage(UpgradeSession *session, RunPage *runPage, QWidget *parent)
    : QWizardPage(parent)
    , m_session(session)
    , m_runPage(runPage)
{
    setObjectName(QStringLiteral("verifyPage"));
    setTitle(tr("Verification"));
    setSubTitle(tr("Every node and component, checked afresh: the version now, the service, "
                   "and whether flows arrive again."));
    setFinalPage(true);

    m_summary = new QLabel;
    m_summary->setObjectName(QStringLiteral("verifySummary"));
    m_summary->setWordWrap(true);
    m_warnings = new QLabel;
    m_warnings->setObjectName(QStringLiteral("verifyWarnings"));
    m_warnings->setWordWrap(true);
    m_warnings->setStyleSheet(QStringLiteral("color:#9a6700"));

    m_matrix = new QTableWidget;
    m_matrix->setObjectName(QStringLiteral("verificationMatrix"));
    m_matrix->setColumnCount(9);
    m_matrix->setHorizontalHeaderLabels({tr("Node"), tr("Component"), tr("Before"), tr("Now"),
                                         tr("Target"), tr("Service"), tr("Flows"), tr("Verdict"),
                                         tr("Why")});
    m_matrix->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    // The reason is read, not hovered for: it takes the room left and wraps.
    m_matrix->horizontalHeader()->setSectionResizeMode(8, QHeaderView::Stretch);
    m_matrix->setWordWrap(true);
    m_matrix->verticalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_matrix->verticalHeader()->hide();
    m_matrix->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_matrix->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_matrix->setAlternatingRowColors(true);

    // The selected row in full, wrapped: on a narrow or scaled window the Why column
    // may lie beyond the table's right edge, and a tooltip is not read by everyone.
    m_details = new QLabel(tr("Select a row to read here why it has its verdict."));
    m_details->setObjectName(QStringLiteral("verifyDetails"));
    m_details->setWordWrap(true);
    m_details->setTextFormat(Qt::RichText);
    m_details->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_details->setFrameShape(QFrame::StyledPanel);
    m_details->setMargin(6);
    connect(m_matrix, &QTableWidget::currentCellChanged, this, &VerifyPage::showDetails);

    m_recheck = new QPushButton(tr("Re-&check"));
    m_recheck->setObjectName(QStringLiteral("recheck"));
    m_export = new QPushButton(tr("&Export report…"));
    m_export->setObjectName(QStringLiteral("exportReport"));
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_recheck);
    buttons->addWidget(m_export);
    m_saved = new QLabel;
    m_saved->setObjectName(QStringLiteral("reportSaved"));
    m_saved->setTextInteractionFlags(Qt::TextSelectableByMouse);
    buttons->addWidget(m_saved, 1);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_summary);
    layout->addWidget(m_warnings);
    layout->addWidget(m_matrix, 1);
    layout->addWidget(m_details);
    layout->addLayout(buttons);

    connect(m_recheck, &QPushButton::clicked, this, &VerifyPage::recheck);
    connect(m_export, &QPushButton::clicked, this, &VerifyPage::exportReport);
}

void VerifyPage::initializePage()
{
    recheck();
}

bool VerifyPage::isComplete() const
{
    return !m_checking;
}

void VerifyPage::recheck()
{
    const RunEngine *engine = m_runPage->engine();
    auto *job = new VerifyJob(m_session->client(), this);
    QList<AgentEndpoint> endpoints;
    for (const NodeStatus &node : m_session->nodes())
        endpoints.append(m_session->endpointFor(node));
    job->setEndpoints(endpoints);
    job->setWebApi(m_session->discovery()->webApi());
    if (engine) {
        job->setJournal(engine->journal());
        job->setTargets(targetsOf(engine->journal()));
    }
    m_checking = true;
    m_recheck->setEnabled(false);
    m_summary->setText(tr("Checking every node…"));
    Q_EMIT completeChanged();
    connect(job, &VerifyJob::finished, this, [this](VerifyJob *done) {
        done->deleteLater();
        m_checking = false;
        m_recheck->setEnabled(true);
        show(done->report());
        Q_EMIT completeChanged();
    });
    job->start();
}

void VerifyPage::show(const VerificationReport &report)
{
    m_report = report;
    m_matrix->setRowCount(int(report.cells.size()));
    int row = 0;
    for (const VerificationCell &cell : report.cells) {
        QString flows = !cell.flowsArriving.has_value() ? QString()
                        : *cell.flowsArriving          ? tr("arriving")
                                                       : tr("not arriving");
        // What the agent kept while the service was down, and gave back to the new one.
        if (cell.flowKeeping)
            flows += (flows.isEmpty() ? QString() : QStringLiteral("\n")) + cell.flowKeeping->figures();
        const QStringList texts{cell.node,         displayName(cell.component),
                                cell.versionBefore, cell.versionNow,
                                cell.target,        cell.reachable ? displayName(cell.service) : tr("—"),
                                flows,              displayName(cell.verdict),
                                cell.sentence};
        for (int column = 0; column < texts.size(); ++column) {
            auto *item = new QTableWidgetItem(texts.at(column));
            item->setToolTip(cell.sentence);
            m_matrix->setItem(row, column, item);
        }
        m_matrix->item(row, 7)->setIcon(verdictIcon(cell.verdict));
        m_matrix->item(row, 7)->setData(Qt::UserRole, toString(cell.verdict));
        m_matrix->item(row, 8)->setData(Qt::UserRole, cell.sentence);
        if (cell.flowKeeping && cell.flowKeeping->dropped > 0)
            m_matrix->item(row, 6)->setIcon(warningIcon());
        ++row;
    }

    if (report.allAtTarget() && !report.rebootNeeded())
        m_summary->setText(tr("<b style='color:#2e7d32'>Every component is at its target version.</b> "
                              "No reboot is needed."));
    else if (report.allAtTarget())
        m_summary->setText(tr("<b>Every component is at its target version</b>, but some nodes need "
                              "a reboot (marked below)."));
    else
        m_summary->setText(tr("<b style='color:#c62828'>Not every component is at its target "
                              "version.</b> The rows below say which and why."));
    // The reason is read, not guessed from a sliver: it gets at least a readable width,
    // and the table scrolls sideways when the window is narrower than that.
    auto *header = m_matrix->horizontalHeader();
    const auto roomForWhy = [this] {
        int used = 0;
        for (int column = 0; column < 8; ++column)
            used += m_matrix->columnWidth(column);
        return m_matrix->viewport()->width() - used;
    };
    // The Flows column ("arriving", "251 kept, 251 replayed, 0 dropped") wraps before
    // the reason is pushed out of view.
    header->setSectionResizeMode(6, QHeaderView::ResizeToContents);
    const int flowsWidth = m_matrix->columnWidth(6);
    const int narrowFlows = fontMetrics().horizontalAdvance(QStringLiteral("251 replayed, 0 ")) + 12;
    if (roomForWhy() < 320 && flowsWidth > narrowFlows) {
        header->setSectionResizeMode(6, QHeaderView::Interactive);
        m_matrix->setColumnWidth(6, narrowFlows);
    }
    const int room = roomForWhy();
    if (room >= 320) {
        header->setSectionResizeMode(8, QHeaderView::Stretch);
    } else {
        header->setSectionResizeMode(8, QHeaderView::Interactive);
        m_matrix->setColumnWidth(8, 320);
    }
    m_matrix->resizeRowsToContents();
    // The first row not at its target is the one to read about; otherwise the first.
    int first = 0;
    for (int r = 0; r < m_matrix->rowCount(); ++r) {
        if (m_matrix->item(r, 7)->data(Qt::UserRole).toString() != toString(Verdict::Upgraded)
            && m_matrix->item(r, 7)->data(Qt::UserRole).toString() != toString(Verdict::AlreadyCurrent)) {
            first = r;
            break;
        }
    }
    if (m_matrix->rowCount() > 0)
        m_matrix->setCurrentCell(first, 0);
    showDetails(m_matrix->currentRow()); // the cell may be current already, with new items
    m_warnings->setText(report.warnings.join(QStringLiteral("\n")));
    m_warnings->setVisible(!report.warnings.isEmpty());
}

void VerifyPage::showDetails(int row)
{
    if (row < 0 || !m_matrix->item(row, 8)) {
        m_details->setText(tr("Select a row to read here why it has its verdict."));
        return;
    }
    const auto text = [this, row](int column) { return m_matrix->item(row, column)->text().toHtmlEscaped(); };
    m_details->setText(QStringLiteral("<b>%1 · %2: %3</b><br>%4").arg(text(0), text(1), text(7), text(8)));
}

void VerifyPage::exportReport()
{
    const RunEngine *engine = m_runPage->engine();
    if (!engine) {
        QMessageBox::information(this, tr("Export report"), tr("There is no run to report on."));
        return;
    }
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Export the run report"), QStringLiteral("upgrade-report.pdf"),
        tr("PDF (*.pdf);;Web page (*.html);;JSON (*.json)"));
    if (path.isEmpty())
        return;
    if (Result written = exportRunReport(engine->journal(), &m_report, path); !written) {
        QMessageBox::warning(this, tr("Export report"), written.error());
        return;
    }
    m_saved->setText(tr("Saved the report to %1.").arg(QDir::toNativeSeparators(path)));
}

} // namespace ft::ui

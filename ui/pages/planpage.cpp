#include "pages/planpage.h"

#include "plan/estimate.h"
#include "plan/planexport.h"
#include "widgets/statusicons.h"
#include "widgets/timelinechart.h"
#include "session/upgradesession.h"

#include <QDateTimeEdit>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QMessageBox>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTimeZone>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace ft::ui {

namespace {

TimelineChart::BarKind barKindOf(const PlanStep &step)
{
    switch (step.component) {
    case Component::Nbi: return TimelineChart::BarKind::Nbi;
    case Component::WebUi: return TimelineChart::BarKind::WebUi;
    case Component::Server: break;
    }
    return step.role == NodeRole::Worker ? TimelineChart::BarKind::Worker
                                         : TimelineChart::BarKind::Portal;
}

QString flowsText(qint64 flows)
{
    return QLocale().toString(flows);
}

} // namespace

PlanPage::PlanPage(UpgradeSession *session, QWidget *parent)
    : QWizardPage(parent)
    , m_session(session)
{
    setObjectName(QStringLiteral("planPage"));
    setTitle(tr("The upgrade plan"));
    setSubTitle(tr("Packages are staged and verified on every node first; then workers one at "
                   "a time, the portal, the NBI and, last, the Web UI."));

    m_maxWorkersDown = new QSpinBox;
    m_maxWorkersDown->setObjectName(QStringLiteral("maxWorkersDown"));
    m_maxWorkersDown->setRange(1, 64);
    m_maxWorkersDown->setToolTip(tr("How many workers may be down at the same time. More than "
                                    "one makes queries slower and less complete; at least one "
                                    "worker always stays up."));

    m_start = new QDateTimeEdit;
    m_start->setObjectName(QStringLiteral("startTime"));
    m_start->setCalendarPopup(true);
    m_start->setDisplayFormat(QStringLiteral("ddd yyyy-MM-dd HH:mm"));
    m_start->setToolTip(tr("When you mean to start, in your time zone (%1).")
                            .arg(QString::fromUtf8(QTimeZone::systemTimeZoneId())));
    m_suggest = new QPushButton(tr("Use &quietest time"));
    m_suggest->setObjectName(QStringLiteral("useQuietWindow"));
    m_suggest->setToolTip(tr("The start in the next 7 days that loses the fewest flows, from "
                             "the nodes' hourly flow history."));
    m_loss = new QLabel;
    m_loss->setObjectName(QStringLiteral("flowLoss"));
    m_loss->setWordWrap(true);

    m_export = new QPushButton(tr("&Export plan…"));
    m_export->setObjectName(QStringLiteral("exportPlan"));

    auto *options = new QHBoxLayout;
    options->addWidget(new QLabel(tr("Workers down at once:")));
    options->addWidget(m_maxWorkersDown);
    options->addSpacing(16);
    options->addWidget(new QLabel(tr("Start:")));
    options->addWidget(m_start);
    options->addWidget(m_suggest);
    options->addStretch();
    options->addWidget(m_export);

    m_summary = new QLabel;
    m_summary->setObjectName(QStringLiteral("planSummary"));
    m_summary->setWordWrap(true);
    m_warnings = new QLabel;
    m_warnings->setObjectName(QStringLiteral("planWarnings"));
    m_warnings->setWordWrap(true);

    m_steps = new QTreeWidget;
    m_steps->setObjectName(QStringLiteral("planSteps"));
    m_steps->setColumnCount(6);
    m_steps->setHeaderLabels({tr("Step"), tr("Version"), tr("Outage"), tr("What users notice"),
                              tr("Flows lost"), tr("Estimate from")});
    m_steps->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_steps->header()->setSectionResizeMode(3, QHeaderView::Stretch);
    m_steps->setWordWrap(true);
    m_steps->setAlternatingRowColors(true);

    m_timeline = new TimelineChart;
    m_timeline->setObjectName(QStringLiteral("timeline"));

    auto *splitter = new QSplitter(Qt::Vertical);
    splitter->addWidget(m_steps);
    splitter->addWidget(m_timeline);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 2);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(options);
    layout->addWidget(m_loss);
    layout->addWidget(m_summary);
    layout->addWidget(m_warnings);
    layout->addWidget(splitter, 1);

    connect(m_maxWorkersDown, &QSpinBox::valueChanged, this, [this](int value) {
        PlanOptions options = m_session->planOptions();
        options.maxWorkersDown = value;
        m_session->setPlanOptions(options);
    });
    connect(m_start, &QDateTimeEdit::dateTimeChanged, this, [this](const QDateTime &start) {
        PlanOptions options = m_session->planOptions();
        options.startTime = start.toUTC();
        m_session->setPlanOptions(options);
    });
    connect(session, &UpgradeSession::planOptionsChanged, this, &PlanPage::rebuild);
    connect(session, &UpgradeSession::flowHistoryReady, this, &PlanPage::updateLoss);
    connect(m_suggest, &QPushButton::clicked, this, &PlanPage::useQuietWindow);
    connect(m_export, &QPushButton::clicked, this, &PlanPage::exportPlanToFile);
}

void PlanPage::initializePage()
{
    PlanOptions options = m_session->planOptions();
    if (!options.startTime.isValid()) {
        // Default: the next whole hour, so the figures are concrete from the start.
        QDateTime next = QDateTime::currentDateTime().addSecs(3600);
        next.setTime(QTime(next.time().hour(), 0));
        options.startTime = next.toUTC();
    }
    const QSignalBlocker blockStart(m_start);
    const QSignalBlocker blockWorkers(m_maxWorkersDown);
    m_start->setDateTime(options.startTime.toLocalTime());
    m_maxWorkersDown->setValue(options.maxWorkersDown);
    m_session->setPlanOptions(options);
    m_session->fetchFlowHistory();
}

void PlanPage::rebuild()
{
    m_plan = m_session->plan();
    fillSteps();
    fillTimeline();
    updateLoss();

    if (m_plan.nothingToDo()) {
        m_summary->setText(tr("<b>Nothing to upgrade:</b> every node is already at the "
                              "chosen versions."));
    } else {
        m_summary->setText(
            tr("About <b>%1</b> in all (staging %2). Servers run mixed versions for about %3. "
               "At today's flow rates about <b>%4</b> flow records would be lost.")
                .arg(formatDuration(m_plan.wallTimeMs), formatDuration(m_plan.stageDurationMs),
                     formatDuration(m_plan.mixedVersionWindowMs), flowsText(m_plan.totalFlowsLost)));
    }
    QStringList warnings;
    for (const QString &warning : std::as_const(m_plan.warnings))
        warnings << warning.toHtmlEscaped();
    m_warnings->setText(warnings.isEmpty()
                            ? QString()
                            : QStringLiteral("<span style='color:#9a6700'>%1</span>")
                                  .arg(warnings.join(QStringLiteral("<br>"))));
    m_warnings->setVisible(!warnings.isEmpty());
}

void PlanPage::fillSteps()
{
    m_steps->clear();
    if (!m_plan.stage.isEmpty()) {
        auto *stage = new QTreeWidgetItem(m_steps);
        stage->setText(0, tr("Stage and verify packages on %n node(s)", nullptr,
                             int(m_plan.stage.size())));
        stage->setText(2, tr("none"));
        stage->setText(3, tr("No outage: packages are copied and checked first."));
        stage->setText(5, m_plan.stageBasis);
        stage->setToolTip(5, m_plan.stageBasis);
        for (const StageEntry &entry : std::as_const(m_plan.stage)) {
            auto *item = new QTreeWidgetItem(stage);
            item->setText(0, entry.node);
            item->setText(1, entry.packageFiles.join(QStringLiteral(", ")));
            item->setText(4, QString());
            item->setText(5, QLocale().formattedDataSize(entry.bytes));
        }
    }
    int number = 0;
    for (const PlanWave &wave : std::as_const(m_plan.waves)) {
        auto *waveItem = new QTreeWidgetItem(m_steps);
        waveItem->setText(0, tr("%1. %2").arg(++number).arg(wave.title));
        waveItem->setText(2, formatDuration(wave.durationMs));
        QFont bold = waveItem->font(0);
        bold.setBold(true);
        waveItem->setFont(0, bold);
        for (const PlanStep &step : wave.steps) {
            auto *item = new QTreeWidgetItem(waveItem);
            item->setText(0, tr("%1 — %2").arg(step.node, displayName(step.component)));
            item->setText(1, tr("%1 → %2").arg(step.fromVersion.toString(), step.toVersion.toString()));
            item->setText(2, formatDuration(step.estimate.outageMs));
            item->setText(3, step.impact.sentence);
            item->setToolTip(3, step.impact.sentence);
            item->setText(4, !step.impact.receivesFlows ? QString()
                             : step.impact.keepFlows ? tr("0 expected (kept and replayed)")
                                                     : flowsText(step.impact.flowsLost));
            item->setText(5, step.estimate.basis);
            item->setToolTip(5, step.estimate.basis);
            if (step.impact.receivesFlows && !step.impact.keepFlows)
                item->setIcon(4, warningIcon());
        }
    }
    if (!m_plan.skipped.isEmpty()) {
        auto *skipped = new QTreeWidgetItem(m_steps);
        skipped->setText(0, tr("Skipped (%n)", nullptr, int(m_plan.skipped.size())));
        for (const PlanStep &step : std::as_const(m_plan.skipped)) {
            auto *item = new QTreeWidgetItem(skipped);
            item->setText(0, tr("%1 — %2").arg(step.node, displayName(step.component)));
            item->setText(1, step.fromVersion.toString());
            item->setText(3, step.skipReason);
            item->setToolTip(3, step.skipReason);
            item->setIcon(0, informationIcon());
        }
    }
    m_steps->expandAll();
}

void PlanPage::fillTimeline()
{
    QList<TimelineChart::Bar> bars;
    if (m_plan.stageDurationMs > 0) {
        for (const StageEntry &entry : std::as_const(m_plan.stage)) {
            TimelineChart::Bar bar;
            bar.lane = entry.node;
            bar.kind = TimelineChart::BarKind::Staging;
            bar.durationSeconds = m_plan.stageDurationMs / 1000;
            bar.toolTip = tr("%1: staging %2 (no outage)")
                              .arg(entry.node, QLocale().formattedDataSize(entry.bytes));
            bars.append(bar);
        }
    }
    for (const PlanWave &wave : std::as_const(m_plan.waves)) {
        for (const PlanStep &step : wave.steps) {
            TimelineChart::Bar bar;
            bar.lane = step.node;
            bar.kind = barKindOf(step);
            bar.startSeconds = step.startOffsetMs / 1000;
            bar.durationSeconds = std::max<qint64>(1, step.estimate.outageMs / 1000);
            bar.receivesFlows = step.impact.receivesFlows;
            bar.label = displayName(step.component);
            bar.toolTip = tr("<b>%1 — %2</b><br>%3 → %4, about %5<br>%6")
                              .arg(step.node.toHtmlEscaped(), displayName(step.component),
                                   step.fromVersion.toString(), step.toVersion.toString(),
                                   formatDuration(step.estimate.outageMs),
                                   step.impact.sentence.toHtmlEscaped());
            bars.append(bar);
        }
    }
    m_timeline->setBars(bars);
}

void PlanPage::updateLoss()
{
    if (m_plan.nothingToDo()) {
        m_loss->clear();
        m_suggest->setEnabled(false);
        return;
    }
    if (!m_session->hasFlowHistory()) {
        m_loss->setText(tr("Reading the nodes' flow history…"));
        m_suggest->setEnabled(false);
        return;
    }
    if (m_session->flowHistory().isEmpty()) {
        m_loss->setText(tr("No node that receives flows has a flow history yet; the loss is "
                           "estimated from the current rates only."));
        m_suggest->setEnabled(false);
        return;
    }
    const QDateTime start = m_start->dateTime().toUTC();
    const qint64 atPicked = m_session->flowsLostAt(m_plan, start);
    const auto best = m_session->quietWindow(m_plan, QDateTime::currentDateTimeUtc());
    m_suggest->setEnabled(true);
    m_suggest->setProperty("suggestedStart", best.start);
    m_loss->setText(tr("At the start you picked, about <b>%1</b> flow records are lost (from "
                       "the nodes' usual traffic at that hour). The quietest start in the next "
                       "7 days is <b>%2</b> (%3 UTC), losing about %4.")
                        .arg(flowsText(atPicked),
                             QLocale().toString(best.start.toLocalTime(), QLocale::ShortFormat),
                             best.start.toString(QStringLiteral("ddd HH:mm")),
                             flowsText(best.flowsLost)));
}

void PlanPage::useQuietWindow()
{
    const QDateTime best = m_suggest->property("suggestedStart").toDateTime();
    if (best.isValid())
        m_start->setDateTime(best.toLocalTime());
}

void PlanPage::exportPlanToFile()
{
    QString selectedFilter;
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Export the plan"), QStringLiteral("upgrade-plan.html"),
        tr("Web page (*.html);;JSON (*.json);;CSV for spreadsheets (*.csv)"), &selectedFilter);
    if (path.isEmpty())
        return;
    if (Result written = exportPlan(m_plan, path); !written)
        QMessageBox::warning(this, tr("Export the plan"), written.error());
}

} // namespace ft::ui

#include "pages/planpage.h"

#include "notice/commitment.h"

#include "plan/estimate.h"
#include "plan/flowkeepingchoice.h"
#include "plan/planexport.h"
#include "widgets/statusicons.h"
#include "widgets/timelinechart.h"
#include "session/upgradesession.h"

#include <QCheckBox>
#include <QComboBox>
#include <QCoreApplication>
#include <QScrollBar>
#include <QDateTimeEdit>
#include <QDir>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QSplitter>
#include <QTimeZone>
#include <QTreeWidget>
#include <QTreeWidgetItemIterator>
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

// "about <b>1,234</b> flow records are lost", or "<b>no</b> flow records are lost":
// never "about 0".
QString lossPhrase(qint64 flows)
{
    return flows > 0 ? QCoreApplication::translate("ft::ui::PlanPage", "about <b>%1</b> flow records are lost").arg(flowsText(flows))
                     : QCoreApplication::translate("ft::ui::PlanPage", "<b>no</b> flow records are lost");
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

    m_canary = new QComboBox;
    m_canary->setObjectName(QStringLiteral("canaryWorker"));
    m_canary->setToolTip(tr("Upgrade this worker first and alone, then halt for your confirmation: offered "
                            "when an installer's silent-install arguments were typed rather than documented."));

    m_start = new QDateTimeEdit;
    m_start->setObjectName(QStringLiteral("startTime"));
    m_start->setCalendarPopup(true);
    m_start->setDisplayFormat(QStringLiteral("ddd yyyy-MM-dd HH:mm"));
    m_start->setToolTip(tr("When you mean to start, in your time zone (%1).")
                            .arg(QString::fromUtf8(QTimeZone::systemTimeZoneId())));
    m_suggest = new QPushButton(tr("Use &quietest time"));
    m_suggest->setObjectName(QStringLiteral("useQuietWindow"));
    m_suggest->setToolTip(tr("The start in the 7 days after the notice lead time that loses the "
                             "fewest flows, from the nodes' hourly flow history."));
    // The notice lead time sits beside the suggestion it bounds: the quietest start is never
    // sooner than this. Kept in the settings for the next run.
    m_leadHours = new QSpinBox;
    m_leadHours->setObjectName(QStringLiteral("noticeLeadHours"));
    m_leadHours->setRange(0, 14 * 24);
    m_leadHours->setSuffix(tr(" h"));
    m_leadHours->setAccelerated(true);
    m_leadHours->setToolTip(tr("How long before the start your users must be told. The quietest "
                               "start offered is never sooner; the wizard keeps this for the next run."));
    m_loss = new QLabel;
    m_loss->setObjectName(QStringLiteral("flowLoss"));
    m_loss->setWordWrap(true);

    m_keepFlows = new QCheckBox(tr("&Keep flows during outages"));
    m_keepFlows->setObjectName(QStringLiteral("keepFlowsAll"));
    m_keepFlows->setToolTip(tr("While a flow-receiving Linux server is down, its agent keeps the flows sent to it "
                               "and replays them to the new service from the exporters' own addresses, so none "
                               "is lost. Untick a node's box in the Flows column to let its flows be lost instead. "
                               "Not available on Windows nodes."));

    m_export = new QPushButton(tr("&Export plan…"));
    m_export->setObjectName(QStringLiteral("exportPlan"));

    // Short rows, so the page fits 1024×768 at 150 % without scrolling sideways: the
    // plan's shape, when it starts, how early users are told, and (on a row of its own,
    // above the loss it changes) whether flows are kept.
    auto *options = new QHBoxLayout;
    options->addWidget(new QLabel(tr("Workers down at once:")));
    options->addWidget(m_maxWorkersDown);
    options->addSpacing(16);
    options->addWidget(new QLabel(tr("Canary:")));
    options->addWidget(m_canary);
    options->addStretch();
    options->addWidget(m_export);
    auto *when = new QHBoxLayout;
    auto *startLabel = new QLabel(tr("&Start:"));
    startLabel->setBuddy(m_start);
    when->addWidget(startLabel);
    when->addWidget(m_start);
    auto *zone = new QLabel(QStringLiteral("%1 (%2)").arg(
        QTimeZone::systemTimeZone().abbreviation(QDateTime::currentDateTime()),
        QTimeZone::systemTimeZone().displayName(QDateTime::currentDateTime(), QTimeZone::OffsetName)));
    zone->setObjectName(QStringLiteral("startTimeZone"));
    zone->setToolTip(QString::fromUtf8(QTimeZone::systemTimeZoneId()));
    when->addWidget(zone);
    when->addStretch();
    auto *actions = new QHBoxLayout;
    auto *leadLabel = new QLabel(tr("Tell &users at least:"));
    leadLabel->setBuddy(m_leadHours);
    actions->addWidget(leadLabel);
    actions->addWidget(m_leadHours);
    actions->addWidget(new QLabel(tr("ahead;")));
    actions->addWidget(m_suggest);
    actions->addStretch();

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
    m_steps->headerItem()->setToolTip(4, tr("Flow records lost during the step's outage. A ticked box keeps "
                                            "the node's flows and replays them: none lost."));
    // Fixed, readable widths (never "W…" or "Estim"); what does not fit a cell is in
    // the details pane below the table and in the cell's tooltip.
    m_steps->header()->setSectionResizeMode(QHeaderView::Interactive);
    m_steps->header()->setSectionResizeMode(3, QHeaderView::Stretch);
    m_steps->header()->setMinimumSectionSize(60);
    m_steps->setColumnWidth(0, 190);
    m_steps->setColumnWidth(1, 170);
    m_steps->setColumnWidth(2, 80);
    m_steps->setColumnWidth(4, 110);
    m_steps->setColumnWidth(5, 150);
    m_steps->setTextElideMode(Qt::ElideRight); // a cut sentence reads from its start
    m_steps->setAlternatingRowColors(true);
    m_details = new QLabel(tr("Select a step to read all about it here."));
    m_details->setObjectName(QStringLiteral("planDetails"));
    m_details->setWordWrap(true);
    m_details->setTextFormat(Qt::RichText);
    m_details->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_details->setFrameShape(QFrame::StyledPanel);
    m_details->setMargin(6);
    connect(m_steps, &QTreeWidget::currentItemChanged, this, [this](QTreeWidgetItem *item) {
        if (!item) {
            m_details->setText(tr("Select a step to read all about it here."));
            return;
        }
        QStringList lines;
        for (int column = 0; column < m_steps->columnCount(); ++column) {
            if (!item->text(column).isEmpty())
                lines.append(QStringLiteral("<b>%1:</b> %2").arg(m_steps->headerItem()->text(column).toHtmlEscaped(),
                                                                item->text(column).toHtmlEscaped()));
        }
        m_details->setText(lines.join(QStringLiteral("<br>")));
    });

    m_timeline = new TimelineChart;
    m_timeline->setObjectName(QStringLiteral("timeline"));

    auto *splitter = new QSplitter(Qt::Vertical);
    auto *stepsAndDetails = new QWidget;
    auto *stepsLayout = new QVBoxLayout(stepsAndDetails);
    stepsLayout->setContentsMargins(0, 0, 0, 0);
    stepsLayout->addWidget(m_steps, 1);
    stepsLayout->addWidget(m_details);
    splitter->addWidget(stepsAndDetails);
    splitter->addWidget(m_timeline);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 2);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(options);
    layout->addLayout(when);
    layout->addLayout(actions);
    layout->addWidget(m_keepFlows, 0, Qt::AlignLeft); // clicks right of its text do not toggle it
    layout->addWidget(m_loss);
    layout->addWidget(m_summary);
    layout->addWidget(m_warnings);
    layout->addWidget(splitter, 1);

    connect(m_maxWorkersDown, &QSpinBox::valueChanged, this, [this](int value) {
        PlanOptions options = m_session->planOptions();
        options.maxWorkersDown = value;
        m_session->setPlanOptions(options);
    });
    connect(m_canary, &QComboBox::currentIndexChanged, this, [this] {
        PlanOptions options = m_session->planOptions();
        options.canaryNode = m_canary->currentData().toString();
        m_session->setPlanOptions(options);
    });
    connect(m_start, &QDateTimeEdit::dateTimeChanged, this, [this](const QDateTime &start) {
        PlanOptions options = m_session->planOptions();
        options.startTime = start.toUTC();
        m_session->setPlanOptions(options);
    });
    connect(session, &UpgradeSession::planOptionsChanged, this, &PlanPage::rebuild);
    // The history prices every step: the whole plan again, so the steps, the summary and
    // the suggestion say the same figure as the notice and the confirmation.
    connect(session, &UpgradeSession::flowHistoryReady, this, &PlanPage::rebuild);
    connect(m_suggest, &QPushButton::clicked, this, &PlanPage::useQuietWindow);
    connect(m_leadHours, &QSpinBox::valueChanged, this, &PlanPage::setLeadHours);
    connect(m_steps, &QTreeWidget::itemChanged, this, &PlanPage::keepFlowsToggled);
    // A click on the one box: partly or not at all kept becomes kept everywhere, and
    // kept everywhere becomes kept nowhere (the state is the plan's, not the box's).
    connect(m_keepFlows, &QCheckBox::clicked, this, [this] {
        const bool keep = keepFlowsState(m_plan) != KeepFlowsState::All;
        m_session->setPlanOptions(withKeepFlowsEverywhere(m_session->planOptions(), m_plan, keep));
    });
    connect(m_export, &QPushButton::clicked, this, &PlanPage::exportPlanToFile);
}

void PlanPage::initializePage()
{
    // How long before the window users must be told: a setting (hours), 24 by default.
    const QSettings settings;
    const int leadHours = qBound(m_leadHours->minimum(),
                                 qRound(settings.value(QStringLiteral("notice/leadTimeHours"), 24).toDouble()),
                                 m_leadHours->maximum());
    {
        const QSignalBlocker blockLead(m_leadHours);
        m_leadHours->setValue(leadHours);
    }
    m_session->setNoticeLeadMs(qint64(leadHours) * 3600 * 1000);
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
    // The canary is offered for every run and chosen by default when an installer's
    // switches were typed: they are not documented, so one worker proves them first.
    bool typedSwitches = false;
    for (Component component : {Component::Server, Component::Nbi, Component::WebUi}) {
        for (const PackageChoice *choice : m_session->target().packages(component))
            typedSwitches = typedSwitches || !choice->installerArguments.isEmpty();
    }
    {
        const QSignalBlocker blockCanary(m_canary);
        m_canary->clear();
        m_canary->addItem(tr("none"), QString());
        for (const NodeStatus &node : m_session->nodes()) {
            if (node.role == NodeRole::Worker && node.reachable)
                m_canary->addItem(node.name, node.name);
        }
        if (typedSwitches && options.canaryNode.isEmpty() && m_canary->count() > 1)
            options.canaryNode = m_canary->itemData(1).toString();
        m_canary->setCurrentIndex(qMax(0, m_canary->findData(options.canaryNode)));
        options.canaryNode = m_canary->currentData().toString();
    }
    m_session->setPlanOptions(options);
    m_session->fetchFlowHistory();
}

void PlanPage::rebuild()
{
    m_plan = m_session->plan();
    fillSteps();
    fillTimeline();
    updateLoss();
    updateKeepFlows();

    if (m_plan.nothingToDo()) {
        m_summary->setText(tr("<b>Nothing to upgrade:</b> every node is already at the "
                              "chosen versions."));
    } else {
        const QString staging = m_plan.stageDurationMs < 1000 ? tr("staging takes seconds")
                                                              : tr("staging %1").arg(formatDuration(m_plan.stageDurationMs));
        m_summary->setText(
            tr("About <b>%1</b> in all (%2). Servers run mixed versions for about %3. "
               "At the start you picked, %4.")
                .arg(formatDuration(m_plan.wallTimeMs), staging,
                     formatDuration(m_plan.mixedVersionWindowMs), lossPhrase(m_plan.totalFlowsLost))
            + QStringLiteral("<br>") + m_session->delivery().sentence().toHtmlEscaped());
        m_summary->setToolTip(m_session->flowLossArithmetic(m_plan));
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
    // Rebuilt on every change of the options: keep the reader's place in the table.
    m_filling = true;
    const int scrolled = m_steps->verticalScrollBar()->value();
    m_steps->clear();
    if (!m_plan.stage.isEmpty()) {
        auto *stage = new QTreeWidgetItem(m_steps);
        stage->setText(0, m_plan.stage.size() == 1
                              ? tr("Stage and verify packages on 1 node")
                              : tr("Stage and verify packages on %1 nodes").arg(m_plan.stage.size()));
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
        // The wave's outage is its longest step's outage: the same figure as its rows.
        qint64 waveOutageMs = 0;
        for (const PlanStep &step : wave.steps)
            waveOutageMs = std::max(waveOutageMs, step.estimate.outageMs);
        waveItem->setText(2, formatDuration(waveOutageMs));
        waveItem->setToolTip(2, tr("The longest outage in this step; the step takes about %1 in all.")
                                    .arg(formatDuration(wave.durationMs)));
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
                             : step.impact.keepFlows ? tr("0 (kept)")
                                                     : flowsText(step.impact.flowsLost));
            item->setText(5, step.estimate.basis);
            item->setToolTip(5, step.estimate.basis);
            if (step.component == Component::Server && step.impact.receivesFlows && step.os == OsKind::Linux) {
                item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
                item->setCheckState(4, step.impact.keepFlows ? Qt::Checked : Qt::Unchecked);
                item->setData(4, Qt::UserRole, step.node);
                item->setToolTip(4, step.impact.keepFlows
                                        ? tr("0 expected: %1's agent keeps the flows sent during the outage and "
                                             "replays them from the exporters' own addresses. Untick to let them "
                                             "be lost instead.").arg(step.node)
                                        : tr("About %1 flow records lost during the outage. Tick to have %2's agent "
                                             "keep them and replay them.").arg(flowsText(step.impact.flowsLost), step.node));
            } else if (step.impact.receivesFlows) {
                item->setIcon(4, warningIcon());
                item->setToolTip(4, tr("About %1 flow records lost during the outage; keeping flows is not "
                                       "available on Windows nodes.").arg(flowsText(step.impact.flowsLost)));
            }
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
    // Every cell's full text on hover too.
    for (QTreeWidgetItemIterator it(m_steps); *it; ++it) {
        for (int column = 0; column < m_steps->columnCount(); ++column) {
            if ((*it)->toolTip(column).isEmpty())
                (*it)->setToolTip(column, (*it)->text(column));
        }
    }
    m_steps->verticalScrollBar()->setValue(scrolled);
    m_filling = false;
}

void PlanPage::updateKeepFlows()
{
    const KeepFlowsState state = keepFlowsState(m_plan);
    const QSignalBlocker block(m_keepFlows);
    m_keepFlows->setVisible(state != KeepFlowsState::NotApplicable);
    // Partly checked only shows a mixed choice; a click never lands on it.
    m_keepFlows->setTristate(state == KeepFlowsState::Some);
    m_keepFlows->setCheckState(state == KeepFlowsState::All    ? Qt::Checked
                               : state == KeepFlowsState::Some ? Qt::PartiallyChecked
                                                               : Qt::Unchecked);
}

void PlanPage::keepFlowsToggled(QTreeWidgetItem *item, int column)
{
    if (m_filling || column != 4)
        return;
    const QString node = item->data(4, Qt::UserRole).toString();
    if (node.isEmpty())
        return;
    const bool keep = item->checkState(4) == Qt::Checked;
    // Later: the new plan rebuilds the table, and this item with it, which must not
    // happen inside the item's own change signal.
    QMetaObject::invokeMethod(
        this, [this, node, keep] { m_session->setPlanOptions(withKeepFlows(m_session->planOptions(), node, keep)); },
        Qt::QueuedConnection);
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
            // The chart marks the outages that lose flows: a node whose flows are kept loses none.
            bar.receivesFlows = step.impact.receivesFlows && !step.impact.keepFlows;
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
    // The one figure for this start (the plan's own, from the flow history), and its sums.
    const qint64 atPicked = m_plan.totalFlowsLost;
    const QDateTime now = QDateTime::currentDateTimeUtc();
    const auto best = m_session->quietWindow(m_plan, now);
    const QTimeZone zone = QTimeZone::systemTimeZone();
    m_suggest->setEnabled(true);
    m_suggest->setProperty("suggestedStart", best.start);
    m_loss->setText(tr("Starting %1, %2 (each node's usual "
                       "traffic at that hour). The quietest start from %3 on (users are told %4 "
                       "ahead) is <b>%5</b>, losing %6.")
                        .arg(timeWithZone(start, zone), lossPhrase(atPicked),
                             timeWithZone(now.addMSecs(m_session->noticeLeadMs()), zone),
                             formatDuration(m_session->noticeLeadMs()).replace(QLatin1Char(' '), QChar::Nbsp),
                             timeWithZone(best.start, zone),
                             best.flowsLost > 0 ? tr("about %1").arg(flowsText(best.flowsLost)) : tr("none")));
    const QString shortNotice = shortNoticeWarning(start, now, m_session->noticeLeadMs());
    if (!shortNotice.isEmpty())
        m_loss->setText(m_loss->text() + QStringLiteral("<br><b>%1</b> ").arg(shortNotice.toHtmlEscaped())
                        + tr("Pick a later start, or use the quietest time, if they need the full notice."));
    m_loss->setToolTip(m_session->flowLossArithmetic(m_plan));
}

void PlanPage::setLeadHours(int hours)
{
    QSettings settings;
    settings.setValue(QStringLiteral("notice/leadTimeHours"), hours);
    m_session->setNoticeLeadMs(qint64(hours) * 3600 * 1000);
    updateLoss(); // the suggestion follows
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
    if (Result written = exportPlan(m_plan, path); !written) {
        QMessageBox::warning(this, tr("Export the plan"), written.error());
        return;
    }
    m_export->setToolTip(tr("Last saved to %1.").arg(QDir::toNativeSeparators(path)));
    m_warnings->setText(tr("<span style='color:#2e7d32'>Saved the plan to %1.</span>")
                            .arg(QDir::toNativeSeparators(path).toHtmlEscaped()));
    m_warnings->setVisible(true);
}

} // namespace ft::ui

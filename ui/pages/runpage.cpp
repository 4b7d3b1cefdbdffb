#include "pages/runpage.h"

#include "widgets/progresspane.h"
#include "run/runengine.h"
#include "widgets/statusicons.h"
#include "session/upgradesession.h"
#include "session/scheduledstart.h"
#include "notice/commitment.h"
#include "verify/stepstatus.h"
#include "plan/estimate.h"

#include <QDateTime>
#include <QDir>
#include <QHBoxLayout>
#include <QHash>
#include <QLabel>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QTimeZone>
#include <QVBoxLayout>
#include <QWizard>

namespace ft::ui {

RunPage::RunPage(UpgradeSession *session, QWidget *parent)
    : QWizardPage(parent)
    , m_session(session)
{
    setObjectName(QStringLiteral("runPage"));
    setTitle(tr("Upgrading"));
    setSubTitle(tr("Packages are staged and verified on every node before any service stops. "
                   "A failure halts the rollout before the next outage."));

    m_state = new QLabel;
    m_state->setObjectName(QStringLiteral("runState"));
    m_overall = new QProgressBar;
    m_overall->setObjectName(QStringLiteral("overallProgress"));
    m_overall->setRange(0, 1000);
    m_pause = new QPushButton(tr("&Pause"));
    m_pause->setObjectName(QStringLiteral("pauseRun"));
    m_pause->setToolTip(tr("Pauses once the steps under way have finished; no service is left stopped."));
    m_resume = new QPushButton(tr("&Resume"));
    m_resume->setObjectName(QStringLiteral("resumeRun"));
    m_abort = new QPushButton(tr("A&bort"));
    m_abort->setObjectName(QStringLiteral("abortRun"));
    m_abort->setToolTip(tr("Stops once the steps under way have finished. The run can be resumed later."));
    for (QPushButton *button : {m_pause, m_resume, m_abort})
        button->setAutoDefault(false); // a stray Enter never acts on the run
    m_activity = new QLabel;
    m_activity->setObjectName(QStringLiteral("runActivity"));
    m_activity->setWordWrap(true);

    m_decision = new QFrame;
    m_decision->setObjectName(QStringLiteral("decisionPanel"));
    m_decision->setFrameShape(QFrame::StyledPanel);
    m_decision->setStyleSheet(QStringLiteral("#decisionPanel { background:#fdecea; }"));
    m_decisionText = new QLabel;
    m_decisionText->setObjectName(QStringLiteral("decisionText"));
    m_decisionText->setWordWrap(true);
    auto *decisionButtons = new QHBoxLayout;
    const std::pair<RunDecision, QString> choices[] = {
        {RunDecision::Retry, tr("Re&try")},
        {RunDecision::Skip, tr("&Skip this node")},
        {RunDecision::Defer, tr("&Defer to the end")},
        {RunDecision::Abort, tr("Abort the &run")},
        {RunDecision::StartService, tr("Start s&ervice")},
    };
    const QString tips[] = {
        tr("Runs this step again."),
        tr("Leaves the node on its old version (flagged in the report) and goes on."),
        tr("Goes on with the other nodes and tries this one again at the end."),
        tr("Stops here; nothing else is touched. The run can be resumed later."),
        tr("Starts the node's FlowTraq service on what is installed, leaves the step flagged, and goes on."),
    };
    int tip = 0;
    for (const auto &[decision, text] : choices) {
        auto *button = new QPushButton(text);
        button->setObjectName(QStringLiteral("decision_%1").arg(toString(decision)));
        button->setToolTip(tips[tip++]);
        button->setAutoDefault(false);
        connect(button, &QPushButton::clicked, this, [this, choice = decision] { decide(int(choice)); });
        decisionButtons->addWidget(button);
    }
    decisionButtons->addStretch();
    auto *decisionLayout = new QVBoxLayout(m_decision);
    decisionLayout->addWidget(m_decisionText);
    decisionLayout->addLayout(decisionButtons);
    m_decision->hide();

    m_schedulePanel = new QFrame;
    m_schedulePanel->setObjectName(QStringLiteral("schedulePanel"));
    m_schedulePanel->setFrameShape(QFrame::StyledPanel);
    m_schedulePanel->setStyleSheet(QStringLiteral("#schedulePanel { background:#e8f0fb; }"));
    m_countdown = new QLabel;
    m_countdown->setObjectName(QStringLiteral("countdown"));
    m_countdown->setWordWrap(true);
    m_startNow = new QPushButton(tr("Start &now…"));
    m_startNow->setObjectName(QStringLiteral("startNow"));
    m_startNow->setAutoDefault(false);
    m_startNow->setToolTip(tr("Starts before the announced window, after asking again."));
    m_cancelRun = new QPushButton(tr("&Cancel the run"));
    m_cancelRun->setObjectName(QStringLiteral("cancelScheduledRun"));
    m_cancelRun->setAutoDefault(false);
    m_cancelRun->setToolTip(tr("Nothing has been stopped; the staged packages stay on the nodes."));
    auto *scheduleButtons = new QHBoxLayout;
    scheduleButtons->addWidget(m_startNow);
    scheduleButtons->addWidget(m_cancelRun);
    scheduleButtons->addStretch();
    auto *scheduleLayout = new QVBoxLayout(m_schedulePanel);
    scheduleLayout->addWidget(m_countdown);
    scheduleLayout->addLayout(scheduleButtons);
    m_schedulePanel->hide();
    connect(m_startNow, &QPushButton::clicked, this, &RunPage::askToStartNow);
    connect(m_cancelRun, &QPushButton::clicked, this, [this] {
        auto *box = new QMessageBox(QMessageBox::Question, tr("Cancel the run"),
                                    tr("Cancel the run before it starts? No service has been stopped."),
                                    QMessageBox::Yes | QMessageBox::No, this);
        box->setDefaultButton(QMessageBox::No);
        box->setAttribute(Qt::WA_DeleteOnClose);
        connect(box, &QMessageBox::finished, this, [this, box] {
            if (box->standardButton(box->clickedButton()) == QMessageBox::Yes && m_schedule)
                m_schedule->cancel();
        });
        box->open();
    });

    m_reconciled = new QLabel;
    m_reconciled->setObjectName(QStringLiteral("reconciledSummary"));
    m_reconciled->setWordWrap(true);
    m_reconciled->setTextFormat(Qt::RichText);
    m_reconciled->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_reconciled->setStyleSheet(QStringLiteral("#reconciledSummary { background:#eef4fd; padding:6px; }"));
    m_reconciled->hide();

    auto *paneHost = new QWidget;
    m_paneLayout = new QVBoxLayout(paneHost);
    m_paneLayout->setSpacing(4);
    m_paneLayout->addStretch();
    auto *scroll = new QScrollArea;
    scroll->setObjectName(QStringLiteral("paneScroll"));
    scroll->setWidget(paneHost);
    scroll->setWidgetResizable(true);
    // Panes wrap their text to the list's width; the list scrolls down only.
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);

    // The state and its buttons on one line, the bar under them at full width: on one
    // line together they were wider than the page at 1024x768 and 150 % (the Abort
    // button cut off, the bar's text squeezed into a sliver).
    auto *top = new QHBoxLayout;
    top->addWidget(m_state, 1);
    top->addWidget(m_pause);
    top->addWidget(m_resume);
    top->addWidget(m_abort);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(m_overall);
    layout->addWidget(m_activity);
    layout->addWidget(m_schedulePanel);
    layout->addWidget(m_reconciled);
    layout->addWidget(m_decision);
    layout->addWidget(scroll, 1);

    m_flushTimer.setInterval(100);
    connect(&m_flushTimer, &QTimer::timeout, this, [this] {
        for (ProgressPane *pane : std::as_const(m_panes))
            pane->flush();
    });
    m_tickTimer.setInterval(1000);
    connect(&m_tickTimer, &QTimer::timeout, this, &RunPage::tick);
    connect(m_pause, &QPushButton::clicked, this, [this] { m_engine->pause(); });
    connect(m_resume, &QPushButton::clicked, this, [this] { m_engine->resume(); });
    connect(m_abort, &QPushButton::clicked, this, [this] {
        const auto answer = QMessageBox::question(
            this, tr("Abort the upgrade"),
            tr("Stop after the steps under way have finished? Nodes already upgraded stay "
               "upgraded; the others stay on their old version. You can resume later."));
        if (answer == QMessageBox::Yes)
            m_engine->abort();
    });
}

void RunPage::initializePage()
{
    if (m_engine)
        return; // a run is only ever started once per wizard
    const bool resuming = m_session->isResumingUnfinishedRun();
    if (resuming) {
        m_journalPath = m_session->unfinishedRun()->path;
    } else {
        QDir().mkpath(UpgradeSession::runsDirectory());
        m_journalPath = QDir(UpgradeSession::runsDirectory())
                            .filePath(QStringLiteral("run-%1.json")
                                          .arg(QDateTime::currentDateTime().toString(
                                              QStringLiteral("yyyyMMdd-HHmmss"))));
    }
    m_engine = new RunEngine(m_session->client(), this);
    RunOptions options;
    options.journalPath = m_journalPath;
    options.clusterId = m_session->clusterId();
    // The window the notice announced: staging at once, no service stopped before it.
    if (!resuming)
        options.announcedStart = m_session->announcedStart();
    // Never the 127.0.0.1 default: the administrator's delivery choice, and the portal's
    // agent for the default delivery.
    m_session->delivery().applyTo(options);
    options.portal = m_session->portal();
    m_engine->setOptions(options);
    if (m_session->history().isOpen())
        m_engine->setHistory(&m_session->history());
    m_engine->setEndpointLookup([this](const QString &name) -> Expected<AgentEndpoint> {
        for (const NodeStatus &node : m_session->nodes()) {
            if (node.name == name)
                return m_session->endpointFor(node);
        }
        return makeError(tr("Node %1 is not in the discovered cluster.").arg(name));
    });

    connect(m_engine, &RunEngine::stateChanged, this, &RunPage::onStateChanged);
    connect(m_engine, &RunEngine::stepChanged, this, [this](int step, const RunStepProgress &progress) {
        if (step >= 0 && step < m_panes.size()) {
            m_panes.at(step)->setProgress(progress);
            m_panes.at(step)->setStatus(stepStatus(m_engine->step(step), m_engine->state(),
                                                   m_engine->journal().stateSentence));
        }
        updateOverall();
    });
    connect(m_engine, &RunEngine::logLines, this, [this](int step, const QStringList &lines) {
        if (step >= 0 && step < m_panes.size())
            m_panes.at(step)->queueLog(lines);
    });
    connect(m_engine, &RunEngine::stagingProgress, this, [this](qint64 done, qint64 total) {
        m_stagingDone = done;
        m_stagingTotal = total;
        updateOverall();
    });
    connect(m_engine, &RunEngine::stepSlow, this, [this](int step, const QString &sentence) {
        if (step >= 0 && step < m_panes.size())
            m_panes.at(step)->setSlow(sentence);
    });
    connect(m_engine, &RunEngine::decisionNeeded, this, &RunPage::onDecisionNeeded);
    connect(m_engine, &RunEngine::activity, m_activity, &QLabel::setText);
    connect(m_engine, &RunEngine::differencesFound, this, &RunPage::showDifferences);
    connect(m_engine, &RunEngine::finished, this, [this] {
        m_flushTimer.stop();
        m_tickTimer.stop();
        for (ProgressPane *pane : std::as_const(m_panes))
            pane->flush();
        refreshStatuses();
        Q_EMIT completeChanged();
    });

    const Result prepared = resuming
                                ? m_engine->resumeFrom(m_session->unfinishedRun()->journal)
                                : m_engine->prepare(m_session->plan(), m_session->target(),
                                                    m_session->customizationsAcknowledged(),
                                                    m_session->noticeSent());
    buildPanes();
    if (!prepared) {
        m_state->setText(tr("Cannot start"));
        m_activity->setText(prepared.error());
        return;
    }
    // The engine keeps to the announced window (also on a resume); the page counts down.
    if (m_engine->announcedStart().isValid() && !m_engine->journal().startedEarly
        && QDateTime::currentDateTimeUtc() < m_engine->announcedStart()) {
        m_schedule = new ScheduledStart(m_engine, this);
        connect(m_schedule, &ScheduledStart::countdown, this, &RunPage::updateCountdown);
        connect(m_schedule, &ScheduledStart::released, this, [this](bool early) {
            m_schedulePanel->hide();
            m_activity->setText(early ? tr("Started before the announced window, as asked.")
                                      : tr("The announced window has opened: the upgrade starts."));
        });
        m_schedulePanel->show();
        updateCountdown();
    }
    m_flushTimer.start();
    m_tickTimer.start();
    m_engine->start();
    onStateChanged();
}

void RunPage::updateCountdown()
{
    if (!m_schedule || !m_schedule->isHolding())
        return;
    const bool staged = m_engine && m_engine->isWaitingForWindow();
    const QString when = timeWithZone(m_schedule->windowStart(), QTimeZone::systemTimeZone());
    m_countdown->setText(
        tr("<b>%1</b> No service stops before the announced window, <b>%2</b>: it starts in "
           "<b><span style='font-size:large'>%3</span></b>.")
            .arg(staged ? tr("Every package is staged and verified.")
                        : tr("Staging the packages now; nothing is stopped while they are copied."),
                 when, countdownText(m_schedule->msToWindow())));
    if (staged)
        m_state->setText(QStringLiteral("<b>%1</b>").arg(tr("Waiting for the window")));
}

void RunPage::askToStartNow()
{
    if (!m_schedule || !m_schedule->isHolding())
        return;
    const QDateTime now = QDateTime::currentDateTimeUtc();
    QString question = earlyStartQuestion(m_schedule->windowStart(), now, QTimeZone::systemTimeZone());
    if (question.isEmpty())
        question = tr("<p>Start the upgrade now, %1 before the announced window?</p>")
                       .arg(formatDuration(now.msecsTo(m_schedule->windowStart())));
    auto *box = new QMessageBox(QMessageBox::Warning, tr("Start before the announced window?"), question,
                                QMessageBox::NoButton, this);
    box->setObjectName(QStringLiteral("startNowConfirmation"));
    auto *start = box->addButton(tr("Start now"), QMessageBox::DestructiveRole);
    start->setAutoDefault(false);
    auto *wait = box->addButton(tr("Wait for the window"), QMessageBox::RejectRole);
    box->setDefaultButton(wait);
    box->setEscapeButton(wait);
    box->setAttribute(Qt::WA_DeleteOnClose);
    connect(box, &QMessageBox::finished, this, [this, box, start] {
        if (box->clickedButton() == start && m_schedule)
            m_schedule->startNow();
    });
    box->open();
}

void RunPage::refreshStatuses()
{
    if (!m_engine)
        return;
    for (int i = 0; i < m_panes.size() && i < m_engine->stepCount(); ++i)
        m_panes.at(i)->setStatus(stepStatus(m_engine->step(i), m_engine->state(),
                                            m_engine->journal().stateSentence,
                                            m_engine->isWaitingForWindow() ? m_engine->announcedStart()
                                                                           : QDateTime()));
}

void RunPage::showDifferences(const QList<RunDifference> &differences)
{
    // What the nodes turned out to be, against what the journal said: in a summary and
    // in the pane of each step concerned (found by the step's index, node and component).
    if (differences.isEmpty()) {
        m_reconciled->setText(tr("<b>Resumed.</b> Every node is as the journal left it."));
        m_reconciled->show();
        return;
    }
    QStringList items;
    for (const RunDifference &difference : differences)
        items.append(QStringLiteral("<li>%1</li>").arg(difference.text().toHtmlEscaped()));
    m_reconciled->setText(tr("<b>Resumed. What changed while the wizard was away:</b><ul>%1</ul>")
                              .arg(items.join(QString())));
    m_reconciled->show();
    QHash<int, QStringList> byStep;
    for (const RunDifference &difference : differences) {
        if (difference.step < 0 || difference.step >= m_panes.size() || difference.step >= m_engine->stepCount())
            continue;
        const RunStepRecord &record = m_engine->step(difference.step);
        if (record.step.node != difference.node || record.step.component != difference.component)
            continue; // not this run's step: never shown in the wrong pane
        byStep[difference.step].append(difference.detail);
    }
    for (auto it = byStep.cbegin(); it != byStep.cend(); ++it)
        m_panes.at(it.key())->setDifference(tr("While the wizard was away: %1").arg(it.value().join(QLatin1Char(' '))));
}

void RunPage::buildPanes()
{
    for (int i = 0; i < m_engine->stepCount(); ++i) {
        auto *pane = new ProgressPane(m_engine->step(i));
        pane->setStatus(stepStatus(m_engine->step(i), m_engine->state()));
        m_panes.append(pane);
        m_paneLayout->insertWidget(m_paneLayout->count() - 1, pane);
    }
}

bool RunPage::isRunning() const
{
    if (!m_engine)
        return false;
    switch (m_engine->state()) {
    case RunState::Idle:
    case RunState::Completed:
    case RunState::Halted:
    case RunState::Aborted:
    case RunState::Paused:
        return false;
    default:
        return true;
    }
}

bool RunPage::isComplete() const
{
    return m_engine && !isRunning() && m_engine->state() != RunState::Idle
           && m_engine->state() != RunState::Paused;
}

void RunPage::onStateChanged()
{
    const RunState state = m_engine->state();
    m_state->setText(QStringLiteral("<b>%1</b>").arg(displayName(state)));
    m_pause->setEnabled(state == RunState::Running || state == RunState::Staging);
    m_resume->setEnabled(state == RunState::Paused);
    m_abort->setEnabled(isRunning() || state == RunState::Paused);
    if (state != RunState::WaitingForDecision)
        m_decision->hide();
    if (!m_engine->journal().stateSentence.isEmpty())
        m_activity->setText(m_engine->journal().stateSentence);
    if (m_schedule && m_schedule->isHolding()) {
        m_resume->setEnabled(false); // "Start now" asks first
        updateCountdown();
    }
    // The page says what the run is now, not what it was.
    switch (state) {
    case RunState::Completed: setTitle(tr("Upgrade finished")); break;
    case RunState::Halted: setTitle(tr("Upgrade halted")); break;
    case RunState::Aborted: setTitle(tr("Upgrade aborted")); break;
    default: setTitle(tr("Upgrading")); break;
    }
    if (wizard()) {
        const bool ended = state == RunState::Completed || state == RunState::Halted
                           || state == RunState::Aborted;
        wizard()->setButtonText(QWizard::CancelButton, ended ? tr("&Close") : tr("Cancel"));
    }
    refreshStatuses();
    updateOverall();
    Q_EMIT completeChanged();
}

void RunPage::onDecisionNeeded(int step, const QString &sentence)
{
    m_decisionStep = step;
    m_decisionText->setText(sentence);
    m_decision->show();
    if (step >= 0 && step < m_panes.size())
        m_panes.at(step)->setLogExpanded(true);
}

void RunPage::decide(int decision)
{
    if (!m_engine || m_decisionStep < 0)
        return;
    if (Result decided = m_engine->decide(m_decisionStep, RunDecision(decision),
                                          QStringLiteral("administrator"));
        !decided) {
        m_decisionText->setText(decided.error());
        return;
    }
    m_decisionStep = -1;
    m_decision->hide();
}

void RunPage::tick()
{
    for (int i = 0; i < m_panes.size(); ++i) {
        const RunStepState state = m_engine->step(i).state;
        if (state == RunStepState::Running || state == RunStepState::Starting)
            m_panes.at(i)->setProgress(m_engine->progress(i));
    }
}

void RunPage::updateOverall()
{
    if (!m_engine || m_engine->stepCount() == 0)
        return;
    // Finished work only: staging for a tenth of the bar, then each step that ended with
    // its node at the target. A failure, a skip or a step under way adds nothing, so the
    // bar never rises on a failure.
    const double staging = m_stagingTotal > 0 ? double(m_stagingDone) / m_stagingTotal
                           : (m_engine->state() == RunState::Staging ? 0.0 : 1.0);
    int done = 0;
    int planned = 0;
    for (int i = 0; i < m_engine->stepCount(); ++i) {
        const RunStepRecord &record = m_engine->step(i);
        if (record.wave < 0)
            continue; // planned as already current: no work
        ++planned;
        if (stepStatus(record, m_engine->state()).isDone())
            ++done;
    }
    const double steps = planned > 0 ? double(done) / planned : 1.0;
    m_overall->setValue(int(1000 * (0.1 * staging + 0.9 * steps)));
    // The words say what the bar holds: staging is its first tenth.
    const QString stepsDone = tr("%1 of %2 steps done").arg(done).arg(planned);
    m_overall->setFormat(staging >= 1.0   ? tr("Staged; %1").arg(stepsDone)
                         : staging > 0.0  ? tr("Staging; %1").arg(stepsDone)
                                          : stepsDone);
    m_overall->setTextVisible(true);
}

} // namespace ft::ui

#include "pages/runpage.h"

#include "widgets/progresspane.h"
#include "run/runengine.h"
#include "widgets/statusicons.h"
#include "session/upgradesession.h"

#include <QDateTime>
#include <QDir>
#include <QHBoxLayout>
#include <QLabel>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QVBoxLayout>

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
        connect(button, &QPushButton::clicked, this, [this, decision] { decide(int(decision)); });
        decisionButtons->addWidget(button);
    }
    decisionButtons->addStretch();
    auto *decisionLayout = new QVBoxLayout(m_decision);
    decisionLayout->addWidget(m_decisionText);
    decisionLayout->addLayout(decisionButtons);
    m_decision->hide();

    auto *paneHost = new QWidget;
    m_paneLayout = new QVBoxLayout(paneHost);
    m_paneLayout->setSpacing(4);
    m_paneLayout->addStretch();
    auto *scroll = new QScrollArea;
    scroll->setObjectName(QStringLiteral("paneScroll"));
    scroll->setWidget(paneHost);
    scroll->setWidgetResizable(true);

    auto *top = new QHBoxLayout;
    top->addWidget(m_state);
    top->addWidget(m_overall, 1);
    top->addWidget(m_pause);
    top->addWidget(m_resume);
    top->addWidget(m_abort);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(m_activity);
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
        if (step >= 0 && step < m_panes.size())
            m_panes.at(step)->setProgress(progress);
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
    connect(m_engine, &RunEngine::differencesFound, this, [this](const QStringList &differences) {
        // What the nodes turned out to be, against what the journal said.
        m_activity->setText(tr("Resumed. What changed since the run stopped: %1")
                                .arg(differences.join(QStringLiteral(" "))));
    });
    connect(m_engine, &RunEngine::finished, this, [this] {
        m_flushTimer.stop();
        m_tickTimer.stop();
        for (ProgressPane *pane : std::as_const(m_panes))
            pane->flush();
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
    m_flushTimer.start();
    m_tickTimer.start();
    m_engine->start();
    onStateChanged();
}

void RunPage::buildPanes()
{
    for (int i = 0; i < m_engine->stepCount(); ++i) {
        auto *pane = new ProgressPane(m_engine->step(i));
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
    // Staging counts for a tenth of the bar, the steps for the rest.
    const double staging = m_stagingTotal > 0 ? double(m_stagingDone) / m_stagingTotal
                           : (m_engine->state() == RunState::Staging ? 0.0 : 1.0);
    double steps = 0;
    for (int i = 0; i < m_engine->stepCount(); ++i) {
        const RunStepState state = m_engine->step(i).state;
        steps += isTerminal(state) ? 1.0 : m_engine->step(i).progress;
    }
    steps /= m_engine->stepCount();
    m_overall->setValue(int(1000 * (0.1 * staging + 0.9 * steps)));
}

} // namespace ft::ui

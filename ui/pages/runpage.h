#pragma once

#include "run/runengine.h"
#include "session/scheduledstart.h"

#include <QHash>
#include <QPointer>
#include <QTimer>
#include <QWizardPage>

class QLabel;
class QProgressBar;
class QPushButton;
class QFrame;
class QVBoxLayout;

namespace ft {
class ScheduledStart;
class UpgradeSession;
}

namespace ft::ui {

class ProgressPane;

// Step 7: the run. One live pane per step, an overall bar, Pause / Resume / Abort,
// and the retry / skip / defer / abort choice when a step fails. The engine does the
// work; this page only shows it and passes the administrator's answers on.
class RunPage : public QWizardPage
{
    Q_OBJECT

public:
    explicit RunPage(UpgradeSession *session, QWidget *parent = nullptr);

    void initializePage() override;
    bool isComplete() const override;

    RunEngine *engine() const { return m_engine; }
    // True while nodes may be mid-step (closing the wizard then needs a warning).
    bool isRunning() const;
    // Paths of the run's journal (to resume it) and audit log.
    QString journalPath() const { return m_journalPath; }
    // Holds the run at its announced window (null when it starts at once).
    ScheduledStart *schedule() const { return m_schedule; }
    // Starts before the window, after asking (the "Start now" button).
    void askToStartNow();

private:
    void buildPanes();
    void onStateChanged();
    void onDecisionNeeded(int step, const QString &sentence);
    void decide(int decision);
    void tick();
    void updateOverall();
    void refreshStatuses();
    void showDifferences(const QList<ft::RunDifference> &differences);
    void updateCountdown();

    UpgradeSession *m_session;
    QPointer<RunEngine> m_engine;
    QString m_journalPath;
    QList<ProgressPane *> m_panes;
    QTimer m_flushTimer; // batches log lines into the panes
    QTimer m_tickTimer;  // elapsed clocks of running steps
    int m_decisionStep = -1;
    qint64 m_stagingDone = 0;
    qint64 m_stagingTotal = 0;

    QLabel *m_state = nullptr;
    QLabel *m_activity = nullptr;
    QProgressBar *m_overall = nullptr;
    QPushButton *m_pause = nullptr;
    QPushButton *m_resume = nullptr;
    QPushButton *m_abort = nullptr;
    QFrame *m_decision = nullptr;
    QLabel *m_decisionText = nullptr;
    QVBoxLayout *m_paneLayout = nullptr;
    QPointer<ScheduledStart> m_schedule;
    QFrame *m_schedulePanel = nullptr;
    QLabel *m_countdown = nullptr;
    QPushButton *m_startNow = nullptr;
    QPushButton *m_cancelRun = nullptr;
    QLabel *m_reconciled = nullptr;
};

} // namespace ft::ui

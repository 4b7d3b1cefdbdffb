#pragma once

#include "run/runengine.h"
#include "verify/stepstatus.h"

#include <QFrame>
#include <QStringList>

class QLabel;
class QPlainTextEdit;
class QProgressBar;
class QToolButton;

namespace ft::ui {

// One step of a run, live: node and component, phase, progress, elapsed against the
// estimate, and a collapsible log. The log keeps the last kMaxLogLines lines and takes
// new ones in batches (flush()), so hundreds of panes stay cheap.
class ProgressPane : public QFrame
{
    Q_OBJECT

public:
    static constexpr int kMaxLogLines = 400;

    ProgressPane(const RunStepRecord &step, QWidget *parent = nullptr);

    void setProgress(const RunStepProgress &progress);
    // What the step is, in the words every page uses (state, reason, attempt).
    void setStatus(const StepStatus &status);
    const StepStatus &status() const { return m_status; }
    // What resuming found on this node, against the journal; empty hides it.
    void setDifference(const QString &sentence);
    QString phaseText() const;
    void setSlow(const QString &sentence);
    // Queues log lines; they appear at the next flush().
    void queueLog(const QStringList &lines);
    void flush();

    bool isLogExpanded() const;
    void setLogExpanded(bool expanded);
    int logLineCount() const;
    RunStepState state() const { return m_state; }

private:
    void applyStateStyle();
    void refresh();

    RunStepProgress m_progress;
    StepStatus m_status;
    bool m_hasStatus = false;
    QLabel *m_difference = nullptr;

    RunStepState m_state = RunStepState::Pending;
    QLabel *m_icon = nullptr;
    QLabel *m_title = nullptr;
    QLabel *m_phase = nullptr;
    QLabel *m_time = nullptr;
    QLabel *m_warning = nullptr;
    QProgressBar *m_bar = nullptr;
    QToolButton *m_toggle = nullptr;
    QPlainTextEdit *m_log = nullptr;
    QStringList m_pending;
};

// "1:05 / ~4:00"
QString elapsedAgainstEstimate(qint64 elapsedMs, qint64 estimateMs);

} // namespace ft::ui

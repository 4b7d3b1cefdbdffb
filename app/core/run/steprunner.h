#pragma once

#include "plan/durationhistory.h"
#include "run/runcontext.h"

#include <QDateTime>
#include <QHash>
#include <QObject>
#include <QTimer>

#include <memory>

namespace ft {

class AgentJobWatcher;
struct AgentJobStatus;

// Carries out one step of a run on its node: asks the agent to upgrade, follows the
// agent's job (phases, progress, log lines), waits for flows to arrive again at a
// server that receives them, and records the outcome in the step's journal record and
// the measured phase durations in the history. It decides nothing: when a step ended
// (stepEnded), the engine chooses what comes next. While steps run, a tick refreshes the
// panes once a second and warns once about a step taking longer than expected.
class StepRunner : public QObject
{
    Q_OBJECT

public:
    explicit StepRunner(RunContext &context, QObject *parent = nullptr);
    ~StepRunner() override;

    // Starts step `index` (a new attempt); stepEnded() follows, never inside run().
    void run(int index);
    // Follows an upgrade job the agent runs already (found when a run is resumed).
    void follow(int index, const QString &jobId, qint64 logSince, const QString &phase);

    RunStepProgress progress(int index) const;
    // Emits stepChanged for step `index` with its current progress.
    void publish(int index);
    void startTicking() { m_tick.start(); }
    void stopTicking() { m_tick.stop(); }
    // How long the agent lets the installer of this step run.
    int timeoutSecondsFor(const RunStepRecord &record) const;

Q_SIGNALS:
    void stepChanged(int step, const ft::RunStepProgress &progress);
    void logLines(int step, const QStringList &lines);
    void stepSlow(int step, const QString &sentence);
    // The step is Succeeded or Failed now (its record says why).
    void stepEnded(int step, ft::RunStepState state);
    void activity(const QString &sentence, bool warning);
    void journalChanged();

private:
    struct StepRuntime;

    void followJob(int index, const QString &jobId, qint64 since);
    void onJobStatus(int index, const AgentJobStatus &status);
    void onJobFinished(int index, AgentJobWatcher *watcher);
    void waitForFlows(int index, const QDateTime &since);
    void probeFlows(int index);
    void completeStep(int index, RunStepState state, const QString &error = {});
    void failLater(int index, const QString &error);
    void recordHistory(int index, StepOutcome outcome);
    void tick();
    void note(const QString &sentence, bool warning = false) { Q_EMIT activity(sentence, warning); }
    RunStepRecord &record(int index) { return m_context.journal.steps[index]; }

    RunContext &m_context;
    QTimer m_tick;
    QHash<int, std::shared_ptr<StepRuntime>> m_runtime;
};

} // namespace ft

#pragma once

#include "run/runjournal.h"

#include <QString>

namespace ft {

// What an administrator is told about one step of a run. Every place that shows a
// step (the live pane, the Verify page, the report, the CLI) takes its words and its
// colour from stepStatus(), so they never tell different stories.
enum class StepStatusKind {
    Pending,        // waiting for its turn
    Staging,        // the run is still staging packages; nothing stopped yet
    Running,        // the agent's job runs (detail: the phase)
    Retrying,       // running again after a failure (word: "Retrying (attempt n)")
    Succeeded,      // upgraded
    AlreadyCurrent, // at the target before the run
    Failed,         // detail: why
    Skipped,        // left on its old version (detail: by whom)
    Deferred,       // moved to the end of the run
    NotRun,         // the run ended before it (detail: why)
};

struct StepStatus
{
    StepStatusKind kind = StepStatusKind::Pending;
    QString word;   // "Failed", "Retrying (attempt 2)", "Not run"
    QString detail; // "installer exited 1", "skipped by the administrator", a phase
    QString tint;   // background of the step's row or pane, "#rrggbb"; empty: none

    // "Failed: installer exited 1"
    QString text() const;
    // True when the step ended and its work is done (counted by an overall bar).
    bool isDone() const;
};

QString toString(StepStatusKind kind); // "pending", "not_run", …

// The agent's phase for people: "installing" → "Installing".
QString phaseDisplayName(const QString &phase);

// How `record` stands while (or after) the run is in `runState`; `runSentence` is the
// run's own sentence (why it halted), used as the reason a step did not run.
// `window` is the announced window while the run holds for it (null otherwise).
StepStatus stepStatus(const RunStepRecord &record, RunState runState,
                      const QString &runSentence = {}, const QDateTime &window = {});

// Who answered a failed step with Skip ("the administrator", "--on-failure skip"),
// or empty.
QString skippedBy(const RunStepRecord &record);

} // namespace ft

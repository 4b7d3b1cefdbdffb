#include "verify/stepstatus.h"

#include <QCoreApplication>
#include <QHash>

namespace ft {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::StepStatus", text); }

bool runHasEnded(RunState state)
{
    return state == RunState::Completed || state == RunState::Halted || state == RunState::Aborted;
}

} // namespace

QString StepStatus::text() const
{
    return detail.isEmpty() ? word : tr("%1: %2").arg(word, detail);
}

bool StepStatus::isDone() const
{
    return kind == StepStatusKind::Succeeded || kind == StepStatusKind::AlreadyCurrent;
}

QString toString(StepStatusKind kind)
{
    switch (kind) {
    case StepStatusKind::Pending: return QStringLiteral("pending");
    case StepStatusKind::Staging: return QStringLiteral("staging");
    case StepStatusKind::Running: return QStringLiteral("running");
    case StepStatusKind::Retrying: return QStringLiteral("retrying");
    case StepStatusKind::Succeeded: return QStringLiteral("succeeded");
    case StepStatusKind::AlreadyCurrent: return QStringLiteral("already_current");
    case StepStatusKind::Failed: return QStringLiteral("failed");
    case StepStatusKind::Skipped: return QStringLiteral("skipped");
    case StepStatusKind::Deferred: return QStringLiteral("deferred");
    case StepStatusKind::NotRun: return QStringLiteral("not_run");
    }
    return {};
}

QString phaseDisplayName(const QString &phase)
{
    static const QHash<QString, const char *> names{
        {QStringLiteral("queued"), QT_TRANSLATE_NOOP("ft::StepStatus", "Queued on the node")},
        {QStringLiteral("stopping"), QT_TRANSLATE_NOOP("ft::StepStatus", "Stopping the service")},
        {QStringLiteral("installing"), QT_TRANSLATE_NOOP("ft::StepStatus", "Installing")},
        {QStringLiteral("starting"), QT_TRANSLATE_NOOP("ft::StepStatus", "Starting the service")},
        {QStringLiteral("replaying"), QT_TRANSLATE_NOOP("ft::StepStatus", "Replaying the flows kept during the outage")},
        {QStringLiteral("checking"), QT_TRANSLATE_NOOP("ft::StepStatus", "Checking the version")},
        {QStringLiteral("flows"), QT_TRANSLATE_NOOP("ft::StepStatus", "Waiting for flows to arrive")},
        {QStringLiteral("done"), QT_TRANSLATE_NOOP("ft::StepStatus", "Done")},
    };
    const auto it = names.constFind(phase);
    return it == names.cend() ? phase : QCoreApplication::translate("ft::StepStatus", it.value());
}

QString skippedBy(const RunStepRecord &record)
{
    for (auto it = record.decisions.crbegin(); it != record.decisions.crend(); ++it) {
        if (it->decision != RunDecision::Skip)
            continue;
        if (it->by.isEmpty() || it->by == QLatin1String("administrator"))
            return tr("the administrator");
        return it->by;
    }
    return {};
}

StepStatus stepStatus(const RunStepRecord &record, RunState runState, const QString &runSentence,
                      const QDateTime &window)
{
    StepStatus status;
    switch (record.state) {
    case RunStepState::Succeeded:
        status.kind = StepStatusKind::Succeeded;
        status.word = tr("Succeeded");
        if (!record.versionAfter.isEmpty())
            status.detail = tr("now %1").arg(record.versionAfter);
        status.tint = QStringLiteral("#eaf6ec");
        return status;
    case RunStepState::AlreadyCurrent:
        status.kind = StepStatusKind::AlreadyCurrent;
        status.word = tr("Already current");
        status.tint = QStringLiteral("#eaf6ec");
        return status;
    case RunStepState::Failed:
        status.kind = StepStatusKind::Failed;
        status.word = record.attempts > 1 ? tr("Failed (attempt %1)").arg(record.attempts) : tr("Failed");
        status.detail = record.error.isEmpty() ? tr("see its log") : record.error;
        status.tint = QStringLiteral("#fdecea");
        return status;
    case RunStepState::Skipped: {
        status.kind = StepStatusKind::Skipped;
        status.word = tr("Skipped");
        const QString by = skippedBy(record);
        status.detail = by.isEmpty() ? tr("left on its old version")
                                     : tr("by %1; left on its old version").arg(by);
        status.tint = QStringLiteral("#fdf6e3");
        return status;
    }
    case RunStepState::Starting:
    case RunStepState::Running:
        status.kind = record.attempts > 1 ? StepStatusKind::Retrying : StepStatusKind::Running;
        status.word = record.attempts > 1 ? tr("Retrying (attempt %1)").arg(record.attempts)
                                          : tr("Running");
        status.detail = record.state == RunStepState::Starting ? tr("Asking the agent to start")
                                                               : phaseDisplayName(record.phase);
        status.tint = record.attempts > 1 ? QStringLiteral("#fff4e0") : QStringLiteral("#e8f0fb");
        return status;
    case RunStepState::Pending:
        break;
    }

    // Pending: why it waits, or why it will not run.
    if (runHasEnded(runState)) {
        status.kind = StepStatusKind::NotRun;
        status.word = tr("Not run");
        if (record.deferred && record.attempts > 0)
            status.detail = tr("deferred after attempt %1 failed; the run ended before it was tried again")
                                .arg(record.attempts);
        else if (runState == RunState::Aborted)
            status.detail = tr("the run was aborted before this step");
        else if (runState == RunState::Halted)
            status.detail = runSentence.isEmpty() ? tr("the run halted before this step")
                                                  : tr("the run halted before this step (%1)").arg(runSentence);
        else
            status.detail = tr("the run ended before this step");
        status.tint = QStringLiteral("#eeeeee");
        return status;
    }
    if (record.deferred) {
        status.kind = StepStatusKind::Deferred;
        status.word = tr("Deferred");
        status.detail = record.attempts > 0 ? tr("tried again at the end of the run (it failed on attempt %1)")
                                                  .arg(record.attempts)
                                            : tr("tried at the end of the run");
        status.tint = QStringLiteral("#fdf6e3");
        return status;
    }
    if (runState == RunState::Staging || runState == RunState::Reconciling || runState == RunState::Idle) {
        status.kind = StepStatusKind::Staging;
        status.word = runState == RunState::Reconciling ? tr("Checking the node") : tr("Staging");
        status.detail = runState == RunState::Reconciling
                            ? tr("comparing the node with the journal")
                            : tr("the packages are copied and verified first; nothing is stopped yet");
        return status;
    }
    status.kind = StepStatusKind::Pending;
    status.word = tr("Pending");
    if (runState == RunState::Paused && window.isValid())
        status.detail = tr("staged; waits for the announced window at %1")
                            .arg(window.toLocalTime().toString(QStringLiteral("HH:mm")));
    else if (runState == RunState::Paused || runState == RunState::Pausing)
        status.detail = tr("the run is paused");
    else if (runState == RunState::Aborting)
        status.detail = tr("will not run: the run is being aborted");
    else if (runState == RunState::WaitingForDecision)
        status.detail = tr("waits for the answer to a failure");
    else
        status.detail = tr("waits for its turn");
    return status;
}

} // namespace ft

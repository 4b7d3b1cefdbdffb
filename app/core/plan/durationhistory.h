#pragma once

#include "model/domain.h"
#include "plan/estimate.h"
#include "model/expected.h"

#include <QDateTime>
#include <QList>
#include <QString>

namespace ft {

enum class StepOutcome { Succeeded, Failed, Cancelled };

QString toString(StepOutcome outcome); // "succeeded" | "failed" | "cancelled"
Expected<StepOutcome> parseStepOutcome(const QString &text);

// One upgrade step as the run engine measured it.
struct MeasuredStep
{
    QString clusterId;  // stable id of the cluster (e.g. the portal's name or address)
    QString node;
    OsKind os = OsKind::Linux;
    Component component = Component::Server;
    PhaseDurations phases;
    qint64 totalMs = 0; // wall time of the step; 0 means "the sum of the phases"
    StepOutcome outcome = StepOutcome::Succeeded;
    QDateTime recordedAt; // UTC; null means "now"
};

// Durations measured on this cluster in earlier runs, kept in a SQLite file through
// QtSql, so later plans estimate from what really happened. Use one object per thread
// (QtSql connections belong to the thread that opened them).
class DurationHistory
{
public:
    static constexpr int kSchemaVersion = 1;
    static constexpr int kDefaultRuns = 5;

    DurationHistory();
    ~DurationHistory();
    DurationHistory(const DurationHistory &) = delete;
    DurationHistory &operator=(const DurationHistory &) = delete;

    // Opens (creating if needed) the history file. A file written by a newer wizard
    // or one that is not a history is an error and is left untouched.
    Result open(const QString &path);
    bool isOpen() const;
    void close();
    QString path() const { return m_path; }

    Result record(const MeasuredStep &step);

    // Every recorded step of a cluster, oldest first.
    Expected<QList<MeasuredStep>> steps(const QString &clusterId) const;

    // The median of the last `runs` successful runs of this node (same OS and
    // component), else of this OS and component anywhere in the cluster, else the
    // default. The basis sentence says which.
    DurationEstimate estimate(const QString &clusterId, OsKind os, Component component,
                              const QString &node, const EstimateDefaults &defaults,
                              int runs = kDefaultRuns) const;

private:
    Result migrate();
    QList<MeasuredStep> lastSuccessful(const QString &clusterId, OsKind os, Component component,
                                       const QString &node, int runs) const;

    QString m_connectionName;
    QString m_path;
};

// The median of durations measured in earlier runs, per phase, with the total and
// outage as the medians of the runs' own totals and outages.
DurationEstimate medianEstimate(const QList<MeasuredStep> &runs);

} // namespace ft

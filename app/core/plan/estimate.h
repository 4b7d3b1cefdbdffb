#pragma once

#include "model/domain.h"
#include "model/expected.h"

#include <QHash>
#include <QString>

namespace ft {

// The agent's upgrade phases (API.md: stopping → installing → starting → checking).
// The FlowTraq service is down from the start of stopping to the end of starting;
// checking runs against the new, already running service.
struct PhaseDurations
{
    qint64 stoppingMs = 0;
    qint64 installingMs = 0;
    qint64 startingMs = 0;
    qint64 checkingMs = 0;

    qint64 totalMs() const { return stoppingMs + installingMs + startingMs + checkingMs; }
    qint64 outageMs() const { return stoppingMs + installingMs + startingMs; }
    bool isEmpty() const { return totalMs() == 0; }
    bool operator==(const PhaseDurations &) const = default;
};

// Where a figure comes from, so every outage figure can say what it is made of.
enum class EstimateSource { Default, Measured };

QString toString(EstimateSource source); // "default" | "measured"

// How long one upgrade step takes and how long its service is down.
struct DurationEstimate
{
    qint64 totalMs = 0;   // the whole step, checks included
    qint64 outageMs = 0;  // the service (or the Web UI) is unavailable
    PhaseDurations phases;
    EstimateSource source = EstimateSource::Default;
    int runs = 0;         // measured runs the median was taken over (Measured only)
    QString basis;        // a sentence: "built-in default for …" / "median of 5 runs on w1"
};

// The built-in figures used until a cluster has measured runs of its own. They live
// in resources/default-estimates.json; builtIn() holds the same numbers so the core
// works without any file, and the estimates test keeps the two in step.
class EstimateDefaults
{
public:
    static EstimateDefaults builtIn();
    // Reads a defaults file (same format as resources/default-estimates.json). A bad
    // file is an error naming what is wrong; nothing is half-applied.
    static Expected<EstimateDefaults> fromFile(const QString &path);
    static Expected<EstimateDefaults> fromJson(const QByteArray &json, const QString &origin);
    // The override file when one is given, else the compiled-in resource
    // (":/ft/default-estimates.json") when present, else builtIn().
    static Expected<EstimateDefaults> load(const QString &overridePath = {});

    // A default estimate for a step; its basis sentence names the origin.
    DurationEstimate upgrade(Component component, OsKind os) const;
    PhaseDurations phases(Component component, OsKind os) const;
    void setPhases(Component component, OsKind os, const PhaseDurations &phases);

    // Assumed throughput of staging, for the whole wizard (all nodes together).
    qint64 stagingBytesPerSecond() const { return m_stagingBytesPerSecond; }
    void setStagingBytesPerSecond(qint64 bytesPerSecond);
    qint64 stagingMs(qint64 bytes) const;

    // "built-in defaults" or the file the figures came from.
    QString origin() const { return m_origin; }

private:
    static int key(Component component, OsKind os);

    QHash<int, PhaseDurations> m_phases;
    qint64 m_stagingBytesPerSecond = 50LL * 1024 * 1024;
    QString m_origin;
};

// "4 min", "1 min 30 s", "45 s", "1 h 5 min": short durations for sentences and tables.
QString formatDuration(qint64 ms);

// Flow records a node loses while its service is down: its rate × the downtime.
qint64 flowsLost(double flowsPerSecond, qint64 outageMs);

} // namespace ft

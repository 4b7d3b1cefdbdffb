#pragma once

#include "model/domain.h"
#include "plan/estimate.h"
#include "model/version.h"

#include <QDateTime>
#include <QList>
#include <QString>
#include <QStringList>

namespace ft {

// What a step's outage means for the people using FlowTraq.
struct StepImpact
{
    bool receivesFlows = false;
    double flowsPerSecond = 0; // the node's rate at discovery (last minute)
    qint64 flowsLost = 0;      // flowsPerSecond × the estimated outage; 0 when kept
    // "Keep flows during the outage": the node's agent keeps the flows it receives while
    // the service is down and replays them from the exporters' own addresses (Linux).
    bool keepFlows = false;
    QString sentence;          // for users: "No queries at all for about 4 min …"
};

// One component upgraded on one node.
struct PlanStep
{
    QString node;
    NodeRole role = NodeRole::Worker;
    OsKind os = OsKind::Linux;
    Component component = Component::Server;
    Version fromVersion;
    Version toVersion;
    QString packageFile;    // file name of the package to install
    bool skipped = false;
    QString skipReason;     // a sentence, when skipped
    DurationEstimate estimate;
    StepImpact impact;
    qint64 startOffsetMs = 0; // from the plan's start (staging included)
};

// Steps that run at the same time; the next wave starts when all of them are done.
struct PlanWave
{
    QString title;          // "Worker w1", "Workers w1, w2", "Portal server", "NBI", "Web UI"
    QList<PlanStep> steps;
    qint64 startOffsetMs = 0;
    qint64 durationMs = 0;  // the longest step
};

// Packages staged and verified on one node before any service stops.
struct StageEntry
{
    QString node;
    QList<Component> components;
    QStringList packageFiles;
    qint64 bytes = 0;
};

// The ordered rolling upgrade: a Stage phase, then the waves, with estimates.
struct UpgradePlan
{
    QDateTime startTime;          // UTC; when the administrator means to start
    QList<StageEntry> stage;
    qint64 stageDurationMs = 0;
    QString stageBasis;           // how the staging time was estimated
    QList<PlanWave> waves;
    QList<PlanStep> skipped;      // nodes/components already current or not reachable
    QStringList warnings;         // planner choices the administrator should know about
    int maxWorkersDown = 1;       // effective (after clamping)
    // A worker upgraded first, alone; the run halts after it for a confirmation (used
    // when an installer's switches were typed, not documented). Empty: none.
    QString canaryNode;

    qint64 wallTimeMs = 0;            // staging + every wave
    qint64 mixedVersionStartMs = -1;  // offset when servers start running mixed versions
    qint64 mixedVersionWindowMs = 0;  // how long they do
    qint64 totalFlowsLost = 0;

    bool nothingToDo() const { return waves.isEmpty(); }
    int stepCount() const;
    QList<PlanStep> allSteps() const; // wave steps in order, then skipped ones
};

} // namespace ft

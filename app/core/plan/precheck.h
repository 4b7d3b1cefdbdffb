#pragma once

#include "model/nodestatus.h"
#include "model/upgradetarget.h"

#include <QJsonArray>
#include <QList>
#include <QString>

namespace ft {

// Errors block the upgrade; warnings need the administrator's acknowledgement;
// notices only inform (e.g. a node already at the target is skipped).
enum class PreCheckSeverity { Error, Warning, Notice };

QString toString(PreCheckSeverity severity); // "error" | "warning" | "notice"

// Stable ids of the checks, for the GUI, the CLI's JSON and tests.
namespace PreCheckId {
inline constexpr char NoNodes[] = "no-nodes";
inline constexpr char Unreachable[] = "unreachable";
inline constexpr char AgentTooOld[] = "agent-too-old";
inline constexpr char Busy[] = "busy";
inline constexpr char DiskSpace[] = "disk-space";
inline constexpr char DiskUnknown[] = "disk-unknown";
inline constexpr char NbiCount[] = "nbi-count";
inline constexpr char PortalCount[] = "portal-count";
inline constexpr char NoPortal[] = "no-portal";
inline constexpr char MixedVersions[] = "mixed-versions";
inline constexpr char AlreadyCurrent[] = "already-current";
inline constexpr char NothingToDo[] = "nothing-to-do";
inline constexpr char Package[] = "package";
inline constexpr char OsMismatch[] = "os-mismatch";
inline constexpr char Downgrade[] = "downgrade";
inline constexpr char ServiceStopped[] = "service-stopped";
} // namespace PreCheckId

struct PreCheckFinding
{
    PreCheckSeverity severity = PreCheckSeverity::Error;
    QString check;   // a PreCheckId
    QString node;    // empty when it concerns the cluster or a package
    QString message; // a sentence for the administrator
};

struct PreCheckOptions
{
    int minAgentApi = 1;
    QString minAgentVersion = QStringLiteral("0.1.0");
    double stagingMargin = 2.0; // free space needed: package bytes × this
};

struct PreCheckReport
{
    QList<PreCheckFinding> findings;

    bool hasErrors() const;
    bool hasWarnings() const;
    QList<PreCheckFinding> withSeverity(PreCheckSeverity severity) const;
    bool contains(const QString &check, const QString &node = {}) const;
    // True when nothing blocks: no errors, and warnings (if any) acknowledged.
    bool allowsStart(bool warningsAcknowledged) const;
    QJsonArray toJson() const;
};

// Checks the discovered nodes and the chosen packages before anything is planned or
// staged. Pure: it looks only at what discovery reported. Findings come errors first,
// then warnings, then notices; within each, cluster-wide ones first, then by node
// name (natural order).
PreCheckReport runPreChecks(const QList<NodeStatus> &nodes, const UpgradeTarget &target,
                            const PreCheckOptions &options = {});

// Bytes of the packages a node needs staged for this target (0 when none).
qint64 stagingBytesFor(const NodeStatus &node, const UpgradeTarget &target);

// The components a reachable node needs upgraded for this target, in upgrade order
// (server, NBI, Web UI): those that live on it and run a lower version than chosen.
QList<Component> componentsToUpgrade(const NodeStatus &node, const UpgradeTarget &target);

} // namespace ft

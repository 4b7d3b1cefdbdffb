#pragma once

#include "model/domain.h"
#include "model/expected.h"
#include "model/version.h"

#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QHash>
#include <QString>
#include <QUrl>

#include <optional>

namespace ft {

// One source's answer about a component's version (the agent's chain of sources:
// registry, dpkg, rpm, version_command, version_file; or the wizard's Web API).
struct VersionReading
{
    QString source;
    QString detail;   // what was asked
    QString version;  // empty when it failed
    QString error;    // a sentence when it failed
};

// One component's installed state on a node.
struct ComponentState
{
    bool installed = false;
    Version version; // null when not installed
    QString source{};  // which source the version came from ("" from older agents)
    QList<VersionReading> readings{}; // every source asked, in chain order
    bool disagreement = false;      // sources that answered name different versions
    QString error{};   // no source knew and at least one failed: why

    // "6.2.1-1200 (dpkg)", plus every disagreeing reading; for tables and tooltips.
    QString versionText() const;
    QString sourcesText() const;
};

// What the wizard knows about one node: its agent's answer to GET /v1/node, plus
// whether it could be reached at all. Unreachable nodes keep their address and the
// reason, so the administrator sees why.
struct NodeStatus
{
    // Identity and address
    QString name;
    QUrl agentUrl;           // https://host:port
    QString fingerprint;     // pinned SHA-256 of the agent's certificate (hex)

    // Reachability
    bool probing = false;   // a probe is on its way (discovery)
    bool reachable = false;
    QString unreachableReason; // a sentence, e.g. "no answer after 5 s"
    // First contact: the agent answered with a certificate nobody has trusted yet.
    // presentedFingerprint is what it showed, for the administrator to confirm.
    bool untrusted = false;
    QString presentedFingerprint;

    // From the agent
    QString hostname;
    NodeRole role = NodeRole::Worker;
    OsKind os = OsKind::Linux;
    QString arch;
    QString agentVersion;
    int apiVersion = 0;
    QString installDir;
    ComponentState server;
    ComponentState nbi;
    ComponentState webUi;
    QString serviceName;
    ServiceState service = ServiceState::Unknown;
    bool receivesFlows = false;
    int flowPort = 0;
    double flowsPerSecond = 0;        // last minute
    double flowsPerSecondRecent = 0;  // last 10 s
    // Whether the rate above was measured; when not, why (never read a 0 as quiet).
    bool flowRateMeasured = true;
    QString flowRateSource;           // agent_capture | sandbox_status | none
    QString flowRateNotMeasuredReason;
    QDateTime lastFlowAt;
    QString stagingDir;
    // The install command template per vendor format ("msi", "deb", …) as the agent is
    // configured (GET /v1/node "installers"); empty from older agents.
    QHash<QString, QString> installerCommands;
    qint64 freeBytes = -1;
    bool busy = false;

    const ComponentState &component(Component which) const;
    ComponentState &component(Component which);

    // Parses the agent's /v1/node answer. Missing optional fields keep their defaults;
    // a wrong type or an unparsable version is an error naming the field.
    static Expected<NodeStatus> fromAgentJson(const QJsonObject &json);
    QJsonObject toJson() const;
};

// One member as a portal's configuration lists it (GET /v1/cluster).
struct ClusterMember
{
    QString name;
    QString host;
    int tcpPort = 0;
    int agentPort = 0;
};

struct ClusterListing
{
    NodeRole role = NodeRole::Worker;
    QString portal;
    QString source; // where the agent read the members: "agent.conf", "sandbox flowtraq.conf", "none"
    QList<ClusterMember> members;

    static Expected<ClusterListing> fromAgentJson(const QJsonObject &json);
};

} // namespace ft

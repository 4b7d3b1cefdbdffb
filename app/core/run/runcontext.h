#pragma once

#include <QDateTime>

#include "agentlink/agentclient.h"
#include "model/expected.h"
#include "run/runjournal.h"

#include <QHostAddress>
#include <QSslConfiguration>
#include <QString>

#include <functional>

namespace ft {

class DurationHistory;

// How the packages get to the nodes.
enum class PackageDelivery {
    Portal,      // uploaded once to the portal's agent; every node fetches it from there
    Workstation, // served from this workstation (a PackageServer); the nodes must reach it
    Url,         // already on a file server the administrator names
};
QString toString(PackageDelivery delivery);
Expected<PackageDelivery> parsePackageDelivery(const QString &text);

struct RunOptions;
// The delivery part of the options as the journal keeps it, and back (a resumed run).
RunDelivery deliveryRecord(const RunOptions &options);
Result applyDeliveryRecord(const RunDelivery &record, RunOptions *options);
// "host" or "host:port" (IPv6 in brackets with a port): a clear sentence when it is not.
Result checkHostAndPort(const QString &text);

struct RunOptions
{
    // The announced window's start (UTC): staging starts at once, the first service stops
    // no sooner. Null: as soon as staging is done. Kept in the journal for a resume.
    QDateTime announcedStart;

    // Default: through the portal's agent, so the workstation needs no inbound
    // connection and its link carries each package once.
    PackageDelivery delivery = PackageDelivery::Portal;
    // Portal: the portal's agent (pin and token); empty: the plan's portal node.
    AgentEndpoint portal;
    // Url: the folder the packages are in (the URL of each is this + its file name),
    // and optionally the SHA-256 of its https certificate to pin.
    QUrl deliveryUrl;
    QString deliveryFingerprint;
    // Portal: the host (or host:port) at which the nodes reach the portal's agent when it
    // is not the one this workstation uses (NAT, a second interface); empty: the same.
    QString portalAddressForNodes;

    // Failures are answered by decide() (Ask), or by the policy without asking.
    FailurePolicy onFailure = FailurePolicy::Ask;
    // The run halts (asks) once this many nodes have failed, whatever the policy;
    // 0 means no limit.
    int stopAfterFailedNodes = 1;
    // The agent stops an installer that runs longer. 0: 4 × the step's estimate, at
    // least 10 minutes.
    int installerTimeoutSeconds = 0;
    // "Taking longer than expected" once a step runs slowFactor × its estimate plus
    // slowGraceMs.
    double slowFactor = 1.5;
    qint64 slowGraceMs = 60000;
    // Nodes staging at once.
    int stageConcurrency = 8;
    // After a flow-receiving server restarts: how long to wait for flows to arrive again.
    qint64 flowResumeTimeoutMs = 60000;
    // How long each poll of an agent job may be held (long poll).
    qint64 pollWaitMs = 25000;
    // Where the journal goes (required) and the audit log (default: journal + ".log").
    QString journalPath;
    QString auditLogPath;
    // The package server: the workstation's address facing the nodes.
    QHostAddress serveAddress = QHostAddress(QHostAddress::LocalHost);
    quint16 servePort = 0;
    QString advertisedHost;
    // Certificate and key to serve the packages over HTTPS (the agents pin the
    // certificate's SHA-256); null: plain HTTP, the package's SHA-256 still verified.
    QSslConfiguration tls;
    QString clusterId; // key in the duration history
};

// What a live progress pane shows for one step.
struct RunStepProgress
{
    RunStepState state = RunStepState::Pending;
    QString phase;          // stopping, installing, starting, checking, flows, …
    double progress = 0;    // 0…1, the agent's
    qint64 elapsedMs = 0;
    qint64 estimateMs = 0;
    QString lastLogLine;
    bool slow = false;
};

// The agent of a node by name (pin and token included), or an error sentence.
using RunEndpointLookup = std::function<Expected<AgentEndpoint>(const QString &node)>;

// What the parts of a run share: the engine owns one, and the Stager, the StepRunner
// and the Reconciler work on it by reference, so all of them see one journal and one
// set of options (a test builds one of its own to drive a part alone).
struct RunContext
{
    AgentClient *client = nullptr;
    RunEndpointLookup lookup;
    DurationHistory *history = nullptr; // may be null: nothing is recorded
    RunOptions options;
    RunJournal journal;

    // The node's agent, or why there is none.
    Expected<AgentEndpoint> endpoint(const QString &node) const;
};

// "Server on w1": how the audit log and the sentences name a step.
QString runStepName(const RunStepRecord &record);

} // namespace ft

Q_DECLARE_METATYPE(ft::RunStepProgress)

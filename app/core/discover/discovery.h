#pragma once

#include "agentlink/agentclient.h"
#include "discover/nodelist.h"
#include "model/nodestatus.h"
#include "webapi/webapiinfo.h"

#include <QElapsedTimer>
#include <QHash>
#include <QList>
#include <QObject>
#include <QPointer>

#include <functional>

namespace ft {

class AgentJob;

// Finds the cluster's nodes and probes them: the portal's member list first, then
// every node in parallel (bounded), each with its own time-out. Rows appear as soon
// as the member list is known and fill in as probes answer, so a view never waits
// for the slowest node. A node whose certificate nobody trusted yet is probed for
// its fingerprint only and reported as untrusted; nothing is sent to it.
class ClusterDiscovery : public QObject
{
    Q_OBJECT

public:
    // Pinned fingerprint for an agent URL, "" when none is trusted yet.
    using FingerprintLookup = std::function<QString(const QUrl &agentUrl)>;

    explicit ClusterDiscovery(AgentClient *client, QObject *parent = nullptr);
    ~ClusterDiscovery() override;

    // The portal's agent, with its pinned fingerprint and the cluster's token.
    void setPortal(const AgentEndpoint &portal) { m_portal = portal; }
    const AgentEndpoint &portal() const { return m_portal; }
    void setFingerprintLookup(FingerprintLookup lookup) { m_lookup = std::move(lookup); }
    // Probes in flight at once (default 64) and each probe's time-out (default 5 s).
    void setConcurrency(int concurrency) { m_concurrency = std::max(1, concurrency); }
    void setProbeTimeout(std::chrono::milliseconds timeout) { m_timeout = timeout; }
    // FlowTraq's own Web API on the portal (optional): its version becomes one more
    // source ("webapi") of the portal's server version.
    void setWebApi(const WebApiSettings &settings) { m_webApi = settings; }
    const WebApiSettings &webApi() const { return m_webApi; }
    // Agent port for members whose configuration does not name one.
    void setDefaultAgentPort(int port) { m_defaultAgentPort = port; }

    // Starts (or restarts) discovery. finished() follows once every probe answered.
    void start();
    // A node the portal does not list (added by hand); probed at once when running
    // or finished. Returns its row, or -1 when a node with that URL is already there.
    int addNode(const QString &name, const QUrl &agentUrl);
    // Nodes the administrator listed (pasted or imported on the Connect page); they are
    // probed with the portal's members from the next start() on.
    void setListedNodes(const QList<ListedNode> &nodes) { m_listed = nodes; }
    const QList<ListedNode> &listedNodes() const { return m_listed; }
    // Where a node came from, for people: "the portal agent's agent.conf", "your list", …
    QStringList listedBy(const NodeStatus &node) const;
    // With a list of the administrator's: every node that only one of the two names.
    QStringList membershipWarnings() const;
    // Probes one row again (after the administrator trusted its certificate).
    void reprobe(int row);

    bool isRunning() const { return m_running; }
    const QList<NodeStatus> &nodes() const { return m_nodes; }
    // Why the member list could not be read ("" when it could).
    QString memberListError() const { return m_memberListError; }
    // Wall time of the last complete discovery, in milliseconds.
    qint64 elapsedMilliseconds() const { return m_elapsedMs; }

Q_SIGNALS:
    // Rows were added or the list was replaced: rows [first, last] are new.
    void nodesAdded(int first, int last);
    void nodeUpdated(int row);
    void finished();

private:
    AgentEndpoint endpointFor(const NodeStatus &node) const;
    void onClusterListed(const ClusterListing &listing);
    void addListedNodes();
    void noteSource(const QUrl &url, const QString &source);
    int appendNode(const QString &name, const QUrl &url);
    int insertNode(NodeStatus node); // appends the row and indexes it; returns the row
    void schedule(int row);
    void pump();
    void probe(int row);
    void onProbeFinished(int row, AgentJob *job);
    void askWebApi(int row);
    void checkFinished();

    QPointer<AgentClient> m_client;
    AgentEndpoint m_portal;
    FingerprintLookup m_lookup;
    int m_concurrency = 64;
    std::chrono::milliseconds m_timeout{5000};
    int m_defaultAgentPort = 9650;
    WebApiSettings m_webApi;

    QList<NodeStatus> m_nodes;
    // Rows by agent (lower-case host and port) and by name: finding a node already
    // there stays linear in the number of members (2,000 and more).
    QHash<QString, int> m_rowByAgent;
    QHash<QString, int> m_rowByName;
    QList<int> m_queue;
    int m_inFlight = 0;
    bool m_listing = false;
    bool m_running = false;
    int m_generation = 0; // probes of an earlier start() are ignored
    QString m_memberListError;
    QList<ListedNode> m_listed;
    QHash<QString, QStringList> m_listedBy; // agent URL (host:port) → where it was listed
    bool m_memberListRead = false;
    QElapsedTimer m_clock;
    qint64 m_elapsedMs = 0;
};

} // namespace ft

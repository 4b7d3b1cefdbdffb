#include "discover/discovery.h"

#include "webapi/webapiinfojob.h"
#include "webapi/webapireading.h"

#include "agentlink/agentjobs.h"
#include "agentlink/trustedcertificates.h"

#include <QCoreApplication>

namespace ft {

namespace {

bool sameAgent(const QUrl &a, const QUrl &b)
{
    return a.host().compare(b.host(), Qt::CaseInsensitive) == 0 && a.port() == b.port();
}

// What sameAgent() compares, as a key: host (any case) and port.
QString agentKey(const QUrl &url)
{
    return url.host().toLower() + QLatin1Char(':') + QString::number(url.port());
}

} // namespace

ClusterDiscovery::ClusterDiscovery(AgentClient *client, QObject *parent)
    : QObject(parent)
    , m_client(client)
{}

ClusterDiscovery::~ClusterDiscovery() = default;

void ClusterDiscovery::start()
{
    ++m_generation;
    m_nodes.clear();
    m_rowByAgent.clear();
    m_rowByName.clear();
    m_queue.clear();
    m_inFlight = 0;
    m_memberListError.clear();
    m_listedBy.clear();
    m_memberListRead = false;
    m_running = true;
    m_listing = true;
    m_clock.start();

    // The portal is row 0 from the start, so a view shows it while its list is read.
    appendNode(m_portal.nodeName, m_portal.url);
    noteSource(m_portal.url, tr("you connected to it"));

    auto *job = new FetchClusterJob(m_client, m_portal, this);
    job->setTimeout(m_timeout);
    const int generation = m_generation;
    connect(job, &AgentJob::finished, this, [this, job, generation] {
        if (generation != m_generation)
            return;
        m_listing = false;
        if (job->error() == AgentJob::NoError) {
            m_memberListRead = true;
            onClusterListed(job->cluster());
        } else {
            m_memberListError = job->errorString();
        }
        addListedNodes();
        // The portal's own probe tells the administrator more than the list error.
        schedule(0);
    });
    job->start();
}

int ClusterDiscovery::appendNode(const QString &name, const QUrl &url)
{
    if (m_rowByAgent.contains(agentKey(url)))
        return -1;
    NodeStatus node;
    node.name = name.isEmpty() ? TrustedCertificates::addressOf(url) : name;
    node.agentUrl = url;
    node.probing = true;
    const int row = insertNode(std::move(node));
    Q_EMIT nodesAdded(row, row);
    return row;
}

int ClusterDiscovery::insertNode(NodeStatus node)
{
    const int row = int(m_nodes.size());
    m_rowByAgent.insert(agentKey(node.agentUrl), row);
    if (!m_rowByName.contains(node.name))
        m_rowByName.insert(node.name, row); // the first row of a name is the one that counts
    m_nodes.append(std::move(node));
    return row;
}

void ClusterDiscovery::noteSource(const QUrl &url, const QString &source)
{
    QStringList &sources = m_listedBy[TrustedCertificates::addressOf(url)];
    if (!sources.contains(source))
        sources.append(source);
}

QStringList ClusterDiscovery::listedBy(const NodeStatus &node) const
{
    return m_listedBy.value(TrustedCertificates::addressOf(node.agentUrl));
}

QStringList ClusterDiscovery::membershipWarnings() const
{
    QStringList warnings;
    if (m_listed.isEmpty() || !m_memberListRead)
        return warnings;
    const QString yours = tr("your list");
    for (int row = 1; row < m_nodes.size(); ++row) {
        const NodeStatus &node = m_nodes.at(row);
        const QStringList sources = listedBy(node);
        const bool inYours = sources.contains(yours);
        if (inYours && sources.size() == 1)
            warnings.append(tr("%1 is in your list but not in the portal's member list; check both.").arg(node.name));
        else if (!inYours && !sources.isEmpty())
            warnings.append(tr("%1 is in the portal's member list (%2) but not in your list; check both.")
                                .arg(node.name, sources.join(QStringLiteral(", "))));
    }
    return warnings;
}

void ClusterDiscovery::addListedNodes()
{
    const int first = int(m_nodes.size());
    const QString yours = tr("your list");
    for (const ListedNode &listed : std::as_const(m_listed)) {
        QUrl url;
        url.setScheme(QStringLiteral("https"));
        url.setHost(listed.host);
        url.setPort(listed.agentPort);
        // A node already there (same agent, or same name) is this one: the first row
        // that matches, as the nodes were added.
        int known = m_rowByAgent.value(agentKey(url), -1);
        const int byName = m_rowByName.value(listed.name, -1);
        if (byName >= 0 && (known < 0 || byName < known))
            known = byName;
        if (known >= 0) {
            noteSource(m_nodes.at(known).agentUrl, yours);
            continue;
        }
        NodeStatus node;
        node.name = listed.name;
        node.agentUrl = url;
        node.probing = true;
        insertNode(std::move(node));
        noteSource(url, yours);
    }
    const int last = int(m_nodes.size()) - 1;
    if (last >= first)
        Q_EMIT nodesAdded(first, last);
    for (int row = first; row <= last; ++row)
        schedule(row);
}

void ClusterDiscovery::onClusterListed(const ClusterListing &listing)
{
    const QString source = listing.source == QLatin1String("agent.conf")
                               ? tr("the portal agent's agent.conf")
                           : listing.source.isEmpty() || listing.source == QLatin1String("none")
                               ? tr("the portal's member list")
                               : tr("the portal's %1").arg(listing.source);
    const int first = int(m_nodes.size());
    for (const ClusterMember &member : listing.members) {
        QUrl url;
        url.setScheme(QStringLiteral("https"));
        url.setHost(member.host);
        url.setPort(member.agentPort > 0 ? member.agentPort : m_defaultAgentPort);
        NodeStatus node;
        node.name = member.name;
        node.agentUrl = url;
        node.role = NodeRole::Worker;
        node.probing = true;
        noteSource(url, source);
        if (!m_rowByAgent.contains(agentKey(url)))
            insertNode(std::move(node));
    }
    const int last = int(m_nodes.size()) - 1;
    if (last >= first)
        Q_EMIT nodesAdded(first, last);
    for (int row = first; row <= last; ++row)
        schedule(row);
}

int ClusterDiscovery::addNode(const QString &name, const QUrl &agentUrl)
{
    const int row = appendNode(name, agentUrl);
    if (row >= 0 && !m_listing) {
        m_running = true;
        schedule(row);
    }
    return row;
}

void ClusterDiscovery::reprobe(int row)
{
    if (row < 0 || row >= m_nodes.size())
        return;
    m_nodes[row].probing = true;
    m_nodes[row].unreachableReason.clear();
    m_nodes[row].untrusted = false;
    Q_EMIT nodeUpdated(row);
    if (!m_running) {
        m_running = true;
        m_clock.start();
    }
    schedule(row);
}

AgentEndpoint ClusterDiscovery::endpointFor(const NodeStatus &node) const
{
    AgentEndpoint endpoint;
    endpoint.nodeName = node.name;
    endpoint.url = node.agentUrl;
    endpoint.token = m_portal.token;
    if (sameAgent(node.agentUrl, m_portal.url) && !m_portal.fingerprint.isEmpty())
        endpoint.fingerprint = m_portal.fingerprint;
    else if (m_lookup)
        endpoint.fingerprint = m_lookup(node.agentUrl);
    return endpoint;
}

void ClusterDiscovery::schedule(int row)
{
    m_queue.append(row);
    pump();
}

void ClusterDiscovery::pump()
{
    while (m_inFlight < m_concurrency && !m_queue.isEmpty())
        probe(m_queue.takeFirst());
    checkFinished();
}

void ClusterDiscovery::probe(int row)
{
    const AgentEndpoint endpoint = endpointFor(m_nodes.at(row));
    AgentJob *job = nullptr;
    if (endpoint.fingerprint.isEmpty())
        job = new ProbeCertificateJob(m_client, endpoint, this); // first contact: look only
    else
        job = new FetchNodeJob(m_client, endpoint, this);
    job->setTimeout(m_timeout);
    ++m_inFlight;
    const int generation = m_generation;
    connect(job, &AgentJob::finished, this, [this, row, job, generation] {
        if (generation != m_generation)
            return;
        --m_inFlight;
        onProbeFinished(row, job);
        pump();
    });
    job->start();
}

void ClusterDiscovery::onProbeFinished(int row, AgentJob *job)
{
    NodeStatus &node = m_nodes[row];
    node.probing = false;
    const QString name = node.name;
    const QUrl url = node.agentUrl;

    if (auto *certificateProbe = qobject_cast<ProbeCertificateJob *>(job)) {
        node.reachable = false;
        if (job->error() == AgentJob::NoError) {
            node.untrusted = true;
            node.presentedFingerprint = certificateProbe->fingerprint();
            node.unreachableReason = tr("Its certificate is not trusted yet (fingerprint %1).")
                                         .arg(TrustedCertificates::formatForPeople(
                                             node.presentedFingerprint));
        } else {
            node.unreachableReason = job->errorString();
        }
        Q_EMIT nodeUpdated(row);
        return;
    }

    auto *fetch = qobject_cast<FetchNodeJob *>(job);
    if (fetch && job->error() == AgentJob::NoError) {
        node = fetch->node();
        node.agentUrl = url;
        // The configuration's name is how the portal knows the node; keep it if the
        // agent calls itself something else.
        if (!name.isEmpty() && row > 0)
            node.name = name;
        if (m_webApi.isConfigured() && node.role != NodeRole::Worker)
            askWebApi(row);
    } else {
        node.reachable = false;
        node.unreachableReason = job->errorString();
    }
    Q_EMIT nodeUpdated(row);
}

void ClusterDiscovery::askWebApi(int row)
{
    auto *job = new WebApiInfoJob(m_webApi, this);
    ++m_inFlight;
    const int generation = m_generation;
    connect(job, &WebApiInfoJob::finished, this, [this, row, job, generation] {
        job->deleteLater();
        if (generation != m_generation)
            return;
        --m_inFlight;
        applyVersionReading(m_nodes[row].server, webApiReading(*job));
        Q_EMIT nodeUpdated(row);
        pump();
    });
    job->start();
}

void ClusterDiscovery::checkFinished()
{
    if (!m_running || m_listing || m_inFlight > 0 || !m_queue.isEmpty())
        return;
    m_running = false;
    m_elapsedMs = m_clock.elapsed();
    Q_EMIT finished();
}

} // namespace ft

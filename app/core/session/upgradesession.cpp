#include "session/upgradesession.h"

#include "agentlink/agentjobs.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QStandardPaths>
#include <QtConcurrent/QtConcurrentRun>

namespace ft {

UpgradeSession::UpgradeSession(QObject *parent)
    : QObject(parent)
    , m_client(new AgentClient(this))
    , m_discovery(new ClusterDiscovery(m_client, this))
{
    m_discovery->setFingerprintLookup([this](const QUrl &url) { return fingerprintFor(url); });
    connect(&m_unfinishedRunWatcher, &QFutureWatcherBase::finished, this, [this] {
        m_unfinishedRun = m_unfinishedRunWatcher.result();
        Q_EMIT unfinishedRunChecked();
    });
}

UpgradeSession::~UpgradeSession()
{
    m_unfinishedRunWatcher.waitForFinished();
}

void UpgradeSession::lookForUnfinishedRun(const QString &directory)
{
    if (m_unfinishedRunWatcher.isRunning())
        return; // the lookup under way answers
    m_unfinishedRun.reset();
    m_unfinishedRunWatcher.setFuture(QtConcurrent::run(&findUnfinishedRun, directory, clusterId()));
}

void UpgradeSession::setPortal(const AgentEndpoint &portal)
{
    m_discovery->setPortal(portal);
}

void UpgradeSession::addKnownFingerprint(const QUrl &agentUrl, const QString &fingerprint)
{
    if (const auto normalized = TrustedCertificates::normalize(fingerprint))
        m_knownFingerprints.insert(TrustedCertificates::addressOf(agentUrl), *normalized);
}

QString UpgradeSession::fingerprintFor(const QUrl &agentUrl) const
{
    const QString address = TrustedCertificates::addressOf(agentUrl);
    const QString known = m_knownFingerprints.value(address);
    return known.isEmpty() ? m_trusted.fingerprint(address) : known;
}

Result UpgradeSession::trustPresentedCertificate(int row)
{
    if (row < 0 || row >= nodes().size())
        return makeError(QCoreApplication::translate("ft::UpgradeSession", "No such node."));
    const NodeStatus &node = nodes().at(row);
    if (!node.untrusted || node.presentedFingerprint.isEmpty())
        return makeError(QCoreApplication::translate("ft::UpgradeSession",
                                                     "Node %1 has no certificate waiting to be trusted.")
                             .arg(node.name));
    if (Result trusted = m_trusted.trust(TrustedCertificates::addressOf(node.agentUrl),
                                         node.presentedFingerprint);
        !trusted)
        return trusted;
    m_discovery->reprobe(row);
    return {};
}

AgentEndpoint UpgradeSession::endpointFor(const NodeStatus &node) const
{
    AgentEndpoint endpoint;
    endpoint.nodeName = node.name;
    endpoint.url = node.agentUrl;
    endpoint.token = portal().token;
    endpoint.fingerprint = node.agentUrl == portal().url ? portal().fingerprint
                                                         : fingerprintFor(node.agentUrl);
    return endpoint;
}

void UpgradeSession::setPackage(Component slot, const PackageChoice &choice)
{
    m_target.package(slot) = choice;
    Q_EMIT targetChanged();
}

void UpgradeSession::clearPackage(Component slot)
{
    m_target.package(slot).reset();
    Q_EMIT targetChanged();
}

void UpgradeSession::setPlanOptions(const PlanOptions &options)
{
    m_planOptions = options;
    Q_EMIT planOptionsChanged();
}

QString UpgradeSession::defaultHistoryPath()
{
    const QString base = QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation);
    return QDir(base.isEmpty() ? QDir::tempPath() : base).filePath(QStringLiteral("history.sqlite"));
}

QString UpgradeSession::runsDirectory()
{
    const QString base = QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation);
    return QDir(base.isEmpty() ? QDir::tempPath() : base).filePath(QStringLiteral("runs"));
}

Result UpgradeSession::openHistory(const QString &path)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    return m_history.open(path);
}

QString UpgradeSession::clusterId() const
{
    return TrustedCertificates::addressOf(portal().url);
}

PreCheckReport UpgradeSession::preChecks() const
{
    return runPreChecks(nodes(), m_target);
}

UpgradePlan UpgradeSession::plan() const
{
    UpgradePlanner planner;
    if (m_history.isOpen())
        planner.setHistory(&m_history);
    PlanOptions options = m_planOptions;
    options.clusterId = clusterId();
    return planner.plan(nodes(), m_target, options);
}

void UpgradeSession::fetchFlowHistory()
{
    m_flowHistory.clear();
    m_flowHistoryErrors.clear();
    m_flowHistoryReady = false;
    m_flowHistoryPending = 0;
    for (const NodeStatus &node : nodes()) {
        if (!node.reachable || !node.receivesFlows)
            continue;
        auto *job = new FetchFlowHistoryJob(m_client, endpointFor(node), 24 * 28, this);
        ++m_flowHistoryPending;
        const QString name = node.name;
        connect(job, &AgentJob::finished, this, [this, job, name] {
            if (job->error() == AgentJob::NoError) {
                QList<HourlyFlows> hours;
                for (const FlowHourCount &hour : job->hours())
                    hours.append({hour.start, hour.flows});
                m_flowHistory.insert(name, hours);
            } else {
                m_flowHistoryErrors.append(job->errorString());
            }
            if (--m_flowHistoryPending == 0) {
                m_flowHistoryReady = true;
                Q_EMIT flowHistoryReady();
            }
        });
        job->start();
    }
    if (m_flowHistoryPending == 0) {
        // Nothing to fetch; still answer asynchronously, like every job here.
        QMetaObject::invokeMethod(this, [this] {
            m_flowHistoryReady = true;
            Q_EMIT flowHistoryReady();
        }, Qt::QueuedConnection);
    }
}

qint64 UpgradeSession::flowsLostAt(const UpgradePlan &plan, const QDateTime &start) const
{
    return QuietWindowFinder(m_flowHistory, flowOutages(plan)).lossAt(start);
}

QuietWindowFinder::Suggestion UpgradeSession::quietWindow(const UpgradePlan &plan,
                                                          const QDateTime &now) const
{
    return QuietWindowFinder(m_flowHistory, flowOutages(plan)).best(now);
}

} // namespace ft

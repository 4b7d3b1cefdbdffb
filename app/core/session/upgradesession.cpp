#include "session/upgradesession.h"

#include "agentlink/agentjobs.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QLocale>
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

void UpgradeSession::setPackage(Component slot, const PackageChoice &choice, int index)
{
    m_target.package(slot, index) = choice;
    Q_EMIT targetChanged();
}

void UpgradeSession::clearPackage(Component slot, int index)
{
    m_target.package(slot, index).reset();
    Q_EMIT targetChanged();
}

bool UpgradeSession::mixesOperatingSystems() const
{
    bool hasLinux = false, hasWindows = false;
    for (const NodeStatus &node : nodes()) {
        if (!node.reachable)
            continue;
        hasLinux = hasLinux || node.os == OsKind::Linux;
        hasWindows = hasWindows || node.os == OsKind::Windows;
    }
    return hasLinux && hasWindows;
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
    UpgradePlan plan = planner.plan(nodes(), m_target, options);
    applyFlowHistory(plan);
    return plan;
}

void UpgradeSession::applyFlowHistory(UpgradePlan &plan) const
{
    // One figure per start time everywhere (steps, summary, exports, notice): with a flow
    // history, each step's loss is the node's usual traffic in that hour, not the rate
    // seen at discovery.
    if (m_flowHistory.isEmpty() || !plan.startTime.isValid())
        return;
    qint64 total = 0;
    for (PlanWave &wave : plan.waves) {
        for (PlanStep &step : wave.steps) {
            // A node whose flows are kept and replayed loses none, whatever the hour.
            if (step.skipped || step.component != Component::Server || !step.impact.receivesFlows
                || step.impact.keepFlows)
                continue;
            const NodeOutage outage{step.node, step.startOffsetMs, step.estimate.outageMs,
                                    step.impact.flowsPerSecond};
            step.impact.flowsLost = QuietWindowFinder(m_flowHistory, {outage}).lossAt(plan.startTime);
            total += step.impact.flowsLost;
        }
    }
    plan.totalFlowsLost = total;
}

QString UpgradeSession::flowLossArithmetic(const UpgradePlan &plan) const
{
    QStringList parts;
    for (const PlanWave &wave : plan.waves) {
        for (const PlanStep &step : wave.steps) {
            if (step.skipped || step.component != Component::Server || !step.impact.receivesFlows)
                continue;
            if (step.impact.keepFlows) {
                parts.append(QCoreApplication::translate("ft::UpgradeSession", "%1: 0 (flows kept and replayed)")
                                 .arg(step.node));
                continue;
            }
            const double seconds = double(step.estimate.outageMs) / 1000.0;
            const double rate = seconds > 0 ? double(step.impact.flowsLost) / seconds : 0;
            parts.append(QCoreApplication::translate("ft::UpgradeSession", "%1: %2 flows/s × %3 = %4")
                             .arg(step.node, QLocale().toString(rate, 'f', rate < 10 ? 1 : 0),
                                  formatDuration(step.estimate.outageMs),
                                  QLocale().toString(step.impact.flowsLost)));
        }
    }
    if (parts.isEmpty())
        return {};
    const QString basis = m_flowHistory.isEmpty()
                              ? QCoreApplication::translate("ft::UpgradeSession", "the rates seen at discovery")
                              : QCoreApplication::translate("ft::UpgradeSession",
                                                            "each node's usual traffic at that hour");
    return QCoreApplication::translate("ft::UpgradeSession", "%1; from %2")
        .arg(parts.join(QStringLiteral(" + ")), basis);
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
    // Users are told first: no start sooner than the notice lead time.
    return QuietWindowFinder(m_flowHistory, flowOutages(plan)).best(now.addMSecs(m_noticeLeadMs));
}

} // namespace ft

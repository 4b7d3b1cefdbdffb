#pragma once

#include "session/deliverychoice.h"

#include "agentlink/agentclient.h"
#include "discover/discovery.h"
#include "plan/durationhistory.h"
#include "model/plan.h"
#include "plan/planner.h"
#include "plan/precheck.h"
#include "plan/quietwindow.h"
#include "run/runjournal.h"
#include "agentlink/trustedcertificates.h"
#include "model/upgradetarget.h"

#include <QFutureWatcher>
#include <QHash>
#include <QObject>

#include <memory>

namespace ft {

// Everything one upgrade of one cluster is about, shared by the wizard's pages and
// the CLI: the portal connection, what discovery found, the chosen packages, the
// planning options, and what follows from them (pre-checks, plan, quiet window).
// Derived results are computed on request, never cached out of step.
class UpgradeSession : public QObject
{
    Q_OBJECT

public:
    explicit UpgradeSession(QObject *parent = nullptr);
    ~UpgradeSession() override;

    AgentClient *client() const { return m_client; }
    ClusterDiscovery *discovery() const { return m_discovery; }
    TrustedCertificates &trustedCertificates() { return m_trusted; }

    // The portal's agent (pinned fingerprint and token). Discovery uses it.
    void setPortal(const AgentEndpoint &portal);
    const AgentEndpoint &portal() const { return m_discovery->portal(); }
    // Fingerprints known without asking (the sandbox launcher's cluster file).
    void addKnownFingerprint(const QUrl &agentUrl, const QString &fingerprint);
    // Pinned fingerprint for a node's agent: known ones, then trusted ones.
    QString fingerprintFor(const QUrl &agentUrl) const;
    // Trusts what the node presented at first contact and probes it again.
    Result trustPresentedCertificate(int row);
    // The endpoint (URL, pin, token) of a discovered node.
    AgentEndpoint endpointFor(const NodeStatus &node) const;

    const QList<NodeStatus> &nodes() const { return m_discovery->nodes(); }

    const UpgradeTarget &target() const { return m_target; }
    // index 1: the component's second package, for a cluster mixing Linux and Windows.
    void setPackage(Component slot, const PackageChoice &choice, int index = 0);
    void clearPackage(Component slot, int index = 0);
    // Discovery found reachable nodes of both systems: a second package slot is needed.
    bool mixesOperatingSystems() const;

    PlanOptions planOptions() const { return m_planOptions; }
    void setPlanOptions(const PlanOptions &options);
    // How the packages reach the nodes (Packages page); the run takes it over.
    const DeliveryChoice &delivery() const { return m_delivery; }
    void setDelivery(const DeliveryChoice &delivery) { m_delivery = delivery; }

    // Where measured step durations are kept (SQLite). Opening failures leave the
    // built-in defaults in use and are returned for the caller to show.
    Result openHistory(const QString &path = defaultHistoryPath());
    static QString defaultHistoryPath();
    const DurationHistory &history() const { return m_history; }
    DurationHistory &history() { return m_history; }
    // Key of this cluster in the history: the portal's agent address.
    QString clusterId() const;

    // What the administrator acknowledged and sent before the run, for its report.
    QStringList customizationsAcknowledged() const { return m_customizationsAcknowledged; }
    void setCustomizationsAcknowledged(const QStringList &files) { m_customizationsAcknowledged = files; }
    QString noticeSent() const { return m_noticeSent; }
    void setNoticeSent(const QString &summary) { m_noticeSent = summary; }

    // Folder of run journals and their audit logs (<app-data>/runs).
    static QString runsDirectory();

    // Looks, off this thread, for a run of this cluster that did not complete;
    // unfinishedRunChecked() follows.
    void lookForUnfinishedRun(const QString &directory = runsDirectory());
    const std::optional<UnfinishedRun> &unfinishedRun() const { return m_unfinishedRun; }
    // The administrator chose to resume it rather than plan a new run.
    void setResumingUnfinishedRun(bool resuming) { m_resumingUnfinishedRun = resuming; }
    bool isResumingUnfinishedRun() const { return m_resumingUnfinishedRun && m_unfinishedRun; }

    PreCheckReport preChecks() const;
    UpgradePlan plan() const;

    // Hourly flow history of the nodes that receive flows, for the quiet window.
    void fetchFlowHistory();
    bool hasFlowHistory() const { return m_flowHistoryReady; }
    const FlowHistory &flowHistory() const { return m_flowHistory; }
    QStringList flowHistoryErrors() const { return m_flowHistoryErrors; }
    // Expected loss if the plan starts at `start`, and the best start in 7 days.
    qint64 flowsLostAt(const UpgradePlan &plan, const QDateTime &start) const;
    // The best start no sooner than now + the notice lead time.
    QuietWindowFinder::Suggestion quietWindow(const UpgradePlan &plan, const QDateTime &now) const;
    // How the plan's flow-loss figure is made, node by node, for a tooltip.
    QString flowLossArithmetic(const UpgradePlan &plan) const;
    // How long before a window users must be told (default 24 h); the quiet window is
    // never sooner.
    qint64 noticeLeadMs() const { return m_noticeLeadMs; }
    void setNoticeLeadMs(qint64 ms) { m_noticeLeadMs = std::max<qint64>(0, ms); }

    // The window the notice announced (UTC); the run stops no service before its start.
    QDateTime announcedStart() const { return m_announcedStart; }
    QDateTime announcedEnd() const { return m_announcedEnd; }
    void setAnnouncedWindow(const QDateTime &start, const QDateTime &end)
    {
        m_announcedStart = start;
        m_announcedEnd = end;
    }

Q_SIGNALS:
    void targetChanged();
    void planOptionsChanged();
    void flowHistoryReady();
    void unfinishedRunChecked();

private:
    AgentClient *m_client = nullptr;
    ClusterDiscovery *m_discovery = nullptr;
    TrustedCertificates m_trusted;
    QHash<QString, QString> m_knownFingerprints; // address → fingerprint
    UpgradeTarget m_target;
    PlanOptions m_planOptions;
    DeliveryChoice m_delivery;
    DurationHistory m_history;
    QFutureWatcher<std::optional<UnfinishedRun>> m_unfinishedRunWatcher;
    std::optional<UnfinishedRun> m_unfinishedRun;
    bool m_resumingUnfinishedRun = false;
    QStringList m_customizationsAcknowledged;
    QString m_noticeSent;
    FlowHistory m_flowHistory;
    QStringList m_flowHistoryErrors;
    int m_flowHistoryPending = 0;
    bool m_flowHistoryReady = false;
    qint64 m_noticeLeadMs = 24 * 3600 * 1000LL;
    QDateTime m_announcedStart;
    QDateTime m_announcedEnd;

    void applyFlowHistory(UpgradePlan &plan) const;
};

} // namespace ft

#pragma once

#include "agentconfig.h"
#include "apirequest.h"
#include "model/expected.h"

#include <QAbstractHttpServer>
#include <QHash>
#include <QJsonObject>
#include <QPointer>
#include <QSet>
#include <QUrl>

#include <memory>


namespace ft::agent {

class FlowCapture;
class GuardedServer;
class JobStore;
class ServiceBackend;
class StageJob;
class StagingArea;
class UpgradeJob;
class UploadStore;

// The agent's HTTPS API, version 1 (app/agent/API.md): authentication, request limits
// and routing, plus the jobs it starts. Long polls keep their responder until the job
// changes or the wait runs out; a caller that hangs up never stops a job.
class AgentServer : public QAbstractHttpServer
{
    Q_OBJECT

public:
    explicit AgentServer(const AgentConfig &config, QObject *parent = nullptr);
    ~AgentServer() override;

    // The agent's own flow counter (null without flow_ports in agent.conf).
    FlowCapture *flowCapture() const { return m_capture; }

    // Opens the job store (marking cut-off jobs interrupted), loads the certificate and
    // listens. Returns the URL it serves.
    Expected<QUrl> start();

    struct Reply;
    using ReplyPtr = std::shared_ptr<Reply>;

Q_SIGNALS:
    // A chunk of some upload was written (or an upload was completed, reset or removed):
    // streams of uploads under way look for their next bytes.
    void uploadsChanged();

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override;
    void missingHandler(const QHttpServerRequest &request, QTcpSocket *socket) override;

private:
    void route(const QHttpServerRequest &request, const ReplyPtr &reply);

    void getNode(const ReplyPtr &reply);
    void getCluster(const ReplyPtr &reply);
    void getFlowHistory(const QHttpServerRequest &request, const ReplyPtr &reply);
    void getCustomizations(const ReplyPtr &reply);
    void getWebUiFile(const QHttpServerRequest &request, const ReplyPtr &reply);
    void postStage(const QHttpServerRequest &request, const ReplyPtr &reply);
    void getStaged(const ReplyPtr &reply);
    void postUpgrade(const QHttpServerRequest &request, const ReplyPtr &reply);
    void getJobs(const ReplyPtr &reply);
    void getJob(const QString &id, const QHttpServerRequest &request, const ReplyPtr &reply);
    void postCancel(const QString &id, const QHttpServerRequest &request, const ReplyPtr &reply);
    void postService(const QHttpServerRequest &request, const ReplyPtr &reply);
    void postUpload(const QHttpServerRequest &request, const ReplyPtr &reply);
    void getUpload(const QString &id, const ReplyPtr &reply);
    void putUpload(const QString &id, const QHttpServerRequest &request, const ReplyPtr &reply);
    void getUploadFile(const QString &id, const QHttpServerRequest &request, const ReplyPtr &reply);
    void deleteUpload(const QString &id, const ReplyPtr &reply);
    void postBaseline(const QHttpServerRequest &request, const ReplyPtr &reply);
    // After a Web UI upgrade succeeded: its files are the vendor's, so they are the
    // baseline of the new version.
    void recordBaselineAfterUpgrade(const QString &jobId);

    QJsonObject jobJson(const QString &id, qint64 since) const;
    bool upgradeRunning() const;
    void reconcileInterruptedUpgrades();

    AgentConfig m_config;
    std::unique_ptr<JobStore> m_store;
    std::unique_ptr<ServiceBackend> m_service;
    std::unique_ptr<StagingArea> m_staging;
    std::unique_ptr<UploadStore> m_uploads;
    QByteArray m_fingerprint; // SHA-256 (hex) of this agent's own certificate
    QHash<QString, QPointer<StageJob>> m_stageJobs;
    QPointer<UpgradeJob> m_upgrade;
    bool m_serviceActionRunning = false;
    bool m_baselineRunning = false;
    FlowCapture *m_capture = nullptr;
    QSet<QString> m_reconciling; // interrupted upgrades whose service state is being asked
    GuardedServer *m_guard = nullptr; // child: accepts the connections, enforces their time-outs
};

} // namespace ft::agent

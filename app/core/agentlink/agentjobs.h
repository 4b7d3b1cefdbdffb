#pragma once

#include "agentlink/agentclient.h"
#include "model/domain.h"
#include "model/nodestatus.h"
#include "model/version.h"

#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QSslCertificate>
#include <QSslSocket>
#include <QNetworkProxy>

#include <optional>

// One job class per agent call (API.md). Each takes the shared AgentClient and the
// endpoint, plus the call's arguments; results are read after finished() when
// error() == NoError.

namespace ft {

// ---- results ----------------------------------------------------------------------------

struct AgentHealth
{
    QString status;
    QString agentVersion;
    int api = 0;
};

struct FlowHourCount
{
    QDateTime start; // UTC, whole hour
    qint64 flows = 0;
};

struct WebUiCustomizedFile
{
    enum class Change { Modified, Added, Deleted };
    QString path;        // relative to the Web UI folder
    Change change = Change::Modified;
    qint64 size = -1;    // -1 for deleted files
    QDateTime modified;
    QString sha256;      // current, empty for deleted files
    QString pristineSha256; // empty for added files
    bool text = false;
};

struct WebUiCustomizations
{
    Version version;
    QString manifest;
    QList<WebUiCustomizedFile> files;
    QJsonObject raw; // the whole answer, for fields not mapped yet

    static Expected<WebUiCustomizations> fromAgentJson(const QJsonObject &json);
};

struct StagedPackage
{
    QString name;
    qint64 size = 0;
    QString sha256;
    QString component; // "server" | "nbi" | "webui"
    QString version;
};

struct StageRequest
{
    QUrl url;            // http or https
    QString sha256;
    qint64 size = 0;
    QString name;        // plain file name
    QString fingerprint; // optional: SHA-256 of the serving certificate to pin
    QString token;       // optional: bearer token of the serving agent (needs fingerprint)
};

struct UpgradeRequest
{
    Component component = Component::Server;
    QString package;     // a staged package's name
    int timeoutSeconds = 1800;
    // Silent-install arguments typed on the Packages page (.exe, .sh/.bin/.run);
    // sent only when there are some.
    QStringList installerArguments;
    bool keepFlows = false; // keep the node's flows during the outage and replay them
};

struct AgentLogLine
{
    qint64 n = 0;
    QDateTime time;
    QString line;
};

enum class AgentJobState { Queued, Running, Succeeded, Failed, Cancelled, Interrupted };
QString toString(AgentJobState state);
Expected<AgentJobState> parseAgentJobState(const QString &text);

// One phase of an agent job and when it began, by the agent's clock.
struct AgentJobPhase
{
    QString phase;
    QDateTime started;
};

// An agent job as GET /v1/jobs/J reports it. Optional fields are nullopt while the
// agent says null.
struct AgentJobStatus
{
    QString id;
    QString kind;      // "stage" | "upgrade"
    QString component;
    QString package;
    AgentJobState state = AgentJobState::Queued;
    QString phase;
    double progress = 0;
    qint64 bytesDone = 0;
    qint64 bytesTotal = 0;
    QDateTime created;
    QDateTime started;
    QDateTime finished;
    std::optional<int> exitCode;
    bool rebootRequested = false;
    QString versionBefore;
    QString versionAfter;
    std::optional<bool> serviceRestored;
    QString error;
    QList<AgentLogLine> log;
    QList<AgentJobPhase> phases; // oldest first; empty from agents that do not report them
    qint64 next = 0;

    bool isTerminal() const;
    static Expected<AgentJobStatus> fromAgentJson(const QJsonObject &json);
};

// ---- jobs -------------------------------------------------------------------------------

// GET /v1/health (no token). A different API version is a ProtocolError.
class HealthJob : public AgentJob
{
    Q_OBJECT
public:
    HealthJob(AgentClient *client, const AgentEndpoint &endpoint, QObject *parent = nullptr);
    const AgentHealth &health() const { return m_health; }

protected:
    AgentClient::Request request() const override;
    Result parseReply(const QByteArray &body) override;

private:
    AgentHealth m_health;
};

// First contact: completes a TLS handshake without trusting the peer, reads its
// certificate and hangs up. Nothing is sent, least of all the token; the endpoint's
// fingerprint is ignored. The UI shows fingerprint() to the administrator to trust.
class ProbeCertificateJob : public AgentJob
{
    Q_OBJECT
public:
    ProbeCertificateJob(AgentClient *client, const AgentEndpoint &endpoint,
                        QObject *parent = nullptr);
    ~ProbeCertificateJob() override;

    QSslCertificate certificate() const { return m_certificate; }
    // SHA-256 of the DER certificate, lower-case hex (TrustedCertificates::formatForPeople
    // makes it readable).
    QString fingerprint() const { return m_fingerprint; }

protected:
    void doStart() override;
    void abortWork() override;

private:
    QSslSocket *m_socket = nullptr;
    QSslCertificate m_certificate;
    QString m_fingerprint;
};

// GET /v1/node → NodeStatus, with agentUrl and fingerprint filled from the endpoint.
class FetchNodeJob : public AgentJob
{
    Q_OBJECT
public:
    FetchNodeJob(AgentClient *client, const AgentEndpoint &endpoint, QObject *parent = nullptr);
    const NodeStatus &node() const { return m_node; }

protected:
    AgentClient::Request request() const override;
    Result parseReply(const QByteArray &body) override;

private:
    NodeStatus m_node;
};

// GET /v1/cluster
class FetchClusterJob : public AgentJob
{
    Q_OBJECT
public:
    FetchClusterJob(AgentClient *client, const AgentEndpoint &endpoint,
                    QObject *parent = nullptr);
    const ClusterListing &cluster() const { return m_cluster; }

protected:
    AgentClient::Request request() const override;
    Result parseReply(const QByteArray &body) override;

private:
    ClusterListing m_cluster;
};

// GET /v1/flows/history?hours=N
class FetchFlowHistoryJob : public AgentJob
{
    Q_OBJECT
public:
    FetchFlowHistoryJob(AgentClient *client, const AgentEndpoint &endpoint, int hours = 168,
                        QObject *parent = nullptr);
    const QList<FlowHourCount> &hours() const { return m_hours; }

protected:
    AgentClient::Request request() const override;
    Result parseReply(const QByteArray &body) override;

private:
    int m_hourCount;
    QList<FlowHourCount> m_hours;
};

// GET /v1/webui/customizations
class FetchCustomizationsJob : public AgentJob
{
    Q_OBJECT
public:
    FetchCustomizationsJob(AgentClient *client, const AgentEndpoint &endpoint,
                           QObject *parent = nullptr);
    const WebUiCustomizations &customizations() const { return m_customizations; }

protected:
    AgentClient::Request request() const override;
    Result parseReply(const QByteArray &body) override;

private:
    WebUiCustomizations m_customizations;
};

// GET /v1/webui/file?path=P&which=current|pristine → bytes
class FetchWebUiFileJob : public AgentJob
{
    Q_OBJECT
public:
    enum class Which { Current, Pristine };
    FetchWebUiFileJob(AgentClient *client, const AgentEndpoint &endpoint, const QString &path,
                      Which which = Which::Current, QObject *parent = nullptr);
    QString path() const { return m_path; }
    const QByteArray &data() const { return m_data; }

protected:
    AgentClient::Request request() const override;
    Result parseReply(const QByteArray &body) override;

private:
    QString m_path;
    Which m_which;
    QByteArray m_data;
};

// POST /v1/stage → job id
class StartStageJob : public AgentJob
{
    Q_OBJECT
public:
    StartStageJob(AgentClient *client, const AgentEndpoint &endpoint,
                  const StageRequest &stage, QObject *parent = nullptr);
    QString jobId() const { return m_jobId; }

protected:
    AgentClient::Request request() const override;
    Result parseReply(const QByteArray &body) override;

private:
    StageRequest m_stage;
    QString m_jobId;
};

// GET /v1/staged
class ListStagedJob : public AgentJob
{
    Q_OBJECT
public:
    ListStagedJob(AgentClient *client, const AgentEndpoint &endpoint, QObject *parent = nullptr);
    const QList<StagedPackage> &packages() const { return m_packages; }

protected:
    AgentClient::Request request() const override;
    Result parseReply(const QByteArray &body) override;

private:
    QList<StagedPackage> m_packages;
};

// POST /v1/upgrade → job id; Conflict while another upgrade runs.
class StartUpgradeJob : public AgentJob
{
    Q_OBJECT
public:
    StartUpgradeJob(AgentClient *client, const AgentEndpoint &endpoint,
                    const UpgradeRequest &upgrade, QObject *parent = nullptr);
    QString jobId() const { return m_jobId; }

protected:
    AgentClient::Request request() const override;
    Result parseReply(const QByteArray &body) override;

private:
    UpgradeRequest m_upgrade;
    QString m_jobId;
};

// GET /v1/jobs (newest first, without logs)
class ListJobsJob : public AgentJob
{
    Q_OBJECT
public:
    ListJobsJob(AgentClient *client, const AgentEndpoint &endpoint, QObject *parent = nullptr);
    const QList<AgentJobStatus> &jobs() const { return m_jobs; }

protected:
    AgentClient::Request request() const override;
    Result parseReply(const QByteArray &body) override;

private:
    QList<AgentJobStatus> m_jobs;
};

// GET /v1/jobs/J?since=N&wait=MS: one (long) poll. Its time-out is wait + the client's.
class FetchJobStatusJob : public AgentJob
{
    Q_OBJECT
public:
    FetchJobStatusJob(AgentClient *client, const AgentEndpoint &endpoint, const QString &jobId,
                      qint64 since = 0, std::chrono::milliseconds wait = {},
                      QObject *parent = nullptr);
    QString jobId() const { return m_jobId; }
    const AgentJobStatus &status() const { return m_status; }

protected:
    AgentClient::Request request() const override;
    Result parseReply(const QByteArray &body) override;
    std::chrono::milliseconds defaultTimeout() const override;

private:
    QString m_jobId;
    qint64 m_since;
    std::chrono::milliseconds m_wait;
    AgentJobStatus m_status;
};

// POST /v1/jobs/J/cancel; Conflict between stopping and starting the service.
class CancelJobJob : public AgentJob
{
    Q_OBJECT
public:
    CancelJobJob(AgentClient *client, const AgentEndpoint &endpoint, const QString &jobId,
                 QObject *parent = nullptr);
    bool cancelled() const { return m_cancelled; }

protected:
    AgentClient::Request request() const override;
    Result parseReply(const QByteArray &body) override;

private:
    QString m_jobId;
    bool m_cancelled = false;
};

// POST /v1/service {"action": "start"|"stop"} → the service's state afterwards.
class ServiceActionJob : public AgentJob
{
    Q_OBJECT
public:
    enum class Action { Start, Stop };
    ServiceActionJob(AgentClient *client, const AgentEndpoint &endpoint, Action action,
                     QObject *parent = nullptr);
    ServiceState state() const { return m_state; }

protected:
    AgentClient::Request request() const override;
    Result parseReply(const QByteArray &body) override;

private:
    Action m_action;
    ServiceState m_state = ServiceState::Unknown;
};

} // namespace ft

Q_DECLARE_METATYPE(ft::AgentJobStatus)
Q_DECLARE_METATYPE(ft::AgentLogLine)

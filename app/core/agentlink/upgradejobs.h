#pragma once

#include "agentlink/agentclient.h"
#include "agentlink/agentjobstatus.h"
#include "agentlink/startjob.h"
#include "model/domain.h"
#include "model/nodestatus.h"

#include <QList>
#include <QString>

#include <chrono>

// Upgrading a node: start the installer of a staged package, follow and list the
// agent's jobs, cancel one, and stop or start the FlowTraq service (API.md).

namespace ft {

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

// ---- jobs --------------------------------------------------------------------------------

// POST /v1/upgrade → job id; Conflict while another upgrade runs.
class StartUpgradeJob : public StartJob
{
    Q_OBJECT
public:
    StartUpgradeJob(AgentClient *client, const AgentEndpoint &endpoint,
                    const UpgradeRequest &upgrade, QObject *parent = nullptr);

protected:
    AgentClient::Request request() const override;

private:
    UpgradeRequest m_upgrade;
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

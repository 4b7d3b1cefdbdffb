#include "agentlink/upgradejobs.h"

#include "agentlink/agentreply.h"

#include <QJsonArray>

#include <algorithm>

namespace ft {

using namespace agentreply;

// ---- StartUpgradeJob --------------------------------------------------------------------

StartUpgradeJob::StartUpgradeJob(AgentClient *client, const AgentEndpoint &endpoint,
                                 const UpgradeRequest &upgrade, QObject *parent)
    : StartJob(client, endpoint, parent)
    , m_upgrade(upgrade)
{
}

AgentClient::Request StartUpgradeJob::request() const
{
    AgentClient::Request call;
    call.verb = "POST";
    call.path = QStringLiteral("/upgrade");
    QJsonObject body{
        {QStringLiteral("component"), toString(m_upgrade.component)},
        {QStringLiteral("package"), m_upgrade.package},
        {QStringLiteral("timeout_seconds"), m_upgrade.timeoutSeconds},
    };
    if (!m_upgrade.installerArguments.isEmpty())
        body.insert(QStringLiteral("installer_arguments"), QJsonArray::fromStringList(m_upgrade.installerArguments));
    if (m_upgrade.keepFlows) // only when asked: an older agent refuses fields it does not know
        body.insert(QStringLiteral("keep_flows"), true);
    call.body = toJson(body);
    return call;
}

// ---- ListJobsJob ------------------------------------------------------------------------

ListJobsJob::ListJobsJob(AgentClient *client, const AgentEndpoint &endpoint, QObject *parent)
    : AgentJob(client, endpoint, parent)
{
}

AgentClient::Request ListJobsJob::request() const
{
    AgentClient::Request call;
    call.path = QStringLiteral("/jobs");
    return call;
}

Result ListJobsJob::parseReply(const QByteArray &body)
{
    const auto json = jsonObject(body);
    if (!json)
        return makeError(json.error());
    const auto jobs = arrayField(*json, "jobs");
    if (!jobs)
        return makeError(jobs.error());
    m_jobs.clear();
    for (const auto &value : *jobs) {
        auto status = AgentJobStatus::fromAgentJson(value.toObject());
        if (!status)
            return makeError(status.error());
        m_jobs.append(std::move(*status));
    }
    return {};
}

// ---- FetchJobStatusJob ------------------------------------------------------------------

FetchJobStatusJob::FetchJobStatusJob(AgentClient *client, const AgentEndpoint &endpoint,
                                     const QString &jobId, qint64 since,
                                     std::chrono::milliseconds wait, QObject *parent)
    : AgentJob(client, endpoint, parent)
    , m_jobId(jobId)
    , m_since(since)
    , m_wait(std::clamp(wait, std::chrono::milliseconds(0), std::chrono::milliseconds(30000)))
{
}

AgentClient::Request FetchJobStatusJob::request() const
{
    AgentClient::Request call;
    call.path = QStringLiteral("/jobs/") + encodedSegment(m_jobId);
    call.query.addQueryItem(QStringLiteral("since"), QString::number(m_since));
    if (m_wait.count() > 0)
        call.query.addQueryItem(QStringLiteral("wait"), QString::number(m_wait.count()));
    return call;
}

Result FetchJobStatusJob::parseReply(const QByteArray &body)
{
    const auto json = jsonObject(body);
    if (!json)
        return makeError(json.error());
    auto status = AgentJobStatus::fromAgentJson(*json);
    if (!status)
        return makeError(status.error());
    m_status = std::move(*status);
    return {};
}

std::chrono::milliseconds FetchJobStatusJob::defaultTimeout() const
{
    // The agent holds a long poll for up to `wait`; only silence beyond that is a time-out.
    return m_wait + AgentJob::defaultTimeout();
}

// ---- CancelJobJob -----------------------------------------------------------------------

CancelJobJob::CancelJobJob(AgentClient *client, const AgentEndpoint &endpoint,
                           const QString &jobId, QObject *parent)
    : AgentJob(client, endpoint, parent)
    , m_jobId(jobId)
{
}

AgentClient::Request CancelJobJob::request() const
{
    AgentClient::Request call;
    call.verb = "POST";
    call.path = QStringLiteral("/jobs/") + encodedSegment(m_jobId) + QStringLiteral("/cancel");
    call.body = QByteArray("{}");
    return call;
}

Result CancelJobJob::parseReply(const QByteArray &body)
{
    const auto json = jsonObject(body);
    if (!json)
        return makeError(json.error());
    m_cancelled = json->value(QLatin1String("cancelled")).toBool();
    return {};
}

// ---- ServiceActionJob -------------------------------------------------------------------

ServiceActionJob::ServiceActionJob(AgentClient *client, const AgentEndpoint &endpoint,
                                   Action action, QObject *parent)
    : AgentJob(client, endpoint, parent)
    , m_action(action)
{
    // The agent answers once the service has started or stopped, which takes a while.
    setTimeout(std::max(std::chrono::milliseconds(60000), client ? client->timeout()
                                                                 : std::chrono::milliseconds(0)));
}

AgentClient::Request ServiceActionJob::request() const
{
    AgentClient::Request call;
    call.verb = "POST";
    call.path = QStringLiteral("/service");
    call.body = toJson({{QStringLiteral("action"), m_action == Action::Start
                                                       ? QStringLiteral("start")
                                                       : QStringLiteral("stop")}});
    return call;
}

Result ServiceActionJob::parseReply(const QByteArray &body)
{
    const auto json = jsonObject(body);
    if (!json)
        return makeError(json.error());
    const auto state = parseServiceState(json->value(QLatin1String("state")).toString());
    if (!state)
        return fieldError(QStringLiteral("state"));
    m_state = *state;
    return {};
}

} // namespace ft

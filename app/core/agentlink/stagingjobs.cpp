#include "agentlink/stagingjobs.h"

#include "agentlink/agentreply.h"

namespace ft {

using namespace agentreply;

// ---- StartStageJob ----------------------------------------------------------------------

StartStageJob::StartStageJob(AgentClient *client, const AgentEndpoint &endpoint,
                             const StageRequest &stage, QObject *parent)
    : StartJob(client, endpoint, parent)
    , m_stage(stage)
{
}

AgentClient::Request StartStageJob::request() const
{
    QJsonObject body{
        {QStringLiteral("url"), m_stage.url.toString(QUrl::FullyEncoded)},
        {QStringLiteral("sha256"), m_stage.sha256},
        {QStringLiteral("size"), m_stage.size},
        {QStringLiteral("name"), m_stage.name},
    };
    if (!m_stage.fingerprint.isEmpty())
        body.insert(QStringLiteral("fingerprint"), m_stage.fingerprint);
    if (!m_stage.token.isEmpty())
        body.insert(QStringLiteral("token"), m_stage.token);
    if (m_stage.contentsChecked)
        body.insert(QStringLiteral("contents_checked"), true);
    AgentClient::Request call;
    call.verb = "POST";
    call.path = QStringLiteral("/stage");
    call.body = toJson(body);
    return call;
}

// ---- ListStagedJob ----------------------------------------------------------------------

ListStagedJob::ListStagedJob(AgentClient *client, const AgentEndpoint &endpoint, QObject *parent)
    : AgentJob(client, endpoint, parent)
{
}

AgentClient::Request ListStagedJob::request() const
{
    AgentClient::Request call;
    call.path = QStringLiteral("/staged");
    return call;
}

Result ListStagedJob::parseReply(const QByteArray &body)
{
    const auto json = jsonObject(body);
    if (!json)
        return makeError(json.error());
    const auto packages = arrayField(*json, "packages");
    if (!packages)
        return makeError(packages.error());
    m_packages.clear();
    for (const auto &value : *packages) {
        const QJsonObject object = value.toObject();
        StagedPackage package;
        package.name = object.value(QLatin1String("name")).toString();
        package.size = object.value(QLatin1String("size")).toInteger();
        package.sha256 = object.value(QLatin1String("sha256")).toString();
        package.component = object.value(QLatin1String("component")).toString();
        package.version = object.value(QLatin1String("version")).toString();
        if (package.name.isEmpty())
            return fieldError(QStringLiteral("packages"));
        m_packages.append(package);
    }
    return {};
}

} // namespace ft

#include "agentlink/agentjobstatus.h"

#include "agentlink/agentreply.h"

namespace ft {

using namespace agentreply;

QString toString(AgentJobState state)
{
    switch (state) {
    case AgentJobState::Queued: return QStringLiteral("queued");
    case AgentJobState::Running: return QStringLiteral("running");
    case AgentJobState::Succeeded: return QStringLiteral("succeeded");
    case AgentJobState::Failed: return QStringLiteral("failed");
    case AgentJobState::Cancelled: return QStringLiteral("cancelled");
    case AgentJobState::Interrupted: return QStringLiteral("interrupted");
    }
    return {};
}

Expected<AgentJobState> parseAgentJobState(const QString &text)
{
    for (AgentJobState state : {AgentJobState::Queued, AgentJobState::Running,
                                AgentJobState::Succeeded, AgentJobState::Failed,
                                AgentJobState::Cancelled, AgentJobState::Interrupted}) {
        if (text == toString(state))
            return state;
    }
    return makeError(tr("\"%1\" is not a job state").arg(text));
}

bool AgentJobStatus::isTerminal() const
{
    return state != AgentJobState::Queued && state != AgentJobState::Running;
}

Expected<AgentJobStatus> AgentJobStatus::fromAgentJson(const QJsonObject &json)
{
    AgentJobStatus status;
    const auto id = requiredString(json, "id");
    if (!id)
        return makeError(id.error());
    status.id = *id;
    const auto state = parseAgentJobState(json.value(QLatin1String("state")).toString());
    if (!state)
        return fieldError(QStringLiteral("state"));
    status.state = *state;
    status.kind = json.value(QLatin1String("kind")).toString();
    status.component = json.value(QLatin1String("component")).toString();
    status.package = json.value(QLatin1String("package")).toString();
    status.phase = json.value(QLatin1String("phase")).toString();
    status.progress = json.value(QLatin1String("progress")).toDouble();
    status.bytesDone = json.value(QLatin1String("bytes_done")).toInteger();
    status.bytesTotal = json.value(QLatin1String("bytes_total")).toInteger();
    status.created = timeOf(json.value(QLatin1String("created")));
    status.started = timeOf(json.value(QLatin1String("started")));
    status.finished = timeOf(json.value(QLatin1String("finished")));
    const QJsonValue exitCode = json.value(QLatin1String("exit_code"));
    if (exitCode.isDouble())
        status.exitCode = exitCode.toInt();
    status.rebootRequested = json.value(QLatin1String("reboot_requested")).toBool();
    status.versionBefore = json.value(QLatin1String("version_before")).toString();
    status.versionAfter = json.value(QLatin1String("version_after")).toString();
    const QJsonValue restored = json.value(QLatin1String("service_restored"));
    if (restored.isBool())
        status.serviceRestored = restored.toBool();
    status.flowKeeping = FlowKeeping::fromJson(json.value(QLatin1String("flows")));
    status.error = json.value(QLatin1String("error")).toString();

    const QJsonValue phases = json.value(QLatin1String("phases"));
    if (!phases.isUndefined() && !phases.isNull() && !phases.isArray())
        return fieldError(QStringLiteral("phases"));
    for (const auto &value : phases.toArray()) {
        const QJsonObject entry = value.toObject();
        const QDateTime started = QDateTime::fromString(
            entry.value(QLatin1String("started")).toString(), Qt::ISODateWithMs);
        if (!started.isValid() || entry.value(QLatin1String("phase")).toString().isEmpty())
            return fieldError(QStringLiteral("phases"));
        status.phases.append({entry.value(QLatin1String("phase")).toString(), started});
    }

    const QJsonValue log = json.value(QLatin1String("log"));
    if (!log.isUndefined() && !log.isNull() && !log.isArray())
        return fieldError(QStringLiteral("log"));
    for (const auto &value : log.toArray()) {
        const QJsonObject entry = value.toObject();
        if (!entry.value(QLatin1String("n")).isDouble())
            return fieldError(QStringLiteral("log"));
        status.log.append({entry.value(QLatin1String("n")).toInteger(),
                           timeOf(entry.value(QLatin1String("t"))),
                           entry.value(QLatin1String("line")).toString()});
    }
    const QJsonValue next = json.value(QLatin1String("next"));
    status.next = next.isDouble() ? next.toInteger()
                  : status.log.isEmpty() ? 0
                                         : status.log.constLast().n + 1;
    return status;
}

} // namespace ft

#include "model/nodestatus.h"

#include <QCoreApplication>
#include <QJsonArray>

namespace ft {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::NodeStatus", text); }

Unexpected fieldError(const QString &field)
{
    return makeError(tr("The agent's answer has a bad \"%1\" field.").arg(field));
}

Expected<ComponentState> componentFromJson(const QJsonValue &value, const QString &field)
{
    ComponentState state;
    if (value.isUndefined() || value.isNull())
        return state;
    if (!value.isObject())
        return fieldError(field);
    const QJsonObject object = value.toObject();
    state.installed = object.value(QLatin1String("installed")).toBool();
    state.source = object.value(QLatin1String("source")).toString();
    state.disagreement = object.value(QLatin1String("disagreement")).toBool();
    state.error = object.value(QLatin1String("error")).toString();
    for (const auto &entry : object.value(QLatin1String("sources")).toArray()) {
        const QJsonObject reading = entry.toObject();
        state.readings.append(VersionReading{reading.value(QLatin1String("source")).toString(),
                                             reading.value(QLatin1String("detail")).toString(),
                                             reading.value(QLatin1String("version")).toString(),
                                             reading.value(QLatin1String("error")).toString()});
    }
    if (state.installed) {
        const auto version = Version::parse(object.value(QLatin1String("version")).toString());
        if (!version)
            return makeError(tr("The agent reports an unreadable %1 version: %2")
                                 .arg(field, version.error()));
        state.version = *version;
    }
    return state;
}

QJsonObject componentToJson(const ComponentState &state)
{
    QJsonObject object{{QStringLiteral("installed"), state.installed}};
    if (state.installed)
        object.insert(QStringLiteral("version"), state.version.toString());
    if (!state.source.isEmpty())
        object.insert(QStringLiteral("source"), state.source);
    if (!state.readings.isEmpty()) {
        QJsonArray readings;
        for (const VersionReading &reading : state.readings) {
            QJsonObject entry{{QStringLiteral("source"), reading.source}, {QStringLiteral("detail"), reading.detail}};
            entry.insert(QStringLiteral("version"), reading.version.isEmpty() ? QJsonValue(QJsonValue::Null)
                                                                              : QJsonValue(reading.version));
            if (!reading.error.isEmpty())
                entry.insert(QStringLiteral("error"), reading.error);
            readings.append(entry);
        }
        object.insert(QStringLiteral("sources"), readings);
        object.insert(QStringLiteral("disagreement"), state.disagreement);
    }
    if (!state.error.isEmpty())
        object.insert(QStringLiteral("error"), state.error);
    return object;
}

} // namespace

QString ComponentState::versionText() const
{
    QString text = installed ? version.toString() : (error.isEmpty() ? tr("not installed") : tr("unknown"));
    if (!source.isEmpty() && installed)
        text += QStringLiteral(" (%1)").arg(source);
    if (disagreement) {
        QStringList others;
        for (const VersionReading &reading : readings) {
            if (!reading.version.isEmpty() && reading.source != source)
                others.append(QStringLiteral("%1 %2").arg(reading.source, reading.version));
        }
        text += QStringLiteral(" ≠ ") + others.join(QStringLiteral(", "));
    }
    return text;
}

QString ComponentState::sourcesText() const
{
    QStringList lines;
    for (const VersionReading &reading : readings) {
        lines.append(reading.version.isEmpty()
                         ? tr("%1 (%2): %3").arg(reading.source, reading.detail, reading.error.isEmpty() ? tr("no version") : reading.error)
                         : tr("%1 (%2): %3%4").arg(reading.source, reading.detail, reading.version,
                                                   reading.error.isEmpty() ? QString() : QStringLiteral(" — ") + reading.error));
    }
    if (disagreement)
        lines.prepend(tr("The sources disagree; the first in the chain is shown."));
    if (!error.isEmpty() && !installed)
        lines.prepend(error);
    return lines.join(QLatin1Char('\n'));
}

const ComponentState &NodeStatus::component(Component which) const
{
    switch (which) {
    case Component::Server: return server;
    case Component::Nbi: return nbi;
    case Component::WebUi: return webUi;
    }
    return server;
}

ComponentState &NodeStatus::component(Component which)
{
    return const_cast<ComponentState &>(std::as_const(*this).component(which));
}

Expected<NodeStatus> NodeStatus::fromAgentJson(const QJsonObject &json)
{
    NodeStatus node;
    node.reachable = true;
    node.name = json.value(QLatin1String("name")).toString();
    if (node.name.isEmpty())
        return fieldError(QStringLiteral("name"));
    node.hostname = json.value(QLatin1String("hostname")).toString();

    const auto role = parseNodeRole(json.value(QLatin1String("role")).toString());
    if (!role)
        return makeError(role.error());
    node.role = *role;
    const auto os = parseOsKind(json.value(QLatin1String("os")).toString());
    if (!os)
        return makeError(os.error());
    node.os = *os;

    node.arch = json.value(QLatin1String("arch")).toString();
    node.agentVersion = json.value(QLatin1String("agent_version")).toString();
    node.apiVersion = json.value(QLatin1String("api")).toInt();
    node.installDir = json.value(QLatin1String("install_dir")).toString();
    const QJsonValue installers = json.value(QLatin1String("installers"));
    if (!installers.isUndefined() && !installers.isObject())
        return fieldError(QStringLiteral("installers"));
    const QJsonObject installerObject = installers.toObject();
    for (auto it = installerObject.constBegin(); it != installerObject.constEnd(); ++it) {
        if (!it.value().isString())
            return fieldError(QStringLiteral("installers.") + it.key());
        node.installerCommands.insert(it.key(), it.value().toString());
    }

    const QJsonObject components = json.value(QLatin1String("components")).toObject();
    for (Component which : {Component::Server, Component::Nbi, Component::WebUi}) {
        const QString key = toString(which);
        const auto state = componentFromJson(components.value(key), key);
        if (!state)
            return makeError(state.error());
        node.component(which) = *state;
    }

    const QJsonObject service = json.value(QLatin1String("service")).toObject();
    node.serviceName = service.value(QLatin1String("name")).toString();
    const auto serviceState = parseServiceState(
        service.value(QLatin1String("state")).toString(QStringLiteral("unknown")));
    if (!serviceState)
        return makeError(serviceState.error());
    node.service = *serviceState;

    const QJsonObject flows = json.value(QLatin1String("flows")).toObject();
    node.receivesFlows = flows.value(QLatin1String("receives_flows")).toBool();
    node.flowPort = flows.value(QLatin1String("flow_port")).toInt();
    node.flowsPerSecond = flows.value(QLatin1String("per_second_1m")).toDouble();
    node.flowsPerSecondRecent = flows.value(QLatin1String("per_second_10s")).toDouble();
    node.flowRateSource = flows.value(QLatin1String("source")).toString();
    // Older agents say nothing: their rate counts as measured, as it always did.
    node.flowRateMeasured = flows.value(QLatin1String("measured")).toBool(true);
    node.flowRateNotMeasuredReason = flows.value(QLatin1String("not_measured_reason")).toString();
    node.lastFlowAt = QDateTime::fromString(flows.value(QLatin1String("last_flow_at")).toString(),
                                            Qt::ISODate);

    const QJsonObject disk = json.value(QLatin1String("disk")).toObject();
    node.stagingDir = disk.value(QLatin1String("staging_dir")).toString();
    node.freeBytes = disk.value(QLatin1String("free_bytes")).toInteger(-1);
    node.busy = json.value(QLatin1String("busy")).toBool();
    return node;
}

QJsonObject NodeStatus::toJson() const
{
    QJsonObject object{
        {QStringLiteral("name"), name},
        {QStringLiteral("agent_url"), agentUrl.toString()},
        {QStringLiteral("reachable"), reachable},
    };
    if (!reachable) {
        object.insert(QStringLiteral("unreachable_reason"), unreachableReason);
        return object;
    }
    object.insert(QStringLiteral("hostname"), hostname);
    object.insert(QStringLiteral("role"), toString(role));
    object.insert(QStringLiteral("os"), toString(os));
    object.insert(QStringLiteral("arch"), arch);
    object.insert(QStringLiteral("agent_version"), agentVersion);
    object.insert(QStringLiteral("components"),
                  QJsonObject{{QStringLiteral("server"), componentToJson(server)},
                              {QStringLiteral("nbi"), componentToJson(nbi)},
                              {QStringLiteral("webui"), componentToJson(webUi)}});
    object.insert(QStringLiteral("service"), toString(service));
    object.insert(QStringLiteral("receives_flows"), receivesFlows);
    if (flowRateMeasured) {
        object.insert(QStringLiteral("flows_per_second"), flowsPerSecond);
    } else {
        object.insert(QStringLiteral("flows_per_second"), QJsonValue(QJsonValue::Null));
        object.insert(QStringLiteral("flow_rate_not_measured"), flowRateNotMeasuredReason);
    }
    if (!flowRateSource.isEmpty())
        object.insert(QStringLiteral("flow_rate_source"), flowRateSource);
    object.insert(QStringLiteral("free_bytes"), freeBytes);
    if (!installerCommands.isEmpty()) {
        QJsonObject installers;
        for (auto it = installerCommands.cbegin(); it != installerCommands.cend(); ++it)
            installers.insert(it.key(), it.value());
        object.insert(QStringLiteral("installers"), installers);
    }
    return object;
}

Expected<ClusterListing> ClusterListing::fromAgentJson(const QJsonObject &json)
{
    ClusterListing listing;
    const auto role = parseNodeRole(json.value(QLatin1String("role")).toString());
    if (!role)
        return makeError(role.error());
    listing.role = *role;
    listing.portal = json.value(QLatin1String("portal")).toString();
    listing.source = json.value(QLatin1String("source")).toString();
    const QJsonValue members = json.value(QLatin1String("members"));
    if (!members.isUndefined() && !members.isArray())
        return fieldError(QStringLiteral("members"));
    for (const auto &value : members.toArray()) {
        const QJsonObject object = value.toObject();
        ClusterMember member;
        member.name = object.value(QLatin1String("name")).toString();
        member.host = object.value(QLatin1String("host")).toString();
        member.tcpPort = object.value(QLatin1String("tcp_port")).toInt();
        member.agentPort = object.value(QLatin1String("agent_port")).toInt();
        if (member.name.isEmpty() || member.host.isEmpty())
            return fieldError(QStringLiteral("members"));
        listing.members.append(member);
    }
    return listing;
}

} // namespace ft

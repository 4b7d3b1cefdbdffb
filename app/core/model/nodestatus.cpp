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
    return object;
}

} // namespace

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
    object.insert(QStringLiteral("flows_per_second"), flowsPerSecond);
    object.insert(QStringLiteral("free_bytes"), freeBytes);
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

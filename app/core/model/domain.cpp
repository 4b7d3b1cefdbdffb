#include "model/domain.h"

#include <QCoreApplication>

#include <array>
#include <utility>

namespace ft {

namespace {

template<typename Enum, std::size_t N>
using NameTable = std::array<std::pair<Enum, const char *>, N>;

constexpr NameTable<NodeRole, 3> roleNames{{{NodeRole::Portal, "portal"},
                                            {NodeRole::Worker, "worker"},
                                            {NodeRole::Standalone, "standalone"}}};
constexpr NameTable<Component, 3> componentNames{
    {{Component::Server, "server"}, {Component::Nbi, "nbi"}, {Component::WebUi, "webui"}}};
constexpr NameTable<OsKind, 2> osNames{{{OsKind::Linux, "linux"}, {OsKind::Windows, "windows"}}};
constexpr NameTable<ServiceState, 4> stateNames{{{ServiceState::Running, "running"},
                                                 {ServiceState::Stopped, "stopped"},
                                                 {ServiceState::Missing, "missing"},
                                                 {ServiceState::Unknown, "unknown"}}};

template<typename Enum, std::size_t N>
QString nameOf(const NameTable<Enum, N> &table, Enum value)
{
    for (const auto &[entry, name] : table) {
        if (entry == value)
            return QString::fromLatin1(name);
    }
    return {};
}

template<typename Enum, std::size_t N>
Expected<Enum> parseName(const NameTable<Enum, N> &table, const QString &text, const char *what)
{
    const QString wanted = text.trimmed().toLower();
    QStringList known;
    for (const auto &[entry, name] : table) {
        if (wanted == QLatin1String(name))
            return entry;
        known.append(QString::fromLatin1(name));
    }
    return makeError(QCoreApplication::translate("ft", "Unknown %1 \"%2\" (expected one of: %3).")
                         .arg(QString::fromLatin1(what), text.left(40), known.join(QStringLiteral(", "))));
}

} // namespace

QString toString(NodeRole role) { return nameOf(roleNames, role); }
QString toString(Component component) { return nameOf(componentNames, component); }
QString toString(OsKind os) { return nameOf(osNames, os); }
QString toString(ServiceState state) { return nameOf(stateNames, state); }

QString displayName(NodeRole role)
{
    switch (role) {
    case NodeRole::Portal: return QCoreApplication::translate("ft", "Portal");
    case NodeRole::Worker: return QCoreApplication::translate("ft", "Worker");
    case NodeRole::Standalone: return QCoreApplication::translate("ft", "Standalone");
    }
    return {};
}

QString displayName(Component component)
{
    switch (component) {
    case Component::Server: return QCoreApplication::translate("ft", "FlowTraq Server");
    case Component::Nbi: return QCoreApplication::translate("ft", "NBI service");
    case Component::WebUi: return QCoreApplication::translate("ft", "Web UI");
    }
    return {};
}

QString displayName(OsKind os)
{
    switch (os) {
    case OsKind::Linux: return QCoreApplication::translate("ft", "Linux");
    case OsKind::Windows: return QCoreApplication::translate("ft", "Windows");
    }
    return {};
}

QString displayName(ServiceState state)
{
    switch (state) {
    case ServiceState::Running: return QCoreApplication::translate("ft", "Running");
    case ServiceState::Stopped: return QCoreApplication::translate("ft", "Stopped");
    case ServiceState::Missing: return QCoreApplication::translate("ft", "Not installed");
    case ServiceState::Unknown: return QCoreApplication::translate("ft", "Unknown");
    }
    return {};
}

Expected<NodeRole> parseNodeRole(const QString &text) { return parseName(roleNames, text, "role"); }
Expected<Component> parseComponent(const QString &text)
{
    return parseName(componentNames, text, "component");
}
Expected<OsKind> parseOsKind(const QString &text) { return parseName(osNames, text, "OS"); }
Expected<ServiceState> parseServiceState(const QString &text)
{
    return parseName(stateNames, text, "service state");
}

} // namespace ft

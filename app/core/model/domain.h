#pragma once

#include "model/expected.h"
#include "model/version.h"

#include <QString>

namespace ft {

// Where a node sits in the cluster. A standalone server is its own portal.
enum class NodeRole { Portal, Worker, Standalone };

// What the upgrade replaces on a node.
enum class Component { Server, Nbi, WebUi };

enum class OsKind { Linux, Windows };

// State of the FlowTraq service on a node as its service manager reports it.
enum class ServiceState { Running, Stopped, Missing, Unknown };

// Stable lower-case names used in files, JSON and the command line.
QString toString(NodeRole role);
QString toString(Component component);
QString toString(OsKind os);
QString toString(ServiceState state);

// Names for people ("Web UI", "Windows").
QString displayName(NodeRole role);
QString displayName(Component component);
QString displayName(OsKind os);
QString displayName(ServiceState state);

Expected<NodeRole> parseNodeRole(const QString &text);
Expected<Component> parseComponent(const QString &text);
Expected<OsKind> parseOsKind(const QString &text);
Expected<ServiceState> parseServiceState(const QString &text);

} // namespace ft

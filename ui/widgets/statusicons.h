#pragma once

#include <QIcon>
#include <QString>

namespace ft {
struct NodeStatus;
}

namespace ft::ui {

// How a node looks in the wizard's tables, from its discovery result.
enum class NodeHealth { Waiting, Ok, Warning, Untrusted, Unreachable };

NodeHealth healthOf(const NodeStatus &node);
QString textFor(NodeHealth health);
QIcon iconFor(NodeHealth health);

// Shared severity icons (from the style, so they match the platform).
QIcon errorIcon();
QIcon warningIcon();
QIcon informationIcon();
QIcon okIcon();

} // namespace ft::ui

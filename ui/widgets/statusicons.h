#pragma once

#include <QIcon>
#include <QString>

#include "verify/stepstatus.h"

namespace ft {
struct NodeStatus;
}

namespace ft::ui {

// How a node looks in the wizard's tables, from its discovery result.
enum class NodeHealth { Waiting, Ok, Warning, Untrusted, Unreachable };

NodeHealth healthOf(const NodeStatus &node);
QString textFor(NodeHealth health);
QIcon iconFor(NodeHealth health);
// The icon of a run step's status, the same on the run page, Verify and the report.
QIcon iconFor(StepStatusKind kind);

// Shared severity icons (from the style, so they match the platform).
QIcon errorIcon();
QIcon warningIcon();
QIcon informationIcon();
QIcon okIcon();

} // namespace ft::ui

#include "widgets/statusicons.h"

#include "model/nodestatus.h"

#include <QApplication>
#include <QPainter>
#include <QPixmap>
#include <QStyle>

namespace ft::ui {

namespace {

QIcon standardIcon(QStyle::StandardPixmap pixmap)
{
    return QApplication::style()->standardIcon(pixmap);
}

// A filled disc in a colour: clearer than most styles' "ok" pixmaps.
QIcon discIcon(const QColor &color)
{
    QPixmap pixmap(16, 16);
    pixmap.fill(Qt::transparent);
    QPainter painter(&pixmap);
    painter.setRenderHint(QPainter::Antialiasing);
    painter.setPen(color.darker(130));
    painter.setBrush(color);
    painter.drawEllipse(QRectF(2.5, 2.5, 11, 11));
    return QIcon(pixmap);
}

} // namespace

NodeHealth healthOf(const NodeStatus &node)
{
    if (node.probing)
        return NodeHealth::Waiting;
    if (node.reachable)
        return node.service == ServiceState::Running && !node.busy ? NodeHealth::Ok
                                                                   : NodeHealth::Warning;
    if (node.untrusted)
        return NodeHealth::Untrusted;
    return NodeHealth::Unreachable;
}

QString textFor(NodeHealth health)
{
    switch (health) {
    case NodeHealth::Waiting: return QApplication::translate("ft::ui", "Probing…");
    case NodeHealth::Ok: return QApplication::translate("ft::ui", "Ready");
    case NodeHealth::Warning: return QApplication::translate("ft::ui", "Attention");
    case NodeHealth::Untrusted: return QApplication::translate("ft::ui", "Not trusted yet");
    case NodeHealth::Unreachable: return QApplication::translate("ft::ui", "Unreachable");
    }
    return {};
}

QIcon iconFor(NodeHealth health)
{
    switch (health) {
    case NodeHealth::Waiting: return discIcon(QColor(0xb0, 0xb0, 0xb0));
    case NodeHealth::Ok: return okIcon();
    case NodeHealth::Warning: return warningIcon();
    case NodeHealth::Untrusted: return standardIcon(QStyle::SP_MessageBoxQuestion);
    case NodeHealth::Unreachable: return errorIcon();
    }
    return {};
}

QIcon iconFor(StepStatusKind kind)
{
    switch (kind) {
    case StepStatusKind::Pending:
    case StepStatusKind::Staging: return discIcon(QColor(0xb0, 0xb0, 0xb0));
    case StepStatusKind::NotRun: return discIcon(QColor(0xe0, 0xe0, 0xe0));
    case StepStatusKind::Running: return informationIcon();
    case StepStatusKind::Retrying: return discIcon(QColor(0xe6, 0x7c, 0x00));
    case StepStatusKind::Succeeded:
    case StepStatusKind::AlreadyCurrent: return okIcon();
    case StepStatusKind::Failed: return errorIcon();
    case StepStatusKind::Skipped:
    case StepStatusKind::Deferred: return warningIcon();
    }
    return {};
}

QIcon errorIcon() { return discIcon(QColor(0xd3, 0x2f, 0x2f)); }
QIcon warningIcon() { return discIcon(QColor(0xf2, 0xa9, 0x00)); }
QIcon informationIcon() { return discIcon(QColor(0x3b, 0x7d, 0xd8)); }
QIcon okIcon() { return discIcon(QColor(0x2e, 0x9d, 0x4a)); }

} // namespace ft::ui

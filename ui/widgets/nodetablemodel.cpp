#include "widgets/nodetablemodel.h"

#include "discover/discovery.h"
#include "widgets/statusicons.h"

#include <QLocale>

namespace ft::ui {

namespace {

QString versionText(const ComponentState &state)
{
    return state.installed ? state.version.toString() : QString();
}

} // namespace

NodeTableModel::NodeTableModel(ClusterDiscovery *discovery, QObject *parent)
    : QAbstractTableModel(parent)
    , m_discovery(discovery)
    , m_rows(int(discovery->nodes().size()))
{
    connect(discovery, &ClusterDiscovery::nodesAdded, this, [this](int first, int last) {
        // A restart replaces the list: start over when rows shrink or restart at 0.
        if (first == 0 || first != m_rows) {
            beginResetModel();
            m_rows = int(m_discovery->nodes().size());
            endResetModel();
            return;
        }
        beginInsertRows({}, first, last);
        m_rows = last + 1;
        endInsertRows();
    });
    connect(discovery, &ClusterDiscovery::nodeUpdated, this, [this](int row) {
        if (row < m_rows)
            Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
    });
}

int NodeTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : m_rows;
}

int NodeTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant NodeTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case StatusColumn: return tr("Status");
    case NameColumn: return tr("Node");
    case RoleColumn: return tr("Role");
    case OsColumn: return tr("OS");
    case ServerColumn: return tr("Server");
    case NbiColumn: return tr("NBI");
    case WebUiColumn: return tr("Web UI");
    case ServiceColumn: return tr("Service");
    case FlowsColumn: return tr("Flows/s");
    case DiskColumn: return tr("Free disk");
    case NotesColumn: return tr("Notes");
    }
    return {};
}

QVariant NodeTableModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_rows)
        return {};
    const NodeStatus &node = m_discovery->nodes().at(index.row());
    const NodeHealth health = healthOf(node);
    const bool answered = node.reachable;

    if (role == Qt::DecorationRole && index.column() == StatusColumn)
        return iconFor(health);
    if (role == Qt::ToolTipRole)
        return node.reachable ? node.agentUrl.toString()
                              : node.unreachableReason + QLatin1Char('\n') + node.agentUrl.toString();
    if (role == Qt::TextAlignmentRole
        && (index.column() == FlowsColumn || index.column() == DiskColumn))
        return int(Qt::AlignRight | Qt::AlignVCenter);

    const bool sortRole = role == Qt::UserRole;
    if (role != Qt::DisplayRole && !sortRole)
        return {};

    switch (index.column()) {
    case StatusColumn: return sortRole ? QVariant(int(health)) : QVariant(textFor(health));
    case NameColumn: return node.name;
    case RoleColumn: return answered ? displayName(node.role) : QString();
    case OsColumn: return answered ? displayName(node.os) : QString();
    case ServerColumn: return answered ? versionText(node.server) : QString();
    case NbiColumn: return answered ? versionText(node.nbi) : QString();
    case WebUiColumn: return answered ? versionText(node.webUi) : QString();
    case ServiceColumn: return answered ? displayName(node.service) : QString();
    case FlowsColumn:
        if (sortRole)
            return node.flowsPerSecond;
        return answered && node.receivesFlows ? QLocale().toString(node.flowsPerSecond, 'f', 0)
                                              : QString();
    case DiskColumn:
        if (sortRole)
            return node.freeBytes;
        return answered && node.freeBytes >= 0 ? QLocale().formattedDataSize(node.freeBytes)
                                               : QString();
    case NotesColumn: {
        const QStringList sources = m_discovery->listedBy(node);
        const QString from = sources.isEmpty() ? QString() : tr("Listed by %1.").arg(sources.join(QStringLiteral(", ")));
        QString note = !node.reachable ? node.unreachableReason
                       : node.busy     ? tr("An upgrade is running on this node.")
                                       : QString();
        return note.isEmpty() ? from : from.isEmpty() ? note : note + QLatin1Char(' ') + from;
    }
    }
    return {};
}

} // namespace ft::ui

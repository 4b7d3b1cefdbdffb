#include "widgets/nodetablemodel.h"

#include "discover/discovery.h"
#include "widgets/statusicons.h"

#include <QLocale>

namespace ft::ui {

namespace {

// The version with the source it came from; a disagreement between sources is shown
// in the cell itself, never only in a tooltip.
QString versionText(const ComponentState &state)
{
    if (!state.installed && state.error.isEmpty())
        return QString();
    if (state.source.isEmpty() && !state.disagreement)
        return state.installed ? state.version.toString() : QString();
    return state.versionText();
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
    if (role == Qt::ToolTipRole) {
        if (node.reachable) {
            // Where each version came from, and what every other source said.
            const ComponentState *state = index.column() == ServerColumn ? &node.server
                                        : index.column() == NbiColumn    ? &node.nbi
                                        : index.column() == WebUiColumn  ? &node.webUi
                                                                         : nullptr;
            if (state && !state->readings.isEmpty())
                return state->sourcesText();
            if (index.column() == FlowsColumn && !node.flowRateMeasured)
                return node.flowRateNotMeasuredReason;
        }
        return node.reachable ? node.agentUrl.toString()
                              : node.unreachableReason + QLatin1Char('\n') + node.agentUrl.toString();
    }
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
        if (answered && node.receivesFlows && !node.flowRateMeasured)
            return tr("not measured");
        return answered && node.receivesFlows ? QLocale().toString(node.flowsPerSecond, 'f', 0)
                                              : QString();
    case DiskColumn:
        if (sortRole)
            return node.freeBytes;
        return answered && node.freeBytes >= 0 ? QLocale().formattedDataSize(node.freeBytes)
                                               : QString();
    case NotesColumn:
        if (!node.reachable) {
            const QStringList sources = m_discovery->listedBy(node);
            return sources.isEmpty() ? node.unreachableReason
                                     : node.unreachableReason + QLatin1Char(' ') + tr("Listed by %1.").arg(sources.join(QStringLiteral(", ")));
        }
        {
            QStringList notes;
            if (node.busy)
                notes.append(tr("An upgrade is running on this node."));
            for (const ComponentState *state : {&node.server, &node.nbi, &node.webUi}) {
                if (state->disagreement)
                    notes.append(tr("Version sources disagree: %1.").arg(state->versionText()));
                else if (!state->installed && !state->error.isEmpty())
                    notes.append(state->error);
            }
            if (node.receivesFlows && !node.flowRateMeasured)
                notes.append(tr("Flow rate not measured: %1").arg(node.flowRateNotMeasuredReason));
            const QStringList sources = m_discovery->listedBy(node);
            if (!sources.isEmpty())
                notes.append(tr("Listed by %1.").arg(sources.join(QStringLiteral(", "))));
            return notes.join(QLatin1Char(' '));
        }
    }
    return {};
}

} // namespace ft::ui

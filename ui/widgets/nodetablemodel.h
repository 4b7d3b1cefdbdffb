#pragma once

#include <QAbstractTableModel>

namespace ft {
class ClusterDiscovery;
}

namespace ft::ui {

// The discovered nodes as a table, following the discovery as its probes answer.
// Qt::UserRole gives a sortable raw value for every column.
class NodeTableModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column {
        StatusColumn,
        NameColumn,
        RoleColumn,
        OsColumn,
        ServerColumn,
        NbiColumn,
        WebUiColumn,
        ServiceColumn,
        FlowsColumn,
        DiskColumn,
        NotesColumn,
        ColumnCount
    };

    explicit NodeTableModel(ClusterDiscovery *discovery, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    ClusterDiscovery *m_discovery;
    int m_rows = 0;
};

} // namespace ft::ui

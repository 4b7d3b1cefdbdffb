#pragma once

#include "model/expected.h"

#include <QByteArray>
#include <QList>
#include <QString>

namespace ft {

// One node of a list the administrator pastes or imports (Connect page).
struct ListedNode
{
    QString name;
    QString host;      // IP address or host name of the node's agent
    int agentPort = 9650;
};

// Reads a node list as a spreadsheet exports it (CSV, parsed by libcsv): one node per
// row, "name,host" or "name,host,agent_port"; a first row whose first cell is "name" is
// a header; empty rows are skipped. Bad input (a bad name, host or port, a name or
// address twice, a row with too few or too many cells, broken quoting) is one sentence
// that names the row, and nothing is returned.
Expected<QList<ListedNode>> parseNodeList(const QByteArray &csv);

} // namespace ft

#include "discover/nodelist.h"

#include <QCoreApplication>
#include <QHostAddress>
#include <QRegularExpression>
#include <QSet>
#include <QStringList>

#include <csv.h>

namespace ft {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::NodeList", text); }

struct Rows
{
    QList<QStringList> rows;
    QStringList current;
};

void onField(void *data, size_t length, void *context)
{
    auto *rows = static_cast<Rows *>(context);
    rows->current.append(QString::fromUtf8(static_cast<const char *>(data), qsizetype(length)).trimmed());
}

void onRow(int, void *context)
{
    auto *rows = static_cast<Rows *>(context);
    rows->rows.append(rows->current);
    rows->current.clear();
}

bool isHostName(const QString &host)
{
    static const QRegularExpression pattern(
        QStringLiteral("^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"));
    return pattern.match(host).hasMatch();
}

} // namespace

Expected<QList<ListedNode>> parseNodeList(const QByteArray &csv)
{
    csv_parser parser;
    if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI) != 0)
        return makeError(tr("The CSV reader could not start."));
    Rows rows;
    const size_t parsed = csv_parse(&parser, csv.constData(), size_t(csv.size()), onField, onRow, &rows);
    const bool failed = parsed != size_t(csv.size()) || csv_fini(&parser, onField, onRow, &rows) != 0;
    const QString why = failed ? QString::fromUtf8(csv_strerror(csv_error(&parser))) : QString();
    csv_free(&parser);
    if (failed)
        return makeError(tr("The node list is not valid CSV (%1) near row %2.").arg(why).arg(rows.rows.size() + 1));

    static const QRegularExpression namePattern(QStringLiteral("^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$"));
    QList<ListedNode> nodes;
    QSet<QString> names;
    QSet<QString> addresses;
    for (qsizetype i = 0; i < rows.rows.size(); ++i) {
        const QStringList &cells = rows.rows.at(i);
        const qsizetype row = i + 1;
        if (cells.isEmpty() || (cells.size() == 1 && cells.first().isEmpty()))
            continue;
        if (i == 0 && cells.first().compare(QLatin1String("name"), Qt::CaseInsensitive) == 0)
            continue; // a header
        if (cells.size() < 2 || cells.size() > 3)
            return makeError(tr("Row %1 of the node list has %2 cells; write name,host or name,host,agent_port.")
                                 .arg(row).arg(cells.size()));
        ListedNode node;
        node.name = cells.at(0);
        node.host = cells.at(1);
        if (!namePattern.match(node.name).hasMatch())
            return makeError(tr("Row %1: \"%2\" is not a node name (letters, digits, . _ -).").arg(row).arg(node.name));
        const QHostAddress address(node.host);
        if (address.isNull() && !isHostName(node.host))
            return makeError(tr("Row %1: \"%2\" is not an IP address or host name.").arg(row).arg(node.host));
        if (cells.size() == 3 && !cells.at(2).isEmpty()) {
            bool ok = false;
            node.agentPort = cells.at(2).toInt(&ok);
            if (!ok || node.agentPort < 1 || node.agentPort > 65535)
                return makeError(tr("Row %1: the agent port \"%2\" is not a number from 1 to 65535.").arg(row).arg(cells.at(2)));
        }
        const QString where = node.host.toLower() + QLatin1Char(':') + QString::number(node.agentPort);
        if (names.contains(node.name.toLower()))
            return makeError(tr("Row %1: the node %2 is listed twice.").arg(row).arg(node.name));
        if (addresses.contains(where))
            return makeError(tr("Row %1: the agent %2:%3 is listed twice.").arg(row).arg(node.host).arg(node.agentPort));
        names.insert(node.name.toLower());
        addresses.insert(where);
        nodes.append(node);
    }
    if (nodes.isEmpty())
        return makeError(tr("The node list names no node."));
    return nodes;
}

} // namespace ft

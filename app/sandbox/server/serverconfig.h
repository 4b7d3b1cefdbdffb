#pragma once

#include "model/expected.h"

#include <QHostAddress>
#include <QString>

namespace ft::sandbox {

// What the daemon reads from an installation folder: flowtraq.conf and VERSION.
struct ServerConfig
{
    QString installDir; // absolute
    QString nodeName;
    QString version; // as VERSION says, e.g. "6.2.1-1200"
    QHostAddress listen = QHostAddress::LocalHost;
    quint16 tcpPort = 9640;
    quint16 flowPort = 0; // 0: this node receives no flows

    static Expected<ServerConfig> load(const QString &installDir);

    QString path(const QString &relative) const; // inside the installation folder
    QString pidFilePath() const { return path(QStringLiteral("run/flowtraq.pid")); }
    QString statusFilePath() const { return path(QStringLiteral("run/status.json")); }
    QString historyFilePath() const { return path(QStringLiteral("data/flowhistory.json")); }
    QString logDir() const { return path(QStringLiteral("logs")); }
};

} // namespace ft::sandbox

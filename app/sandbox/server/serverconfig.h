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

    // [webapi]: the stand-in of FlowTraq's Web API v3 (HTTPS only, as the vendor's
    // default), served when a user is set; port 0 or absent: any free port (status.json
    // names it). One FlowTraq user, its password kept as the SHA-256 (hex) of it.
    bool webApi = false;
    quint16 webApiPort = 0;
    QString webApiUser;
    QByteArray webApiPasswordSha256;

    static Expected<ServerConfig> load(const QString &installDir);

    QString path(const QString &relative) const; // inside the installation folder
    QString pidFilePath() const { return path(QStringLiteral("run/flowtraq.pid")); }
    QString statusFilePath() const { return path(QStringLiteral("run/status.json")); }
    QString historyFilePath() const { return path(QStringLiteral("data/flowhistory.json")); }
    QString logDir() const { return path(QStringLiteral("logs")); }
    QString webApiCertificatePath() const { return path(QStringLiteral("run/webapi.crt")); }
    QString webApiKeyPath() const { return path(QStringLiteral("run/webapi.key")); }
};

} // namespace ft::sandbox

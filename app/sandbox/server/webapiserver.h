#pragma once

#include "model/expected.h"
#include "serverconfig.h"

#include <QAbstractHttpServer>
#include <QJsonObject>
#include <QSet>

#include <functional>

namespace ft::sandbox {

// The stand-in of FlowTraq's Web API v3 as the vendor documents it (BRIEF §1), served
// by the sandbox daemon over HTTPS under /flowtraq/api/v3/:
// - GET info answers {"info": {...}}; POST sessionkey answers {"sessionkey": KEY};
// - authentication: HTTP basic auth with the FlowTraq user, or header ftsessionkey;
// - errors carry {"message": …}: 403 bad credentials or bad request, 404 something
//   that is not set, 500 the server is not answering (while the daemon stops).
// The fields inside "info" are not documented by the vendor; the sandbox's own are
// listed in LAYOUT.md and no client may rely on them.
class WebApiServer : public QAbstractHttpServer
{
    Q_OBJECT

public:
    using InfoSource = std::function<QJsonObject()>;

    WebApiServer(ServerConfig config, InfoSource info, QObject *parent = nullptr);

    // Makes the certificate on first use (run/webapi.crt) and listens; returns the port.
    Expected<quint16> start();
    // While the daemon shuts down the API answers 500, as a real portal's web server
    // does while the FlowTraq daemon is not answering.
    void setStopping(bool stopping) { m_stopping = stopping; }

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override;
    void missingHandler(const QHttpServerRequest &request, QTcpSocket *socket) override;

private:
    bool authorized(const QHttpServerRequest &request) const;

    ServerConfig m_config;
    InfoSource m_info;
    QSet<QByteArray> m_sessionKeys; // in memory: lost at a restart, as sessions are
    bool m_stopping = false;
};

} // namespace ft::sandbox

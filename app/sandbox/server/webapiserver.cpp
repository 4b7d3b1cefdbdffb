#include "webapiserver.h"

#include "certificate.h"

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QFile>
#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QSslCertificate>
#include <QSslKey>
#include <QTcpSocket>

#include <spdlog/spdlog.h>

namespace ft::sandbox {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::sandbox::WebApiServer", text); }

bool constantTimeEquals(const QByteArray &a, const QByteArray &b)
{
    if (a.size() != b.size())
        return false;
    unsigned char diff = 0;
    for (qsizetype i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned char>(a.at(i) ^ b.at(i));
    return diff == 0;
}

void writeJson(QHttpServerResponder &responder, int status, const QJsonObject &body)
{
    responder.write(QJsonDocument(body).toJson(QJsonDocument::Compact),
                    {{"Content-Type", "application/json"}, {"Cache-Control", "no-store"}},
                    QHttpServerResponder::StatusCode(status));
}

void writeMessage(QHttpServerResponder &responder, int status, const QString &message)
{
    writeJson(responder, status, {{QStringLiteral("message"), message}});
}

constexpr char kPrefix[] = "/flowtraq/api/v3/";

} // namespace

WebApiServer::WebApiServer(ServerConfig config, InfoSource info, QObject *parent)
    : QAbstractHttpServer(parent)
    , m_config(std::move(config))
    , m_info(std::move(info))
{
}

Expected<quint16> WebApiServer::start()
{
    if (!QFile::exists(m_config.webApiCertificatePath()) || !QFile::exists(m_config.webApiKeyPath())) {
        if (auto made = agent::writeSelfSignedCertificate(m_config.webApiCertificatePath(), m_config.webApiKeyPath(),
                                                          {m_config.nodeName});
            !made)
            return makeError(tr("Cannot make the Web API certificate: %1").arg(made.error()));
    }
    QFile certFile(m_config.webApiCertificatePath());
    QFile keyFile(m_config.webApiKeyPath());
    if (!certFile.open(QIODevice::ReadOnly) || !keyFile.open(QIODevice::ReadOnly))
        return makeError(tr("Cannot read the Web API certificate or key in run/."));
    const QSslCertificate certificate(certFile.readAll(), QSsl::Pem);
    const QSslKey key(keyFile.readAll(), QSsl::Ec, QSsl::Pem);
    if (certificate.isNull() || key.isNull())
        return makeError(tr("The Web API certificate or key in run/ is not valid PEM."));
    sslSetup(certificate, key);
    const quint16 port = listen(m_config.listen, m_config.webApiPort);
    if (port == 0)
        return makeError(tr("Cannot listen for the Web API on %1 port %2.")
                             .arg(m_config.listen.toString()).arg(m_config.webApiPort));
    return port;
}

bool WebApiServer::authorized(const QHttpServerRequest &request) const
{
    const QByteArray sessionKey = request.value("ftsessionkey");
    if (!sessionKey.isEmpty())
        return m_sessionKeys.contains(sessionKey);
    const QByteArray authorization = request.value("Authorization");
    if (!authorization.startsWith("Basic "))
        return false;
    const QByteArray decoded = QByteArray::fromBase64(authorization.mid(6).trimmed(),
                                                      QByteArray::AbortOnBase64DecodingErrors);
    const qsizetype colon = decoded.indexOf(':');
    if (colon < 0)
        return false;
    const QByteArray user = decoded.left(colon);
    const QByteArray hash = QCryptographicHash::hash(decoded.mid(colon + 1), QCryptographicHash::Sha256).toHex();
    // Both compared in full, so timing tells nothing about which one was wrong.
    const bool userOk = constantTimeEquals(user, m_config.webApiUser.toUtf8());
    const bool passwordOk = constantTimeEquals(hash, m_config.webApiPasswordSha256);
    return userOk && passwordOk;
}

bool WebApiServer::handleRequest(const QHttpServerRequest &request, QTcpSocket *socket)
{
    QHttpServerResponder responder = makeResponder(request, socket);
    const QString path = request.url().path();
    const auto method = request.method();
    if (!path.startsWith(QLatin1String(kPrefix))) {
        writeMessage(responder, 404, tr("There is nothing at %1.").arg(path));
        return true;
    }
    const QString name = path.mid(int(qstrlen(kPrefix)));
    if (!authorized(request)) {
        spdlog::warn("Web API: refused {} {} (bad credentials)", method == QHttpServerRequest::Method::Post ? "POST" : "GET",
                     path.toStdString());
        writeMessage(responder, 403, tr("Invalid credentials."));
        return true;
    }
    if (m_stopping) {
        writeMessage(responder, 500, tr("The FlowTraq server is not answering."));
        return true;
    }
    if (name == QLatin1String("info")) {
        if (method != QHttpServerRequest::Method::Get) {
            writeMessage(responder, 403, tr("Use GET for info."));
            return true;
        }
        writeJson(responder, 200, {{QStringLiteral("info"), m_info()}});
        return true;
    }
    if (name == QLatin1String("sessionkey")) {
        if (method != QHttpServerRequest::Method::Post) {
            writeMessage(responder, 403, tr("Use POST for sessionkey."));
            return true;
        }
        QByteArray key(32, Qt::Uninitialized);
        QRandomGenerator::system()->generate(reinterpret_cast<quint32 *>(key.data()),
                                             reinterpret_cast<quint32 *>(key.data() + key.size()));
        const QByteArray hex = key.toHex();
        m_sessionKeys.insert(hex);
        writeJson(responder, 200, {{QStringLiteral("sessionkey"), QString::fromLatin1(hex)}});
        return true;
    }
    writeMessage(responder, 404, tr("%1 is not set on this server.").arg(name));
    return true;
}

void WebApiServer::missingHandler(const QHttpServerRequest &request, QTcpSocket *socket)
{
    QHttpServerResponder responder = makeResponder(request, socket);
    writeMessage(responder, 404, tr("There is nothing at %1.").arg(request.url().path()));
}

} // namespace ft::sandbox

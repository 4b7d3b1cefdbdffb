#pragma once

// Shared by the agent's contract tests (agentapi, agentjobs): a real ftupgrade-agent
// process on 127.0.0.1 (port 0) with a sandbox installation, an HTTPS client that pins
// the agent's certificate, and a small package file server with faulty modes.

#include "../common/serviceports.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QElapsedTimer>
#include <QDir>
#include <QEventLoop>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QPointer>
#include <QProcess>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslKey>
#include <QSslServer>
#include <QSslSocket>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <csignal>
#include <memory>

namespace agenttest {

inline QString bin(const QString &name)
{
    return QStringLiteral(FT_BIN_DIR "/") + name;
}

// Runs a command-line tool to completion (tests only).
inline QByteArray runTool(const QString &name, const QStringList &arguments, int *exitCode = nullptr)
{
    QProcess process;
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.start(bin(name), arguments);
    if (!process.waitForFinished(60000)) {
        process.kill();
        process.waitForFinished();
    }
    if (exitCode)
        *exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    return process.readAll();
}

inline QByteArray sha256Hex(const QByteArray &data)
{
    return QCryptographicHash::hash(data, QCryptographicHash::Sha256).toHex();
}

inline QByteArray readAll(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

struct Response
{
    int status = 0;
    QByteArray body;
    QJsonObject json;
    QByteArray contentType;
    QByteArray wwwAuthenticate;
    QString networkError;
};

// One agent with its own sandbox installation in a temporary folder.
class Agent
{
public:
    QTemporaryDir dir;
    QString installDir;
    QString configFile;
    QString stagingDir;
    QByteArray token = "contract-test-token-0123456789";
    QByteArray fingerprint;
    QUrl url;
    std::unique_ptr<QProcess> process;

    Agent()
    {
        installDir = dir.filePath(QStringLiteral("node"));
        configFile = dir.filePath(QStringLiteral("agent/agent.conf"));
        stagingDir = dir.filePath(QStringLiteral("agent/staging"));
    }
    ~Agent()
    {
        stop();
        stopDaemon();
    }

    // ftsandbox init + ftupgrade-agent init. Returns an error text, empty on success.
    QString setUp(const QStringList &sandboxArguments = {})
    {
        int code = 0;
        const QByteArray out = runTool(QStringLiteral("ftsandbox"),
                                       QStringList{QStringLiteral("init"), installDir,
                                                   QStringLiteral("--version"), QStringLiteral("6.2.1-1200"),
                                                   QStringLiteral("--role"), QStringLiteral("portal"),
                                                   QStringLiteral("--os"), QStringLiteral("linux"),
                                                   QStringLiteral("--name"), QStringLiteral("portal"),
                                                   QStringLiteral("--webui-files"), QStringLiteral("40")}
                                           + sandboxArguments,
                                       &code);
        if (code != 0)
            return QStringLiteral("ftsandbox init failed: ") + QString::fromUtf8(out);
        return initAgent();
    }

    QString initAgent(const QStringList &extra = {})
    {
        int code = 0;
        const QByteArray out = runTool(QStringLiteral("ftupgrade-agent"),
                                       QStringList{QStringLiteral("init"), QStringLiteral("--config"), configFile,
                                                   QStringLiteral("--install"), installDir,
                                                   QStringLiteral("--backend"), QStringLiteral("sandbox"),
                                                   QStringLiteral("--port"), QStringLiteral("0"),
                                                   QStringLiteral("--staging"), stagingDir,
                                                   QStringLiteral("--token"), QString::fromLatin1(token)}
                                           + extra,
                                       &code);
        if (code != 0)
            return QStringLiteral("ftupgrade-agent init failed: ") + QString::fromUtf8(out);
        for (const QByteArray &line : out.split('\n')) {
            if (line.startsWith("fingerprint: "))
                fingerprint = line.mid(13).trimmed();
        }
        return fingerprint.size() == 64 ? QString() : QStringLiteral("no fingerprint in: ") + QString::fromUtf8(out);
    }

    // Starts `run` and waits for its "listening:" line.
    QString start()
    {
        process = std::make_unique<QProcess>();
        process->setProcessChannelMode(QProcess::SeparateChannels);
        process->setStandardErrorFile(dir.filePath(QStringLiteral("agent-stderr.txt")), QIODevice::Append);
        process->start(bin(QStringLiteral("ftupgrade-agent")),
                       {QStringLiteral("run"), QStringLiteral("--config"), configFile,
                        QStringLiteral("--log-level"), QStringLiteral("debug")});
        QByteArray out;
        QElapsedTimer timer;
        timer.start();
        while (timer.elapsed() < 15000) {
            process->waitForReadyRead(200);
            out += process->readAllStandardOutput();
            const qsizetype at = out.indexOf("listening: ");
            if (at >= 0 && out.indexOf('\n', at) > at) {
                url = QUrl(QString::fromUtf8(out.mid(at + 11, out.indexOf('\n', at) - at - 11).trimmed()));
                return {};
            }
            if (process->state() == QProcess::NotRunning)
                break;
        }
        return QStringLiteral("the agent did not start: ") + QString::fromUtf8(out)
               + QString::fromUtf8(readAll(dir.filePath(QStringLiteral("agent-stderr.txt"))));
    }

    // SIGTERM and wait (what a service manager does on restart).
    void stop()
    {
        if (!process || process->state() == QProcess::NotRunning)
            return;
        process->terminate();
        if (!process->waitForFinished(10000)) {
            process->kill();
            process->waitForFinished();
        }
    }

    // The sandbox daemon the agent may have started (detached): stop it too.
    void stopDaemon()
    {
        const qint64 pid = readAll(QDir(installDir).filePath(QStringLiteral("run/flowtraq.pid"))).trimmed().toLongLong();
        if (pid <= 0 || ::kill(pid_t(pid), 0) != 0)
            return;
        ::kill(pid_t(pid), SIGTERM);
        for (int i = 0; i < 100 && ::kill(pid_t(pid), 0) == 0; ++i)
            QTest::qWait(50);
        if (::kill(pid_t(pid), 0) == 0)
            ::kill(pid_t(pid), SIGKILL);
    }

    QString installedVersion(const QString &file = QStringLiteral("VERSION")) const
    {
        return QString::fromUtf8(readAll(QDir(installDir).filePath(file))).trimmed();
    }
};

// HTTPS client that trusts exactly one certificate (by SHA-256), like the wizard.
class Client
{
public:
    QNetworkAccessManager nam;
    QByteArray fingerprint;
    QByteArray token;
    QUrl base;

    void bind(const Agent &agent)
    {
        fingerprint = agent.fingerprint;
        token = agent.token;
        base = agent.url;
    }

    Response request(const QByteArray &verb, const QString &pathAndQuery, const QByteArray &body = {},
                     const QList<QPair<QByteArray, QByteArray>> &headers = {}, bool withToken = true,
                     int timeoutMs = 40000)
    {
        QUrl url = base;
        const qsizetype q = pathAndQuery.indexOf(QLatin1Char('?'));
        url.setPath(q < 0 ? pathAndQuery : pathAndQuery.left(q), QUrl::TolerantMode);
        if (q >= 0)
            url.setQuery(pathAndQuery.mid(q + 1), QUrl::TolerantMode);
        QNetworkRequest request(url);
        if (withToken)
            request.setRawHeader("Authorization", "Bearer " + token);
        for (const auto &header : headers)
            request.setRawHeader(header.first, header.second);
        QNetworkReply *reply = nam.sendCustomRequest(request, verb, body);
        QObject::connect(reply, &QNetworkReply::sslErrors, reply, [this, reply](const QList<QSslError> &errors) {
            if (reply->sslConfiguration().peerCertificate().digest(QCryptographicHash::Sha256).toHex() == fingerprint)
                reply->ignoreSslErrors(errors);
        });
        QEventLoop loop;
        QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
        QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
        loop.exec();
        Response response;
        if (!reply->isFinished()) {
            reply->abort();
            response.networkError = QStringLiteral("timed out");
        }
        response.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        response.body = reply->readAll();
        response.json = QJsonDocument::fromJson(response.body).object();
        response.contentType = reply->rawHeader("Content-Type");
        response.wwwAuthenticate = reply->rawHeader("WWW-Authenticate");
        if (reply->error() != QNetworkReply::NoError && response.status == 0)
            response.networkError = reply->errorString();
        reply->deleteLater();
        return response;
    }

    Response get(const QString &path) { return request("GET", path); }
    Response post(const QString &path, const QJsonObject &body)
    {
        return request("POST", path, QJsonDocument(body).toJson(QJsonDocument::Compact),
                       {{"Content-Type", "application/json"}});
    }

    // Long-polls a job until it ends; collects every phase seen and every log line.
    // latenciesMs: for lines that arrived while a poll waited, how long after the agent
    // logged them they reached us (a figure to print, never to assert on).
    QJsonObject waitForJob(const QString &id, QStringList *phases = nullptr, QStringList *lines = nullptr,
                           int timeoutMs = 60000, QList<qint64> *latenciesMs = nullptr)
    {
        qint64 since = 0;
        QElapsedTimer timer;
        timer.start();
        QJsonObject job;
        while (timer.elapsed() < timeoutMs) {
            const QDateTime sent = QDateTime::currentDateTimeUtc();
            const Response r = get(QStringLiteral("/v1/jobs/%1?since=%2&wait=5000").arg(id).arg(since));
            const QDateTime received = QDateTime::currentDateTimeUtc();
            if (r.status != 200)
                return {};
            job = r.json;
            if (phases && (phases->isEmpty() || phases->last() != job.value(QStringLiteral("phase")).toString()))
                phases->append(job.value(QStringLiteral("phase")).toString());
            for (const QJsonValue &line : job.value(QStringLiteral("log")).toArray()) {
                if (lines)
                    lines->append(line.toObject().value(QStringLiteral("line")).toString());
                const QDateTime logged = QDateTime::fromString(line.toObject().value(QStringLiteral("t")).toString(), Qt::ISODateWithMs);
                if (latenciesMs && logged.isValid() && logged > sent)
                    latenciesMs->append(logged.msecsTo(received));
            }
            since = job.value(QStringLiteral("next")).toInteger();
            const QString state = job.value(QStringLiteral("state")).toString();
            if (state != QLatin1String("queued") && state != QLatin1String("running"))
                return job;
        }
        return job;
    }
};

// Serves one file over HTTP (or HTTPS) on 127.0.0.1, optionally misbehaving.
class FileServer : public QObject
{
public:
    enum class Mode { Normal, Corrupt, Short, Stall, Redirect, NotFound };

    QByteArray data;
    Mode mode = Mode::Normal;
    QString redirectTo; // Mode::Redirect: the Location of its 302
    int requests = 0;
    QList<QByteArray> heads; // each request's line and headers, as received
    int disconnects = 0;     // connections the client closed or that ended

    explicit FileServer(bool tls = false)
    {
        if (tls) {
            auto *ssl = new QSslServer(this);
            m_server = ssl;
        } else {
            m_server = new QTcpServer(this);
        }
        QObject::connect(m_server, &QTcpServer::pendingConnectionAvailable, this, [this] { accept(); });
    }

    // TLS only: the certificate and key to serve with.
    void setCertificate(const QSslCertificate &certificate, const QSslKey &key)
    {
        QSslConfiguration config = QSslConfiguration::defaultConfiguration();
        config.setLocalCertificate(certificate);
        config.setPrivateKey(key);
        config.setPeerVerifyMode(QSslSocket::VerifyNone);
        static_cast<QSslServer *>(m_server)->setSslConfiguration(config);
    }

    // On a port outside the ephemeral range (serviceports.h says why).
    bool listen()
    {
        return ft::test::portOutsideEphemeralRange(
                   [this](quint16 port) { return m_server->listen(QHostAddress::LocalHost, port); })
               != 0;
    }

    QString url(const QString &name) const
    {
        return QStringLiteral("%1://127.0.0.1:%2/packages/%3")
            .arg(qobject_cast<QSslServer *>(m_server) ? QStringLiteral("https") : QStringLiteral("http"))
            .arg(m_server->serverPort())
            .arg(name);
    }

private:
    void accept()
    {
        while (QTcpSocket *socket = m_server->nextPendingConnection()) {
            auto buffer = std::make_shared<QByteArray>();
            QObject::connect(socket, &QTcpSocket::readyRead, socket, [this, socket, buffer] {
                buffer->append(socket->readAll());
                if (!buffer->contains("\r\n\r\n"))
                    return;
                heads.append(buffer->left(buffer->indexOf("\r\n\r\n")));
                buffer->clear();
                ++requests;
                respond(socket);
            });
            QObject::connect(socket, &QTcpSocket::disconnected, this, [this] { ++disconnects; });
            QObject::connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        }
    }

    void respond(QTcpSocket *socket)
    {
        if (mode == Mode::Redirect || mode == Mode::NotFound) {
            socket->write(mode == Mode::Redirect
                              ? "HTTP/1.1 302 Found\r\nLocation: " + redirectTo.toUtf8()
                                    + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                              : QByteArray("HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\n"
                                           "not found"));
            socket->disconnectFromHost();
            return;
        }
        QByteArray body = data;
        if (mode == Mode::Corrupt && !body.isEmpty())
            body[body.size() / 2] = char(body.at(body.size() / 2) ^ 0x5a);
        QByteArray head = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: "
                          + QByteArray::number(data.size()) + "\r\nConnection: close\r\n\r\n";
        socket->write(head);
        if (mode == Mode::Stall) {
            socket->write(body.left(body.size() / 4)); // then nothing, until the client gives up
            return;
        }
        if (mode == Mode::Short) {
            socket->write(body.left(body.size() / 2));
            socket->flush();
            socket->disconnectFromHost(); // fewer bytes than promised
            return;
        }
        socket->write(body);
        socket->disconnectFromHost();
    }

    QTcpServer *m_server = nullptr;
};

} // namespace agenttest

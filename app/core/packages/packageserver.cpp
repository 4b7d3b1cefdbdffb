#include "packages/packageserver.h"

#include "support/logging.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QFile>
#include <QFileInfo>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QCryptographicHash>
#include <QSslCertificate>
#include <QSslServer>
#include <QSslSocket>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>

#include <spdlog/spdlog.h>

namespace ft {

namespace {

constexpr qint64 kChunk = 256 * 1024;          // read from disk at a time
constexpr qint64 kHighWater = 1024 * 1024;     // socket buffer kept at most this full
constexpr qsizetype kMaxHeader = 16 * 1024;
constexpr int kIdleMs = 60000;                 // a silent peer is dropped

QString randomToken()
{
    QByteArray bytes(16, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(bytes.data()), 4);
    return QString::fromLatin1(bytes.toHex());
}

QByteArray statusText(int status)
{
    switch (status) {
    case 200: return "OK";
    case 206: return "Partial Content";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 416: return "Range Not Satisfiable";
    default: return "Error";
    }
}

} // namespace

// One connection: reads one request, answers it, streams the body, closes.
class PackageTransfer : public QObject
{
public:
    PackageTransfer(PackageServer *server, QTcpSocket *socket)
        : QObject(server)
        , m_server(server)
        , m_socket(socket)
    {
        socket->setParent(this);
        m_idle.setSingleShot(true);
        connect(&m_idle, &QTimer::timeout, this, [this] { done(false); });
        connect(socket, &QTcpSocket::readyRead, this, [this] { onReadyRead(); });
        connect(socket, &QTcpSocket::bytesWritten, this, [this] { pump(); });
        if (auto *ssl = qobject_cast<QSslSocket *>(socket))
            connect(ssl, &QSslSocket::encryptedBytesWritten, this, [this] { pump(); });
        connect(socket, &QTcpSocket::disconnected, this, [this] { done(m_bodyLeft == 0 && m_answered); });
        m_idle.start(kIdleMs);
    }

    bool isSending() const { return m_answered && !m_finished; }

    void abort()
    {
        m_socket->abort();
        done(false);
    }

private:
    void onReadyRead()
    {
        m_idle.start(kIdleMs);
        if (m_answered) {
            m_socket->readAll(); // nothing more is expected; drop it
            return;
        }
        m_header += m_socket->readAll();
        const qsizetype end = m_header.indexOf("\r\n\r\n");
        if (end < 0) {
            if (m_header.size() > kMaxHeader)
                answerError(400);
            return;
        }
        handleRequest(m_header.left(end));
    }

    void handleRequest(const QByteArray &head)
    {
        const QList<QByteArray> lines = head.split('\n');
        const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
        if (requestLine.size() != 3 || !requestLine.at(2).startsWith("HTTP/1.")) {
            answerError(400);
            return;
        }
        const QByteArray &method = requestLine.at(0);
        if (method != "GET" && method != "HEAD") {
            answerError(405);
            return;
        }
        m_head = method == "HEAD";
        const QString urlPath = QUrl::fromPercentEncoding(requestLine.at(1).split('?').value(0));
        const QString filePath = m_server->filePathFor(urlPath);
        m_fileName = QFileInfo(urlPath).fileName();
        m_file.setFileName(filePath);
        if (filePath.isEmpty() || !m_file.open(QIODevice::ReadOnly)) {
            answerError(404);
            return;
        }
        const qint64 size = m_file.size();
        qint64 first = 0;
        qint64 last = size - 1;
        int status = 200;
        for (qsizetype i = 1; i < lines.size(); ++i) {
            const QByteArray line = lines.at(i).trimmed();
            if (!line.toLower().startsWith("range:"))
                continue;
            static const QRegularExpression range(QStringLiteral("^bytes=(\\d*)-(\\d*)$"));
            const auto match = range.match(QString::fromLatin1(line.mid(6).trimmed()));
            if (!match.hasMatch() || (match.captured(1).isEmpty() && match.captured(2).isEmpty())) {
                answerError(416, size);
                return;
            }
            if (match.captured(1).isEmpty()) { // the last N bytes
                first = std::max<qint64>(0, size - match.captured(2).toLongLong());
            } else {
                first = match.captured(1).toLongLong();
                if (!match.captured(2).isEmpty())
                    last = std::min(last, match.captured(2).toLongLong());
            }
            if (first >= size || first > last) {
                answerError(416, size);
                return;
            }
            status = 206;
        }
        m_bodyLeft = last - first + 1;
        if (first > 0 && !m_file.seek(first)) {
            answerError(404);
            return;
        }
        QByteArray response = "HTTP/1.1 " + QByteArray::number(status) + ' ' + statusText(status)
                              + "\r\nContent-Type: application/octet-stream"
                                "\r\nAccept-Ranges: bytes\r\nConnection: close"
                                "\r\nContent-Length: "
                              + QByteArray::number(m_bodyLeft) + "\r\n";
        if (status == 206)
            response += "Content-Range: bytes " + QByteArray::number(first) + '-'
                        + QByteArray::number(last) + '/' + QByteArray::number(size) + "\r\n";
        response += "\r\n";
        m_answered = true;
        m_socket->write(response);
        if (m_head)
            m_bodyLeft = 0;
        logging::logger()->info("Package server: {} {} to {} ({} bytes from {})", method.constData(),
                                m_fileName.toStdString(),
                                m_socket->peerAddress().toString().toStdString(), m_bodyLeft, first);
        pump();
    }

    void answerError(int status, qint64 size = -1)
    {
        QByteArray body = "{\"error\": \"" + statusText(status) + "\"}\n";
        QByteArray response = "HTTP/1.1 " + QByteArray::number(status) + ' ' + statusText(status)
                              + "\r\nContent-Type: application/json\r\nConnection: close"
                                "\r\nContent-Length: "
                              + QByteArray::number(body.size()) + "\r\n";
        if (size >= 0)
            response += "Content-Range: bytes */" + QByteArray::number(size) + "\r\n";
        m_answered = true;
        m_failed = true;
        m_socket->write(response + "\r\n" + body);
        m_bodyLeft = 0;
        pump();
    }

    // Tops the socket's buffer up from the file as it drains: memory stays bounded.
    void pump()
    {
        if (m_finished)
            return;
        m_idle.start(kIdleMs);
        while (m_bodyLeft > 0 && queued() < kHighWater) {
            const QByteArray chunk = m_file.read(std::min(kChunk, m_bodyLeft));
            if (chunk.isEmpty()) { // the file shrank under us: the peer sees a short body
                m_socket->abort();
                done(false);
                return;
            }
            m_socket->write(chunk);
            m_bodyLeft -= chunk.size();
            m_sent += chunk.size();
        }
        if (m_bodyLeft == 0 && m_answered && queued() == 0)
            m_socket->disconnectFromHost();
    }

    // Once encrypted, QSslSocket::bytesToWrite() leaves out the encrypted bytes still
    // waiting to go: counting only it would queue the whole file in memory over HTTPS.
    qint64 queued() const
    {
        qint64 bytes = m_socket->bytesToWrite();
        if (auto *ssl = qobject_cast<QSslSocket *>(m_socket))
            bytes += ssl->encryptedBytesToWrite();
        return bytes;
    }

    void done(bool complete)
    {
        if (m_finished)
            return;
        m_finished = true;
        m_idle.stop();
        m_file.close();
        m_server->onTransferDone(this, m_fileName, m_sent, complete && !m_failed);
    }

    PackageServer *m_server;
    QTcpSocket *m_socket;
    QTimer m_idle;
    QByteArray m_header;
    QFile m_file;
    QString m_fileName;
    qint64 m_bodyLeft = 0;
    qint64 m_sent = 0;
    bool m_head = false;
    bool m_answered = false;
    bool m_failed = false;
    bool m_finished = false;

    friend class PackageServer;
};

PackageServer::PackageServer(QObject *parent)
    : QObject(parent)
{
}

PackageServer::~PackageServer()
{
    close();
}

Result PackageServer::listen(const QHostAddress &address, quint16 port)
{
    close();
    delete m_server;
    if (isTls()) {
        auto *server = new QSslServer(this);
        server->setSslConfiguration(m_tls);
        server->setHandshakeTimeout(30000);
        m_server = server;
    } else {
        m_server = new QTcpServer(this);
    }
    connect(m_server, &QTcpServer::pendingConnectionAvailable, this, &PackageServer::onNewConnection);
    if (!m_server->listen(address, port))
        return makeError(tr("Cannot serve the packages on %1 port %2: %3")
                             .arg(address.toString())
                             .arg(port)
                             .arg(m_server->errorString()));
    return {};
}

void PackageServer::close()
{
    if (m_server)
        m_server->close();
    const auto transfers = m_transfers;
    for (const QPointer<PackageTransfer> &transfer : transfers) {
        if (transfer)
            transfer->abort();
    }
}

bool PackageServer::isListening() const
{
    return m_server && m_server->isListening();
}

QHostAddress PackageServer::address() const
{
    return m_server ? m_server->serverAddress() : QHostAddress();
}

quint16 PackageServer::port() const
{
    return m_server ? m_server->serverPort() : 0;
}

QString PackageServer::fingerprint() const
{
    if (!isTls())
        return {};
    return QString::fromLatin1(m_tls.localCertificate().digest(QCryptographicHash::Sha256).toHex());
}

Expected<QUrl> PackageServer::addFile(const QString &path)
{
    if (!isListening())
        return makeError(tr("The package server is not running."));
    const QFileInfo info(path);
    const QString absolute = info.absoluteFilePath();
    if (!info.isFile() || !info.isReadable())
        return makeError(tr("Cannot serve %1: it is not a readable file.").arg(path));
    QString urlPath = m_urlPaths.value(absolute);
    if (urlPath.isEmpty()) {
        urlPath = QStringLiteral("/packages/%1/%2").arg(randomToken(), info.fileName());
        m_urlPaths.insert(absolute, urlPath);
        m_files.insert(urlPath, absolute);
    }
    QString host = m_advertisedHost;
    if (host.isEmpty()) {
        const QHostAddress bound = address();
        host = bound == QHostAddress::Any || bound == QHostAddress::AnyIPv4
                       || bound == QHostAddress::AnyIPv6
                   ? QStringLiteral("127.0.0.1")
                   : bound.toString();
    }
    QUrl url;
    url.setScheme(isTls() ? QStringLiteral("https") : QStringLiteral("http"));
    url.setHost(host);
    url.setPort(port());
    url.setPath(urlPath);
    return url;
}

void PackageServer::removeAllFiles()
{
    m_files.clear();
    m_urlPaths.clear();
}

int PackageServer::activeTransfers() const
{
    int sending = 0;
    for (const QPointer<PackageTransfer> &transfer : m_transfers)
        sending += transfer && transfer->isSending() ? 1 : 0;
    return sending;
}

QString PackageServer::filePathFor(const QString &urlPath) const
{
    return m_files.value(urlPath);
}

void PackageServer::onNewConnection()
{
    while (QTcpSocket *socket = m_server->nextPendingConnection())
        m_transfers.append(QPointer<PackageTransfer>(new PackageTransfer(this, socket)));
}

void PackageServer::onTransferDone(PackageTransfer *transfer, const QString &fileName, qint64 bytes,
                                   bool complete)
{
    m_transfers.removeAll(QPointer<PackageTransfer>(transfer));
    m_transfers.removeAll(QPointer<PackageTransfer>());
    m_bytesSent += bytes;
    if (complete)
        ++m_completed;
    transfer->deleteLater();
    if (!fileName.isEmpty())
        Q_EMIT transferFinished(fileName, bytes, complete);
}

} // namespace ft

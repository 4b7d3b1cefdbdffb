#include "connectionguard.h"

#include "support/logging.h"

#include <QSslSocket>
#include <QTimer>

#include <memory>

#include <spdlog/spdlog.h>

namespace ft::agent {

// Follows one connection's requests and closes it when a stage takes too long.
class GuardedServer::Watch : public QObject
{
public:
    enum class Stage { Idle, Headers, Body, Handling };

    Watch(QTcpSocket *socket, const ConnectionLimits &limits)
        : QObject(socket), m_socket(socket), m_limits(limits)
    {
        m_timer.setSingleShot(true);
        connect(&m_timer, &QTimer::timeout, this, [this] { expire(); });
        // Connected before the HTTP server's own readyRead handler (it connects after
        // nextPendingConnection() returns), so peek() still sees the new bytes.
        connect(socket, &QIODevice::readyRead, this, [this] { onReadyRead(); });
        enter(Stage::Headers, m_limits.headerMs); // a new connection must send a request
    }

    void started()
    {
        m_bytesWhileHandling = false;
        enter(Stage::Handling, 0);
    }
    void finished()
    {
        if (m_stage != Stage::Handling)
            return;
        // Bytes of a next (pipelined) request arrived meanwhile: its headers are due.
        if (m_bytesWhileHandling)
            enter(Stage::Headers, m_limits.headerMs);
        else
            enter(Stage::Idle, m_limits.idleMs);
    }

private:
    void enter(Stage stage, int ms)
    {
        m_stage = stage;
        m_tail.clear();
        if (ms > 0)
            m_timer.start(ms);
        else
            m_timer.stop();
    }

    void onReadyRead()
    {
        const QByteArray fresh = m_socket->peek(m_socket->bytesAvailable());
        if (fresh.isEmpty())
            return;
        switch (m_stage) {
        case Stage::Handling:
            m_bytesWhileHandling = true;
            return;
        case Stage::Idle:
            enter(Stage::Headers, m_limits.headerMs);
            [[fallthrough]];
        case Stage::Headers: {
            // The blank line may be split across reads: keep the last three bytes.
            const QByteArray seen = m_tail + fresh;
            if (seen.contains("\r\n\r\n"))
                enter(Stage::Body, m_limits.bodyMs);
            else
                m_tail = seen.right(3);
            return;
        }
        case Stage::Body:
            return; // the handler takes over (requestStarted) once the body is complete
        }
    }

    void expire()
    {
        const char *what = m_stage == Stage::Headers ? "its request headers did not arrive within"
                           : m_stage == Stage::Body  ? "the request body it declared did not arrive within"
                                                     : "it was idle for";
        const int ms = m_stage == Stage::Headers ? m_limits.headerMs
                       : m_stage == Stage::Body  ? m_limits.bodyMs
                                                 : m_limits.idleMs;
        logging::logger()->warn("Closed the connection from {}: {} {} ms", m_socket->peerAddress().toString().toStdString(),
                                what, ms);
        // disconnectFromHost(): nothing is pending to the client, so the socket closes at
        // once and says so (disconnected), which is what lets the HTTP server free it; a
        // QSslSocket's abort() would close the descriptor without that signal. Should
        // the close hang, abort() and free it a second later.
        m_socket->disconnectFromHost();
        QTimer::singleShot(1000, m_socket, [socket = m_socket] {
            if (socket->state() != QAbstractSocket::UnconnectedState) {
                socket->abort();
                socket->deleteLater();
            }
        });
    }

    QTcpSocket *m_socket;
    ConnectionLimits m_limits;
    QTimer m_timer;
    Stage m_stage = Stage::Idle;
    QByteArray m_tail;
    bool m_bytesWhileHandling = false;
};

GuardedServer::GuardedServer(const ConnectionLimits &limits, QObject *parent)
    : ResumingSslServer(parent), m_limits(limits)
{
    setHandshakeTimeout(limits.handshakeMs);
}

void GuardedServer::incomingConnection(qintptr handle)
{
    ResumingSslServer::incomingConnection(handle);
    // QSslServer made a QSslSocket child for the descriptor; find it to count it.
    QSslSocket *socket = nullptr;
    for (QSslSocket *child : findChildren<QSslSocket *>(Qt::FindDirectChildrenOnly)) {
        if (child->socketDescriptor() == handle) {
            socket = child;
            break;
        }
    }
    if (!socket)
        return; // the descriptor was refused; QSslServer closed it
    const QHostAddress address = socket->peerAddress();
    if (m_perAddress.value(address) >= m_limits.perAddress) {
        logging::logger()->warn("Refused a connection from {}: it already has {} open", address.toString().toStdString(),
                                m_limits.perAddress);
        socket->abort();
        socket->deleteLater();
        return;
    }
    ++m_perAddress[address];
    logging::logger()->debug("Connection from {} ({} open from it)", address.toString().toStdString(),
                             m_perAddress.value(address));
    // The count follows the connection, however it ends: closed by either side, cut
    // by the handshake time-out, or its socket deleted.
    auto counted = std::make_shared<bool>(true);
    auto release = [this, address, counted] {
        if (!*counted)
            return;
        *counted = false;
        if (--m_perAddress[address] <= 0)
            m_perAddress.remove(address);
        logging::logger()->debug("Connection from {} closed ({} open from it)", address.toString().toStdString(),
                                 m_perAddress.value(address));
    };
    // Not `this` as the context: QSslServer drops every connection from the socket to
    // itself once the handshake is done.
    connect(socket, &QAbstractSocket::disconnected, &m_context, [socket, release, this] {
        release();
        // Not handed to the HTTP server yet (still handshaking): nobody else frees it.
        if (!m_watches.contains(socket))
            socket->deleteLater();
    });
    connect(socket, &QObject::destroyed, &m_context, release);
}

QTcpSocket *GuardedServer::nextPendingConnection()
{
    QTcpSocket *socket = QSslServer::nextPendingConnection();
    if (socket) {
        m_watches.insert(socket, new Watch(socket, m_limits));
        connect(socket, &QObject::destroyed, &m_context, [this, socket] { m_watches.remove(socket); });
    }
    return socket;
}

GuardedServer::Watch *GuardedServer::watchOf(QTcpSocket *socket) const
{
    return m_watches.value(socket);
}

void GuardedServer::requestStarted(QTcpSocket *socket)
{
    if (Watch *watch = watchOf(socket))
        watch->started();
}

void GuardedServer::requestFinished(QTcpSocket *socket)
{
    if (Watch *watch = watchOf(socket))
        watch->finished();
}

} // namespace ft::agent

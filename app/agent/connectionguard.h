#pragma once

#include <QHash>
#include <QHostAddress>
#include "resumingsslserver.h"

class QTcpSocket;

namespace ft::agent {

// The agent's time-out policy for its connections (API.md, "Connections"). Qt 6.4's
// HTTP server keeps a connection open for as long as the client likes; these limits
// close the ones that stall, so a client cannot hold the agent's file descriptors.
struct ConnectionLimits
{
    int handshakeMs = 5000; // TLS handshake complete
    int headerMs = 10000;   // from a request's first byte (or the connection) to its blank line
    int bodyMs = 10000;     // from the blank line to the last byte of the declared body
    int idleMs = 60000;     // between requests on a kept-alive connection
    int perAddress = 32;    // open connections (handshaking included) from one client address
};

// A TLS server that enforces ConnectionLimits at the socket level: a per-socket timer
// that follows the request's progress (idle → headers → body → handled), and a count of
// the open connections per client address. Its connections share one TLS context
// (ResumingSslServer), so session tickets resume. The HTTP server tells it when a request was
// handed to a handler and when its answer was written.
class GuardedServer : public ResumingSslServer
{
    Q_OBJECT

public:
    explicit GuardedServer(const ConnectionLimits &limits, QObject *parent = nullptr);

    // The request read on socket is complete and with a handler: no time-out runs
    // while the agent works on it (a long poll, a service action).
    void requestStarted(QTcpSocket *socket);
    // Its answer was written: the connection is idle (or reading the next request).
    void requestFinished(QTcpSocket *socket);

    int openConnections(const QHostAddress &address) const { return m_perAddress.value(address); }

protected:
    void incomingConnection(qintptr handle) override;
    QTcpSocket *nextPendingConnection() override;

private:
    class Watch;
    Watch *watchOf(QTcpSocket *socket) const;

    ConnectionLimits m_limits;
    QHash<QHostAddress, int> m_perAddress;
    QHash<QTcpSocket *, Watch *> m_watches; // the watch is the socket's child
    QObject m_context; // receiver of the sockets' signals (see incomingConnection)
};

} // namespace ft::agent

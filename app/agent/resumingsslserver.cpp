#include "resumingsslserver.h"

#include <QSslSocket>

// Qt's private API: the one way to hand a TLS context to a socket before its handshake
// (QHttpNetworkConnection does the same for its channels). qt6-base-private-dev.
// Its headers use the `emit` keyword, which this project switches off (QT_NO_KEYWORDS).
#define emit
#include <QtNetwork/private/qsslsocket_p.h>
#undef emit

namespace ft::agent {

ResumingSslServer::ResumingSslServer(QObject *parent)
    : QSslServer(parent)
{
    // The first connection's context becomes everyone's once it exists: it is made when
    // that connection's handshake starts.
    connect(this, &QSslServer::startedEncryptionHandshake, this, [this](QSslSocket *socket) {
        if (!m_context)
            m_context = QSslSocketPrivate::sslContext(socket);
    });
}

ResumingSslServer::~ResumingSslServer() = default;

void ResumingSslServer::incomingConnection(qintptr handle)
{
    QSslServer::incomingConnection(handle);
    // QSslServer made the socket as its newest child and waits for the ClientHello before
    // it starts the handshake, so the context can still be chosen here.
    const QObjectList &children = this->children();
    auto *socket = children.isEmpty() ? nullptr : qobject_cast<QSslSocket *>(children.last());
    if (socket && socket->socketDescriptor() == handle && m_context)
        QSslSocketPrivate::checkSettingSslContext(socket, m_context);
}

} // namespace ft::agent

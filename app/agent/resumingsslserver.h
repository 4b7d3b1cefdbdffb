#pragma once

#include <QSslServer>

#include <memory>

class QSslContext;

namespace ft::agent {

// A QSslServer whose connections share one TLS context, so a session ticket the agent
// issued on one connection resumes the session on the next one.
//
// Qt gives every server socket a context of its own, and OpenSSL encrypts tickets with
// a random key per context: a wizard presenting its ticket on a new connection would
// always get a full handshake (certificate, signature, key exchange) again. Sharing
// the context, as Qt's own HTTP client does between the connections to one host, keeps
// one ticket key for the agent's lifetime and also spares each connection the
// context's set-up (certificate, key, cipher list).
class ResumingSslServer : public QSslServer
{
    Q_OBJECT

public:
    explicit ResumingSslServer(QObject *parent = nullptr);
    ~ResumingSslServer() override;

protected:
    void incomingConnection(qintptr handle) override;

private:
    std::shared_ptr<QSslContext> m_context;
};

} // namespace ft::agent

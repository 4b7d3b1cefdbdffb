#pragma once

#include <QByteArray>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QUrl>

#include <memory>
#include <unordered_map>

class QTcpSocket;
class QTimer;

namespace ft {

struct PinnedConnection;

// Connections an answer left open, by agent address and pin, for the next GET to the same
// agent: no new TCP or TLS handshake at all. A connection is only ever reused under the pin
// it was checked against. One per agent and 50 s at most (the agent closes an idle one
// after 60 s); one the agent closed or wrote to while it waited is dropped when it is
// taken.
//
// An idle connection is parked as a bare descriptor: no socket object, no notifier, no
// timer of its own. With a notifier each, every wake-up of the event loop polled every
// idle connection (up to one per node), so a discovery's cost grew with the square of
// the nodes; one timer sweeps the expired ones.
class PinnedConnectionPool : public QObject
{
    Q_OBJECT

public:
    explicit PinnedConnectionPool(QObject *parent = nullptr);
    ~PinnedConnectionPool() override;

    std::unique_ptr<PinnedConnection> take(const QString &key);
    void put(const QString &key, std::unique_ptr<PinnedConnection> connection);
    int size() const { return int(m_idle.size()); }

private:
    void sweep();

    std::unordered_map<QString, std::unique_ptr<PinnedConnection>> m_idle;
    QTimer *m_sweep = nullptr;
};

// One HTTP/1.1 exchange with an agent over a TLS connection of its own, in the event
// loop of the calling thread, straight on OpenSSL. The agent's certificate is the pinned
// one or nothing is sent: the pin is checked inside the handshake (it replaces the
// certificate-authority check, so no CA store is loaded and no chain is built) and again
// on the finished connection, also when the session was resumed, before a request byte
// is written.
//
// Why not QNetworkAccessManager for these calls: with OpenSSL 3.0 every decoding of a
// certificate costs about a millisecond, and a Qt socket decodes the agent's certificate
// two or three times per connection (the ticket it resumes with, the certificate it
// stores, the errors it reports), besides a TLS context of its own per agent and two
// blocking hops between threads. A resumed session here decodes nothing: the session
// stays a live OpenSSL object (TlsSessionCache) and every connection shares one context.
//
// finished() comes exactly once, never inside start(), and not after abort().
class PinnedHttpsCall : public QObject
{
    Q_OBJECT

public:
    enum Failure {
        NoFailure,
        ConnectFailed,   // refused, no route, host not found, closed before an answer
        HandshakeFailed, // no TLS session could be set up
        PinMismatch,     // the agent's certificate is not the pinned one
        BadAnswer,       // not an HTTP/1.1 answer
        TooLarge,        // the answer's body is over the limit
    };

    // `pin`: the normalized SHA-256 (64 lower-case hex digits). `request`: the whole
    // request (head and body) as it goes on the wire.
    // With a pool, a GET takes an open connection to the agent from it when there is one,
    // and a connection the answer leaves open goes back to it.
    PinnedHttpsCall(const QUrl &url, const QString &pin, QByteArray request, qint64 maxBodyBytes,
                    PinnedConnectionPool *pool = nullptr, QObject *parent = nullptr);
    ~PinnedHttpsCall() override;

    void start();
    // Tears the connection down; no finished() follows.
    void abort();

    Failure failure() const { return m_failure; }
    // Why, for a sentence: "connection refused", "the agent closed the connection", …
    QString failureText() const { return m_failureText; }
    // On PinMismatch: the SHA-256 (hex) the agent presented, "" when it presented none.
    QString presentedFingerprint() const { return m_presented; }

    int status() const { return m_status; }
    QByteArray reason() const { return m_reason; }
    QByteArray body() const { return m_body; }
    // The TLS session was resumed from an earlier connection's ticket.
    bool resumed() const { return m_resumed; }
    // The request went over a connection an earlier answer left open.
    bool reusedConnection() const { return m_reused; }

    // host:port|pin, the key of this agent's session in TlsSessionCache.
    QString sessionKey() const { return m_sessionKey; }

    // Called from OpenSSL's callbacks (file-local in the .cpp); not for other users.
    struct Hooks;

Q_SIGNALS:
    void finished();

private:
    using Tls = PinnedConnection;

    void connectFresh();
    void adopt(std::unique_ptr<PinnedConnection> connection);
    void sendRequest();
    bool retryIfKeptConnectionWasClosed();
    void onConnected();
    void onReadyRead();
    void onSocketError();
    void drive();
    bool flushToSocket();
    bool checkPinAfterHandshake();
    void feedParser(const char *data, size_t length);
    void fail(Failure failure, const QString &text);
    void complete();
    void teardown();

    QUrl m_url;
    QString m_pin;
    QString m_sessionKey;
    QByteArray m_request;
    qint64 m_maxBodyBytes;

    QPointer<PinnedConnectionPool> m_pool;
    bool m_reusable = false; // a GET, which may go over a kept connection (and again if it was closed)
    bool m_reused = false;
    bool m_answerStarted = false;
    QTcpSocket *m_socket = nullptr;
    std::unique_ptr<Tls> m_tls;
    bool m_handshakeDone = false;
    bool m_requestSent = false;
    bool m_done = false;

    Failure m_failure = NoFailure;
    QString m_failureText;
    QString m_presented;
    bool m_pinRejectedInHandshake = false;
    int m_status = 0;
    QByteArray m_reason;
    QByteArray m_body;
    bool m_resumed = false;
    bool m_answerComplete = false;
};

} // namespace ft

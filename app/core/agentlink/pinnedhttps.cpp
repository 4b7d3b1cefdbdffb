#include "agentlink/pinnedhttps.h"

#include "agentlink/tlssessioncache.h"
#include "agentlink/trustedcertificates.h"

#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QHash>
#include <QHostAddress>
#include <QMutex>
#include <QTcpSocket>
#include <QTimer>

#include <algorithm>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <http_parser.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace ft {

namespace {

// The one client context every agent connection shares: TLS 1.2 or later, the pin as
// the only certificate check, sessions kept by TlsSessionCache (OpenSSL's own cache is
// off, so a session is only ever offered to the agent and pin it came from).
class ClientContext
{
public:
    static ClientContext &instance()
    {
        static ClientContext context;
        return context;
    }

    SSL_CTX *ctx() const { return m_ctx; }
    int callIndex() const { return m_callIndex; }

    // SHA-256 of the certificate's DER as lower-case hex, "" without a certificate.
    // Computed once per certificate object: a resumed session presents the very object
    // its first handshake decoded (the session holds it), so the pin check of every later
    // connection, and of every ticket, is a look-up. The memo holds a reference to each
    // certificate it knows, so an address in it can never be that of another certificate.
    QString fingerprintOf(X509 *certificate)
    {
        if (!certificate)
            return {};
        {
            QMutexLocker lock(&m_memoMutex);
            const auto known = m_memo.constFind(certificate);
            if (known != m_memo.cend())
                return known.value();
        }
        unsigned char digest[EVP_MAX_MD_SIZE];
        unsigned int length = 0;
        if (!X509_digest(certificate, m_sha256, digest, &length))
            return {};
        const QString fingerprint =
            QString::fromLatin1(QByteArray(reinterpret_cast<const char *>(digest), int(length)).toHex());
        QMutexLocker lock(&m_memoMutex);
        if (m_memo.size() >= kMemoLimit)
            forgetAll();
        if (!m_memo.contains(certificate) && X509_up_ref(certificate) == 1)
            m_memo.insert(certificate, fingerprint);
        return fingerprint;
    }

private:
    ClientContext();
    ~ClientContext()
    {
        forgetAll();
        SSL_CTX_free(m_ctx);
        EVP_MD_free(m_sha256);
    }

    void forgetAll() // m_memoMutex held
    {
        for (X509 *certificate : std::as_const(m_memo).keys())
            X509_free(certificate);
        m_memo.clear();
    }

    // Bounds memory whatever the number of agents (certificates of agents that went are
    // held until the memo is full, then all go).
    static constexpr qsizetype kMemoLimit = 20000;

    QMutex m_memoMutex;
    QHash<X509 *, QString> m_memo;
    SSL_CTX *m_ctx = nullptr;
    EVP_MD *m_sha256 = nullptr; // fetched once: an implicit fetch per digest costs more than the digest
    int m_callIndex = -1;
};

} // namespace

// One TLS connection to an agent: the socket, OpenSSL's state and the answer's parser.
// Owned by the call that uses it, or by the pool while it waits for the next one.
struct PinnedConnection
{
    SSL *ssl = nullptr;
    BIO *wire = nullptr; // what OpenSSL wants sent (owned by ssl)
    BIO *in = nullptr;   // what the agent sent (owned by ssl)
    http_parser parser{};
    http_parser_settings settings{};
    QTcpSocket *socket = nullptr;
    int parked = -1;           // while idle in the pool: the bare descriptor, no socket object
    QDeadlineTimer idleUntil;  // while parked: when the pool lets it go
    bool answered = false; // an answer came whole over it: its session stays resumable

    PinnedConnection() = default;
    PinnedConnection(const PinnedConnection &) = delete;
    PinnedConnection &operator=(const PinnedConnection &) = delete;
    ~PinnedConnection()
    {
        // Without a close_notify OpenSSL marks the session not resumable (the rule for
        // connections a fatal error ended); a kept connection that simply goes is fine.
        if (ssl && answered)
            SSL_shutdown(ssl);
        SSL_free(ssl);
        if (socket) {
            socket->disconnect();
            socket->abort();
            socket->deleteLater(); // may be inside one of its own signals
        }
        if (parked >= 0)
            ::close(parked);
    }
};

struct PinnedHttpsCall::Hooks
{
    static PinnedHttpsCall *callOf(SSL *ssl)
    {
        return ssl ? static_cast<PinnedHttpsCall *>(SSL_get_ex_data(ssl, ClientContext::instance().callIndex()))
                   : nullptr;
    }

    // Replaces the certificate-authority check of a full handshake: the agent's leaf
    // certificate must be exactly the pinned one, or the handshake stops here, before
    // the client's Finished.
    static int verifyCertificate(X509_STORE_CTX *store, void *)
    {
        auto *ssl = static_cast<SSL *>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
        PinnedHttpsCall *call = callOf(ssl);
        if (!call)
            return 0;
        const QString presented = ClientContext::instance().fingerprintOf(X509_STORE_CTX_get0_cert(store));
        if (!call->m_pin.isEmpty() && presented == call->m_pin)
            return 1;
        call->m_presented = presented;
        call->m_pinRejectedInHandshake = true;
        X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
        return 0;
    }

    // A session (TLS 1.3: a ticket after the handshake) is kept only when it belongs to
    // the pinned certificate, under this agent's address and pin.
    static int newSession(SSL *ssl, SSL_SESSION *session)
    {
        PinnedHttpsCall *call = callOf(ssl);
        if (!call || call->m_pin.isEmpty())
            return 0;
        if (ClientContext::instance().fingerprintOf(SSL_SESSION_get0_peer(session)) != call->m_pin)
            return 0;
        TlsSessionCache::instance().storeSession(
            call->m_sessionKey, std::shared_ptr<ssl_session_st>(session, SSL_SESSION_free));
        return 1; // the cache holds the reference now
    }

    static int onStatus(http_parser *parser, const char *at, size_t length)
    {
        static_cast<PinnedHttpsCall *>(parser->data)->m_reason.append(at, qsizetype(length));
        return 0;
    }

    static int onBody(http_parser *parser, const char *at, size_t length)
    {
        auto *call = static_cast<PinnedHttpsCall *>(parser->data);
        if (call->m_body.size() + qint64(length) > call->m_maxBodyBytes) {
            call->m_failure = TooLarge;
            return 1; // stops the parser
        }
        call->m_body.append(at, qsizetype(length));
        return 0;
    }

    static int onMessageComplete(http_parser *parser)
    {
        auto *call = static_cast<PinnedHttpsCall *>(parser->data);
        call->m_answerComplete = true;
        http_parser_pause(parser, 1); // anything after the answer is not ours to read
        return 0;
    }
};

ClientContext::ClientContext()
{
    m_ctx = SSL_CTX_new(TLS_client_method());
    m_sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    m_callIndex = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    if (!m_ctx)
        return;
    SSL_CTX_set_min_proto_version(m_ctx, TLS1_2_VERSION);
    // SSL_VERIFY_PEER makes the verdict of the callback below final; the callback
    // checks the pin instead of a chain, so no CA certificate is ever loaded.
    SSL_CTX_set_verify(m_ctx, SSL_VERIFY_PEER, nullptr);
    SSL_CTX_set_cert_verify_callback(m_ctx, &PinnedHttpsCall::Hooks::verifyCertificate, nullptr);
    SSL_CTX_set_session_cache_mode(m_ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(m_ctx, &PinnedHttpsCall::Hooks::newSession);
    // A resumed session still makes a fresh key exchange (TLS 1.3 psk_dhe_ke only): it
    // is most of what a resumed call costs, and it keeps forward secrecy, so a leaked
    // ticket never opens earlier traffic. Never allow psk_ke (SSL_OP_ALLOW_NO_DHE_KEX).
    SSL_CTX_clear_options(m_ctx, SSL_OP_ALLOW_NO_DHE_KEX);
}

namespace {

constexpr std::chrono::seconds kIdleLimit{50}; // the agent closes an idle connection after 60 s

} // namespace

PinnedConnectionPool::PinnedConnectionPool(QObject *parent)
    : QObject(parent)
    , m_sweep(new QTimer(this))
{
    m_sweep->setInterval(std::chrono::seconds(10));
    connect(m_sweep, &QTimer::timeout, this, &PinnedConnectionPool::sweep);
}

PinnedConnectionPool::~PinnedConnectionPool() = default;

std::unique_ptr<PinnedConnection> PinnedConnectionPool::take(const QString &key)
{
    const auto it = m_idle.find(key);
    if (it == m_idle.end())
        return {};
    std::unique_ptr<PinnedConnection> connection = std::move(it->second);
    m_idle.erase(it);
    if (connection->idleUntil.hasExpired())
        return {};
    // Anything the agent sent to an idle connection (its close_notify), or its closing,
    // ends it: nothing of an answer may be waiting there.
    pollfd state{connection->parked, POLLIN | POLLRDHUP, 0};
    if (::poll(&state, 1, 0) != 0)
        return {};
    auto socket = std::make_unique<QTcpSocket>();
    if (!socket->setSocketDescriptor(connection->parked, QAbstractSocket::ConnectedState))
        return {};
    connection->parked = -1; // the socket owns it now
    connection->socket = socket.release();
    return connection;
}

void PinnedConnectionPool::put(const QString &key, std::unique_ptr<PinnedConnection> connection)
{
    if (!connection || !connection->socket || connection->socket->state() != QAbstractSocket::ConnectedState
        || connection->socket->bytesToWrite() > 0)
        return;
    // The connection outlives its socket object: a duplicate of the descriptor keeps it
    // open (closing the socket object's own descriptor sends nothing to the agent).
    const int parked = ::fcntl(int(connection->socket->socketDescriptor()), F_DUPFD_CLOEXEC, 0);
    if (parked < 0)
        return;
    SSL_set_ex_data(connection->ssl, ClientContext::instance().callIndex(), nullptr);
    QTcpSocket *socket = std::exchange(connection->socket, nullptr);
    socket->disconnect();
    socket->abort();
    socket->deleteLater(); // may be inside one of its own signals
    connection->parked = parked;
    connection->idleUntil = QDeadlineTimer(kIdleLimit);
    m_idle[key] = std::move(connection); // one per agent: a newer one replaces it
    if (!m_sweep->isActive())
        m_sweep->start();
}

void PinnedConnectionPool::sweep()
{
    for (auto it = m_idle.begin(); it != m_idle.end();) {
        if (it->second->idleUntil.hasExpired())
            it = m_idle.erase(it);
        else
            ++it;
    }
    if (m_idle.empty())
        m_sweep->stop();
}

// ---------------------------------------------------------------------------------------

PinnedHttpsCall::PinnedHttpsCall(const QUrl &url, const QString &pin, QByteArray request,
                                 qint64 maxBodyBytes, PinnedConnectionPool *pool, QObject *parent)
    : QObject(parent)
    , m_url(url)
    , m_pin(pin)
    , m_sessionKey(TlsSessionCache::keyFor(TrustedCertificates::addressOf(url), pin))
    , m_request(std::move(request))
    , m_maxBodyBytes(maxBodyBytes)
    , m_pool(pool)
{
}

PinnedHttpsCall::~PinnedHttpsCall()
{
    if (m_tls && m_tls->ssl)
        SSL_set_ex_data(m_tls->ssl, ClientContext::instance().callIndex(), nullptr);
}

void PinnedHttpsCall::start()
{
    if (m_tls || m_done)
        return;
    if (!ClientContext::instance().ctx() || m_pin.isEmpty()) {
        // Queued: finished() never comes inside start().
        QMetaObject::invokeMethod(
            this, [this] { fail(HandshakeFailed, tr("TLS could not be set up")); }, Qt::QueuedConnection);
        return;
    }
    // Only a GET goes over a kept connection: it may be sent again on a new one if the
    // agent closed the kept one meanwhile.
    m_reusable = m_pool && m_request.startsWith("GET ");
    if (m_reusable) {
        if (std::unique_ptr<PinnedConnection> kept = m_pool->take(m_sessionKey)) {
            adopt(std::move(kept));
            QMetaObject::invokeMethod(
                this,
                [this] {
                    // Unless the kept connection was found closed meanwhile (a new one
                    // sends the request after its handshake).
                    if (!m_done && m_reused && !m_requestSent)
                        sendRequest();
                },
                Qt::QueuedConnection);
            return;
        }
    }
    connectFresh();
}

void PinnedHttpsCall::connectFresh()
{
    m_reused = false;
    m_handshakeDone = false;
    m_requestSent = false;
    m_answerStarted = false;
    m_answerComplete = false;
    m_reason.clear();
    m_body.clear();
    m_tls = std::make_unique<Tls>();
    m_tls->ssl = SSL_new(ClientContext::instance().ctx());
    if (!m_tls->ssl) {
        QMetaObject::invokeMethod(
            this, [this] { fail(HandshakeFailed, tr("TLS could not be set up")); }, Qt::QueuedConnection);
        return;
    }
    SSL *ssl = m_tls->ssl;
    SSL_set_ex_data(ssl, ClientContext::instance().callIndex(), this);
    m_tls->in = BIO_new(BIO_s_mem());
    m_tls->wire = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(m_tls->in, -1); // empty means "wait for more", not end of stream
    SSL_set_bio(ssl, m_tls->in, m_tls->wire);
    SSL_set_connect_state(ssl);
    const QString host = m_url.host();
    if (QHostAddress(host).isNull())
        SSL_set_tlsext_host_name(ssl, host.toUtf8().constData());
    if (const auto session = TlsSessionCache::instance().session(m_sessionKey))
        SSL_set_session(ssl, session.get());

    m_socket = m_tls->socket = new QTcpSocket(this);
    connect(m_socket, &QTcpSocket::connected, this, &PinnedHttpsCall::onConnected);
    connect(m_socket, &QTcpSocket::readyRead, this, &PinnedHttpsCall::onReadyRead);
    connect(m_socket, &QTcpSocket::errorOccurred, this, &PinnedHttpsCall::onSocketError);
    m_tls->parser.data = this;
    m_socket->connectToHost(host, quint16(m_url.port(443)));
}

void PinnedHttpsCall::adopt(std::unique_ptr<PinnedConnection> connection)
{
    m_tls = std::move(connection);
    SSL_set_ex_data(m_tls->ssl, ClientContext::instance().callIndex(), this);
    m_socket = m_tls->socket;
    m_socket->setParent(this);
    connect(m_socket, &QTcpSocket::readyRead, this, &PinnedHttpsCall::onReadyRead);
    connect(m_socket, &QTcpSocket::errorOccurred, this, &PinnedHttpsCall::onSocketError);
    m_handshakeDone = true;
    m_reused = true;
}

void PinnedHttpsCall::sendRequest()
{
    if (!checkPinAfterHandshake())
        return;
    http_parser_settings_init(&m_tls->settings);
    m_tls->settings.on_status = &Hooks::onStatus;
    m_tls->settings.on_body = &Hooks::onBody;
    m_tls->settings.on_message_complete = &Hooks::onMessageComplete;
    http_parser_init(&m_tls->parser, HTTP_RESPONSE);
    m_tls->parser.data = this;
    // In slices, each moved on to the socket before the next: the memory BIO then never
    // grows to a whole upload chunk (OpenSSL wipes and copies it at every growth).
    constexpr qsizetype kSlice = 256 * 1024;
    for (qsizetype at = 0; at < m_request.size(); at += kSlice) {
        const int slice = int(std::min(kSlice, m_request.size() - at));
        if (SSL_write(m_tls->ssl, m_request.constData() + at, slice) != slice) {
            if (at == 0 && retryIfKeptConnectionWasClosed())
                return;
            fail(HandshakeFailed, tr("the request could not be encrypted"));
            return;
        }
        flushToSocket();
    }
    m_requestSent = true;
    if (!m_reusable)
        m_request.clear(); // the token is not kept longer than needed
}

bool PinnedHttpsCall::retryIfKeptConnectionWasClosed()
{
    // The agent closed a kept connection before it answered (its idle time-out crossed
    // our request): the GET goes again on a connection of its own.
    if (!m_reused || m_answerStarted || m_done)
        return false;
    m_socket->disconnect(this);
    m_tls.reset();
    m_socket = nullptr;
    connectFresh();
    return true;
}

void PinnedHttpsCall::abort()
{
    if (m_done)
        return;
    m_done = true;
    teardown();
}

void PinnedHttpsCall::onConnected()
{
    drive(); // the ClientHello
}

void PinnedHttpsCall::onReadyRead()
{
    if (m_done)
        return;
    const QByteArray data = m_socket->readAll();
    BIO_write(m_tls->in, data.constData(), int(data.size()));
    drive();
}

void PinnedHttpsCall::onSocketError()
{
    if (m_done)
        return;
    if (retryIfKeptConnectionWasClosed())
        return;
    const QAbstractSocket::SocketError error = m_socket->error();
    if (error == QAbstractSocket::RemoteHostClosedError) {
        if (m_requestSent) {
            feedParser(nullptr, 0); // the end of the stream ends an answer without a length
            if (!m_done)
                fail(ConnectFailed, tr("the agent closed the connection"));
            return;
        }
        // A closed connection, not a TLS failure: the caller may try again (as after a
        // refused one).
        fail(ConnectFailed, tr("the agent closed the connection during the TLS handshake"));
        return;
    }
    switch (error) {
    case QAbstractSocket::ConnectionRefusedError: fail(ConnectFailed, tr("connection refused")); return;
    case QAbstractSocket::HostNotFoundError: fail(ConnectFailed, tr("host not found")); return;
    case QAbstractSocket::SocketTimeoutError: fail(ConnectFailed, tr("the connection timed out")); return;
    default: fail(ConnectFailed, m_socket->errorString()); return;
    }
}

void PinnedHttpsCall::drive()
{
    if (m_done)
        return;
    SSL *ssl = m_tls->ssl;
    if (!m_handshakeDone) {
        ERR_clear_error();
        const int result = SSL_do_handshake(ssl);
        if (result != 1) {
            const int error = SSL_get_error(ssl, result);
            flushToSocket(); // ClientHello, or the alert that says why
            if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE)
                return;
            if (m_pinRejectedInHandshake) {
                fail(PinMismatch, tr("the agent's certificate is not the pinned one"));
                return;
            }
            char text[256] = {};
            ERR_error_string_n(ERR_peek_last_error(), text, sizeof text);
            fail(HandshakeFailed, text[0] ? QString::fromLatin1(text) : tr("the TLS handshake failed"));
            return;
        }
        m_handshakeDone = true;
        m_resumed = SSL_session_reused(ssl) == 1;
        sendRequest();
        if (m_done)
            return;
    }

    char buffer[16384];
    for (;;) {
        ERR_clear_error();
        const int read = SSL_read(ssl, buffer, int(sizeof buffer));
        if (read > 0) {
            feedParser(buffer, size_t(read));
            if (m_done)
                return;
            continue;
        }
        const int error = SSL_get_error(ssl, read);
        if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE)
            break;
        if (retryIfKeptConnectionWasClosed())
            return;
        if (error == SSL_ERROR_ZERO_RETURN) {
            feedParser(nullptr, 0);
            if (!m_done)
                fail(ConnectFailed, tr("the agent closed the connection"));
            return;
        }
        fail(ConnectFailed, tr("the TLS connection broke"));
        return;
    }
    flushToSocket();
}

bool PinnedHttpsCall::flushToSocket()
{
    char buffer[16384];
    while (BIO_ctrl_pending(m_tls->wire) > 0) {
        const int n = BIO_read(m_tls->wire, buffer, int(sizeof buffer));
        if (n <= 0)
            break;
        m_socket->write(buffer, n);
    }
    return true;
}

bool PinnedHttpsCall::checkPinAfterHandshake()
{
    // Also for a resumed session: the certificate is the one the session was made with,
    // and the session must still belong to the pin this call carries.
    const QString presented = ClientContext::instance().fingerprintOf(SSL_get0_peer_certificate(m_tls->ssl));
    if (presented == m_pin)
        return true;
    m_presented = presented;
    fail(PinMismatch, tr("the agent's certificate is not the pinned one"));
    return false;
}

void PinnedHttpsCall::feedParser(const char *data, size_t length)
{
    if (m_answerComplete)
        return;
    if (length > 0)
        m_answerStarted = true;
    http_parser &parser = m_tls->parser;
    http_parser_execute(&parser, &m_tls->settings, data, length);
    if (m_answerComplete) {
        m_status = int(parser.status_code);
        complete();
        return;
    }
    if (m_failure == TooLarge) {
        m_failure = NoFailure;
        fail(TooLarge, tr("the agent's answer is larger than %1 KiB").arg(m_maxBodyBytes / 1024));
        return;
    }
    if (HTTP_PARSER_ERRNO(&parser) != HPE_OK)
        fail(BadAnswer, tr("the answer is not HTTP (%1)")
                            .arg(QString::fromLatin1(http_errno_description(HTTP_PARSER_ERRNO(&parser)))));
}

void PinnedHttpsCall::fail(Failure failure, const QString &text)
{
    if (m_done)
        return;
    m_done = true;
    m_failure = failure;
    m_failureText = text;
    teardown();
    Q_EMIT finished();
}

void PinnedHttpsCall::complete()
{
    if (m_done)
        return;
    m_done = true;
    m_socket->disconnect(this);
    m_tls->answered = true;
    if (m_pool && http_should_keep_alive(&m_tls->parser) && m_socket->state() == QAbstractSocket::ConnectedState) {
        // Open for the next call to this agent under this pin.
        m_socket = nullptr;
        m_pool->put(m_sessionKey, std::move(m_tls));
    } else {
        // close_notify, then the connection goes; the session lives on in the cache.
        SSL_shutdown(m_tls->ssl);
        flushToSocket();
        m_socket->disconnectFromHost();
    }
    Q_EMIT finished();
}

void PinnedHttpsCall::teardown()
{
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
    }
}

} // namespace ft

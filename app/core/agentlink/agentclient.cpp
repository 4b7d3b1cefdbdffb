#include "agentlink/agentclient.h"

#include "agentlink/pinnedhttps.h"
#include "agentlink/tlssessioncache.h"
#include "agentlink/trustedcertificates.h"

#include <QCoreApplication>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMetaEnum>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslError>

namespace ft {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("ft::AgentClient", text);
}

// Dynamic properties on a reply: what its pin check found.
constexpr char pinExpectedProperty[] = "ftPinExpected";
constexpr char pinMismatchProperty[] = "ftPinMismatch";

QString sha256Of(const QSslCertificate &certificate)
{
    if (certificate.isNull())
        return {};
    return QString::fromLatin1(certificate.digest(QCryptographicHash::Sha256).toHex());
}

// True when the reply's peer presented exactly the pinned certificate. Records the
// mismatch on the reply otherwise. Only the leaf (peer) certificate counts: a chain
// that merely contains the pinned certificate somewhere does not.
bool checkPin(QNetworkReply *reply)
{
    const QString expected = reply->property(pinExpectedProperty).toString();
    const QString presented = sha256Of(reply->sslConfiguration().peerCertificate());
    if (!expected.isEmpty() && presented == expected)
        return true;
    reply->setProperty(pinMismatchProperty, presented);
    return false;
}

QString secondsText(std::chrono::milliseconds duration)
{
    const qint64 ms = duration.count();
    if (ms % 1000 == 0)
        return QString::number(ms / 1000);
    return QString::number(double(ms) / 1000.0, 'g', 3);
}

QString reasonForNetworkError(QNetworkReply *reply)
{
    switch (reply->error()) {
    case QNetworkReply::ConnectionRefusedError: return tr("connection refused");
    case QNetworkReply::HostNotFoundError: return tr("host not found");
    case QNetworkReply::RemoteHostClosedError: return tr("the agent closed the connection");
    case QNetworkReply::TimeoutError: return tr("the connection timed out");
    default: return reply->errorString();
    }
}

// "There is no job J." → "there is no job J", to follow "node w3: ".
QString asClause(QString sentence)
{
    sentence = sentence.trimmed();
    while (sentence.endsWith(QLatin1Char('.')))
        sentence.chop(1);
    if (sentence.size() > 1 && sentence.at(0).isUpper() && sentence.at(1).isLower())
        sentence[0] = sentence.at(0).toLower();
    return sentence;
}

} // namespace

QString AgentEndpoint::displayName() const
{
    if (!nodeName.isEmpty())
        return nodeName;
    if (url.host().isEmpty())
        return url.toString();
    return TrustedCertificates::addressOf(url);
}

// ---------------------------------------------------------------------------------------

AgentClient::AgentClient(QObject *parent)
    : QObject(parent)
    , m_network(new QNetworkAccessManager(this))
    , m_pool(new PinnedConnectionPool(this))
{
}

AgentClient::~AgentClient() = default;

QUrl AgentClient::urlFor(const QUrl &base, const QString &path, const QUrlQuery &query)
{
    QUrl url = base;
    QString prefix = url.path();
    while (prefix.endsWith(QLatin1Char('/')))
        prefix.chop(1);
    if (prefix.endsWith(QLatin1String("/v1")))
        prefix.chop(3);
    url.setPath(prefix + QStringLiteral("/v1") + path);
    url.setQuery(query);
    url.setFragment({});
    return url;
}

QNetworkReply *AgentClient::send(const AgentEndpoint &endpoint, const Request &request)
{
    QNetworkRequest networkRequest(urlFor(endpoint.url, request.path, request.query));
    // A token must never follow a redirect to another host.
    networkRequest.setAttribute(QNetworkRequest::RedirectPolicyAttribute,
                                QNetworkRequest::ManualRedirectPolicy);
    networkRequest.setAttribute(QNetworkRequest::Http2AllowedAttribute, false);
    networkRequest.setAttribute(QNetworkRequest::CacheLoadControlAttribute,
                                QNetworkRequest::AlwaysNetwork);
    networkRequest.setHeader(QNetworkRequest::UserAgentHeader,
                             QByteArray("ftupgrade/" FTU_VERSION));
    networkRequest.setRawHeader("Accept", "application/json");
    if (request.authenticated && !endpoint.token.isEmpty())
        networkRequest.setRawHeader("Authorization", "Bearer " + endpoint.token.toUtf8());
    if (!request.body.isNull())
        networkRequest.setHeader(QNetworkRequest::ContentTypeHeader,
                                 request.contentType.isEmpty() ? QByteArray("application/json")
                                                               : request.contentType);

    // QNetworkAccessManager keeps connections alive per host, port and peer verify
    // name, and a kept-alive connection does no new handshake. Naming the pin here
    // gives each pin its own connections, so a request under pin B never rides on a
    // connection that was verified for pin A. (The name also never matches a
    // certificate, so every new connection comes through the pin check below.)
    const QString expected =
        TrustedCertificates::normalize(endpoint.fingerprint).value_or(QString());
    networkRequest.setPeerVerifyName(
        expected.isEmpty() ? QStringLiteral("untrusted.pin.ftupgrade.invalid")
                           : QStringLiteral("%1.%2.pin.ftupgrade.invalid")
                                 .arg(expected.left(32), expected.mid(32)));

    // The pin is the trust decision, not a certificate authority: skipping the chain
    // check spares every handshake a round trip to this thread (sslErrors) and a walk
    // through the system's CA store. encrypted() below still checks the pin before
    // any request byte is written.
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    tls.setPeerVerifyMode(QSslSocket::VerifyNone);
    // For the same reason no CA certificates: an empty list also keeps Qt from adding
    // the system's certificate folders to every new connection's TLS context.
    tls.setCaCertificates({});
    // Resume the session with the ticket this agent issued under this pin, if any, and
    // keep the new one (below). The ticket is bound to the pinned peer it came from.
    const QString sessionKey = TlsSessionCache::keyFor(
        TrustedCertificates::addressOf(endpoint.url), expected);
    tls.setSslOption(QSsl::SslOptionDisableSessionPersistence, false);
    if (!expected.isEmpty()) {
        if (const QByteArray ticket = TlsSessionCache::instance().ticket(sessionKey); !ticket.isEmpty())
            tls.setSessionTicket(ticket);
    }
    networkRequest.setSslConfiguration(tls);

    QNetworkReply *reply = request.verb == "GET"
                               ? m_network->get(networkRequest)
                               : m_network->sendCustomRequest(networkRequest, request.verb,
                                                              request.body);

    // An empty or malformed pin never matches a certificate, so such a call fails closed.
    reply->setProperty(pinExpectedProperty, expected);

    // Both signals reach us before any request byte is written (Qt delivers them from
    // its HTTP thread with a blocking connection), so aborting here keeps a request
    // from ever reaching an agent whose certificate changed.
    connect(reply, &QNetworkReply::sslErrors, reply, [reply](const QList<QSslError> &errors) {
        if (checkPin(reply))
            reply->ignoreSslErrors(errors);
        else
            reply->abort();
    });
    connect(reply, &QNetworkReply::encrypted, reply, [reply] {
        if (!checkPin(reply))
            reply->abort();
    });
    // A TLS 1.3 ticket arrives after the handshake, so it is read once the answer is in.
    // Only a session with the pinned peer is kept.
    connect(reply, &QNetworkReply::finished, reply, [reply, sessionKey, expected] {
        if (expected.isEmpty() || !reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).isValid()
            || pinMismatch(reply))
            return;
        TlsSessionCache::instance().store(sessionKey, reply->sslConfiguration().sessionTicket());
    });
    return reply;
}

QByteArray AgentClient::wireRequest(const AgentEndpoint &endpoint, const Request &request)
{
    const QUrl url = urlFor(endpoint.url, request.path, request.query);
    QByteArray host = url.host(QUrl::FullyEncoded).toUtf8();
    if (host.contains(':'))
        host = '[' + host + ']';
    QByteArray wire;
    wire.reserve(256 + request.body.size());
    wire += request.verb + ' ' + url.toEncoded(QUrl::RemoveScheme | QUrl::RemoveAuthority | QUrl::RemoveFragment)
            + " HTTP/1.1\r\n";
    wire += "Host: " + host + ':' + QByteArray::number(url.port(443)) + "\r\n";
    wire += "User-Agent: ftupgrade/" FTU_VERSION "\r\n";
    wire += "Accept: application/json\r\n";
    if (request.authenticated && !endpoint.token.isEmpty())
        wire += "Authorization: Bearer " + endpoint.token.toUtf8() + "\r\n";
    if (!request.body.isNull() || request.verb != "GET") {
        if (!request.body.isNull())
            wire += "Content-Type: " + (request.contentType.isEmpty() ? QByteArray("application/json")
                                                                       : request.contentType) + "\r\n";
        wire += "Content-Length: " + QByteArray::number(request.body.size()) + "\r\n";
    }
    wire += "\r\n";
    wire += request.body;
    return wire;
}

std::optional<QString> AgentClient::pinMismatch(QNetworkReply *reply)
{
    const QVariant recorded = reply->property(pinMismatchProperty);
    if (recorded.isValid())
        return recorded.toString();
    // A kept-alive connection does no new handshake, so check what it presented then.
    if (reply->error() == QNetworkReply::NoError
        || reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).isValid()) {
        if (!checkPin(reply))
            return reply->property(pinMismatchProperty).toString();
    }
    return std::nullopt;
}

// ---------------------------------------------------------------------------------------

AgentJob::AgentJob(AgentClient *client, AgentEndpoint endpoint, QObject *parent)
    : QObject(parent)
    , m_client(client)
    , m_endpoint(std::move(endpoint))
{
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, [this] {
        finishWithError(Timeout, tr("no answer after %1 s").arg(secondsText(timeout())));
        abortWork();
    });
}

AgentJob::~AgentJob()
{
    if (m_call)
        m_call->abort();
    if (m_reply) {
        m_reply->disconnect(this);
        m_reply->abort();
        m_reply->deleteLater();
    }
}

std::chrono::milliseconds AgentJob::timeout() const
{
    return m_timeout.count() > 0 ? m_timeout : defaultTimeout();
}

std::chrono::milliseconds AgentJob::defaultTimeout() const
{
    return m_client ? m_client->timeout() : std::chrono::milliseconds(5000);
}

QString AgentJob::nodeSentence(const AgentEndpoint &endpoint, const QString &sentence)
{
    return tr("node %1: %2").arg(endpoint.displayName(), sentence);
}

QString AgentJob::errorName(Error error)
{
    return QString::fromLatin1(QMetaEnum::fromType<Error>().valueToKey(error));
}

void AgentJob::start()
{
    if (m_started)
        return;
    m_started = true;
    // Queued: finished must never be emitted inside start().
    QMetaObject::invokeMethod(
        this,
        [this] {
            if (m_end.isDone())
                return; // cancelled before it began
            if (!m_client) {
                finishWithError(ProtocolError, tr("the connection to the agents was closed"));
                return;
            }
            m_timer.start(timeout());
            doStart();
        },
        Qt::QueuedConnection);
}

void AgentJob::cancel()
{
    if (m_end.isDone())
        return;
    finishWithError(Cancelled, tr("the call was cancelled"));
    abortWork();
}

AgentClient::Request AgentJob::request() const
{
    return {};
}

Result AgentJob::parseReply(const QByteArray &)
{
    return {};
}

void AgentJob::doStart()
{
    const AgentClient::Request call = request();
    // Even calls without the token go to pinned agents only: what an unknown peer
    // says is worth nothing (ProbeCertificateJob is the one way to meet a new agent).
    const auto pin = TrustedCertificates::normalize(m_endpoint.fingerprint);
    if (!pin) {
        finishWithError(CertificateMismatch,
                        tr("its certificate has not been trusted yet; confirm its "
                           "fingerprint first"));
        return;
    }
    if (m_endpoint.url.scheme() != QLatin1String("https") || m_endpoint.url.host().isEmpty()) {
        finishWithError(BadRequest, tr("\"%1\" is not an https:// agent address")
                                        .arg(m_endpoint.url.toString()));
        return;
    }
    // A call of its own per request, straight on OpenSSL, resuming the agent's TLS
    // session (see PinnedHttpsCall for why not through QNetworkAccessManager).
    m_call = new PinnedHttpsCall(m_endpoint.url, *pin,
                                 AgentClient::wireRequest(m_endpoint, call), m_maxReplyBytes,
                                 m_client->connectionPool(), this);
    PinnedHttpsCall *pinned = m_call;
    connect(pinned, &PinnedHttpsCall::finished, this, [this, pinned] { handleCall(pinned); });
    pinned->start();
}

void AgentJob::abortWork()
{
    if (m_call) {
        m_call->abort();
        m_call->deleteLater();
        m_call = nullptr;
    }
    if (m_reply)
        m_reply->abort(); // its finished() lands in handleReply(), which just cleans up
}

void AgentJob::handleReply(QNetworkReply *reply)
{
    reply->deleteLater();
    if (m_reply == reply)
        m_reply = nullptr;
    if (m_end.isDone())
        return; // timed out or cancelled: already finished

    const QVariant status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute);
    m_httpStatus = status.isValid() ? status.toInt() : 0;

    if (const auto presented = AgentClient::pinMismatch(reply)) {
        m_httpStatus = 0;
        finishWithPinMismatch(*presented);
        return;
    }

    if (m_httpStatus == 0) {
        const QString where = TrustedCertificates::addressOf(m_endpoint.url);
        switch (reply->error()) {
        case QNetworkReply::SslHandshakeFailedError:
            finishWithError(ProtocolError, tr("no secure connection to %1 (%2)")
                                               .arg(where, reply->errorString()));
            return;
        case QNetworkReply::OperationCanceledError:
            finishWithError(Cancelled, tr("the call was cancelled"));
            return;
        default:
            finishWithError(Unreachable, tr("cannot connect to %1 (%2)")
                                             .arg(where, reasonForNetworkError(reply)));
            return;
        }
    }

    handleAnswer(reply->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toString(), reply->readAll());
}

void AgentJob::handleCall(PinnedHttpsCall *call)
{
    call->deleteLater();
    if (m_call == call)
        m_call = nullptr;
    if (m_end.isDone())
        return; // timed out or cancelled: already finished

    const QString where = TrustedCertificates::addressOf(m_endpoint.url);
    switch (call->failure()) {
    case PinnedHttpsCall::NoFailure:
        m_httpStatus = call->status();
        handleAnswer(QString::fromLatin1(call->reason()), call->body());
        return;
    case PinnedHttpsCall::PinMismatch:
        finishWithPinMismatch(call->presentedFingerprint());
        return;
    case PinnedHttpsCall::ConnectFailed:
        finishWithError(Unreachable, tr("cannot connect to %1 (%2)").arg(where, call->failureText()));
        return;
    case PinnedHttpsCall::HandshakeFailed:
        finishWithError(ProtocolError, tr("no secure connection to %1 (%2)").arg(where, call->failureText()));
        return;
    case PinnedHttpsCall::BadAnswer:
    case PinnedHttpsCall::TooLarge:
        finishWithError(ProtocolError, call->failureText());
        return;
    }
}

void AgentJob::finishWithPinMismatch(const QString &presented)
{
    const QString expected = TrustedCertificates::normalize(m_endpoint.fingerprint).value_or(QString());
    m_httpStatus = 0;
    finishWithError(
        CertificateMismatch,
        expected.isEmpty()
            ? tr("its certificate has not been trusted yet; confirm its fingerprint first")
        : presented.isEmpty()
            ? tr("certificate changed since you trusted it (expected %1, got no certificate)")
                  .arg(TrustedCertificates::formatForPeople(expected))
            : tr("certificate changed since you trusted it (expected %1, got %2)")
                  .arg(TrustedCertificates::formatForPeople(expected),
                       TrustedCertificates::formatForPeople(presented)));
}

void AgentJob::handleAnswer(const QString &reason, const QByteArray &body)
{
    if (m_httpStatus >= 200 && m_httpStatus < 300) {
        const Result parsed = parseReply(body);
        if (!parsed) {
            finishWithError(ProtocolError, parsed.error());
            return;
        }
        finishSuccess();
        return;
    }

    // The agent explains its errors as {"error": "a sentence"}.
    const QString said = asClause(QJsonDocument::fromJson(body).object()
                                      .value(QLatin1String("error")).toString());
    const QString fallback = tr("the agent answered HTTP %1 %2").arg(m_httpStatus).arg(reason)
                                 .trimmed();
    Error error = ProtocolError;
    if (m_httpStatus == 401 || m_httpStatus == 403)
        error = Unauthorized;
    else if (m_httpStatus == 404)
        error = NotFound;
    else if (m_httpStatus == 409)
        error = Conflict;
    else if (m_httpStatus >= 400 && m_httpStatus < 500)
        error = BadRequest;
    else if (m_httpStatus >= 500)
        error = ServerError;

    if (error == Unauthorized) {
        finishWithError(error, tr("the agent did not accept the access token (wrong or "
                                  "missing token)"));
        return;
    }
    if (error == ProtocolError) {
        finishWithError(error, tr("unexpected answer: HTTP %1 %2").arg(m_httpStatus).arg(reason)
                                   .trimmed());
        return;
    }
    finishWithError(error, said.isEmpty() ? fallback : said);
}

void AgentJob::finishSuccess()
{
    finish(NoError, {});
}

void AgentJob::finishWithError(Error error, const QString &sentence)
{
    finish(error, nodeSentence(m_endpoint, sentence));
}

void AgentJob::finish(Error error, const QString &errorString)
{
    if (m_end.end(this, error, errorString))
        m_timer.stop();
}

Expected<QJsonObject> AgentJob::jsonObject(const QByteArray &body)
{
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(body, &parseError);
    if (parseError.error != QJsonParseError::NoError)
        return makeError(tr("the agent's answer is not valid JSON (%1)")
                             .arg(parseError.errorString()));
    if (!document.isObject())
        return makeError(tr("the agent's answer is not a JSON object"));
    return document.object();
}

} // namespace ft

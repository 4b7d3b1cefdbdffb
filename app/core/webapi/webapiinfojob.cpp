#include "webapi/webapiinfojob.h"

#include <QCoreApplication>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QSslCertificate>
#include <QSslConfiguration>

namespace ft {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::WebApiInfoJob", text); }

constexpr qint64 kMaxAnswerBytes = 1024 * 1024;

QString normalizedFingerprint(const QString &text)
{
    return QString(text).remove(QLatin1Char(':')).trimmed().toLower();
}

} // namespace

WebApiInfoJob::WebApiInfoJob(WebApiSettings settings, QObject *parent)
    : QObject(parent)
    , m_network(new QNetworkAccessManager(this))
    , m_settings(std::move(settings))
{
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, [this] {
        if (m_reply)
            m_reply->abort();
        finish(Timeout, tr("The FlowTraq Web API at %1 did not answer within %2 s.")
                            .arg(m_settings.portal.host()).arg(m_timeout.count() / 1000.0));
    });
}

WebApiInfoJob::~WebApiInfoJob()
{
    if (m_reply)
        m_reply->abort();
}

void WebApiInfoJob::start()
{
    QTimer::singleShot(0, this, [this] {
        if (auto valid = m_settings.validate(); !valid)
            return finish(BadCredentials, valid.error());
        m_timer.start(m_timeout);
        if (m_settings.useSessionKey) {
            QNetworkReply *reply = send("POST", QStringLiteral("sessionkey"), {});
            connect(reply, &QNetworkReply::finished, this, [this, reply] { onSessionKey(reply); });
        } else {
            QNetworkReply *reply = send("GET", QStringLiteral("info"), {});
            connect(reply, &QNetworkReply::finished, this, [this, reply] { onInfo(reply); });
        }
    });
}

QNetworkReply *WebApiInfoJob::send(const QByteArray &verb, const QString &name, const QByteArray &sessionKey)
{
    QNetworkRequest request(m_settings.endpoint(name));
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    request.setRawHeader("Accept", "application/json");
    if (sessionKey.isEmpty()) {
        const QByteArray pair = m_settings.user.toUtf8() + ':' + m_settings.password.toUtf8();
        request.setRawHeader("Authorization", "Basic " + pair.toBase64());
    } else {
        request.setRawHeader("ftsessionkey", sessionKey);
    }
    QNetworkReply *reply = verb == "POST" ? m_network->post(request, QByteArray())
                                          : m_network->get(request);
    m_reply = reply;
    const QString pin = normalizedFingerprint(m_settings.fingerprint);
    // A self-signed portal is accepted on an exact pin only; a pinned portal must
    // present exactly that certificate even when a CA vouches for another.
    connect(reply, &QNetworkReply::sslErrors, this, [this, reply, pin](const QList<QSslError> &) {
        const QString presented = QString::fromLatin1(
            reply->sslConfiguration().peerCertificate().digest(QCryptographicHash::Sha256).toHex());
        m_presented = presented;
        if (!pin.isEmpty() && presented == pin)
            reply->ignoreSslErrors();
    });
    connect(reply, &QNetworkReply::encrypted, this, [this, reply, pin] {
        const QString presented = QString::fromLatin1(
            reply->sslConfiguration().peerCertificate().digest(QCryptographicHash::Sha256).toHex());
        m_presented = presented;
        if (!pin.isEmpty() && presented != pin)
            reply->abort();
    });
    return reply;
}

bool WebApiInfoJob::readAnswer(QNetworkReply *reply, const QString &name, QJsonObject *object)
{
    reply->deleteLater();
    if (m_done)
        return false;
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QByteArray body = reply->read(kMaxAnswerBytes + 1);
    const QString host = m_settings.portal.host();
    if (status == 0) {
        const QString pin = normalizedFingerprint(m_settings.fingerprint);
        if (reply->error() == QNetworkReply::SslHandshakeFailedError
            || (!pin.isEmpty() && !m_presented.isEmpty() && m_presented != pin)) {
            finish(CertificateProblem,
                   pin.isEmpty() ? tr("The certificate of the FlowTraq portal %1 is not trusted (SHA-256 %2); "
                                      "compare it with the portal's and pin it.").arg(host, m_presented)
                                 : tr("The FlowTraq portal %1 presented another certificate (SHA-256 %2) than the pinned one.")
                                       .arg(host, m_presented));
            return false;
        }
        finish(NotAnswering, tr("The FlowTraq Web API at %1 is not answering: %2").arg(host, reply->errorString()));
        return false;
    }
    const QJsonDocument document = QJsonDocument::fromJson(body);
    const QString message = document.object().value(QStringLiteral("message")).toString();
    if (status == 403) {
        finish(BadCredentials, tr("The FlowTraq Web API at %1 refused the credentials of user %2%3")
                                   .arg(host, m_settings.user, message.isEmpty() ? QStringLiteral(".") : QStringLiteral(": ") + message));
        return false;
    }
    if (status == 404) {
        finish(NotSet, tr("The FlowTraq Web API at %1 has no %2%3").arg(host, name,
                          message.isEmpty() ? QStringLiteral(".") : QStringLiteral(": ") + message));
        return false;
    }
    if (status >= 500) {
        finish(NotAnswering, tr("The FlowTraq server behind %1 is not answering (HTTP %2)%3").arg(host).arg(status)
                                 .arg(message.isEmpty() ? QStringLiteral(".") : QStringLiteral(": ") + message));
        return false;
    }
    if (status != 200 || body.size() > kMaxAnswerBytes || !document.isObject()
        || (name == QLatin1String("info") && !document.object().value(name).isObject())) {
        finish(ProtocolError, tr("The FlowTraq Web API at %1 gave an answer that is not the documented "
                                 "{\"%2\": …} (HTTP %3).").arg(host, name).arg(status));
        return false;
    }
    *object = document.object();
    return true;
}

void WebApiInfoJob::onSessionKey(QNetworkReply *reply)
{
    QJsonObject answer;
    if (!readAnswer(reply, QStringLiteral("sessionkey"), &answer))
        return;
    // The documented shape repeats the path's last part; the key is its string value.
    const QJsonValue value = answer.value(QStringLiteral("sessionkey"));
    const QString key = value.isString() ? value.toString()
                                         : value.toObject().value(QStringLiteral("sessionkey")).toString();
    if (key.isEmpty() || key.contains(QLatin1Char('\n')) || key.contains(QLatin1Char('\r')))
        return finish(ProtocolError, tr("The FlowTraq Web API at %1 answered sessionkey without a key.")
                                         .arg(m_settings.portal.host()));
    QNetworkReply *next = send("GET", QStringLiteral("info"), key.toUtf8());
    connect(next, &QNetworkReply::finished, this, [this, next] { onInfo(next); });
}

void WebApiInfoJob::onInfo(QNetworkReply *reply)
{
    QJsonObject answer;
    if (!readAnswer(reply, QStringLiteral("info"), &answer))
        return;
    m_info = answer.value(QStringLiteral("info")).toObject();
    auto version = findVersionInInfo(m_info, m_settings.versionKey);
    if (!version)
        return finish(NoVersion, version.error());
    m_version = *version;
    finish(NoError, {});
}

void WebApiInfoJob::finish(Error error, const QString &sentence)
{
    if (m_done)
        return;
    m_done = true;
    m_timer.stop();
    m_error = error;
    m_errorString = sentence;
    // Always from the event loop: readAnswer/the timer run there, and start() defers.
    QTimer::singleShot(0, this, [this] { Q_EMIT finished(this); });
}

} // namespace ft

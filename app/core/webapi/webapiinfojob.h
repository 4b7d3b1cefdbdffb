#pragma once

#include "webapi/webapiinfo.h"

#include <QJsonObject>
#include <QObject>
#include <QPointer>
#include <QTimer>

#include <chrono>

class QNetworkAccessManager;
class QNetworkReply;

namespace ft {

// GET https://PORTAL/flowtraq/api/v3/info with a FlowTraq user's credentials (basic
// auth, or a session key from POST …/sessionkey sent as header ftsessionkey), then
// finds the version in the answer. The QtKeychain job pattern: set up, connect
// finished, start(); finished(job) comes exactly once, never inside start().
class WebApiInfoJob : public QObject
{
    Q_OBJECT

public:
    enum Error {
        NoError,
        BadCredentials,     // 403: bad credentials, no permission or a bad request
        NotSet,             // 404
        NotAnswering,       // 500, refused, unreachable: FlowTraq is not answering
        CertificateProblem, // not trusted and not the pinned one
        Timeout,
        ProtocolError,      // not the documented shape {"info": {...}}
        NoVersion,          // answered, but no (or not the configured) key holds a version
    };
    Q_ENUM(Error)

    explicit WebApiInfoJob(WebApiSettings settings, QObject *parent = nullptr);
    ~WebApiInfoJob() override;

    void setTimeout(std::chrono::milliseconds timeout) { m_timeout = timeout; }
    void start();

    Error error() const { return m_error; }
    // One sentence, never holding the password.
    QString errorString() const { return m_errorString; }
    const QJsonObject &info() const { return m_info; }
    const WebApiVersion &version() const { return m_version; }
    // The SHA-256 the portal presented (hex), for pinning it; "" before a handshake.
    QString presentedFingerprint() const { return m_presented; }

Q_SIGNALS:
    void finished(ft::WebApiInfoJob *job);

private:
    QNetworkReply *send(const QByteArray &verb, const QString &name, const QByteArray &sessionKey);
    void onSessionKey(QNetworkReply *reply);
    void onInfo(QNetworkReply *reply);
    // The body as the documented JSON object, or finishes with the error and returns false.
    bool readAnswer(QNetworkReply *reply, const QString &name, QJsonObject *object);
    void finish(Error error, const QString &sentence);

    // Its own, so no connection another job accepted under another pin is reused.
    QNetworkAccessManager *m_network;
    WebApiSettings m_settings;
    std::chrono::milliseconds m_timeout{10000};
    QTimer m_timer;
    QPointer<QNetworkReply> m_reply;
    Error m_error = NoError;
    QString m_errorString;
    QJsonObject m_info;
    WebApiVersion m_version;
    QString m_presented;
    bool m_done = false;
};

} // namespace ft

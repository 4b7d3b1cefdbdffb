#pragma once

#include "model/expected.h"
#include "support/jobend.h"

#include <QByteArray>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QTimer>
#include <QUrl>
#include <QUrlQuery>

#include <chrono>
#include <optional>

class QNetworkAccessManager;
namespace ft { class PinnedHttpsCall; class PinnedConnectionPool; }
class QNetworkReply;
class QJsonObject;

namespace ft {

// How to reach one node's agent.
struct AgentEndpoint
{
    QString nodeName;    // for sentences; the host:port when empty
    QUrl url;            // https://host:port (as the agent prints it)
    QString fingerprint; // pinned SHA-256 of the agent's certificate (any hex spelling)
    QString token;       // bearer token; never logged

    // "w3", or "10.0.0.7:9650" when the name is not known yet.
    QString displayName() const;
};

// The transport shared by every agent call: one QNetworkAccessManager, the default
// time-out, the bearer token, and certificate pinning. A reply only ever carries data
// from a peer whose certificate has exactly the pinned SHA-256: self-signed agent
// certificates fail normal verification and are accepted on an exact pin match only;
// certificates that pass normal verification are still checked against the pin once
// the handshake is done, before the request is sent.
class AgentClient : public QObject
{
    Q_OBJECT

public:
    explicit AgentClient(QObject *parent = nullptr);
    ~AgentClient() override;

    QNetworkAccessManager *networkAccessManager() const { return m_network; }
    // Connections left open by the agents' answers, for the next call to the same agent.
    PinnedConnectionPool *connectionPool() const { return m_pool; }

    // Time-out of one call (long polls add their wait to it). Default 5 s.
    std::chrono::milliseconds timeout() const { return m_timeout; }
    void setTimeout(std::chrono::milliseconds timeout) { m_timeout = timeout; }

    struct Request
    {
        QByteArray verb = "GET";
        QString path;          // below /v1, e.g. "/node"
        QUrlQuery query;
        QByteArray body;       // JSON; sent with Content-Type application/json when not null
        QByteArray contentType; // another type for the body (an upload's chunk)
        bool authenticated = true; // send the bearer token
    };

    // Sends the request with pinning armed; the caller owns the reply. An endpoint
    // without a valid fingerprint gets a reply that can never be accepted.
    QNetworkReply *send(const AgentEndpoint &endpoint, const Request &request);

    // After a reply finished: the SHA-256 (hex) the peer presented when it was not the
    // pinned one ("" when it presented none), or nullopt when the pin held.
    static std::optional<QString> pinMismatch(QNetworkReply *reply);

    // The request as it goes on the wire (HTTP/1.1), with
    // the same headers send() sets. For PinnedHttpsCall.
    static QByteArray wireRequest(const AgentEndpoint &endpoint, const Request &request);

    // https://host:port/v1<path>?query, whatever path the base URL carries.
    static QUrl urlFor(const QUrl &base, const QString &path, const QUrlQuery &query = {});

private:
    QNetworkAccessManager *m_network = nullptr;
    PinnedConnectionPool *m_pool = nullptr;
    std::chrono::milliseconds m_timeout{5000};
};

// One call to an agent, in the QtKeychain pattern: create it, connect finished, call
// start(). finished(job) comes exactly once and never inside start() or cancel();
// after it, error()/errorString() and the subclass's result are set. With autoDelete
// (the default, as in QtKeychain) the job deletes itself after finished.
class AgentJob : public QObject
{
    Q_OBJECT

public:
    enum Error {
        NoError,
        Timeout,             // no answer within the time-out
        Unreachable,         // refused, no route, host not found, connection dropped
        CertificateMismatch, // the agent's certificate is not the pinned one
        Unauthorized,        // 401: wrong or missing token
        BadRequest,          // 400, 405, 413, 415
        NotFound,            // 404
        Conflict,            // 409
        ServerError,         // 5xx (507: no disk space)
        ProtocolError,       // an answer that is not what the API promises
        Cancelled,
    };
    Q_ENUM(Error)

    ~AgentJob() override;

    AgentClient *client() const { return m_client; }
    const AgentEndpoint &endpoint() const { return m_endpoint; }

    void start();
    // Aborts the call; finished(Cancelled) follows (asynchronously) unless it is done.
    void cancel();
    bool isRunning() const { return m_started && !m_end.isDone(); }
    bool isFinished() const { return m_end.isDone(); }

    Error error() const { return m_end.error(); }
    // A sentence that starts with "node <name>: ". Empty without an error.
    QString errorString() const { return m_end.errorString(); }
    // The HTTP status of the answer, 0 when there was none.
    int httpStatus() const { return m_httpStatus; }

    bool autoDelete() const { return m_autoDelete; }
    void setAutoDelete(bool autoDelete) { m_autoDelete = autoDelete; }

    // 0 (default): the client's time-out, plus the wait for long polls.
    std::chrono::milliseconds timeout() const;
    void setTimeout(std::chrono::milliseconds timeout) { m_timeout = timeout; }

    // "node w3: " + sentence
    static QString nodeSentence(const AgentEndpoint &endpoint, const QString &sentence);
    static QString errorName(Error error);

Q_SIGNALS:
    void finished(ft::AgentJob *job);

protected:
    AgentJob(AgentClient *client, AgentEndpoint endpoint, QObject *parent);

    // The call this job makes; used by the default doStart().
    virtual AgentClient::Request request() const;
    // Reads a 2xx answer into the job's result; an error here is a ProtocolError.
    virtual Result parseReply(const QByteArray &body);
    virtual std::chrono::milliseconds defaultTimeout() const;

    // Starts the work (called from the event loop, never inside start()). The default
    // sends request() and hands a 2xx body to parseReply().
    virtual void doStart();
    // Stops the work started by doStart() (time-out, cancel); no finish needed.
    virtual void abortWork();

    void finishSuccess();
    // sentence without the node prefix; it is added here.
    void finishWithError(Error error, const QString &sentence);

    // Answers larger than this end the call with a ProtocolError. Default 16 MiB.
    void setMaxReplyBytes(qint64 bytes) { m_maxReplyBytes = bytes; }

    // The body as a JSON object, or an error sentence.
    static Expected<QJsonObject> jsonObject(const QByteArray &body);

private:
    void handleReply(QNetworkReply *reply);
    void handleCall(PinnedHttpsCall *call);
    void handleAnswer(const QString &reason, const QByteArray &body);
    void finishWithPinMismatch(const QString &presented);
    void finish(Error error, const QString &errorString);

    QPointer<AgentClient> m_client;
    AgentEndpoint m_endpoint;
    QPointer<QNetworkReply> m_reply; // owned by the QNetworkAccessManager
    QPointer<PinnedHttpsCall> m_call; // the default doStart()'s exchange (a child)
    QTimer m_timer;
    std::chrono::milliseconds m_timeout{0};
    JobEnd<Error> m_end;
    int m_httpStatus = 0;
    qint64 m_maxReplyBytes = 16 * 1024 * 1024;
    bool m_autoDelete = true;
    bool m_started = false;
};

} // namespace ft

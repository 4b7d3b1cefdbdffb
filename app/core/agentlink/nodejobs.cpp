#include "agentlink/nodejobs.h"

#include "agentlink/agentreply.h"
#include "agentlink/trustedcertificates.h"

#include <QCryptographicHash>
#include <QNetworkProxy>
#include <QSslSocket>

namespace ft {

using namespace agentreply;

// ---- HealthJob --------------------------------------------------------------------------

HealthJob::HealthJob(AgentClient *client, const AgentEndpoint &endpoint, QObject *parent)
    : AgentJob(client, endpoint, parent)
{
}

AgentClient::Request HealthJob::request() const
{
    AgentClient::Request call;
    call.path = QStringLiteral("/health");
    call.authenticated = false;
    return call;
}

Result HealthJob::parseReply(const QByteArray &body)
{
    const auto json = jsonObject(body);
    if (!json)
        return makeError(json.error());
    m_health.status = json->value(QLatin1String("status")).toString();
    m_health.agentVersion = json->value(QLatin1String("agent_version")).toString();
    m_health.api = json->value(QLatin1String("api")).toInt();
    if (m_health.api != 1)
        return makeError(tr("the agent speaks API version %1; this wizard speaks version 1")
                             .arg(m_health.api));
    return {};
}

// ---- ProbeCertificateJob ----------------------------------------------------------------

ProbeCertificateJob::ProbeCertificateJob(AgentClient *client, const AgentEndpoint &endpoint,
                                         QObject *parent)
    : AgentJob(client, endpoint, parent)
{
}

ProbeCertificateJob::~ProbeCertificateJob()
{
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
    }
}

void ProbeCertificateJob::doStart()
{
    const QUrl url = endpoint().url;
    if (url.scheme() != QLatin1String("https") || url.host().isEmpty()) {
        finishWithError(BadRequest, tr("\"%1\" is not an https:// agent address")
                                        .arg(url.toString()));
        return;
    }
    m_socket = new QSslSocket(this);
    // Nothing is trusted here and nothing is sent: the certificate is only read so
    // that a person can compare its fingerprint with the one the agent printed.
    m_socket->setPeerVerifyMode(QSslSocket::VerifyNone);
    m_socket->setProxy(QNetworkProxy::NoProxy);
    connect(m_socket, &QSslSocket::encrypted, this, [this] {
        m_certificate = m_socket->peerCertificate();
        m_fingerprint = QString::fromLatin1(
            m_certificate.digest(QCryptographicHash::Sha256).toHex());
        m_socket->disconnectFromHost();
        if (m_certificate.isNull())
            finishWithError(ProtocolError, tr("the agent presented no certificate"));
        else
            finishSuccess();
    });
    connect(m_socket, &QSslSocket::errorOccurred, this, [this](QAbstractSocket::SocketError e) {
        if (isFinished())
            return;
        const QString where = TrustedCertificates::addressOf(endpoint().url);
        switch (e) {
        case QAbstractSocket::ConnectionRefusedError:
            finishWithError(Unreachable, tr("cannot connect to %1 (connection refused)")
                                             .arg(where));
            break;
        case QAbstractSocket::HostNotFoundError:
            finishWithError(Unreachable, tr("cannot connect to %1 (host not found)").arg(where));
            break;
        case QAbstractSocket::SslHandshakeFailedError:
        case QAbstractSocket::SslInternalError:
            finishWithError(ProtocolError, tr("no secure connection to %1 (%2)")
                                               .arg(where, m_socket->errorString()));
            break;
        default:
            finishWithError(Unreachable, tr("cannot connect to %1 (%2)")
                                             .arg(where, m_socket->errorString()));
            break;
        }
    });
    m_socket->connectToHostEncrypted(url.host(), quint16(url.port(9650)));
}

void ProbeCertificateJob::abortWork()
{
    if (m_socket)
        m_socket->abort();
}

// ---- FetchNodeJob -----------------------------------------------------------------------

FetchNodeJob::FetchNodeJob(AgentClient *client, const AgentEndpoint &endpoint, QObject *parent)
    : AgentJob(client, endpoint, parent)
{
}

AgentClient::Request FetchNodeJob::request() const
{
    AgentClient::Request call;
    call.path = QStringLiteral("/node");
    return call;
}

Result FetchNodeJob::parseReply(const QByteArray &body)
{
    const auto json = jsonObject(body);
    if (!json)
        return makeError(json.error());
    auto node = NodeStatus::fromAgentJson(*json);
    if (!node)
        return makeError(node.error());
    m_node = std::move(*node);
    m_node.agentUrl = endpoint().url;
    m_node.fingerprint = TrustedCertificates::normalize(endpoint().fingerprint)
                             .value_or(QString());
    if (m_node.name.isEmpty())
        m_node.name = endpoint().nodeName;
    return {};
}

// ---- FetchClusterJob --------------------------------------------------------------------

FetchClusterJob::FetchClusterJob(AgentClient *client, const AgentEndpoint &endpoint,
                                 QObject *parent)
    : AgentJob(client, endpoint, parent)
{
}

AgentClient::Request FetchClusterJob::request() const
{
    AgentClient::Request call;
    call.path = QStringLiteral("/cluster");
    return call;
}

Result FetchClusterJob::parseReply(const QByteArray &body)
{
    const auto json = jsonObject(body);
    if (!json)
        return makeError(json.error());
    auto cluster = ClusterListing::fromAgentJson(*json);
    if (!cluster)
        return makeError(cluster.error());
    m_cluster = std::move(*cluster);
    return {};
}

// ---- FetchFlowHistoryJob ----------------------------------------------------------------

FetchFlowHistoryJob::FetchFlowHistoryJob(AgentClient *client, const AgentEndpoint &endpoint,
                                         int hours, QObject *parent)
    : AgentJob(client, endpoint, parent)
    , m_hourCount(hours)
{
}

AgentClient::Request FetchFlowHistoryJob::request() const
{
    AgentClient::Request call;
    call.path = QStringLiteral("/flows/history");
    call.query.addQueryItem(QStringLiteral("hours"), QString::number(m_hourCount));
    return call;
}

Result FetchFlowHistoryJob::parseReply(const QByteArray &body)
{
    const auto json = jsonObject(body);
    if (!json)
        return makeError(json.error());
    const auto hours = arrayField(*json, "hours");
    if (!hours)
        return makeError(hours.error());
    m_hours.clear();
    for (const auto &value : *hours) {
        const QJsonObject object = value.toObject();
        FlowHourCount hour{timeOf(object.value(QLatin1String("start"))),
                           object.value(QLatin1String("flows")).toInteger(-1)};
        if (!hour.start.isValid() || hour.flows < 0)
            return fieldError(QStringLiteral("hours"));
        m_hours.append(hour);
    }
    return {};
}

} // namespace ft

#pragma once

#include "agentlink/agentclient.h"
#include "model/nodestatus.h"

#include <QDateTime>
#include <QList>
#include <QSslCertificate>
#include <QSslSocket>
#include <QString>

// What a node and its cluster are: the agent's health, its certificate on first
// contact, the node's state, the cluster's members and the flow history (API.md).

namespace ft {

struct AgentHealth
{
    QString status;
    QString agentVersion;
    int api = 0;
};

struct FlowHourCount
{
    QDateTime start; // UTC, whole hour
    qint64 flows = 0;
};

// ---- jobs --------------------------------------------------------------------------------

// GET /v1/health (no token). A different API version is a ProtocolError.
class HealthJob : public AgentJob
{
    Q_OBJECT
public:
    HealthJob(AgentClient *client, const AgentEndpoint &endpoint, QObject *parent = nullptr);
    const AgentHealth &health() const { return m_health; }

protected:
    AgentClient::Request request() const override;
    Result parseReply(const QByteArray &body) override;

private:
    AgentHealth m_health;
};

// First contact: completes a TLS handshake without trusting the peer, reads its
// certificate and hangs up. Nothing is sent, least of all the token; the endpoint's
// fingerprint is ignored. The UI shows fingerprint() to the administrator to trust.
class ProbeCertificateJob : public AgentJob
{
    Q_OBJECT
public:
    ProbeCertificateJob(AgentClient *client, const AgentEndpoint &endpoint,
                        QObject *parent = nullptr);
    ~ProbeCertificateJob() override;

    QSslCertificate certificate() const { return m_certificate; }
    // SHA-256 of the DER certificate, lower-case hex (TrustedCertificates::formatForPeople
    // makes it readable).
    QString fingerprint() const { return m_fingerprint; }

protected:
    void doStart() override;
    void abortWork() override;

private:
    QSslSocket *m_socket = nullptr;
    QSslCertificate m_certificate;
    QString m_fingerprint;
};

// GET /v1/node → NodeStatus, with agentUrl and fingerprint filled from the endpoint.
class FetchNodeJob : public AgentJob
{
    Q_OBJECT
public:
    FetchNodeJob(AgentClient *client, const AgentEndpoint &endpoint, QObject *parent = nullptr);
    const NodeStatus &node() const { return m_node; }

protected:
    AgentClient::Request request() const override;
    Result parseReply(const QByteArray &body) override;

private:
    NodeStatus m_node;
};

// GET /v1/cluster
class FetchClusterJob : public AgentJob
{
    Q_OBJECT
public:
    FetchClusterJob(AgentClient *client, const AgentEndpoint &endpoint,
                    QObject *parent = nullptr);
    const ClusterListing &cluster() const { return m_cluster; }

protected:
    AgentClient::Request request() const override;
    Result parseReply(const QByteArray &body) override;

private:
    ClusterListing m_cluster;
};

// GET /v1/flows/history?hours=N
class FetchFlowHistoryJob : public AgentJob
{
    Q_OBJECT
public:
    FetchFlowHistoryJob(AgentClient *client, const AgentEndpoint &endpoint, int hours = 168,
                        QObject *parent = nullptr);
    const QList<FlowHourCount> &hours() const { return m_hours; }

protected:
    AgentClient::Request request() const override;
    Result parseReply(const QByteArray &body) override;

private:
    int m_hourCount;
    QList<FlowHourCount> m_hours;
};

} // namespace ft

#pragma once

#include "agentlink/agentclient.h"
#include "agentlink/startjob.h"

#include <QList>
#include <QString>
#include <QUrl>

// Putting packages on a node before anything stops: start a download that the agent
// verifies (size, SHA-256, optionally the server's certificate), and list what is
// staged (API.md).

namespace ft {

struct StagedPackage
{
    QString name;
    qint64 size = 0;
    QString sha256;
    QString component; // "server" | "nbi" | "webui"
    QString version;
};

struct StageRequest
{
    QUrl url;            // http or https
    QString sha256;
    qint64 size = 0;
    QString name;        // plain file name
    QString fingerprint; // optional: SHA-256 of the serving certificate to pin
    QString token;       // optional: bearer token of the serving agent (needs fingerprint)
    // The caller checked the package's own manifest or digests over exactly the bytes
    // with this SHA-256: the agent then reads only the package's facts afterwards.
    bool contentsChecked = false;
};

// ---- jobs --------------------------------------------------------------------------------

// POST /v1/stage → job id
class StartStageJob : public StartJob
{
    Q_OBJECT
public:
    StartStageJob(AgentClient *client, const AgentEndpoint &endpoint,
                  const StageRequest &stage, QObject *parent = nullptr);

protected:
    AgentClient::Request request() const override;

private:
    StageRequest m_stage;
};

// GET /v1/staged
class ListStagedJob : public AgentJob
{
    Q_OBJECT
public:
    ListStagedJob(AgentClient *client, const AgentEndpoint &endpoint, QObject *parent = nullptr);
    const QList<StagedPackage> &packages() const { return m_packages; }

protected:
    AgentClient::Request request() const override;
    Result parseReply(const QByteArray &body) override;

private:
    QList<StagedPackage> m_packages;
};

} // namespace ft

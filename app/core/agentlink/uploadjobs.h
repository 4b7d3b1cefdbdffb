#pragma once

#include "agentlink/agentclient.h"

#include <QFile>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QTimer>

namespace ft {

// An upload as the agent reports it (GET /v1/uploads/U).
struct UploadState
{
    QString id;
    QString name;
    qint64 size = 0;
    QString sha256;
    qint64 offset = 0;
    bool complete = false;

    static Expected<UploadState> fromAgentJson(const QJsonObject &json);
};

// POST /v1/uploads {name, size, sha256}: a new upload, or the unfinished one of the
// same file (so a second attempt resumes).
class CreateUploadJob : public AgentJob
{
    Q_OBJECT
public:
    CreateUploadJob(AgentClient *client, const AgentEndpoint &endpoint, const QString &name, qint64 size,
                    const QString &sha256, QObject *parent = nullptr);
    const UploadState &upload() const { return m_upload; }

protected:
    AgentClient::Request request() const override;
    Result parseReply(const QByteArray &body) override;

private:
    QString m_name;
    qint64 m_size;
    QString m_sha256;
    UploadState m_upload;
};

// GET /v1/uploads/U
class FetchUploadJob : public AgentJob
{
    Q_OBJECT
public:
    FetchUploadJob(AgentClient *client, const AgentEndpoint &endpoint, const QString &id,
                   QObject *parent = nullptr);
    const UploadState &upload() const { return m_upload; }

protected:
    AgentClient::Request request() const override;
    Result parseReply(const QByteArray &body) override;

private:
    QString m_id;
    UploadState m_upload;
};

// PUT /v1/uploads/U?offset=N with one chunk (at most 8 MiB) as the body.
class UploadChunkJob : public AgentJob
{
    Q_OBJECT
public:
    UploadChunkJob(AgentClient *client, const AgentEndpoint &endpoint, const QString &id, qint64 offset,
                   QByteArray chunk, QObject *parent = nullptr);
    const UploadState &upload() const { return m_upload; }

protected:
    AgentClient::Request request() const override;
    Result parseReply(const QByteArray &body) override;
    std::chrono::milliseconds defaultTimeout() const override;

private:
    QString m_id;
    qint64 m_offset;
    QByteArray m_chunk;
    UploadState m_upload;
};

// Sends one file to an agent (the portal's) so other agents can fetch it from there:
// creates the upload, then sends it chunk by chunk, reading one chunk from disk at a
// time. When a chunk fails on the way (connection cut, time-out, a 409 because the
// agent has a different offset), it asks the agent where the upload stands and goes
// on from that offset, up to maxRetries times in a row. The agent checks the SHA-256
// when the last byte arrives. Job pattern: start(), finished() exactly once, never
// inside start().
class PackageUploadJob : public QObject
{
    Q_OBJECT

public:
    PackageUploadJob(AgentClient *client, const AgentEndpoint &endpoint, const QString &filePath,
                     const QString &name, qint64 size, const QString &sha256, QObject *parent = nullptr);
    ~PackageUploadJob() override;

    // Bytes per PUT (1 … 8 MiB; default 8 MiB).
    void setChunkBytes(qint64 bytes);
    // Failed chunks in a row before giving up (default 8); waits 0.5 s, 1 s, 2 s … between.
    void setMaxRetries(int retries) { m_maxRetries = retries; }

    void start();
    void cancel();

    bool hasError() const { return !m_error.isEmpty(); }
    QString errorString() const { return m_error; }
    QString uploadId() const { return m_upload.id; }
    const AgentEndpoint &endpoint() const { return m_endpoint; }
    QString name() const { return m_name; }
    qint64 size() const { return m_size; }
    // https://portal:port/v1/uploads/U/file: where the other agents fetch it.
    QUrl fileUrl() const;
    // Body bytes this job put on the wire (chunks that failed on the way included).
    qint64 bytesSent() const { return m_bytesSent; }
    // The agent's offsets this job continued from after a failed chunk.
    const QList<qint64> &resumedAt() const { return m_resumedAt; }

Q_SIGNALS:
    void progress(qint64 bytesDone, qint64 bytesTotal);
    void finished(ft::PackageUploadJob *job);

private:
    void onCreated(CreateUploadJob *job);
    void sendChunk();
    void onChunk(UploadChunkJob *job);
    void retry(const QString &why);
    void onFetched(FetchUploadJob *job);
    void succeed();
    void fail(const QString &error);

    QPointer<AgentClient> m_client;
    AgentEndpoint m_endpoint;
    QString m_filePath;
    QString m_name;
    qint64 m_size;
    QString m_sha256;
    qint64 m_chunkBytes = 8 * 1024 * 1024;
    int m_maxRetries = 8;
    int m_failuresInRow = 0;
    QFile m_file;
    UploadState m_upload;
    QPointer<AgentJob> m_current;
    QTimer m_retryTimer;
    qint64 m_bytesSent = 0;
    QList<qint64> m_resumedAt;
    QString m_error;
    bool m_started = false;
    bool m_done = false;
};

} // namespace ft

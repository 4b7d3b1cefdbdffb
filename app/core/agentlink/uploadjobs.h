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

// DELETE /v1/uploads/U: the upload and its file leave the agent's disk.
class DeleteUploadJob : public AgentJob
{
    Q_OBJECT
public:
    DeleteUploadJob(AgentClient *client, const AgentEndpoint &endpoint, const QString &id,
                    QObject *parent = nullptr);
    QString uploadId() const { return m_id; }

protected:
    AgentClient::Request request() const override;
    Result parseReply(const QByteArray &body) override;

private:
    QString m_id;
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

    // Bytes per PUT (1 … 8 MiB; default 2 MiB). The agent holds a chunk whole in memory,
    // several times over while Qt's HTTP server reads it (an 8 MiB chunk raised a portal
    // agent's memory by ~39 MiB, a 2 MiB one by ~12 MiB), and it serves the nodes
    // at the same time. 2 MiB per round trip still allows ~40 MiB/s at 50 ms.
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
    // The agent knows the upload: fileUrl() is valid from here on, and other agents may
    // fetch it while it arrives (the agent streams each byte once it is on its disk).
    void created(ft::PackageUploadJob *job);
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
    qint64 m_chunkBytes = 2 * 1024 * 1024;
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
    bool m_createdSent = false;
    bool m_done = false;
};

} // namespace ft

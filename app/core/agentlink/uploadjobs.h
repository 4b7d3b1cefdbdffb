#pragma once

#include "agentlink/agentclient.h"

#include <QFile>
#include <QList>
#include <QPair>
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
    qint64 offset = 0; // the contiguous prefix the agent holds: where to go on from
    QList<QPair<qint64, qint64>> received; // all ranges it holds, [first, end), sorted
    bool complete = false;

    static Expected<UploadState> fromAgentJson(const QJsonObject &json);
};

// One call about an upload, each answered with the upload's state: POST /v1/uploads
// {name, size, sha256} (a new upload, or the unfinished one of the same bytes, so a
// second attempt resumes), GET /v1/uploads/U, or PUT /v1/uploads/U?offset=N with one
// chunk (at most 8 MiB) as the body.
class UploadCallJob : public AgentJob
{
    Q_OBJECT
public:
    static AgentClient::Request createRequest(const QString &name, qint64 size, const QString &sha256);
    static AgentClient::Request fetchRequest(const QString &id);
    static AgentClient::Request chunkRequest(const QString &id, qint64 offset, QByteArray chunk);

    UploadCallJob(AgentClient *client, const AgentEndpoint &endpoint, AgentClient::Request call,
                  QObject *parent = nullptr);
    const UploadState &upload() const { return m_upload; }
    // For a chunk: its offset and length (0 for the other calls).
    qint64 chunkOffset() const { return m_chunkOffset; }
    qint64 chunkBytes() const { return m_call.body.size(); }

protected:
    AgentClient::Request request() const override { return m_call; }
    Result parseReply(const QByteArray &body) override;
    std::chrono::milliseconds defaultTimeout() const override;

private:
    AgentClient::Request m_call;
    qint64 m_chunkOffset = 0;
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

// Sends one file to an agent (the portal's) so other agents can fetch it from there:
// creates the upload, then sends it in chunks, several at once at successive offsets
// (each PUT on a connection of its own), reading each chunk from disk as it goes out:
// one round trip per chunk no longer sets the pace. When a chunk fails on the way
// (connection cut, time-out, a 409), it lets the others end, asks the agent where the
// upload stands and goes on from its contiguous prefix, skipping ranges the agent
// holds already, up to maxRetries times in a row. The agent checks the SHA-256 when
// the last byte arrives. Job pattern: start(), finished() exactly once, never inside
// start().
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
    // Chunks under way at once (1 … 8; default 3): enough to keep the link and the agent
    // busy while an answer travels, at chunkBytes of memory each here.
    void setStreams(int streams);
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
    void askState();
    void onState(UploadCallJob *job);
    void fill();
    void onChunk(UploadCallJob *job);
    void retry(const QString &why);
    void cancelChunks();
    void succeed();
    void fail(const QString &error);

    QPointer<AgentClient> m_client;
    AgentEndpoint m_endpoint;
    QString m_filePath;
    QString m_name;
    qint64 m_size;
    QString m_sha256;
    qint64 m_chunkBytes = 2 * 1024 * 1024;
    int m_streams = 3;
    int m_maxRetries = 8;
    int m_failuresInRow = 0;
    QFile m_file;
    UploadState m_upload;
    QPointer<AgentJob> m_current;          // the create or fetch call
    QList<QPointer<UploadCallJob>> m_chunks; // chunks under way
    qint64 m_next = 0;                       // the next offset to send
    QString m_stalled;                       // why a chunk failed: resync once the others ended
    QTimer m_retryTimer;
    qint64 m_bytesSent = 0;
    QList<qint64> m_resumedAt;
    QString m_error;
    bool m_started = false;
    bool m_createdSent = false;
    bool m_done = false;
};

} // namespace ft

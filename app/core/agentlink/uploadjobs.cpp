#include "agentlink/uploadjobs.h"

#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>

namespace ft {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::PackageUploadJob", text); }

constexpr qint64 kMaxChunkBytes = 8 * 1024 * 1024; // the agent's limit (API.md)

} // namespace

Expected<UploadState> UploadState::fromAgentJson(const QJsonObject &json)
{
    UploadState state;
    state.id = json.value(QStringLiteral("id")).toString();
    state.name = json.value(QStringLiteral("name")).toString();
    state.size = json.value(QStringLiteral("size")).toInteger(-1);
    state.sha256 = json.value(QStringLiteral("sha256")).toString();
    state.offset = json.value(QStringLiteral("offset")).toInteger(-1);
    state.complete = json.value(QStringLiteral("complete")).toBool();
    // Older agents take chunks in order only and do not list ranges: the prefix is all.
    const QJsonArray ranges = json.value(QStringLiteral("received")).toArray();
    for (const QJsonValue range : ranges) {
        const qint64 first = range.toArray().at(0).toInteger(-1);
        const qint64 end = range.toArray().at(1).toInteger(-1);
        if (first < 0 || end <= first || end > state.size
            || (!state.received.isEmpty() && first <= state.received.last().second))
            return makeError(tr("the agent's description of the upload is incomplete"));
        state.received.append({first, end});
    }
    if (state.id.isEmpty() || state.size <= 0 || state.offset < 0 || state.offset > state.size
        || !json.value(QStringLiteral("complete")).isBool())
        return makeError(tr("the agent's description of the upload is incomplete"));
    return state;
}

namespace {

Expected<UploadState> parseUpload(const QByteArray &body)
{
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(body, &error);
    if (error.error != QJsonParseError::NoError || !document.isObject())
        return makeError(tr("the agent's answer is not a JSON object"));
    return UploadState::fromAgentJson(document.object());
}

} // namespace

// ---- UploadCallJob ----------------------------------------------------------------------

AgentClient::Request UploadCallJob::createRequest(const QString &name, qint64 size, const QString &sha256)
{
    AgentClient::Request call;
    call.verb = "POST";
    call.path = QStringLiteral("/uploads");
    call.body = QJsonDocument(QJsonObject{{QStringLiteral("name"), name},
                                          {QStringLiteral("size"), size},
                                          {QStringLiteral("sha256"), sha256.toLower()}})
                    .toJson(QJsonDocument::Compact);
    return call;
}

AgentClient::Request UploadCallJob::fetchRequest(const QString &id)
{
    AgentClient::Request call;
    call.path = QStringLiteral("/uploads/") + id;
    return call;
}

AgentClient::Request UploadCallJob::chunkRequest(const QString &id, qint64 offset, QByteArray chunk)
{
    AgentClient::Request call = fetchRequest(id);
    call.verb = "PUT";
    call.query.addQueryItem(QStringLiteral("offset"), QString::number(offset));
    call.body = std::move(chunk);
    call.contentType = "application/octet-stream";
    return call;
}

UploadCallJob::UploadCallJob(AgentClient *client, const AgentEndpoint &endpoint, AgentClient::Request call,
                             QObject *parent)
    : AgentJob(client, endpoint, parent)
    , m_call(std::move(call))
    , m_chunkOffset(m_call.verb == "PUT" ? m_call.query.queryItemValue(QStringLiteral("offset")).toLongLong() : 0)
{
}

Result UploadCallJob::parseReply(const QByteArray &body)
{
    auto upload = parseUpload(body);
    if (!upload)
        return makeError(upload.error());
    m_upload = *upload;
    return {};
}

std::chrono::milliseconds UploadCallJob::defaultTimeout() const
{
    // 8 MiB over a slow VPN link: allow ~70 KiB/s before calling a chunk stuck.
    return m_call.verb == "PUT" ? std::chrono::milliseconds(120000) : AgentJob::defaultTimeout();
}

// ---- DeleteUploadJob ---------------------------------------------------------------------

DeleteUploadJob::DeleteUploadJob(AgentClient *client, const AgentEndpoint &endpoint, const QString &id,
                                 QObject *parent)
    : AgentJob(client, endpoint, parent)
    , m_id(id)
{
}

AgentClient::Request DeleteUploadJob::request() const
{
    AgentClient::Request call;
    call.verb = "DELETE";
    call.path = QStringLiteral("/uploads/") + m_id;
    return call;
}

Result DeleteUploadJob::parseReply(const QByteArray &)
{
    return {};
}

// ---- PackageUploadJob -------------------------------------------------------------------

PackageUploadJob::PackageUploadJob(AgentClient *client, const AgentEndpoint &endpoint, const QString &filePath,
                                   const QString &name, qint64 size, const QString &sha256, QObject *parent)
    : QObject(parent)
    , m_client(client)
    , m_endpoint(endpoint)
    , m_filePath(filePath)
    , m_name(name)
    , m_size(size)
    , m_sha256(sha256)
{
    m_retryTimer.setSingleShot(true);
    connect(&m_retryTimer, &QTimer::timeout, this, [this] {
        if (!m_done && m_client)
            askState();
    });
}

PackageUploadJob::~PackageUploadJob()
{
    if (m_current)
        m_current->cancel();
    cancelChunks();
}

void PackageUploadJob::setChunkBytes(qint64 bytes)
{
    m_chunkBytes = std::clamp<qint64>(bytes, 1, kMaxChunkBytes);
}

void PackageUploadJob::setStreams(int streams)
{
    m_streams = std::clamp(streams, 1, 8);
}

QUrl PackageUploadJob::fileUrl() const
{
    return AgentClient::urlFor(m_endpoint.url, QStringLiteral("/uploads/%1/file").arg(m_upload.id));
}

void PackageUploadJob::start()
{
    if (m_started)
        return;
    m_started = true;
    QMetaObject::invokeMethod(
        this,
        [this] {
            if (m_done)
                return;
            m_file.setFileName(m_filePath);
            if (!m_file.open(QIODevice::ReadOnly)) {
                fail(tr("Cannot read %1: %2").arg(m_filePath, m_file.errorString()));
                return;
            }
            if (m_file.size() != m_size) {
                fail(tr("%1 has %2 bytes, not the expected %3; it changed since it was checked.")
                         .arg(m_filePath).arg(m_file.size()).arg(m_size));
                return;
            }
            if (!m_client) {
                fail(tr("The connection to the agents was closed."));
                return;
            }
            askState();
        },
        Qt::QueuedConnection);
}

void PackageUploadJob::cancel()
{
    if (m_done)
        return;
    m_retryTimer.stop();
    if (m_current)
        m_current->cancel();
    cancelChunks();
    fail(tr("The upload of %1 was cancelled.").arg(m_name));
}

void PackageUploadJob::cancelChunks()
{
    const QList<QPointer<UploadCallJob>> chunks = std::exchange(m_chunks, {});
    for (const QPointer<UploadCallJob> &chunk : chunks) {
        if (chunk)
            chunk->cancel();
    }
}

void PackageUploadJob::askState()
{
    // Creating finds the upload the agent has of these bytes, if any; later, its id is known.
    auto *job = new UploadCallJob(m_client, m_endpoint,
                                  m_upload.id.isEmpty() ? UploadCallJob::createRequest(m_name, m_size, m_sha256)
                                                        : UploadCallJob::fetchRequest(m_upload.id),
                                  this);
    m_current = job;
    connect(job, &AgentJob::finished, this, [this, job] { onState(job); });
    job->start();
}

void PackageUploadJob::onState(UploadCallJob *job)
{
    if (m_done)
        return;
    if (job->error() != AgentJob::NoError) {
        if (job->error() == AgentJob::Unreachable || job->error() == AgentJob::Timeout) {
            retry(job->errorString());
            return;
        }
        fail(job->errorString());
        return;
    }
    const bool first = !m_createdSent;
    m_upload = job->upload();
    // An earlier attempt (this job's, or any run's before) left bytes there.
    if (m_upload.offset > 0 || !first)
        m_resumedAt.append(m_upload.offset);
    Q_EMIT progress(m_upload.offset, m_size);
    m_createdSent = true;
    if (first)
        Q_EMIT created(this);
    if (m_done) // the receiver cancelled
        return;
    if (m_upload.complete) {
        succeed();
        return;
    }
    m_stalled.clear();
    m_next = m_upload.offset;
    fill();
}

void PackageUploadJob::fill()
{
    while (m_chunks.size() < m_streams && m_next < m_size) {
        // Ranges the agent holds already are not sent again.
        qint64 end = std::min(m_size, m_next + m_chunkBytes);
        bool held = false;
        for (const auto &range : std::as_const(m_upload.received)) {
            if (range.first <= m_next && m_next < range.second) {
                m_next = range.second;
                held = true;
                break;
            }
            if (range.first > m_next) {
                end = std::min(end, range.first);
                break;
            }
        }
        if (held)
            continue;
        // One chunk per stream in memory, whatever the file's size.
        QByteArray chunk(end - m_next, Qt::Uninitialized);
        if (!m_file.seek(m_next) || m_file.read(chunk.data(), chunk.size()) != chunk.size()) {
            cancelChunks();
            fail(tr("Cannot read %1 at byte %2: %3").arg(m_filePath).arg(m_next).arg(m_file.errorString()));
            return;
        }
        m_bytesSent += chunk.size();
        auto *job = new UploadCallJob(m_client, m_endpoint, UploadCallJob::chunkRequest(m_upload.id, m_next, std::move(chunk)),
                                      this);
        m_next = end;
        m_chunks.append(job);
        connect(job, &AgentJob::finished, this, [this, job] { onChunk(job); });
        job->start();
    }
    if (m_chunks.isEmpty() && m_next >= m_size && !m_done) {
        // Everything went out and was taken, yet the upload is not complete: ask again.
        retry(tr("the agent holds all %1 bytes of %2 but does not call the upload complete").arg(m_size).arg(m_name));
    }
}

void PackageUploadJob::onChunk(UploadCallJob *job)
{
    m_chunks.removeAll(job);
    if (m_done)
        return;
    switch (job->error()) {
    case AgentJob::NoError: {
        m_failuresInRow = 0;
        const UploadState &state = job->upload();
        // Answers may come out of order; what the agent holds only grows.
        if (state.complete || state.offset > m_upload.offset
            || (state.offset == m_upload.offset && state.received.size() >= m_upload.received.size()))
            m_upload = state;
        Q_EMIT progress(m_upload.offset, m_size);
        if (m_upload.complete) {
            cancelChunks(); // only copies of bytes the agent holds can be left
            succeed();
            return;
        }
        break;
    }
    case AgentJob::Unreachable:
    case AgentJob::Timeout:
    case AgentJob::Conflict:
        if (m_stalled.isEmpty())
            m_stalled = job->errorString();
        break;
    default:
        cancelChunks();
        fail(job->errorString());
        return;
    }
    if (m_stalled.isEmpty()) {
        fill();
        return;
    }
    // After a failed chunk nothing more goes out until the agent said where it stands.
    if (m_chunks.isEmpty())
        retry(m_stalled);
}

void PackageUploadJob::retry(const QString &why)
{
    ++m_failuresInRow;
    if (m_failuresInRow > m_maxRetries) {
        fail(tr("The upload of %1 failed %2 times in a row; the last time: %3")
                 .arg(m_name).arg(m_failuresInRow).arg(why));
        return;
    }
    const int delay = std::min(8000, 500 << std::min(m_failuresInRow - 1, 4));
    m_retryTimer.start(delay);
}

void PackageUploadJob::succeed()
{
    if (m_done)
        return;
    m_done = true;
    m_file.close();
    QMetaObject::invokeMethod(this, [this] { Q_EMIT finished(this); }, Qt::QueuedConnection);
}

void PackageUploadJob::fail(const QString &error)
{
    if (m_done)
        return;
    m_done = true;
    m_error = error;
    m_file.close();
    QMetaObject::invokeMethod(this, [this] { Q_EMIT finished(this); }, Qt::QueuedConnection);
}

} // namespace ft

#include "agentlink/uploadjobs.h"

#include <QCoreApplication>
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

// ---- CreateUploadJob --------------------------------------------------------------------

CreateUploadJob::CreateUploadJob(AgentClient *client, const AgentEndpoint &endpoint, const QString &name,
                                 qint64 size, const QString &sha256, QObject *parent)
    : AgentJob(client, endpoint, parent)
    , m_name(name)
    , m_size(size)
    , m_sha256(sha256)
{
}

AgentClient::Request CreateUploadJob::request() const
{
    AgentClient::Request call;
    call.verb = "POST";
    call.path = QStringLiteral("/uploads");
    call.body = QJsonDocument(QJsonObject{{QStringLiteral("name"), m_name},
                                          {QStringLiteral("size"), m_size},
                                          {QStringLiteral("sha256"), m_sha256.toLower()}})
                    .toJson(QJsonDocument::Compact);
    return call;
}

Result CreateUploadJob::parseReply(const QByteArray &body)
{
    auto upload = parseUpload(body);
    if (!upload)
        return makeError(upload.error());
    m_upload = *upload;
    return {};
}

// ---- FetchUploadJob ---------------------------------------------------------------------

FetchUploadJob::FetchUploadJob(AgentClient *client, const AgentEndpoint &endpoint, const QString &id,
                               QObject *parent)
    : AgentJob(client, endpoint, parent)
    , m_id(id)
{
}

AgentClient::Request FetchUploadJob::request() const
{
    AgentClient::Request call;
    call.path = QStringLiteral("/uploads/") + m_id;
    return call;
}

Result FetchUploadJob::parseReply(const QByteArray &body)
{
    auto upload = parseUpload(body);
    if (!upload)
        return makeError(upload.error());
    m_upload = *upload;
    return {};
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

// ---- UploadChunkJob ---------------------------------------------------------------------

UploadChunkJob::UploadChunkJob(AgentClient *client, const AgentEndpoint &endpoint, const QString &id,
                               qint64 offset, QByteArray chunk, QObject *parent)
    : AgentJob(client, endpoint, parent)
    , m_id(id)
    , m_offset(offset)
    , m_chunk(std::move(chunk))
{
}

AgentClient::Request UploadChunkJob::request() const
{
    AgentClient::Request call;
    call.verb = "PUT";
    call.path = QStringLiteral("/uploads/") + m_id;
    call.query.addQueryItem(QStringLiteral("offset"), QString::number(m_offset));
    call.body = m_chunk;
    call.contentType = "application/octet-stream";
    return call;
}

Result UploadChunkJob::parseReply(const QByteArray &body)
{
    auto upload = parseUpload(body);
    if (!upload)
        return makeError(upload.error());
    m_upload = *upload;
    return {};
}

std::chrono::milliseconds UploadChunkJob::defaultTimeout() const
{
    // 8 MiB over a slow VPN link: allow ~70 KiB/s before calling it stuck.
    return std::chrono::milliseconds(120000);
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
        if (m_done || !m_client)
            return;
        if (m_upload.id.isEmpty()) {
            auto *job = new CreateUploadJob(m_client, m_endpoint, m_name, m_size, m_sha256, this);
            m_current = job;
            connect(job, &AgentJob::finished, this, [this, job] { onCreated(job); });
            job->start();
            return;
        }
        auto *job = new FetchUploadJob(m_client, m_endpoint, m_upload.id, this);
        m_current = job;
        connect(job, &AgentJob::finished, this, [this, job] { onFetched(job); });
        job->start();
    });
}

PackageUploadJob::~PackageUploadJob()
{
    if (m_current)
        m_current->cancel();
}

void PackageUploadJob::setChunkBytes(qint64 bytes)
{
    m_chunkBytes = std::clamp<qint64>(bytes, 1, kMaxChunkBytes);
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
            auto *job = new CreateUploadJob(m_client, m_endpoint, m_name, m_size, m_sha256, this);
            m_current = job;
            connect(job, &AgentJob::finished, this, [this, job] { onCreated(job); });
            job->start();
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
    fail(tr("The upload of %1 was cancelled.").arg(m_name));
}

void PackageUploadJob::onCreated(CreateUploadJob *job)
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
    m_upload = job->upload();
    if (m_upload.offset > 0)
        m_resumedAt.append(m_upload.offset); // an earlier attempt left bytes there
    Q_EMIT progress(m_upload.offset, m_size);
    const bool first = !m_createdSent;
    m_createdSent = true;
    if (first)
        Q_EMIT created(this);
    if (m_done) // the receiver cancelled
        return;
    if (m_upload.complete) {
        succeed();
        return;
    }
    sendChunk();
}

void PackageUploadJob::sendChunk()
{
    if (!m_file.seek(m_upload.offset)) {
        fail(tr("Cannot read %1 at byte %2.").arg(m_filePath).arg(m_upload.offset));
        return;
    }
    // One chunk in memory at a time, whatever the file's size.
    QByteArray chunk = m_file.read(std::min(m_chunkBytes, m_size - m_upload.offset));
    if (chunk.isEmpty()) {
        fail(tr("Cannot read %1 at byte %2: %3").arg(m_filePath).arg(m_upload.offset).arg(m_file.errorString()));
        return;
    }
    m_bytesSent += chunk.size();
    auto *job = new UploadChunkJob(m_client, m_endpoint, m_upload.id, m_upload.offset, std::move(chunk), this);
    m_current = job;
    connect(job, &AgentJob::finished, this, [this, job] { onChunk(job); });
    job->start();
}

void PackageUploadJob::onChunk(UploadChunkJob *job)
{
    if (m_done)
        return;
    switch (job->error()) {
    case AgentJob::NoError:
        m_failuresInRow = 0;
        m_upload = job->upload();
        Q_EMIT progress(m_upload.offset, m_size);
        if (m_upload.complete) {
            succeed();
            return;
        }
        if (m_upload.offset >= m_size) {
            fail(tr("The agent holds all %1 bytes of %2 but does not call the upload complete.")
                     .arg(m_size).arg(m_name));
            return;
        }
        sendChunk();
        return;
    case AgentJob::Unreachable:
    case AgentJob::Timeout:
    case AgentJob::Conflict:
        retry(job->errorString());
        return;
    default:
        fail(job->errorString());
        return;
    }
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

void PackageUploadJob::onFetched(FetchUploadJob *job)
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
    m_upload = job->upload();
    m_resumedAt.append(m_upload.offset);
    Q_EMIT progress(m_upload.offset, m_size);
    if (m_upload.complete) {
        succeed();
        return;
    }
    sendChunk();
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

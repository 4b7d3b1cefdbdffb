#include "stagejob.h"

#include "jobstore.h"
#include "packagedownload.h"
#include "support/logging.h"
#include "packages/package.h"
#include "packages/vendorpackage.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QJsonDocument>
#include <QSaveFile>
#include <QTimer>
#include <QtConcurrent>

#include <filesystem>
#include <system_error>

#include <spdlog/spdlog.h>

namespace ft::agent {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::agent::StageJob", text); }

// Times one staging continues a download after the connection broke.
constexpr int kMaxResumes = 5;
// How often the job's progress follows the download's byte counter.
constexpr int kProgressMs = 250;

// Result of checking a downloaded .ftpkg against its own manifest (worker thread).
struct PackageCheck
{
    QString error;
    QString component;
    QString version;
};

// A vendor installer: what it says about itself and its format's own integrity check
// (a .deb's md5sums, an RPM's header digests). `name` is the staged file name (the
// partial download has none).
PackageCheck checkVendorPackage(const QString &path, const QString &name, bool contentsChecked)
{
    PackageCheck check;
    // The readers go by extension; a link gives the partial download its real name.
    const QString probe = QFileInfo(path).dir().filePath(QStringLiteral("check-") + name);
    QFile::remove(probe);
    if (!QFile::link(path, probe) && !QFile::copy(path, probe)) {
        check.error = tr("Cannot read the downloaded file.");
        return check;
    }
    const Result intact = contentsChecked ? Result{} : verifyVendorPackage(probe);
    const FileNameFacts fromName = readFileName(name);
    Expected<PackageFacts> facts = identifyVendorPackage(probe, fromName.component.value_or(Component::Server), {});
    QFile::remove(probe);
    if (!intact) {
        check.error = intact.error();
        return check;
    }
    if (facts) {
        check.version = facts->version.toString();
        if (facts->componentSource != tr("chosen by you (the slot you picked it for)"))
            check.component = toString(facts->component);
    }
    return check;
}

PackageCheck checkPackage(const QString &path, bool contentsChecked)
{
    PackageCheck check;
    auto manifest = readPackageManifest(path);
    if (!manifest) {
        check.error = manifest.error();
        return check;
    }
    if (contentsChecked) {
        check.component = toString(manifest->component);
        check.version = manifest->version.toString();
        return check;
    }
    if (auto verified = verifyPackage(path); !verified) {
        check.error = verified.error();
        return check;
    }
    check.component = toString(manifest->component);
    check.version = manifest->version.toString();
    return check;
}

} // namespace

// ---------------------------------------------------------------- StagingArea

QString StagingArea::packagePath(const QString &name) const { return QDir(m_directory).filePath(name); }
QString StagingArea::metaPath(const QString &name) const
{
    return QDir(m_directory).filePath(QStringLiteral(".meta/") + name + QStringLiteral(".json"));
}
QString StagingArea::partialPath(const QString &jobId) const
{
    return QDir(m_directory).filePath(QStringLiteral(".partial/") + jobId);
}

Expected<QJsonObject> StagingArea::staged(const QString &name) const
{
    QFile file(metaPath(name));
    if (!file.open(QIODevice::ReadOnly))
        return makeError(tr("No package named %1 is staged on this node.").arg(name));
    const QJsonObject meta = QJsonDocument::fromJson(file.readAll()).object();
    const QFileInfo info(packagePath(name));
    if (!info.isFile() || info.size() != meta.value(QStringLiteral("size")).toInteger())
        return makeError(tr("The staged package %1 is missing or changed since it was staged; stage it again.")
                             .arg(name));
    return meta;
}

QList<QJsonObject> StagingArea::list() const
{
    QList<QJsonObject> result;
    const QStringList metas = QDir(QDir(m_directory).filePath(QStringLiteral(".meta")))
                                  .entryList({QStringLiteral("*.json")}, QDir::Files, QDir::Name);
    for (const QString &meta : metas) {
        auto entry = staged(meta.chopped(5));
        if (entry)
            result.append(*entry);
    }
    return result;
}

// ---------------------------------------------------------------- StageJob

StageJob::StageJob(JobStore *store, const QString &jobId, const Request &request,
                   const StagingArea &staging, QObject *parent)
    : QObject(parent)
    , m_store(store)
    , m_jobId(jobId)
    , m_request(request)
    , m_staging(staging)
{
    m_progressTimer.setInterval(kProgressMs);
    connect(&m_progressTimer, &QTimer::timeout, this, &StageJob::reportProgress);
}

StageJob::~StageJob()
{
    // Stops the download and joins its thread before the file and hash it uses go.
    m_download.reset();
    if (m_partial.isOpen()) {
        m_partial.close();
        m_partial.remove();
    }
}

void StageJob::start()
{
    QTimer::singleShot(0, this, [this] {
        JobRecord record = *m_store->job(m_jobId);
        record.state = QStringLiteral("running");
        record.phase = QStringLiteral("downloading");
        record.started = QDateTime::currentDateTimeUtc();
        record.phases.append(QJsonObject{{QStringLiteral("phase"), record.phase},
                                         {QStringLiteral("started"), record.started.toString(Qt::ISODateWithMs)}});
        record.bytesTotal = m_request.size;
        (void)m_store->update(record);
        m_store->appendLog(m_jobId, tr("Downloading %1 (%2 bytes) to %3.")
                                        .arg(m_request.url.toDisplayString(QUrl::RemoveUserInfo))
                                        .arg(m_request.size).arg(m_request.name));

        QDir().mkpath(QFileInfo(m_staging.partialPath(m_jobId)).absolutePath());
        QDir().mkpath(QFileInfo(m_staging.metaPath(m_request.name)).absolutePath());
        m_partial.setFileName(m_staging.partialPath(m_jobId));
        if (m_localFile) {
            checkLocalFile();
            return;
        }
        // Unbuffered: a write error (a full disk) shows at the write that met it,
        // with its reason, not later at a flush nobody reads.
        if (!m_partial.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Unbuffered)) {
            fail(tr("Cannot write to the staging folder: %1").arg(m_partial.errorString()));
            return;
        }

        sendRequest();
    });
}

void StageJob::sendRequest()
{
    m_rangeStart = m_received;
    m_sunk = m_received;
    PackageDownload::Options options;
    options.url = m_request.url;
    options.fingerprint = m_request.fingerprint;
    // Another agent's token: never sent anywhere but where the caller pointed us.
    options.token = m_request.token.toUtf8();
    options.rangeStart = m_rangeStart;
    // A source behind a firewall that drops the connection attempt would otherwise hold
    // the job for the whole transfer time-out; a connection is quick or does not come.
    options.connectTimeoutMs = m_request.connectTimeoutMs;
    options.stallSeconds = 60; // no byte for a minute: give up
    // A new download (and connection) per request: one accepted under another pin, or
    // before a break, is never reused.
    m_download = std::make_unique<PackageDownload>(
        options, [this](const char *data, qsizetype size) { return takeBlock(QByteArrayView(data, size)); });
    connect(m_download.get(), &PackageDownload::finished, this, &StageJob::onDownloadFinished);
    m_download->start();
    m_progressTimer.start();
}

void StageJob::checkLocalFile()
{
    // Once taken, later changes to the uploads (another package arriving, this one
    // deleted once staged) must not touch the file while it is being verified.
    if (!m_localFile || m_done || m_tookLocalFile || m_partial.fileName().isEmpty())
        return;
    if (m_cancelled) {
        fail(tr("Cancelled by the caller; the partial download was removed."), QStringLiteral("cancelled"));
        return;
    }
    const Expected<QString> ready = m_localFile();
    if (!ready) {
        fail(ready.error());
        return;
    }
    if (ready->isEmpty()) {
        if (!std::exchange(m_waitLogged, true))
            m_store->appendLog(m_jobId, tr("%1 is this agent's own upload; waiting for its last byte.").arg(m_request.name));
        return;
    }
    // A hard link costs no copy; where there is none (another file system), a copy.
    std::error_code error;
    QFile::remove(m_partial.fileName());
    std::filesystem::create_hard_link(QFile::encodeName(*ready).toStdString(),
                                      QFile::encodeName(m_partial.fileName()).toStdString(), error);
    if (error && !QFile::copy(*ready, m_partial.fileName())) {
        fail(tr("Cannot take %1 from this agent's upload into the staging folder.").arg(m_request.name));
        return;
    }
    m_tookLocalFile = true;
    m_received = QFileInfo(m_partial.fileName()).size();
    m_store->setProgress(m_jobId, 1, m_received, m_request.size);
    if (m_received != m_request.size) {
        fail(tr("The upload of %1 has %2 bytes, not %3.").arg(m_request.name).arg(m_received).arg(m_request.size));
        return;
    }
    m_store->appendLog(m_jobId, tr("Took %1 (%2 bytes) from this agent's own upload; its size and SHA-256 were checked "
                                   "as it arrived.")
                                    .arg(m_request.name)
                                    .arg(m_received));
    verifyPackageFile();
}

bool StageJob::writeAll(QByteArrayView chunk)
{
    // A disk that fills up first accepts part of a write without an error; only the
    // next write fails with ENOSPC and says so. Keep writing until all is written or
    // the file reports why not, so the job's sentence names the cause.
    qint64 written = 0;
    while (written < chunk.size()) {
        const qint64 n = m_partial.write(chunk.data() + written, chunk.size() - written);
        if (n <= 0)
            return false;
        written += n;
    }
    return true;
}

bool StageJob::takeBlock(QByteArrayView chunk)
{
    // On the download's thread: the main thread leaves the file, the hash and these
    // counters alone until the download finished.
    if (m_sunk + chunk.size() > m_request.size) {
        m_failure = tr("The server sent more than the expected %1 bytes.").arg(m_request.size);
        return false;
    }
    if (!writeAll(chunk)) {
        m_failure = tr("Cannot write to the staging folder: %1").arg(m_partial.errorString());
        return false;
    }
    m_hash.addData(chunk);
    m_sunk += chunk.size();
    return true;
}

void StageJob::reportProgress()
{
    if (!m_download || m_done)
        return;
    const qint64 received = m_rangeStart + m_download->bytesReceived();
    m_store->setProgress(m_jobId, m_request.size > 0 ? double(received) / double(m_request.size) : 0, received,
                         m_request.size);
}

void StageJob::onDownloadFinished()
{
    if (m_done || !m_download)
        return;
    m_progressTimer.stop();
    // Its thread has ended; the object goes once this signal is handled.
    PackageDownload *download = m_download.release();
    download->setParent(this);
    download->deleteLater();
    m_received = m_sunk;
    m_partial.close();
    m_store->setProgress(m_jobId, m_request.size > 0 ? double(m_received) / double(m_request.size) : 0,
                         m_received, m_request.size);

    const QUrl &url = m_request.url;
    const int port = url.port(url.scheme().compare(QLatin1String("https"), Qt::CaseInsensitive) == 0 ? 443 : 80);
    const int status = download->httpStatus();
    if (m_cancelled) {
        fail(tr("Cancelled by the caller; the partial download was removed."), QStringLiteral("cancelled"));
        return;
    }
    using Outcome = PackageDownload::Outcome;
    switch (download->outcome()) {
    case Outcome::Cancelled:
        fail(tr("Cancelled by the caller; the partial download was removed."), QStringLiteral("cancelled"));
        return;
    case Outcome::SinkStopped:
        fail(m_failure);
        return;
    case Outcome::PinMismatch:
        fail(tr("The server's certificate (SHA-256 %1) is not the pinned one.")
                 .arg(QString::fromLatin1(download->peerDigest())));
        return;
    case Outcome::RangeIgnored:
        fail(tr("The download failed after %1 of %2 bytes (%3), and the server did not continue it "
                "at that byte (no Range support).")
                 .arg(m_rangeStart).arg(m_request.size).arg(m_breakReason));
        return;
    case Outcome::ConnectTimedOut:
        fail(tr("Nothing answered at %1:%2 within %3 s (no connection could be made to the package's source).")
                 .arg(url.host()).arg(port).arg(m_request.connectTimeoutMs / 1000.0));
        return;
    case Outcome::TransferFailed: {
        const bool broken = status == 0 || status == 200 || status == 206;
        if (broken && m_received > 0 && m_received < m_request.size && m_resumes < kMaxResumes) {
            // A dropped connection costs only the bytes still missing.
            ++m_resumes;
            m_breakReason = download->errorString();
            m_store->appendLog(m_jobId, tr("The connection broke after %1 of %2 bytes (%3); continuing from byte %1.")
                                            .arg(m_received).arg(m_request.size).arg(download->errorString()));
            if (!m_partial.open(QIODevice::WriteOnly | QIODevice::Append | QIODevice::Unbuffered)) {
                fail(tr("Cannot write to the staging folder: %1").arg(m_partial.errorString()));
                return;
            }
            sendRequest();
            return;
        }
        // The address is what the administrator can act on (a route, a firewall, NAT).
        fail(tr("The download from %1:%2 failed after %3 of %4 bytes: %5")
                 .arg(url.host()).arg(port).arg(m_received).arg(m_request.size).arg(download->errorString()));
        return;
    }
    case Outcome::Completed:
        break;
    }
    if (status != (m_rangeStart > 0 ? 206 : 200)) {
        fail(tr("The server answered HTTP %1 %2.").arg(status).arg(download->reasonPhrase()));
        return;
    }
    if (m_received != m_request.size) {
        fail(tr("The download is short: %1 of %2 bytes arrived.").arg(m_received).arg(m_request.size));
        return;
    }
    const QByteArray sha = m_hash.hexResult();
    if (sha != m_request.sha256) {
        fail(tr("The downloaded file is corrupt: its SHA-256 is %1, expected %2.")
                 .arg(QString::fromLatin1(sha), QString::fromLatin1(m_request.sha256)));
        return;
    }
    m_store->appendLog(m_jobId, tr("Received %1 bytes; size and SHA-256 match.").arg(m_received));
    verifyPackageFile();
}

void StageJob::verifyPackageFile()
{
    QJsonObject meta{{QStringLiteral("name"), m_request.name},
                     {QStringLiteral("size"), m_request.size},
                     {QStringLiteral("sha256"), QString::fromLatin1(m_request.sha256)},
                     {QStringLiteral("url"), m_request.url.toString(QUrl::RemoveUserInfo)},
                     {QStringLiteral("component"), QJsonValue(QJsonValue::Null)},
                     {QStringLiteral("version"), QJsonValue(QJsonValue::Null)}};
    const std::optional<PackageFormat> format = packageFormatOf(m_request.name);
    const bool vendor = !format || *format != PackageFormat::FtPkg;
    if (format)
        meta.insert(QStringLiteral("format"), toString(*format));
    JobRecord record = *m_store->job(m_jobId);
    record.phase = QStringLiteral("verifying");
    record.phases.append(QJsonObject{{QStringLiteral("phase"), record.phase},
                                     {QStringLiteral("started"),
                                      QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs)}});
    (void)m_store->update(record);
    auto *watcher = new QFutureWatcher<PackageCheck>(this);
    connect(watcher, &QFutureWatcher<PackageCheck>::finished, this, [this, watcher, meta, vendor]() mutable {
        watcher->deleteLater();
        if (m_done)
            return;
        const PackageCheck check = watcher->result();
        if (!check.error.isEmpty()) {
            fail(tr("The package does not match its own manifest: %1").arg(check.error));
            return;
        }
        if (!check.component.isEmpty())
            meta.insert(QStringLiteral("component"), check.component);
        if (!check.version.isEmpty())
            meta.insert(QStringLiteral("version"), check.version);
        if (m_request.contentsChecked) {
            m_store->appendLog(m_jobId, tr("The caller checked the package's own %1 over exactly these bytes (the "
                                           "SHA-256 matches), so they were not read a second time%2.")
                                            .arg(vendor ? tr("digests") : tr("manifest"),
                                                 check.version.isEmpty() ? QString()
                                                                         : tr("; it is version %1").arg(check.version)));
        } else if (vendor) {
            m_store->appendLog(m_jobId, check.version.isEmpty()
                                            ? tr("The installer is intact as far as its format tells; it does not "
                                                 "name its version.")
                                            : tr("The installer is intact as far as its format tells: version %1.")
                                                  .arg(check.version));
        } else {
            m_store->appendLog(m_jobId, tr("The package is intact: %1 version %2.").arg(check.component, check.version));
        }
        succeed(meta);
    });
    // Also when the whole file's SHA-256 matched, unless the caller says it checked these
    // very bytes: that SHA-256 may be of a package that broke before it was hashed, and
    // the node is where that must be caught, before any service is stopped.
    if (vendor)
        watcher->setFuture(QtConcurrent::run(checkVendorPackage, m_partial.fileName(), m_request.name,
                                             m_request.contentsChecked));
    else
        watcher->setFuture(QtConcurrent::run(checkPackage, m_partial.fileName(), m_request.contentsChecked));
}

void StageJob::succeed(const QJsonObject &metaIn)
{
    QJsonObject meta = metaIn;
    meta.insert(QStringLiteral("staged"), QDateTime::currentDateTimeUtc().toString(Qt::ISODate));
    const QString target = m_staging.packagePath(m_request.name);
    // Replace an older copy only once the new one is complete and verified.
    QFile::remove(m_staging.metaPath(m_request.name));
    QFile::remove(target);
    if (!QFile::rename(m_partial.fileName(), target)) {
        fail(tr("Cannot move the package into the staging folder."));
        return;
    }
    QSaveFile metaFile(m_staging.metaPath(m_request.name));
    if (!metaFile.open(QIODevice::WriteOnly)
        || metaFile.write(QJsonDocument(meta).toJson()) < 0 || !metaFile.commit()) {
        fail(tr("Cannot record the staged package: %1").arg(metaFile.errorString()));
        return;
    }
    m_done = true;
    JobRecord record = *m_store->job(m_jobId);
    record.state = QStringLiteral("succeeded");
    record.phase = QStringLiteral("done");
    record.progress = 1;
    record.bytesDone = m_received;
    record.finished = QDateTime::currentDateTimeUtc();
    m_store->appendLog(m_jobId, tr("Staged %1.").arg(m_request.name));
    (void)m_store->update(record);
    logging::logger()->info("Staged {} ({} bytes)", m_request.name.toStdString(), m_received);
    Q_EMIT finished(this);
}

void StageJob::fail(const QString &error, const QString &state)
{
    if (m_done)
        return;
    m_done = true;
    m_progressTimer.stop();
    m_download.reset(); // stops it and joins its thread before the file goes
    m_partial.close();
    QFile::remove(m_staging.partialPath(m_jobId));
    JobRecord record = *m_store->job(m_jobId);
    record.state = state;
    record.error = error;
    record.bytesDone = m_received;
    record.finished = QDateTime::currentDateTimeUtc();
    m_store->appendLog(m_jobId, error);
    (void)m_store->update(record);
    logging::logger()->warn("Staging {} {}: {}", m_request.name.toStdString(), state.toStdString(),
                            error.toStdString());
    Q_EMIT finished(this);
}

void StageJob::cancel()
{
    if (m_done)
        return;
    m_cancelled = true;
    if (m_download) {
        m_download->cancel(); // finished() follows within a fraction of a second, which reports the cancel
        return;
    }
    // Queued, or verifying on a worker thread: report now, the result is ignored later.
    QTimer::singleShot(0, this, [this] {
        fail(tr("Cancelled by the caller; the partial download was removed."), QStringLiteral("cancelled"));
    });
}

} // namespace ft::agent

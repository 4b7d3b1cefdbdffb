#pragma once

#include "model/expected.h"
#include "fasthash.h"

#include <QByteArray>
#include <QFile>
#include <QJsonObject>
#include <QObject>
#include <QString>
#include <QTimer>
#include <QUrl>

#include <functional>
#include <memory>

namespace ft::agent {

class PackageDownload;

class JobStore;

// The staging folder: packages by plain file name, with what was verified about each
// in .meta/<name>.json and downloads in progress in .partial/.
class StagingArea
{
public:
    explicit StagingArea(const QString &directory) : m_directory(directory) {}

    QString directory() const { return m_directory; }
    QString packagePath(const QString &name) const;
    QString metaPath(const QString &name) const;
    QString partialPath(const QString &jobId) const;

    // The recorded facts of a staged package, or an error when it is not staged (or its
    // file no longer has the recorded size).
    Expected<QJsonObject> staged(const QString &name) const;
    QList<QJsonObject> list() const;

private:
    QString m_directory;
};

// Downloads one package into the staging folder: streamed to a partial file and hashed
// as the bytes arrive (never held in memory), checked for size and SHA-256 (and, for a
// .ftpkg, its own manifest), then renamed into place. Job pattern: start(), finished()
// once. Its state lives in the JobStore under jobId. The download itself (libcurl) and
// the writing and hashing of its bytes run on a thread of their own (PackageDownload).
class StageJob : public QObject
{
    Q_OBJECT

public:
    struct Request
    {
        QUrl url;
        QByteArray sha256; // lower-case hex
        qint64 size = 0;
        QString name;
        QByteArray fingerprint; // lower-case hex; empty: normal certificate checks
        QString token;          // bearer token for the source (another agent); never logged or stored
        // From asking for a connection until the request is on it (TCP and TLS done): a
        // source nobody can reach fails after this, not after the transfer time-out.
        int connectTimeoutMs = 10000;
        // The caller checked the package's own manifest or digests over exactly the bytes
        // with this SHA-256 (the wizard does, on its workstation, before any node stages):
        // once size and SHA-256 match, only the package's facts are read, not every byte
        // a second time.
        bool contentsChecked = false;
    };

    StageJob(JobStore *store, const QString &jobId, const Request &request, const StagingArea &staging,
             QObject *parent = nullptr);
    ~StageJob() override;

    QString jobId() const { return m_jobId; }
    QString packageName() const { return m_request.name; }

    // The package is this agent's own upload (the portal's agent staging what the wizard
    // uploaded to it): instead of downloading it from itself, the job takes the upload's
    // file once it is complete, its SHA-256 checked as it arrived. `ready` gives that
    // file's path, "" while it is still arriving, or an error when it is gone. Set
    // before start(); call checkLocalFile() whenever the upload may have changed.
    using LocalFile = std::function<Expected<QString>()>;
    void setLocalFile(const LocalFile &ready) { m_localFile = ready; }
    void checkLocalFile();

    void start();
    // Stops the download and removes the partial file; finished() follows.
    void cancel();

Q_SIGNALS:
    void finished(StageJob *job);

private:
    void sendRequest();
    // On the download's thread: one block of the body to the file and the hash.
    bool takeBlock(QByteArrayView chunk);
    bool writeAll(QByteArrayView chunk);
    void reportProgress();
    void onDownloadFinished();
    void verifyPackageFile();
    void succeed(const QJsonObject &meta);
    void fail(const QString &error, const QString &state = QStringLiteral("failed"));

    JobStore *m_store;
    QString m_jobId;
    Request m_request;
    StagingArea m_staging;
    QFile m_partial;
    Sha256 m_hash;
    qint64 m_received = 0;   // main thread: bytes in the partial file as of the last report
    qint64 m_rangeStart = 0; // the current request asked for bytes from here on
    QString m_breakReason;   // why the last connection broke
    int m_resumes = 0;       // times a broken download was continued with a Range request
    QString m_failure;       // why the sink stopped the download (written on its thread)
    qint64 m_sunk = 0;       // download's thread: bytes written to the partial file
    QTimer m_progressTimer;  // reads the download's byte counter now and then
    LocalFile m_localFile;   // set: the package is this agent's own upload
    bool m_tookLocalFile = false; // the upload is linked into the staging folder
    bool m_waitLogged = false;
    bool m_cancelled = false;
    bool m_done = false;
    // The current request. Its thread writes m_partial, m_hash, m_sunk and m_failure
    // until it finished; declared last, so it is destroyed (and its thread joined) first.
    std::unique_ptr<PackageDownload> m_download;
};

} // namespace ft::agent

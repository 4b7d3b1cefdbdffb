#pragma once

#include "model/expected.h"
#include "fasthash.h"

#include <QByteArray>
#include <QCryptographicHash>
#include <QFile>
#include <QJsonObject>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QTimer>
#include <QUrl>

#include <functional>

class QNetworkAccessManager;
class QNetworkReply;

namespace ft::agent {

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
// once. Its state lives in the JobStore under jobId.
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
             QNetworkAccessManager *network, QObject *parent = nullptr);
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
    void onReadyRead();
    bool writeAll(QByteArrayView chunk);
    void onDownloadFinished();
    void verifyPackageFile();
    void succeed(const QJsonObject &meta);
    void fail(const QString &error, const QString &state = QStringLiteral("failed"));

    JobStore *m_store;
    QString m_jobId;
    Request m_request;
    StagingArea m_staging;
    QNetworkAccessManager *m_network;
    QPointer<QNetworkReply> m_reply;
    QFile m_partial;
    Sha256 m_hash;
    QByteArray m_block; // reused for every read: no allocation per chunk
    qint64 m_received = 0;
    qint64 m_rangeStart = 0; // the current request asked for bytes from here on
    QString m_breakReason;   // why the last connection broke
    int m_resumes = 0;       // times a broken download was continued with a Range request
    QString m_failure;   // set when we abort the reply ourselves
    QTimer m_connectTimer;   // runs until the current request was sent
    LocalFile m_localFile;   // set: the package is this agent's own upload
    bool m_tookLocalFile = false; // the upload is linked into the staging folder
    bool m_waitLogged = false;
    bool m_cancelled = false;
    bool m_done = false;
};

} // namespace ft::agent

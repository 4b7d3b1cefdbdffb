#pragma once

#include "model/expected.h"
#include "packages/filemanifest.h"

#include <QByteArray>
#include <QDateTime>
#include <QList>
#include <QObject>
#include <QString>

namespace ft {

// One customized Web UI file to keep for reference. Its content comes from `content`,
// or, when `sourceFile` is set, is streamed from that local file (a copy fetched from
// the node). A Deleted file has no content; the README lists it.
struct BackupFile
{
    QString path; // relative to the Web UI root, '/' separators
    FileManifest::Change::Kind kind = FileManifest::Change::Modified;
    QByteArray content;
    QString sourceFile;
};

// What the README inside the archive says about the files.
struct BackupInfo
{
    QString node; // the portal the files came from
    QString webUiVersion; // the Web UI version they were customized against
    QString targetVersion; // the version about to replace them (optional)
    QDateTime createdAt; // invalid: now
    bool overwrite = false; // replace an existing archive instead of refusing
};

// Writes a reference copy of customized Web UI files: a .zip, or a .tar.gz / .tgz,
// chosen by the archive's extension. Files keep their relative paths; README.txt
// (README-reference-backup.txt when a customized file already has that name) says
// where they came from, each one's change, size and SHA-256, and that they are for
// reference only and must not be copied back over the new Web UI.
// The archive is written to a temporary file and renamed into place, so a failure
// leaves no partial archive; an existing archive is kept unless info.overwrite.
// Blocking disk work: from a GUI, use ReferenceBackupJob.
Result writeReferenceBackup(const QString &archivePath, const QList<BackupFile> &files,
                            const BackupInfo &info);

// writeReferenceBackup() on a worker thread. start(), then finished() exactly once,
// never from inside start(); error() is empty on success.
class ReferenceBackupJob : public QObject
{
    Q_OBJECT

public:
    ReferenceBackupJob(QString archivePath, QList<BackupFile> files, BackupInfo info,
                       QObject *parent = nullptr);
    ~ReferenceBackupJob() override;

    void start();
    QString archivePath() const { return m_archivePath; }
    QString error() const { return m_error; }

Q_SIGNALS:
    void finished(ft::ReferenceBackupJob *job);

private:
    QString m_archivePath;
    QList<BackupFile> m_files;
    BackupInfo m_info;
    QString m_error;
    bool m_started = false;
};

} // namespace ft

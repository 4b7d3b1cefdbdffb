#include "guard/referencebackup.h"

#include <archive.h>
#include <archive_entry.h>

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QSaveFile>
#include <QSet>
#include <QtConcurrent/QtConcurrentRun>

#include <memory>
#include <optional>

namespace ft {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("ft::ReferenceBackup", text);
}

enum class ArchiveFormat { Zip, TarGz };

std::optional<ArchiveFormat> formatFor(const QString &archivePath)
{
    const QString name = QFileInfo(archivePath).fileName().toLower();
    if (name.endsWith(QLatin1String(".zip")))
        return ArchiveFormat::Zip;
    if (name.endsWith(QLatin1String(".tar.gz")) || name.endsWith(QLatin1String(".tgz")))
        return ArchiveFormat::TarGz;
    return std::nullopt;
}

// A path inside the archive must stay inside it: relative, no "." or ".." segments.
bool isSafeRelativePath(const QString &path)
{
    if (path.isEmpty() || path.startsWith(QLatin1Char('/')) || path.contains(QLatin1Char('\\'))
        || path.contains(QChar(0)) || (path.size() > 1 && path.at(1) == QLatin1Char(':')))
        return false;
    const QStringList segments = path.split(QLatin1Char('/'));
    for (const QString &segment : segments) {
        if (segment.isEmpty() || segment == QLatin1String(".") || segment == QLatin1String(".."))
            return false;
    }
    return true;
}

QString kindName(FileManifest::Change::Kind kind)
{
    switch (kind) {
    case FileManifest::Change::Modified:
        return QStringLiteral("modified");
    case FileManifest::Change::Added:
        return QStringLiteral("added");
    case FileManifest::Change::Deleted:
        return QStringLiteral("deleted");
    }
    return {};
}

struct Written
{
    QString path;
    FileManifest::Change::Kind kind;
    qint64 size = -1;
    QByteArray sha256;
};

// libarchive writes through these callbacks into the QSaveFile, so the archive lands
// atomically where the administrator chose.
la_ssize_t writeCallback(struct archive *archive, void *clientData, const void *buffer,
                         size_t length)
{
    auto *file = static_cast<QSaveFile *>(clientData);
    const qint64 written = file->write(static_cast<const char *>(buffer), qint64(length));
    if (written != qint64(length)) {
        archive_set_error(archive, EIO, "%s", file->errorString().toUtf8().constData());
        return -1;
    }
    return la_ssize_t(written);
}

struct ArchiveDeleter
{
    void operator()(struct archive *archive) const { archive_write_free(archive); }
};
using ArchivePtr = std::unique_ptr<struct archive, ArchiveDeleter>;

struct EntryDeleter
{
    void operator()(struct archive_entry *entry) const { archive_entry_free(entry); }
};
using EntryPtr = std::unique_ptr<struct archive_entry, EntryDeleter>;

class ArchiveWriter
{
public:
    ArchiveWriter(QSaveFile &file, ArchiveFormat format, const QDateTime &mtime)
        : m_archive(archive_write_new())
        , m_mtime(mtime.toSecsSinceEpoch())
    {
        struct archive *a = m_archive.get();
        if (format == ArchiveFormat::Zip) {
            m_ok = archive_write_set_format_zip(a) == ARCHIVE_OK
                    && archive_write_set_options(a, "zip:hdrcharset=UTF-8") == ARCHIVE_OK;
        } else {
            m_ok = archive_write_set_format_pax_restricted(a) == ARCHIVE_OK
                    && archive_write_add_filter_gzip(a) == ARCHIVE_OK;
        }
        m_ok = m_ok
                && archive_write_open2(a, &file, nullptr, writeCallback, nullptr, nullptr)
                        == ARCHIVE_OK;
    }

    bool ok() const { return m_ok; }
    QString errorString() const
    {
        const char *message = archive_error_string(m_archive.get());
        return message ? QString::fromUtf8(message) : tr("unknown archive error");
    }

    bool beginFile(const QString &path, qint64 size)
    {
        EntryPtr entry(archive_entry_new());
        const QByteArray utf8 = path.toUtf8();
        archive_entry_set_pathname_utf8(entry.get(), utf8.constData());
        archive_entry_set_filetype(entry.get(), AE_IFREG);
        archive_entry_set_perm(entry.get(), 0644);
        archive_entry_set_size(entry.get(), size);
        archive_entry_set_mtime(entry.get(), m_mtime, 0);
        return archive_write_header(m_archive.get(), entry.get()) == ARCHIVE_OK;
    }

    bool writeData(const char *data, qint64 size)
    {
        while (size > 0) {
            const la_ssize_t n = archive_write_data(m_archive.get(), data, size_t(size));
            if (n <= 0)
                return false;
            data += n;
            size -= n;
        }
        return true;
    }

    bool close() { return archive_write_close(m_archive.get()) == ARCHIVE_OK; }

private:
    ArchivePtr m_archive;
    time_t m_mtime;
    bool m_ok = false;
};

QString readmeText(const QList<Written> &written, const BackupInfo &info, const QDateTime &when)
{
    QStringList lines;
    lines << tr("FlowTraq Web UI customizations - reference copy")
          << QStringLiteral("===============================================") << QString();
    lines << tr("Node:            %1").arg(info.node.isEmpty() ? tr("(not given)") : info.node);
    lines << tr("Web UI version:  %1")
                     .arg(info.webUiVersion.isEmpty() ? tr("(not given)") : info.webUiVersion);
    if (!info.targetVersion.isEmpty())
        lines << tr("Upgrading to:    %1").arg(info.targetVersion);
    lines << tr("Saved:           %1").arg(when.toUTC().toString(Qt::ISODate)) << QString();
    lines << tr("FOR REFERENCE ONLY. These files are the changes made on this node to the")
          << tr("files of the FlowTraq Web UI. Upgrading the Web UI replaces every one of its")
          << tr("files, so these changes are lost. Do NOT copy these files back over the new")
          << tr("Web UI: the new version may have changed around them, and an old file can")
          << tr("break it. Compare each file with its new version and re-apply the changes by")
          << tr("hand where they still make sense.") << QString();
    lines << tr("Changes:") << tr("  modified  the file differs from the Web UI as it was shipped")
          << tr("  added     the file is not part of the Web UI as it was shipped")
          << tr("  deleted   the shipped file was removed; nothing of it is in this archive")
          << QString();
    lines << tr("Files (change, size in bytes, SHA-256, path):") << QString();
    for (const Written &file : written) {
        const QString size = file.size >= 0 ? QString::number(file.size) : QStringLiteral("-");
        const QString hash
                = file.sha256.isEmpty() ? QStringLiteral("-") : QString::fromLatin1(file.sha256);
        lines << QStringLiteral("  %1  %2  %3  %4")
                         .arg(kindName(file.kind), -8)
                         .arg(size, 10)
                         .arg(hash, -64)
                         .arg(file.path);
    }
    lines << QString();
    return lines.join(QStringLiteral("\r\n"));
}

} // namespace

Result writeReferenceBackup(const QString &archivePath, const QList<BackupFile> &files,
                            const BackupInfo &info)
{
    const auto format = formatFor(archivePath);
    if (!format) {
        return makeError(tr("Cannot write the reference backup %1: the name must end in .zip, "
                            ".tar.gz or .tgz.")
                                 .arg(archivePath));
    }
    const QFileInfo target(archivePath);
    if (target.isDir())
        return makeError(
                tr("Cannot write the reference backup %1: it is a folder.").arg(archivePath));
    if (target.exists() && !info.overwrite) {
        return makeError(tr("The reference backup %1 already exists. Choose another name, or "
                            "allow replacing it.")
                                 .arg(archivePath));
    }
    if (!target.absoluteDir().exists()) {
        return makeError(tr("Cannot write the reference backup %1: the folder %2 does not exist.")
                                 .arg(archivePath, target.absolutePath()));
    }

    QSet<QString> seen;
    bool readmeTaken = false;
    for (const BackupFile &file : files) {
        if (!isSafeRelativePath(file.path)) {
            return makeError(tr("Cannot back up \"%1\": a file's path must be relative to the "
                                "Web UI folder, with '/' separators and no \".\" or \"..\".")
                                     .arg(file.path));
        }
        if (seen.contains(file.path))
            return makeError(tr("Cannot back up \"%1\": it is listed twice.").arg(file.path));
        seen.insert(file.path);
        readmeTaken = readmeTaken
                || file.path.compare(QLatin1String("README.txt"), Qt::CaseInsensitive) == 0;
    }
    const QString readmeName = readmeTaken ? QStringLiteral("README-reference-backup.txt")
                                           : QStringLiteral("README.txt");
    if (seen.contains(readmeName))
        return makeError(
                tr("Cannot back up \"%1\": the archive's README needs that name.").arg(readmeName));

    const QDateTime when
            = info.createdAt.isValid() ? info.createdAt : QDateTime::currentDateTimeUtc();
    QSaveFile out(archivePath);
    if (!out.open(QIODevice::WriteOnly)) {
        return makeError(
                tr("Cannot write the reference backup %1: %2").arg(archivePath, out.errorString()));
    }
    const auto failed = [&](const QString &why) {
        out.cancelWriting();
        return makeError(tr("Cannot write the reference backup %1: %2").arg(archivePath, why));
    };

    ArchiveWriter writer(out, *format, when);
    if (!writer.ok())
        return failed(writer.errorString());

    QList<Written> written;
    for (const BackupFile &file : files) {
        Written record{file.path, file.kind, -1, {}};
        if (file.kind == FileManifest::Change::Deleted) {
            written.append(record);
            continue;
        }
        QCryptographicHash hash(QCryptographicHash::Sha256);
        if (file.sourceFile.isEmpty()) {
            record.size = file.content.size();
            hash.addData(file.content);
            if (!writer.beginFile(file.path, record.size)
                || !writer.writeData(file.content.constData(), record.size)) {
                return failed(writer.errorString());
            }
        } else {
            QFile source(file.sourceFile);
            if (!source.open(QIODevice::ReadOnly)) {
                return failed(tr("cannot read %1 (the copy of %2): %3")
                                      .arg(file.sourceFile, file.path, source.errorString()));
            }
            record.size = source.size();
            if (!writer.beginFile(file.path, record.size))
                return failed(writer.errorString());
            QByteArray block(1 << 20, Qt::Uninitialized);
            qint64 total = 0;
            while (true) {
                const qint64 n = source.read(block.data(), block.size());
                if (n < 0) {
                    return failed(tr("cannot read %1 (the copy of %2): %3")
                                          .arg(file.sourceFile, file.path, source.errorString()));
                }
                if (n == 0)
                    break;
                total += n;
                if (total > record.size) {
                    return failed(tr("%1 (the copy of %2) grew while it was being archived.")
                                          .arg(file.sourceFile, file.path));
                }
                hash.addData(QByteArrayView(block.constData(), n));
                if (!writer.writeData(block.constData(), n))
                    return failed(writer.errorString());
            }
            if (total != record.size) {
                return failed(tr("%1 (the copy of %2) shrank while it was being archived.")
                                      .arg(file.sourceFile, file.path));
            }
        }
        record.sha256 = hash.result().toHex();
        written.append(record);
    }

    const QByteArray readme = readmeText(written, info, when).toUtf8();
    if (!writer.beginFile(readmeName, readme.size())
        || !writer.writeData(readme.constData(), readme.size()) || !writer.close()) {
        return failed(writer.errorString());
    }
    // A file that appeared meanwhile is not replaced behind the administrator's back.
    if (!info.overwrite && QFileInfo::exists(archivePath)) {
        out.cancelWriting();
        return makeError(tr("The reference backup %1 already exists. Choose another name, or "
                            "allow replacing it.")
                                 .arg(archivePath));
    }
    if (!out.commit())
        return makeError(
                tr("Cannot write the reference backup %1: %2").arg(archivePath, out.errorString()));
    return {};
}

ReferenceBackupJob::ReferenceBackupJob(QString archivePath, QList<BackupFile> files,
                                       BackupInfo info, QObject *parent)
    : QObject(parent)
    , m_archivePath(std::move(archivePath))
    , m_files(std::move(files))
    , m_info(std::move(info))
{ }

ReferenceBackupJob::~ReferenceBackupJob() = default;

void ReferenceBackupJob::start()
{
    if (m_started)
        return;
    m_started = true;
    auto *watcher = new QFutureWatcher<Result>(this);
    connect(watcher, &QFutureWatcher<Result>::finished, this, [this, watcher] {
        const Result result = watcher->result();
        m_error = result ? QString() : result.error();
        watcher->deleteLater();
        Q_EMIT finished(this);
    });
    watcher->setFuture(QtConcurrent::run([path = m_archivePath, files = m_files, info = m_info] {
        return writeReferenceBackup(path, files, info);
    }));
}

} // namespace ft

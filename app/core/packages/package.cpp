#include "packages/package.h"

#include "packages/filemanifest.h"
#include "packages/sha256.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSet>

#include <archive.h>
#include <archive_entry.h>

#include <cerrno>
#include <functional>
#include <memory>

namespace ft {

namespace {

constexpr qint64 blockSize = 1024 * 1024;
constexpr qint64 maxMetadataSize = 64 * 1024 * 1024; // package.json / SHA256SUMS
const QString manifestEntryName = QStringLiteral("package.json");
const QString sumsEntryName = QStringLiteral("SHA256SUMS");
const QString payloadPrefix = QStringLiteral("payload/");

QString tr(const char *text)
{
    return QCoreApplication::translate("ft", text);
}

QString archiveError(archive *a)
{
    const char *text = archive_error_string(a);
    return text ? QString::fromLocal8Bit(text) : tr("unknown archive error");
}

// Reading side of libarchive, one entry at a time, never more than a block in memory.
class ArchiveReader
{
public:
    ArchiveReader() : m_archive(archive_read_new()) {}
    ~ArchiveReader() { archive_read_free(m_archive); }
    ArchiveReader(const ArchiveReader &) = delete;
    ArchiveReader &operator=(const ArchiveReader &) = delete;

    Result open(const QString &path)
    {
        m_path = path;
        if (!QFileInfo(path).isFile())
            return makeError(tr("The package %1 does not exist.").arg(path));
        archive_read_support_format_tar(m_archive);
        archive_read_support_filter_all(m_archive);
        if (archive_read_open_filename(m_archive, QFile::encodeName(path).constData(), blockSize)
            != ARCHIVE_OK) {
            return makeError(tr("Could not open the package %1: %2.").arg(path, archiveError(m_archive)));
        }
        return {};
    }

    // Like open(), but every byte libarchive reads also goes into `wholeFile`, in order
    // (no skip or seek callback, so it reads straight through): after readRest(), that is
    // the SHA-256 of exactly the bytes that were checked.
    Result openHashing(const QString &path, Sha256 *wholeFile)
    {
        m_path = path;
        m_source = std::make_unique<HashingSource>();
        m_source->hash = wholeFile;
        m_source->file.setFileName(path);
        if (!QFileInfo(path).isFile() || !m_source->file.open(QIODevice::ReadOnly | QIODevice::Unbuffered))
            return makeError(tr("The package %1 does not exist.").arg(path));
        m_source->block.resize(blockSize);
        archive_read_support_format_tar(m_archive);
        archive_read_support_filter_all(m_archive);
        if (archive_read_open(m_archive, m_source.get(), nullptr, &HashingSource::read, nullptr) != ARCHIVE_OK)
            return makeError(tr("Could not open the package %1: %2.").arg(path, archiveError(m_archive)));
        return {};
    }

    // After the archive's end: the bytes libarchive did not need (padding, anything
    // appended) go into the hash too.
    Result readRest()
    {
        if (!m_source)
            return {};
        for (;;) {
            const qint64 got = m_source->file.read(m_source->block.data(), m_source->block.size());
            if (got < 0)
                return makeError(tr("Could not read the package %1: %2.").arg(m_path, m_source->file.errorString()));
            if (got == 0)
                return {};
            m_source->hash->addData(m_source->block.constData(), got);
        }
    }

    // Next header; false at the end. Errors land in error.
    bool next(QString *error)
    {
        const int status = archive_read_next_header(m_archive, &m_entry);
        if (status == ARCHIVE_EOF)
            return false;
        if (status < ARCHIVE_WARN) {
            *error = tr("The package %1 is not a readable install package: %2.")
                         .arg(m_path, archiveError(m_archive));
            return false;
        }
        return true;
    }

    QString name() const
    {
        const char *utf8 = archive_entry_pathname_utf8(m_entry);
        if (utf8)
            return QString::fromUtf8(utf8);
        const char *raw = archive_entry_pathname(m_entry);
        return raw ? QString::fromLocal8Bit(raw) : QString();
    }
    bool isRegularFile() const { return archive_entry_filetype(m_entry) == AE_IFREG; }
    bool isDirectory() const { return archive_entry_filetype(m_entry) == AE_IFDIR; }
    qint64 size() const { return archive_entry_size(m_entry); }
    int permissions() const { return int(archive_entry_perm(m_entry)); }

    // Streams the current entry's data to sink in blocks; returns the byte count.
    Expected<qint64> stream(const std::function<bool(const char *, qint64)> &sink)
    {
        QByteArray block(blockSize, Qt::Uninitialized);
        qint64 total = 0;
        for (;;) {
            const la_ssize_t got = archive_read_data(m_archive, block.data(), size_t(block.size()));
            if (got < 0) {
                return makeError(tr("Could not read %1 from the package %2: %3.")
                                     .arg(name(), m_path, archiveError(m_archive)));
            }
            if (got == 0)
                return total;
            total += got;
            if (!sink(block.constData(), got))
                return makeError(tr("Could not store %1 from the package %2.").arg(name(), m_path));
        }
    }

    Expected<QByteArray> readSmall(qint64 maxBytes)
    {
        if (size() > maxBytes) {
            return makeError(tr("The entry %1 of the package %2 is larger than %3 bytes.")
                                 .arg(name(), m_path)
                                 .arg(maxBytes));
        }
        QByteArray data;
        const Expected<qint64> got = stream([&](const char *bytes, qint64 count) {
            if (data.size() + count > maxBytes)
                return false;
            data.append(bytes, count);
            return true;
        });
        if (!got)
            return makeError(got.error());
        return data;
    }

    Expected<PackageManifest> readManifestEntry()
    {
        QString error;
        if (!next(&error))
            return makeError(error.isEmpty() ? tr("The package %1 is empty.").arg(m_path) : error);
        if (name() != manifestEntryName || !isRegularFile()) {
            return makeError(tr("The package %1 does not start with package.json; it is not a "
                                "FlowTraq install package.")
                                 .arg(m_path));
        }
        const Expected<QByteArray> data = readSmall(maxMetadataSize);
        if (!data)
            return makeError(data.error());
        QJsonParseError parseError;
        const QJsonDocument document = QJsonDocument::fromJson(*data, &parseError);
        if (parseError.error != QJsonParseError::NoError || !document.isObject()) {
            return makeError(tr("The package.json of %1 is not valid JSON: %2.")
                                 .arg(m_path, parseError.errorString()));
        }
        Expected<PackageManifest> manifest = PackageManifest::fromJson(document.object());
        if (!manifest)
            return makeError(tr("The package.json of %1 is not usable: %2").arg(m_path, manifest.error()));
        return manifest;
    }

    const QString &path() const { return m_path; }

private:
    struct HashingSource
    {
        QFile file;
        QByteArray block;
        Sha256 *hash = nullptr;

        static la_ssize_t read(archive *a, void *self, const void **buffer)
        {
            auto *source = static_cast<HashingSource *>(self);
            const qint64 got = source->file.read(source->block.data(), source->block.size());
            if (got < 0) {
                archive_set_error(a, EIO, "%s", qPrintable(source->file.errorString()));
                return -1;
            }
            source->hash->addData(source->block.constData(), got);
            *buffer = source->block.constData();
            return la_ssize_t(got);
        }
    };

    archive *m_archive;
    archive_entry *m_entry = nullptr;
    QString m_path;
    std::unique_ptr<HashingSource> m_source; // set by openHashing()
};

Expected<QString> payloadPath(const ArchiveReader &reader)
{
    const QString relative = reader.name().mid(payloadPrefix.size());
    if (!isSafeRelativePath(relative)) {
        return makeError(tr("The package %1 holds the unsafe path \"%2\"; it was refused.")
                             .arg(reader.path(), reader.name()));
    }
    if (!reader.isRegularFile()) {
        return makeError(tr("The package %1 holds \"%2\", which is not a regular file (links "
                            "and devices are refused).")
                             .arg(reader.path(), reader.name()));
    }
    return relative;
}

bool isPayloadDirectory(const ArchiveReader &reader)
{
    return reader.isDirectory()
           && (reader.name() == payloadPrefix || reader.name() == payloadPrefix.chopped(1)
               || (reader.name().startsWith(payloadPrefix)
                   && isSafeRelativePath(reader.name().mid(payloadPrefix.size()).chopped(
                       reader.name().endsWith(QLatin1Char('/')) ? 1 : 0))));
}

} // namespace

QStringList packageModes()
{
    return {QStringLiteral("normal"), QStringLiteral("slow"),   QStringLiteral("fail"),
            QStringLiteral("hang"),   QStringLiteral("reboot"), QStringLiteral("reboot-needed"),
            QStringLiteral("corrupt")};
}

int installerExitCodeFromStatus(int processExitCode)
{
    for (int code : {InstallerExit::Success, InstallerExit::Failed, InstallerExit::ServiceRunning,
                     InstallerExit::PackageInvalid, InstallerExit::OtherVersion,
                     InstallerExit::RebootStarted, InstallerExit::RebootRequired}) {
        if (processExitCode == code || (processExitCode >= 0 && processExitCode < 256
                                        && processExitCode == (code & 0xff) && code != 0)) {
            return code;
        }
    }
    return processExitCode;
}

bool isSafeRelativePath(const QString &path)
{
    if (path.isEmpty() || path.startsWith(QLatin1Char('/')) || path.contains(QLatin1Char('\\'))
        || path.contains(QChar(0)) || (path.size() >= 2 && path.at(1) == QLatin1Char(':'))) {
        return false;
    }
    const QStringList segments = path.split(QLatin1Char('/'));
    for (const QString &segment : segments) {
        if (segment.isEmpty() || segment == QLatin1String(".") || segment == QLatin1String(".."))
            return false;
    }
    return true;
}

bool PackageManifest::fitsOs(OsKind nodeOs) const
{
    return os == QLatin1String("any") || os == toString(nodeOs);
}

Expected<PackageManifest> PackageManifest::fromJson(const QJsonObject &json)
{
    PackageManifest manifest;
    if (!json.value(QStringLiteral("format")).isDouble())
        return makeError(tr("The field \"format\" is missing or not a number."));
    manifest.format = json.value(QStringLiteral("format")).toInt();
    if (manifest.format != 1)
        return makeError(tr("Package format %1 is not supported (expected 1).").arg(manifest.format));

    const QJsonValue product = json.value(QStringLiteral("product"));
    if (!product.isUndefined() && product.toString() != QLatin1String("FlowTraq"))
        return makeError(tr("The package is for \"%1\", not FlowTraq.").arg(product.toString()));

    const Expected<Component> component = parseComponent(json.value(QStringLiteral("component")).toString());
    if (!component)
        return makeError(component.error());
    manifest.component = *component;

    const Expected<Version> version = Version::parse(json.value(QStringLiteral("version")).toString());
    if (!version)
        return makeError(version.error());
    manifest.version = *version;

    manifest.os = json.value(QStringLiteral("os")).toString(QStringLiteral("any"));
    if (manifest.os != QLatin1String("any") && !parseOsKind(manifest.os))
        return makeError(tr("Unknown operating system \"%1\" (expected any, linux or windows).").arg(manifest.os.left(40)));

    manifest.mode = json.value(QStringLiteral("mode")).toString(QStringLiteral("normal"));
    if (!packageModes().contains(manifest.mode))
        return makeError(tr("Unknown installer mode \"%1\".").arg(manifest.mode.left(40)));

    const QJsonValue slow = json.value(QStringLiteral("slow_seconds"));
    if (!slow.isUndefined()) {
        if (!slow.isDouble() || slow.toInt() < 0 || slow.toInt() > 24 * 3600)
            return makeError(tr("The field \"slow_seconds\" must be a number of seconds."));
        manifest.slowSeconds = slow.toInt();
    }
    manifest.created = QDateTime::fromString(json.value(QStringLiteral("created")).toString(), Qt::ISODate);

    const QJsonValue files = json.value(QStringLiteral("files"));
    if (!files.isArray())
        return makeError(tr("The field \"files\" is missing or not a list."));
    QSet<QString> seen;
    for (const auto &value : files.toArray()) {
        const QJsonObject object = value.toObject();
        PackageFile file;
        file.path = object.value(QStringLiteral("path")).toString();
        if (!isSafeRelativePath(file.path))
            return makeError(tr("The file path \"%1\" is not a safe relative path.").arg(file.path.left(200)));
        if (seen.contains(file.path))
            return makeError(tr("The file %1 is listed twice.").arg(file.path));
        seen.insert(file.path);
        const QJsonValue size = object.value(QStringLiteral("size"));
        if (!size.isDouble() || size.toDouble() < 0)
            return makeError(tr("The size of %1 is missing or negative.").arg(file.path));
        file.size = qint64(size.toDouble());
        file.sha256 = object.value(QStringLiteral("sha256")).toString().toLatin1().toLower();
        if (file.sha256.size() != 64)
            return makeError(tr("The SHA-256 of %1 is missing or malformed.").arg(file.path));
        manifest.files.append(file);
    }
    return manifest;
}

QJsonObject PackageManifest::toJson() const
{
    QJsonArray fileArray;
    for (const PackageFile &file : files) {
        fileArray.append(QJsonObject{{QStringLiteral("path"), file.path},
                                     {QStringLiteral("size"), double(file.size)},
                                     {QStringLiteral("sha256"), QString::fromLatin1(file.sha256)}});
    }
    return QJsonObject{
        {QStringLiteral("format"), format},
        {QStringLiteral("product"), QStringLiteral("FlowTraq")},
        {QStringLiteral("component"), toString(component)},
        {QStringLiteral("version"), version.toString()},
        {QStringLiteral("os"), os},
        {QStringLiteral("mode"), mode},
        {QStringLiteral("slow_seconds"), slowSeconds},
        {QStringLiteral("created"), created.toUTC().toString(Qt::ISODate)},
        {QStringLiteral("files"), fileArray},
    };
}

Expected<PackageManifest> readPackageManifest(const QString &packagePath)
{
    ArchiveReader reader;
    if (Result opened = reader.open(packagePath); !opened)
        return makeError(opened.error());
    return reader.readManifestEntry();
}

namespace {

Result verifyEntries(ArchiveReader &reader, const QString &packagePath);

} // namespace

Result verifyPackage(const QString &packagePath)
{
    ArchiveReader reader;
    if (Result opened = reader.open(packagePath); !opened)
        return opened;
    return verifyEntries(reader, packagePath);
}

Expected<QByteArray> verifyPackageAndHash(const QString &packagePath)
{
    Sha256 wholeFile;
    ArchiveReader reader;
    if (Result opened = reader.openHashing(packagePath, &wholeFile); !opened)
        return makeError(opened.error());
    if (Result verified = verifyEntries(reader, packagePath); !verified)
        return makeError(verified.error());
    if (Result rest = reader.readRest(); !rest)
        return makeError(rest.error());
    return wholeFile.hexResult();
}

namespace {

Result verifyEntries(ArchiveReader &reader, const QString &packagePath)
{
    const Expected<PackageManifest> manifest = reader.readManifestEntry();
    if (!manifest)
        return makeError(manifest.error());

    QHash<QString, PackageFile> expected;
    for (const PackageFile &file : manifest->files)
        expected.insert(file.path, file);
    QHash<QString, QByteArray> actual; // payload path → sha256 as read
    std::optional<FileManifest> sums;

    QString error;
    while (reader.next(&error)) {
        const QString name = reader.name();
        if (name == sumsEntryName && reader.isRegularFile()) {
            const Expected<QByteArray> text = reader.readSmall(maxMetadataSize);
            if (!text)
                return makeError(text.error());
            Expected<FileManifest> parsed = FileManifest::parse(*text, packagePath + QStringLiteral(":SHA256SUMS"));
            if (!parsed)
                return makeError(parsed.error());
            sums = std::move(*parsed);
            continue;
        }
        if (isPayloadDirectory(reader))
            continue;
        if (!name.startsWith(payloadPrefix)) {
            return makeError(tr("The package %1 holds the unexpected entry \"%2\".")
                                 .arg(packagePath, name.left(200)));
        }
        const Expected<QString> relative = payloadPath(reader);
        if (!relative)
            return makeError(relative.error());
        const auto listed = expected.constFind(*relative);
        if (listed == expected.constEnd()) {
            return makeError(tr("The package %1 holds %2, which its package.json does not list.")
                                 .arg(packagePath, *relative));
        }
        if (actual.contains(*relative))
            return makeError(tr("The package %1 holds %2 twice.").arg(packagePath, *relative));

        Sha256 hash;
        const Expected<qint64> size = reader.stream([&hash](const char *bytes, qint64 count) {
            hash.addData(bytes, count);
            return true;
        });
        if (!size)
            return makeError(size.error());
        const QByteArray digest = hash.hexResult();
        if (*size != listed->size) {
            return makeError(tr("The package %1 is damaged: %2 has %3 bytes, its manifest says %4.")
                                 .arg(packagePath, *relative)
                                 .arg(*size)
                                 .arg(listed->size));
        }
        if (digest != listed->sha256) {
            return makeError(tr("The package %1 is damaged: the SHA-256 of %2 does not match its "
                                "manifest.")
                                 .arg(packagePath, *relative));
        }
        actual.insert(*relative, digest);
    }
    if (!error.isEmpty())
        return makeError(error);

    for (const PackageFile &file : manifest->files) {
        if (!actual.contains(file.path)) {
            return makeError(tr("The package %1 is incomplete: %2 is missing.").arg(packagePath, file.path));
        }
    }
    if (!sums)
        return makeError(tr("The package %1 has no SHA256SUMS.").arg(packagePath));
    if (sums->size() != actual.size()) {
        return makeError(tr("The SHA256SUMS of %1 lists %2 files, the package holds %3.")
                             .arg(packagePath)
                             .arg(sums->size())
                             .arg(actual.size()));
    }
    for (const ManifestEntry &entry : sums->entries()) {
        const QString relative = entry.path.startsWith(payloadPrefix) ? entry.path.mid(payloadPrefix.size())
                                                                      : QString();
        const auto found = actual.constFind(relative);
        if (found == actual.constEnd()) {
            return makeError(tr("The SHA256SUMS of %1 lists %2, which the package does not hold.")
                                 .arg(packagePath, entry.path));
        }
        if (*found != entry.sha256) {
            return makeError(tr("The package %1 is damaged: the SHA-256 of %2 does not match "
                                "SHA256SUMS.")
                                 .arg(packagePath, relative));
        }
    }
    return {};
}

} // namespace

Result extractPackagePayload(const QString &packagePath, const QString &targetDir)
{
    return extractPackagePayload(packagePath, targetDir, {});
}

Result extractPackagePayload(const QString &packagePath, const QString &targetDir,
                             const ExtractProgress &progress)
{
    ArchiveReader reader;
    if (Result opened = reader.open(packagePath); !opened)
        return opened;
    const Expected<PackageManifest> manifest = reader.readManifestEntry();
    if (!manifest)
        return makeError(manifest.error());
    QHash<QString, PackageFile> expected;
    qint64 bytesTotal = 0;
    for (const PackageFile &file : manifest->files) {
        expected.insert(file.path, file);
        bytesTotal += file.size;
    }
    qint64 bytesDone = 0;

    const QDir target(targetDir);
    if (!QDir().mkpath(targetDir))
        return makeError(tr("Could not create the folder %1.").arg(targetDir));

    QString error;
    while (reader.next(&error)) {
        const QString name = reader.name();
        if (!name.startsWith(payloadPrefix) || isPayloadDirectory(reader))
            continue;
        const Expected<QString> relative = payloadPath(reader);
        if (!relative)
            return makeError(relative.error());
        const auto listed = expected.constFind(*relative);
        if (listed == expected.constEnd()) {
            return makeError(tr("The package %1 holds %2, which its package.json does not list.")
                                 .arg(packagePath, *relative));
        }
        const QString destination = target.filePath(*relative);
        if (!QDir().mkpath(QFileInfo(destination).absolutePath()))
            return makeError(tr("Could not create the folder for %1.").arg(destination));
        QFile file(destination);
        if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate))
            return makeError(tr("Could not write %1: %2.").arg(destination, file.errorString()));
        Sha256 hash;
        const Expected<qint64> size = reader.stream([&](const char *bytes, qint64 count) {
            hash.addData(bytes, count);
            return file.write(bytes, count) == count;
        });
        if (!size)
            return makeError(size.error());
        if (!file.flush())
            return makeError(tr("Could not write %1: %2.").arg(destination, file.errorString()));
        file.close();
        if (*size != listed->size || hash.hexResult() != listed->sha256) {
            return makeError(tr("The package %1 is damaged: %2 does not match its manifest.")
                                 .arg(packagePath, *relative));
        }
        if (reader.permissions() & 0111) {
            file.setPermissions(file.permissions() | QFileDevice::ExeOwner | QFileDevice::ExeGroup
                                | QFileDevice::ExeOther);
        }
        bytesDone += *size;
        if (progress)
            progress(*relative, bytesDone, bytesTotal);
    }
    if (!error.isEmpty())
        return makeError(error);
    return {};
}

Expected<QByteArray> readPackageFile(const QString &packagePath, const QString &path, qint64 maxBytes)
{
    if (!isSafeRelativePath(path))
        return makeError(tr("\"%1\" is not a safe relative path.").arg(path.left(200)));
    ArchiveReader reader;
    if (Result opened = reader.open(packagePath); !opened)
        return makeError(opened.error());
    const QString wanted = payloadPrefix + path;
    QString error;
    while (reader.next(&error)) {
        if (reader.name() == wanted && reader.isRegularFile())
            return reader.readSmall(maxBytes);
    }
    if (!error.isEmpty())
        return makeError(error);
    return makeError(tr("The package %1 does not hold %2.").arg(packagePath, path));
}

Result writePackage(const QString &packagePath, const PackageManifest &manifest, const QString &payloadDir)
{
    const QString partPath = packagePath + QStringLiteral(".part");
    std::unique_ptr<archive, decltype(&archive_write_free)> out(archive_write_new(), &archive_write_free);
    archive_write_set_format_pax_restricted(out.get());
    archive_write_set_bytes_in_last_block(out.get(), 1);
    if (archive_write_open_filename(out.get(), QFile::encodeName(partPath).constData()) != ARCHIVE_OK) {
        return makeError(tr("Could not create the package %1: %2.")
                             .arg(packagePath, archiveError(out.get())));
    }
    const auto fail = [&](const QString &message) -> Result {
        archive_write_close(out.get());
        QFile::remove(partPath);
        return makeError(message);
    };
    const time_t mtime = manifest.created.isValid() ? time_t(manifest.created.toSecsSinceEpoch())
                                                    : time_t(QDateTime::currentSecsSinceEpoch());

    const auto writeHeader = [&](const QString &name, qint64 size, int perm) {
        std::unique_ptr<archive_entry, decltype(&archive_entry_free)> entry(archive_entry_new(),
                                                                            &archive_entry_free);
        archive_entry_set_pathname_utf8(entry.get(), name.toUtf8().constData());
        archive_entry_set_filetype(entry.get(), AE_IFREG);
        archive_entry_set_perm(entry.get(), perm);
        archive_entry_set_size(entry.get(), size);
        archive_entry_set_mtime(entry.get(), mtime, 0);
        return archive_write_header(out.get(), entry.get()) == ARCHIVE_OK;
    };
    const auto writeSmall = [&](const QString &name, const QByteArray &data) {
        return writeHeader(name, data.size(), 0644)
               && archive_write_data(out.get(), data.constData(), size_t(data.size())) == data.size();
    };

    if (!writeSmall(manifestEntryName, QJsonDocument(manifest.toJson()).toJson(QJsonDocument::Indented)))
        return fail(tr("Could not write the package %1: %2.").arg(packagePath, archiveError(out.get())));

    const QDir payload(payloadDir);
    QByteArray block(blockSize, Qt::Uninitialized);
    QList<ManifestEntry> sums;
    for (const PackageFile &file : manifest.files) {
        QFile source(payload.filePath(file.path));
        if (!source.open(QIODevice::ReadOnly))
            return fail(tr("Could not read %1: %2.").arg(source.fileName(), source.errorString()));
        const int perm = (source.permissions() & QFileDevice::ExeOwner) ? 0755 : 0644;
        if (!writeHeader(payloadPrefix + file.path, source.size(), perm))
            return fail(tr("Could not write the package %1: %2.").arg(packagePath, archiveError(out.get())));
        for (;;) {
            const qint64 got = source.read(block.data(), block.size());
            if (got < 0)
                return fail(tr("Could not read %1: %2.").arg(source.fileName(), source.errorString()));
            if (got == 0)
                break;
            if (archive_write_data(out.get(), block.constData(), size_t(got)) != got)
                return fail(tr("Could not write the package %1: %2.").arg(packagePath, archiveError(out.get())));
        }
        sums.append({payloadPrefix + file.path, file.sha256, file.size});
    }
    if (!writeSmall(sumsEntryName, FileManifest::fromEntries(sums).toText()))
        return fail(tr("Could not write the package %1: %2.").arg(packagePath, archiveError(out.get())));
    if (archive_write_close(out.get()) != ARCHIVE_OK)
        return fail(tr("Could not finish the package %1: %2.").arg(packagePath, archiveError(out.get())));
    out.reset();
    QFile::remove(packagePath);
    if (!QFile::rename(partPath, packagePath)) {
        QFile::remove(partPath);
        return makeError(tr("Could not move the package into place at %1.").arg(packagePath));
    }
    return {};
}

} // namespace ft

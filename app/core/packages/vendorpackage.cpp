#include "packages/vendorpackage.h"

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QRegularExpression>

#include <archive.h>
#include <archive_entry.h>

#include <libmsi.h>

#include <rpm/header.h>
#include <rpm/rpmlib.h>
#include <rpm/rpmts.h>

#include <functional>
#include <memory>
#include <mutex>

namespace ft {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::VendorPackage", text); }

QString fileLabel(const QString &path) { return QFileInfo(path).fileName(); }

constexpr qint64 kMaxControlBytes = 16 * 1024 * 1024;

} // namespace

// ---------------------------------------------------------------- formats

std::optional<PackageFormat> packageFormatOf(const QString &fileName)
{
    const QString suffix = QFileInfo(fileName).suffix().toLower();
    if (suffix == QLatin1String("ftpkg"))
        return PackageFormat::FtPkg;
    if (suffix == QLatin1String("msi"))
        return PackageFormat::Msi;
    if (suffix == QLatin1String("exe"))
        return PackageFormat::Exe;
    if (suffix == QLatin1String("rpm"))
        return PackageFormat::Rpm;
    if (suffix == QLatin1String("deb"))
        return PackageFormat::Deb;
    if (suffix == QLatin1String("sh") || suffix == QLatin1String("bin") || suffix == QLatin1String("run"))
        return PackageFormat::SelfExtracting;
    return std::nullopt;
}

QString toString(PackageFormat format)
{
    switch (format) {
    case PackageFormat::FtPkg: return QStringLiteral("ftpkg");
    case PackageFormat::Msi: return QStringLiteral("msi");
    case PackageFormat::Exe: return QStringLiteral("exe");
    case PackageFormat::Rpm: return QStringLiteral("rpm");
    case PackageFormat::Deb: return QStringLiteral("deb");
    case PackageFormat::SelfExtracting: return QStringLiteral("sh");
    }
    return {};
}

Expected<PackageFormat> parsePackageFormat(const QString &text)
{
    for (PackageFormat format : {PackageFormat::FtPkg, PackageFormat::Msi, PackageFormat::Exe, PackageFormat::Rpm,
                                 PackageFormat::Deb, PackageFormat::SelfExtracting}) {
        if (text == toString(format))
            return format;
    }
    return makeError(tr("Unknown package format \"%1\" (use ftpkg, msi, exe, rpm, deb or sh).").arg(text.left(40)));
}

QString displayName(PackageFormat format)
{
    switch (format) {
    case PackageFormat::FtPkg: return tr("sandbox package (.ftpkg)");
    case PackageFormat::Msi: return tr("Windows Installer package (.msi)");
    case PackageFormat::Exe: return tr("Windows installer program (.exe)");
    case PackageFormat::Rpm: return tr("RPM package (.rpm)");
    case PackageFormat::Deb: return tr("Debian package (.deb)");
    case PackageFormat::SelfExtracting: return tr("self-extracting Linux installer (.sh/.bin/.run)");
    }
    return {};
}

QString osOf(PackageFormat format)
{
    switch (format) {
    case PackageFormat::Msi:
    case PackageFormat::Exe: return QStringLiteral("windows");
    case PackageFormat::Rpm:
    case PackageFormat::Deb:
    case PackageFormat::SelfExtracting: return QStringLiteral("linux");
    case PackageFormat::FtPkg: return QStringLiteral("any");
    }
    return QStringLiteral("any");
}

QStringList acceptedPackagePatterns()
{
    return {QStringLiteral("*.msi"), QStringLiteral("*.exe"), QStringLiteral("*.rpm"), QStringLiteral("*.deb"),
            QStringLiteral("*.sh"),  QStringLiteral("*.bin"), QStringLiteral("*.run"), QStringLiteral("*.ftpkg")};
}

bool needsTypedSwitches(PackageFormat format)
{
    return format == PackageFormat::Exe || format == PackageFormat::SelfExtracting;
}

// ---------------------------------------------------------------- names and versions

std::optional<Component> componentFromName(const QString &name)
{
    static const QRegularExpression webUi(QStringLiteral("(^|[^a-z])web[-_ .]?(ui|interface)($|[^a-z])"),
                                          QRegularExpression::CaseInsensitiveOption);
    static const QRegularExpression nbi(QStringLiteral("(^|[^a-z])nbi($|[^a-z])"),
                                        QRegularExpression::CaseInsensitiveOption);
    static const QRegularExpression server(QStringLiteral("(^|[^a-z])server($|[^a-z])"),
                                           QRegularExpression::CaseInsensitiveOption);
    // Checked in this order: "FlowTraq Server NBI" is the NBI, not the server.
    if (webUi.match(name).hasMatch())
        return Component::WebUi;
    if (nbi.match(name).hasMatch())
        return Component::Nbi;
    if (server.match(name).hasMatch())
        return Component::Server;
    return std::nullopt;
}

Expected<Version> versionFromVendor(const QString &text)
{
    QString value = text.trimmed();
    static const QRegularExpression epoch(QStringLiteral("^\\d+:"));
    value.remove(epoch);
    // MSI and PE versions have four numbers and no build separator.
    static const QRegularExpression fourPart(QStringLiteral("^(\\d+\\.\\d+\\.\\d+)\\.(\\d+)$"));
    if (const auto match = fourPart.match(value); match.hasMatch())
        value = match.captured(1) + QLatin1Char('-') + match.captured(2);
    // An RPM/deb release such as "1500.el8" or "1500+deb12u1": its leading digits.
    static const QRegularExpression release(QStringLiteral("^([\\d.]+)-(\\d+)[^\\d].*$"));
    if (const auto match = release.match(value); match.hasMatch())
        value = match.captured(1) + QLatin1Char('-') + match.captured(2);
    return Version::parse(value);
}

FileNameFacts readFileName(const QString &fileName)
{
    FileNameFacts facts;
    QString base = QFileInfo(fileName).fileName();
    if (const auto format = packageFormatOf(base))
        base = base.left(base.lastIndexOf(QLatin1Char('.')));
    // A version is two to four dotted numbers, then maybe a build ("-1500", "_1500",
    // "b1500", " build 1500"); not glued to other digits or dots.
    static const QRegularExpression version(
        QStringLiteral("(?<!\\d)(\\d+(?:\\.\\d+){1,3})(?:(?:[-_]|\\s*build\\s*|b)(\\d+))?(?![\\d])"),
        QRegularExpression::CaseInsensitiveOption);
    const auto match = version.match(base);
    if (match.hasMatch()) {
        const QString text = match.captured(2).isEmpty() ? match.captured(1)
                                                         : match.captured(1) + QLatin1Char('-') + match.captured(2);
        if (const auto parsed = versionFromVendor(text))
            facts.version = *parsed;
        base.remove(match.capturedStart(0), match.capturedLength(0));
    }
    facts.component = componentFromName(base);
    return facts;
}

// ---------------------------------------------------------------- MSI

namespace {

struct GObjectUnref
{
    void operator()(gpointer object) const
    {
        if (object)
            g_object_unref(object);
    }
};
template<typename T>
using GPtr = std::unique_ptr<T, GObjectUnref>;

QString takeGError(GError *&error)
{
    const QString text = error && error->message ? QString::fromUtf8(error->message) : tr("unknown error");
    g_clear_error(&error);
    return text;
}

// One value of the Property table, or an empty string when it is not set.
Expected<QString> msiProperty(LibmsiDatabase *database, const char *name)
{
    GError *error = nullptr;
    const QByteArray sql = QByteArrayLiteral("SELECT `Value` FROM `Property` WHERE `Property` = '") + name
                           + QByteArrayLiteral("'");
    GPtr<LibmsiQuery> query(libmsi_query_new(database, sql.constData(), &error));
    if (!query)
        return makeError(takeGError(error));
    if (!libmsi_query_execute(query.get(), nullptr, &error))
        return makeError(takeGError(error));
    GPtr<LibmsiRecord> record(libmsi_query_fetch(query.get(), &error));
    g_clear_error(&error); // no row: the property is not set
    QString value;
    if (record) {
        gchar *text = libmsi_record_get_string(record.get(), 1);
        value = QString::fromUtf8(text);
        g_free(text);
    }
    libmsi_query_close(query.get(), nullptr);
    return value;
}

} // namespace

Expected<QHash<QString, QString>> MsiReader::properties(const QString &path, const QStringList &names)
{
    GError *error = nullptr;
    GPtr<LibmsiDatabase> database(
        libmsi_database_new(QFile::encodeName(path).constData(), LIBMSI_DB_FLAGS_READONLY, nullptr, &error));
    if (!database) {
        return makeError(tr("%1 is not a readable Windows Installer package: %2.")
                             .arg(fileLabel(path), takeGError(error)));
    }
    QHash<QString, QString> values;
    static const QRegularExpression identifier(QStringLiteral("^[A-Za-z_][A-Za-z0-9_.]{0,71}$"));
    for (const QString &name : names) {
        if (!identifier.match(name).hasMatch())
            return makeError(tr("\"%1\" is not an MSI property name.").arg(name.left(80)));
        const Expected<QString> value = msiProperty(database.get(), name.toLatin1().constData());
        if (!value)
            return makeError(tr("The Property table of %1 cannot be read: %2.").arg(fileLabel(path), value.error()));
        values.insert(name, *value);
    }
    return values;
}

Expected<VendorMetadata> MsiReader::read(const QString &path)
{
    if (!QFileInfo(path).isFile())
        return makeError(tr("%1 does not exist.").arg(path));
    GError *error = nullptr;
    GPtr<LibmsiDatabase> database(
        libmsi_database_new(QFile::encodeName(path).constData(), LIBMSI_DB_FLAGS_READONLY, nullptr, &error));
    if (!database) {
        return makeError(tr("%1 is not a readable Windows Installer package: %2.")
                             .arg(fileLabel(path), takeGError(error)));
    }
    VendorMetadata metadata;
    metadata.source = tr("from the MSI");
    const std::pair<const char *, QString *> wanted[] = {{"ProductName", &metadata.productName},
                                                         {"ProductVersion", &metadata.version},
                                                         {"Manufacturer", &metadata.manufacturer}};
    for (const auto &[name, target] : wanted) {
        const Expected<QString> value = msiProperty(database.get(), name);
        if (!value) {
            return makeError(tr("The Property table of %1 cannot be read: %2.").arg(fileLabel(path), value.error()));
        }
        *target = *value;
    }
    return metadata;
}

// ---------------------------------------------------------------- RPM

namespace {

// librpm keeps global state (macros, rpmrc); read its configuration once and let one
// thread use it at a time.
std::mutex &rpmMutex()
{
    static std::mutex mutex;
    return mutex;
}

Result rpmInit()
{
    static bool ok = false;
    static std::once_flag once;
    std::call_once(once, [] { ok = rpmReadConfigFiles(nullptr, nullptr) == 0; });
    if (!ok)
        return makeError(tr("librpm could not read its configuration."));
    return {};
}

struct RpmRead
{
    rpmRC code = RPMRC_FAIL;
    VendorMetadata metadata;
};

RpmRead readRpmHeader(const QString &path)
{
    RpmRead result;
    rpmts ts = rpmtsCreate();
    // No keyring is configured here: signatures are not checked, digests are.
    rpmtsSetVSFlags(ts, rpmtsVSFlags(ts) | RPMVSF_MASK_NOSIGNATURES);
    FD_t fd = Fopen(QFile::encodeName(path).constData(), "r.ufdio");
    if (!fd || Ferror(fd)) {
        if (fd)
            Fclose(fd);
        rpmtsFree(ts);
        return result;
    }
    Header header = nullptr;
    result.code = rpmReadPackageFile(ts, fd, QFile::encodeName(path).constData(), &header);
    if (header) {
        const auto tag = [&](rpmTagVal which) {
            const char *text = headerGetString(header, which);
            return text ? QString::fromUtf8(text) : QString();
        };
        result.metadata.productName = tag(RPMTAG_NAME);
        const QString version = tag(RPMTAG_VERSION);
        const QString release = tag(RPMTAG_RELEASE);
        result.metadata.version = release.isEmpty() ? version : version + QLatin1Char('-') + release;
        result.metadata.manufacturer = tag(RPMTAG_VENDOR);
        result.metadata.architecture = tag(RPMTAG_ARCH);
        result.metadata.source = tr("from the RPM header");
        headerFree(header);
    }
    Fclose(fd);
    rpmtsFree(ts);
    return result;
}

} // namespace

Expected<VendorMetadata> RpmReader::read(const QString &path)
{
    if (!QFileInfo(path).isFile())
        return makeError(tr("%1 does not exist.").arg(path));
    std::lock_guard lock(rpmMutex());
    if (Result init = rpmInit(); !init)
        return makeError(init.error());
    const RpmRead read = readRpmHeader(path);
    switch (read.code) {
    case RPMRC_OK:
    case RPMRC_NOKEY:
    case RPMRC_NOTTRUSTED:
        return read.metadata;
    case RPMRC_NOTFOUND:
        return makeError(tr("%1 is not an RPM package.").arg(fileLabel(path)));
    default:
        return makeError(tr("%1 is a damaged RPM package: its header cannot be read or its digest does not match.")
                             .arg(fileLabel(path)));
    }
}

// ---------------------------------------------------------------- deb

namespace {

struct ArchiveFree
{
    void operator()(archive *a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveFree>;

QString archiveText(archive *a)
{
    const char *text = archive_error_string(a);
    return text ? QString::fromLocal8Bit(text) : tr("unknown error");
}

Expected<QByteArray> readEntry(archive *a, qint64 maxBytes, const QString &what)
{
    QByteArray data;
    char block[64 * 1024];
    for (;;) {
        const la_ssize_t got = archive_read_data(a, block, sizeof block);
        if (got < 0)
            return makeError(tr("%1 cannot be read: %2.").arg(what, archiveText(a)));
        if (got == 0)
            return data;
        if (data.size() + got > maxBytes)
            return makeError(tr("%1 is larger than %2 bytes.").arg(what).arg(maxBytes));
        data.append(block, got);
    }
}

// Walks the members of a .deb (an ar archive): debian-binary, control.tar.*, data.tar.*.
Result forEachDebMember(const QString &path, const std::function<Result(const QString &, archive *)> &visit)
{
    ArchivePtr outer(archive_read_new());
    archive_read_support_format_ar(outer.get());
    if (archive_read_open_filename(outer.get(), QFile::encodeName(path).constData(), 64 * 1024) != ARCHIVE_OK)
        return makeError(tr("%1 is not a readable Debian package: %2.").arg(fileLabel(path), archiveText(outer.get())));
    archive_entry *entry = nullptr;
    bool first = true;
    for (;;) {
        const int status = archive_read_next_header(outer.get(), &entry);
        if (status == ARCHIVE_EOF)
            break;
        if (status < ARCHIVE_WARN)
            return makeError(tr("%1 is not a readable Debian package: %2.").arg(fileLabel(path), archiveText(outer.get())));
        const QString name = QString::fromLocal8Bit(archive_entry_pathname(entry));
        if (first && name != QLatin1String("debian-binary"))
            return makeError(tr("%1 is not a Debian package: it does not start with debian-binary.").arg(fileLabel(path)));
        first = false;
        if (Result visited = visit(name, outer.get()); !visited)
            return visited;
    }
    if (first)
        return makeError(tr("%1 is not a Debian package: it is empty.").arg(fileLabel(path)));
    return {};
}

// Opens a tar held in memory (control.tar.*) or streamed from the outer archive.
ArchivePtr openInnerTar()
{
    ArchivePtr inner(archive_read_new());
    archive_read_support_format_tar(inner.get());
    archive_read_support_filter_all(inner.get());
    return inner;
}

QHash<QString, QString> parseControl(const QByteArray &text)
{
    // RFC 822 style: "Field: value", continuation lines start with a space.
    QHash<QString, QString> fields;
    QString last;
    for (const QByteArray &raw : text.split('\n')) {
        const QString line = QString::fromUtf8(raw);
        if (line.isEmpty())
            break; // one paragraph only
        if (line.startsWith(QLatin1Char(' ')) || line.startsWith(QLatin1Char('\t'))) {
            if (!last.isEmpty())
                fields[last] += QLatin1Char('\n') + line.trimmed();
            continue;
        }
        const qsizetype colon = line.indexOf(QLatin1Char(':'));
        if (colon <= 0)
            continue;
        last = line.left(colon).trimmed().toLower();
        fields.insert(last, line.mid(colon + 1).trimmed());
    }
    return fields;
}

QString stripDotSlash(QString name)
{
    while (name.startsWith(QLatin1String("./")))
        name.remove(0, 2);
    return name;
}

struct InnerTarOpen
{
    archive *outer;
    QByteArray block;
};

la_ssize_t innerRead(archive *, void *data, const void **buffer)
{
    auto *state = static_cast<InnerTarOpen *>(data);
    const la_ssize_t got = archive_read_data(state->outer, state->block.data(), size_t(state->block.size()));
    *buffer = state->block.constData();
    return got;
}

} // namespace

Expected<VendorMetadata> DebReader::read(const QString &path)
{
    if (!QFileInfo(path).isFile())
        return makeError(tr("%1 does not exist.").arg(path));
    std::optional<QHash<QString, QString>> control;
    const Result walked = forEachDebMember(path, [&](const QString &name, archive *outer) -> Result {
        if (!name.startsWith(QLatin1String("control.tar")))
            return {};
        const Expected<QByteArray> tarData = readEntry(outer, kMaxControlBytes, name);
        if (!tarData)
            return makeError(tarData.error());
        ArchivePtr inner = openInnerTar();
        if (archive_read_open_memory(inner.get(), tarData->constData(), size_t(tarData->size())) != ARCHIVE_OK)
            return makeError(tr("The %1 of %2 cannot be read: %3.").arg(name, fileLabel(path), archiveText(inner.get())));
        archive_entry *entry = nullptr;
        for (;;) {
            const int status = archive_read_next_header(inner.get(), &entry);
            if (status == ARCHIVE_EOF)
                break;
            if (status < ARCHIVE_WARN)
                return makeError(tr("The %1 of %2 is damaged: %3.").arg(name, fileLabel(path), archiveText(inner.get())));
            if (stripDotSlash(QString::fromLocal8Bit(archive_entry_pathname(entry))) == QLatin1String("control")) {
                const Expected<QByteArray> text = readEntry(inner.get(), kMaxControlBytes, tr("The control file"));
                if (!text)
                    return makeError(text.error());
                control = parseControl(*text);
                break;
            }
        }
        return {};
    });
    if (!walked) {
        const QString error = walked.error();
        return makeError(error.contains(fileLabel(path))
                             ? error
                             : tr("%1 is not a readable Debian package: %2").arg(fileLabel(path), error));
    }
    if (!control)
        return makeError(tr("%1 is not a usable Debian package: it has no control file.").arg(fileLabel(path)));
    VendorMetadata metadata;
    metadata.source = tr("from the deb control file");
    metadata.productName = control->value(QStringLiteral("package"));
    metadata.version = control->value(QStringLiteral("version"));
    metadata.manufacturer = control->value(QStringLiteral("maintainer"));
    metadata.architecture = control->value(QStringLiteral("architecture"));
    if (metadata.productName.isEmpty() || metadata.version.isEmpty())
        return makeError(tr("The control file of %1 has no Package or no Version field.").arg(fileLabel(path)));
    return metadata;
}

Result DebReader::verify(const QString &path)
{
    QHash<QString, QByteArray> expected; // path → md5 hex, from control.tar's md5sums
    bool sawData = false;
    int checked = 0;
    const Result walked = forEachDebMember(path, [&](const QString &name, archive *outer) -> Result {
        if (name.startsWith(QLatin1String("control.tar"))) {
            const Expected<QByteArray> tarData = readEntry(outer, kMaxControlBytes, name);
            if (!tarData)
                return makeError(tarData.error());
            ArchivePtr inner = openInnerTar();
            if (archive_read_open_memory(inner.get(), tarData->constData(), size_t(tarData->size())) != ARCHIVE_OK)
                return makeError(tr("The %1 of %2 cannot be read.").arg(name, fileLabel(path)));
            archive_entry *entry = nullptr;
            while (archive_read_next_header(inner.get(), &entry) == ARCHIVE_OK) {
                if (stripDotSlash(QString::fromLocal8Bit(archive_entry_pathname(entry))) != QLatin1String("md5sums"))
                    continue;
                const Expected<QByteArray> sums = readEntry(inner.get(), kMaxControlBytes, tr("md5sums"));
                if (!sums)
                    return makeError(sums.error());
                for (const QByteArray &line : sums->split('\n')) {
                    const qsizetype space = line.indexOf("  ");
                    if (space == 32)
                        expected.insert(QString::fromUtf8(line.mid(34)), line.left(32).toLower());
                }
            }
            return {};
        }
        if (!name.startsWith(QLatin1String("data.tar")))
            return {};
        sawData = true;
        // Streams data.tar.* straight from the outer archive: never whole in memory.
        InnerTarOpen state{outer, QByteArray(256 * 1024, Qt::Uninitialized)};
        ArchivePtr inner = openInnerTar();
        if (archive_read_open(inner.get(), &state, nullptr, innerRead, nullptr) != ARCHIVE_OK)
            return makeError(tr("The %1 of %2 cannot be read: %3.").arg(name, fileLabel(path), archiveText(inner.get())));
        archive_entry *entry = nullptr;
        QByteArray block(256 * 1024, Qt::Uninitialized);
        for (;;) {
            const int status = archive_read_next_header(inner.get(), &entry);
            if (status == ARCHIVE_EOF)
                break;
            if (status < ARCHIVE_WARN)
                return makeError(tr("%1 is damaged: %2.").arg(fileLabel(path), archiveText(inner.get())));
            if (archive_entry_filetype(entry) != AE_IFREG)
                continue;
            const QString file = stripDotSlash(QString::fromLocal8Bit(archive_entry_pathname(entry)));
            QCryptographicHash md5(QCryptographicHash::Md5);
            for (;;) {
                const la_ssize_t got = archive_read_data(inner.get(), block.data(), size_t(block.size()));
                if (got < 0)
                    return makeError(tr("%1 is damaged: %2.").arg(fileLabel(path), archiveText(inner.get())));
                if (got == 0)
                    break;
                md5.addData(QByteArrayView(block.constData(), got));
            }
            const auto listed = expected.constFind(file);
            if (listed == expected.constEnd())
                continue; // conffiles are not in md5sums
            if (md5.result().toHex() != *listed)
                return makeError(tr("%1 is damaged: %2 does not match its md5sums.").arg(fileLabel(path), file));
            ++checked;
        }
        return {};
    });
    if (!walked) {
        const QString error = walked.error();
        return makeError(error.contains(fileLabel(path)) ? error
                                                         : tr("%1 is damaged: %2").arg(fileLabel(path), error));
    }
    if (!sawData)
        return makeError(tr("%1 is not a usable Debian package: it has no data archive.").arg(fileLabel(path)));
    if (checked < expected.size())
        return makeError(tr("%1 is damaged: %2 of the files its md5sums lists are missing.")
                             .arg(fileLabel(path))
                             .arg(expected.size() - checked));
    return {};
}

// ---------------------------------------------------------------- PE version resource

namespace {

// Reads little-endian fields of a file at offsets, refusing anything out of range.
class PeFile
{
public:
    explicit PeFile(const QString &path) : m_file(path) {}
    bool open() { return m_file.open(QIODevice::ReadOnly); }
    qint64 size() const { return m_file.size(); }

    std::optional<QByteArray> bytes(qint64 offset, qint64 count)
    {
        if (offset < 0 || count < 0 || offset > size() || count > size() - offset)
            return std::nullopt;
        if (!m_file.seek(offset))
            return std::nullopt;
        QByteArray data = m_file.read(count);
        if (data.size() != count)
            return std::nullopt;
        return data;
    }
    std::optional<quint32> u32(qint64 offset)
    {
        const auto data = bytes(offset, 4);
        if (!data)
            return std::nullopt;
        const auto *p = reinterpret_cast<const uchar *>(data->constData());
        return quint32(p[0]) | quint32(p[1]) << 8 | quint32(p[2]) << 16 | quint32(p[3]) << 24;
    }
    std::optional<quint16> u16(qint64 offset)
    {
        const auto data = bytes(offset, 2);
        if (!data)
            return std::nullopt;
        const auto *p = reinterpret_cast<const uchar *>(data->constData());
        return quint16(p[0] | p[1] << 8);
    }

private:
    QFile m_file;
};

quint16 word(const QByteArray &data, qsizetype at)
{
    const auto *p = reinterpret_cast<const uchar *>(data.constData()) + at;
    return quint16(p[0] | p[1] << 8);
}

// A UTF-16 string starting at `at`, ending at a NUL or at `end`; `next` is past the NUL.
QString utf16At(const QByteArray &data, qsizetype at, qsizetype end, qsizetype *next)
{
    QString text;
    qsizetype i = at;
    while (i + 1 < end) {
        const quint16 c = word(data, i);
        i += 2;
        if (c == 0)
            break;
        text.append(QChar(c));
    }
    *next = i;
    return text;
}

qsizetype align4(qsizetype value) { return (value + 3) & ~qsizetype(3); }

// Walks VS_VERSIONINFO's blocks: {wLength, wValueLength, wType, szKey, pad, value, pad,
// children}. Collects the String blocks' key → value.
void walkVersionBlocks(const QByteArray &data, qsizetype start, qsizetype end, int depth,
                       QHash<QString, QString> *strings)
{
    qsizetype at = start;
    while (depth <= 3 && at + 6 <= end) {
        const qsizetype length = word(data, at);
        const qsizetype valueLength = word(data, at + 2);
        const quint16 type = word(data, at + 4);
        if (length < 6 || at + length > end)
            return;
        const qsizetype blockEnd = at + length;
        qsizetype afterKey = 0;
        const QString key = utf16At(data, at + 6, blockEnd, &afterKey);
        const qsizetype valueStart = align4(afterKey);
        const qsizetype valueBytes = type == 1 ? valueLength * 2 : valueLength;
        // VS_VERSIONINFO (0) → StringFileInfo (1) → StringTable (2) → String (3).
        if (depth == 3 && type == 1 && valueStart + valueBytes <= blockEnd && valueBytes > 0) {
            qsizetype ignored = 0;
            strings->insert(key, utf16At(data, valueStart, valueStart + valueBytes, &ignored).trimmed());
        } else if (depth < 3) {
            const qsizetype children = align4(qMin(blockEnd, valueStart + valueBytes));
            // Only StringFileInfo's tables hold strings; VarFileInfo is skipped.
            if (depth != 1 || key == QLatin1String("StringFileInfo"))
                walkVersionBlocks(data, children, blockEnd, depth + 1, strings);
        }
        at = align4(blockEnd);
    }
}

} // namespace

Expected<VendorMetadata> ExeReader::read(const QString &path)
{
    const auto notPe = [&] { return makeError(tr("%1 is not a Windows program (no valid PE header).").arg(fileLabel(path))); };
    PeFile pe(path);
    if (!pe.open())
        return makeError(tr("%1 cannot be read.").arg(path));
    const auto mz = pe.bytes(0, 2);
    if (!mz || *mz != "MZ")
        return notPe();
    const auto peOffset = pe.u32(0x3c);
    if (!peOffset)
        return notPe();
    const auto signature = pe.bytes(*peOffset, 4);
    if (!signature || *signature != QByteArray("PE\0\0", 4))
        return notPe();
    const qint64 coff = qint64(*peOffset) + 4;
    const auto sectionCount = pe.u16(coff + 2);
    const auto optionalSize = pe.u16(coff + 16);
    const qint64 optional = coff + 20;
    const auto magic = pe.u16(optional);
    if (!sectionCount || !optionalSize || !magic || (*magic != 0x10b && *magic != 0x20b))
        return notPe();
    const qint64 directories = optional + (*magic == 0x20b ? 112 : 96);
    const auto directoryCount = pe.u32(directories - 4);
    VendorMetadata metadata;
    metadata.source = tr("from the program's version resource");
    if (!directoryCount || *directoryCount < 3 || directories + 3 * 8 > optional + *optionalSize)
        return metadata; // no resource directory: the file says nothing
    const auto resourceRva = pe.u32(directories + 2 * 8);
    if (!resourceRva || *resourceRva == 0)
        return metadata;

    // Sections map RVAs to file offsets.
    struct Section { quint32 va, size, raw, rawSize; };
    QList<Section> sections;
    const qint64 table = optional + *optionalSize;
    for (int i = 0; i < qMin<int>(*sectionCount, 96); ++i) {
        const qint64 at = table + qint64(i) * 40;
        const auto vsize = pe.u32(at + 8), va = pe.u32(at + 12), rawSize = pe.u32(at + 16), raw = pe.u32(at + 20);
        if (!vsize || !va || !rawSize || !raw)
            return notPe();
        sections.append({*va, qMax(*vsize, *rawSize), *raw, *rawSize});
    }
    const auto fileOffset = [&](quint32 rva) -> std::optional<qint64> {
        for (const Section &s : sections) {
            if (rva >= s.va && qint64(rva) < qint64(s.va) + s.size && rva - s.va < s.rawSize)
                return qint64(s.raw) + (rva - s.va);
        }
        return std::nullopt;
    };
    const auto resourceBase = fileOffset(*resourceRva);
    if (!resourceBase)
        return notPe();
    // Resource tree: type (16 = RT_VERSION) → name → language → data entry.
    const auto findEntry = [&](qint64 directory, std::optional<quint32> wantedId) -> std::optional<quint32> {
        const auto named = pe.u16(directory + 12), ids = pe.u16(directory + 14);
        if (!named || !ids)
            return std::nullopt;
        const int count = qMin(int(*named) + int(*ids), 4096);
        for (int i = 0; i < count; ++i) {
            const auto id = pe.u32(directory + 16 + qint64(i) * 8);
            const auto offset = pe.u32(directory + 16 + qint64(i) * 8 + 4);
            if (!id || !offset)
                return std::nullopt;
            if (!wantedId || (!(*id & 0x80000000u) && *id == *wantedId))
                return *offset;
        }
        return std::nullopt;
    };
    qint64 directory = *resourceBase;
    std::optional<quint32> next = findEntry(directory, 16u);
    for (int level = 0; level < 2 && next; ++level) {
        if (!(*next & 0x80000000u))
            return notPe();
        directory = *resourceBase + (*next & 0x7fffffffu);
        next = findEntry(directory, std::nullopt);
    }
    if (!next)
        return metadata; // no version resource
    if (*next & 0x80000000u)
        return notPe();
    const qint64 dataEntry = *resourceBase + *next;
    const auto dataRva = pe.u32(dataEntry), dataSize = pe.u32(dataEntry + 4);
    if (!dataRva || !dataSize || *dataSize > 1024 * 1024)
        return notPe();
    const auto dataOffset = fileOffset(*dataRva);
    if (!dataOffset)
        return notPe();
    const auto versionInfo = pe.bytes(*dataOffset, *dataSize);
    if (!versionInfo || versionInfo->size() < 6)
        return notPe();

    QHash<QString, QString> strings;
    walkVersionBlocks(*versionInfo, 0, qMin<qsizetype>(versionInfo->size(), word(*versionInfo, 0)), 0, &strings);
    metadata.productName = strings.value(QStringLiteral("ProductName"));
    metadata.manufacturer = strings.value(QStringLiteral("CompanyName"));
    metadata.version = strings.value(QStringLiteral("ProductVersion"));
    if (metadata.version.isEmpty())
        metadata.version = strings.value(QStringLiteral("FileVersion"));
    // The fixed part (VS_FIXEDFILEINFO) when the strings do not say.
    if (metadata.version.isEmpty()) {
        const int at = versionInfo->indexOf(QByteArray::fromHex("bd04effe"));
        if (at >= 0 && at + 24 <= versionInfo->size()) {
            const auto ms = word(*versionInfo, at + 16) | quint32(word(*versionInfo, at + 18)) << 16;
            const auto ls = word(*versionInfo, at + 20) | quint32(word(*versionInfo, at + 22)) << 16;
            if (ms || ls)
                metadata.version = QStringLiteral("%1.%2.%3.%4").arg(ms >> 16).arg(ms & 0xffff).arg(ls >> 16).arg(ls & 0xffff);
        }
    }
    return metadata;
}

// ---------------------------------------------------------------- identification

QString missingVersionSentence(const QString &fileName)
{
    return tr("%1 does not say which version it installs, neither inside nor in its file name: type the version.")
        .arg(fileName);
}

namespace {

// Two versions agree when equal, or when one has no build and the numbers match.
bool versionsAgree(const Version &a, const Version &b)
{
    if (a == b)
        return true;
    return (!a.hasBuild() || !b.hasBuild()) && a.parts() == b.parts();
}

Expected<VendorMetadata> readMetadata(PackageFormat format, const QString &path)
{
    switch (format) {
    case PackageFormat::Msi: return MsiReader::read(path);
    case PackageFormat::Rpm: return RpmReader::read(path);
    case PackageFormat::Deb: return DebReader::read(path);
    case PackageFormat::Exe: return ExeReader::read(path);
    case PackageFormat::SelfExtracting:
    case PackageFormat::FtPkg: break;
    }
    return VendorMetadata{};
}

} // namespace

Expected<PackageFacts> identifyVendorPackage(const QString &path, Component slot, const TypedFacts &typed)
{
    const QString file = fileLabel(path);
    const auto format = packageFormatOf(path);
    if (!format || *format == PackageFormat::FtPkg) {
        return makeError(tr("%1 is not a vendor installer (expected .msi, .exe, .rpm, .deb, .sh, .bin or .run).")
                             .arg(file));
    }
    const Expected<VendorMetadata> metadata = readMetadata(*format, path);
    if (!metadata)
        return makeError(metadata.error());

    PackageFacts facts;
    facts.format = *format;
    facts.metadata = *metadata;
    facts.os = osOf(*format);
    const FileNameFacts fromName = readFileName(file);
    const QString nameSource = tr("from the file name");

    std::optional<Version> fromFile;
    if (!metadata->version.isEmpty()) {
        const Expected<Version> parsed = versionFromVendor(metadata->version);
        if (!parsed) {
            return makeError(tr("%1 gives its version as \"%2\" (%3), which is not a version the wizard can compare.")
                                 .arg(file, metadata->version.left(60), metadata->source));
        }
        fromFile = *parsed;
    }
    if (fromFile && fromName.version && !versionsAgree(*fromFile, *fromName.version)) {
        return makeError(tr("%1 was refused: its file name says version %2, but %3 it is version %4; make sure it is "
                            "the right file.")
                             .arg(file, fromName.version->toString(), metadata->source, fromFile->toString()));
    }
    if (fromFile) {
        // The file name may add the build the metadata leaves out.
        facts.version = (!fromFile->hasBuild() && fromName.version) ? *fromName.version : *fromFile;
        facts.versionSource = metadata->source;
    } else if (fromName.version) {
        facts.version = *fromName.version;
        facts.versionSource = nameSource;
    } else if (!typed.version.trimmed().isEmpty()) {
        const Expected<Version> parsed = versionFromVendor(typed.version);
        if (!parsed)
            return makeError(tr("\"%1\" is not a version (expected e.g. 6.3.0-1500).").arg(typed.version.left(40)));
        facts.version = *parsed;
        facts.versionSource = tr("typed by you");
    } else {
        return makeError(missingVersionSentence(file));
    }

    const std::optional<Component> fromProduct = componentFromName(metadata->productName);
    if (fromProduct && fromName.component && *fromProduct != *fromName.component) {
        return makeError(tr("%1 was refused: its file name says it is the %2, but %3 it is the %4; make sure it is "
                            "the right file.")
                             .arg(file, displayName(*fromName.component), metadata->source,
                                  displayName(*fromProduct)));
    }
    if (fromProduct) {
        facts.component = *fromProduct;
        facts.componentSource = metadata->source;
    } else if (fromName.component) {
        facts.component = *fromName.component;
        facts.componentSource = nameSource;
    } else if (typed.component) {
        facts.component = *typed.component;
        facts.componentSource = tr("typed by you");
    } else {
        // Nothing says: the administrator put it in this slot.
        facts.component = slot;
        facts.componentSource = tr("chosen by you (the slot you picked it for)");
    }
    return facts;
}

Result verifyVendorPackage(const QString &path)
{
    const auto format = packageFormatOf(path);
    if (!format)
        return makeError(tr("%1 is not a package format the wizard knows.").arg(fileLabel(path)));
    switch (*format) {
    case PackageFormat::Deb: return DebReader::verify(path);
    case PackageFormat::Rpm: {
        const Expected<VendorMetadata> read = RpmReader::read(path); // rpmReadPackageFile checks the digests
        return read ? Result{} : makeError(read.error());
    }
    case PackageFormat::Msi: {
        const Expected<VendorMetadata> read = MsiReader::read(path);
        return read ? Result{} : makeError(read.error());
    }
    case PackageFormat::Exe:
    case PackageFormat::SelfExtracting:
    case PackageFormat::FtPkg: break;
    }
    return {};
}

} // namespace ft

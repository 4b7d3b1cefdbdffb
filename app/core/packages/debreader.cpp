#include "packages/vendorpackage.h"

// A .deb's control file and md5sums through libarchive (DebReader in vendorpackage.h).

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QFile>
#include <QFileInfo>
#include <QHash>

#include <archive.h>
#include <archive_entry.h>
#include <functional>
#include <memory>

namespace ft {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::VendorPackage", text); }

QString fileLabel(const QString &path) { return QFileInfo(path).fileName(); }

constexpr qint64 kMaxControlBytes = 16 * 1024 * 1024;

} // namespace

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

// What a visit of a tar entry says: go on to the next entry, or stop the walk there.
enum class Walk { Next, Stop };
using EntryVisit = std::function<Expected<Walk>(archive *inner, archive_entry *entry)>;

// Walks the entries of one member of a .deb: control.tar.* read whole (it is small,
// and capped), data.tar.* streamed from the outer archive, never whole in memory. Each
// entry's data is readable from inner during its visit.
Result forEachMemberEntry(archive *outer, const QString &member, const QString &path, const EntryVisit &visit)
{
    // Declared before the inner archive, which reads from them until it is freed.
    QByteArray held;
    InnerTarOpen state{outer, QByteArray()};
    ArchivePtr inner = openInnerTar();
    int opened = ARCHIVE_FATAL;
    if (member.startsWith(QLatin1String("control.tar"))) {
        Expected<QByteArray> tarData = readEntry(outer, kMaxControlBytes, member);
        if (!tarData)
            return makeError(tarData.error());
        held = std::move(*tarData);
        opened = archive_read_open_memory(inner.get(), held.constData(), size_t(held.size()));
    } else {
        state.block = QByteArray(256 * 1024, Qt::Uninitialized);
        opened = archive_read_open(inner.get(), &state, nullptr, innerRead, nullptr);
    }
    if (opened != ARCHIVE_OK)
        return makeError(tr("The %1 of %2 cannot be read: %3.").arg(member, fileLabel(path), archiveText(inner.get())));
    archive_entry *entry = nullptr;
    for (;;) {
        const int status = archive_read_next_header(inner.get(), &entry);
        if (status == ARCHIVE_EOF)
            return {};
        if (status < ARCHIVE_WARN)
            return makeError(tr("The %1 of %2 is damaged: %3.").arg(member, fileLabel(path), archiveText(inner.get())));
        const Expected<Walk> next = visit(inner.get(), entry);
        if (!next)
            return makeError(next.error());
        if (*next == Walk::Stop)
            return {};
    }
}

QString entryName(archive_entry *entry)
{
    return stripDotSlash(QString::fromUtf8(archive_entry_pathname(entry)));
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
        return forEachMemberEntry(outer, name, path, [&](archive *inner, archive_entry *entry) -> Expected<Walk> {
            if (entryName(entry) != QLatin1String("control"))
                return Walk::Next;
            const Expected<QByteArray> text = readEntry(inner, kMaxControlBytes, tr("The control file"));
            if (!text)
                return makeError(text.error());
            control = parseControl(*text);
            return Walk::Stop;
        });
    });
    if (!walked) {
        const QString &error = walked.error();
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
            return forEachMemberEntry(outer, name, path, [&](archive *inner, archive_entry *entry) -> Expected<Walk> {
                if (entryName(entry) != QLatin1String("md5sums"))
                    return Walk::Next;
                const Expected<QByteArray> sums = readEntry(inner, kMaxControlBytes, tr("md5sums"));
                if (!sums)
                    return makeError(sums.error());
                for (const QByteArray &line : sums->split('\n')) {
                    const qsizetype space = line.indexOf("  ");
                    if (space == 32)
                        expected.insert(QString::fromUtf8(line.mid(34)), line.left(32).toLower());
                }
                return Walk::Next;
            });
        }
        if (!name.startsWith(QLatin1String("data.tar")))
            return {};
        sawData = true;
        QByteArray block(256 * 1024, Qt::Uninitialized);
        return forEachMemberEntry(outer, name, path, [&](archive *inner, archive_entry *entry) -> Expected<Walk> {
            if (archive_entry_filetype(entry) != AE_IFREG)
                return Walk::Next;
            const QString file = entryName(entry);
            QCryptographicHash md5(QCryptographicHash::Md5);
            for (;;) {
                const la_ssize_t got = archive_read_data(inner, block.data(), size_t(block.size()));
                if (got < 0)
                    return makeError(tr("%1 is damaged: %2.").arg(fileLabel(path), archiveText(inner)));
                if (got == 0)
                    break;
                md5.addData(QByteArrayView(block.constData(), got));
            }
            const auto listed = expected.constFind(file);
            if (listed == expected.constEnd())
                return Walk::Next; // conffiles are not in md5sums
            if (md5.result().toHex() != *listed)
                return makeError(tr("%1 is damaged: %2 does not match its md5sums.").arg(fileLabel(path), file));
            ++checked;
            return Walk::Next;
        });
    });
    if (!walked) {
        const QString &error = walked.error();
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

Expected<QStringList> DebReader::files(const QString &path)
{
    if (!QFileInfo(path).isFile())
        return makeError(tr("%1 does not exist.").arg(path));
    QStringList files;
    bool sawData = false;
    const Result walked = forEachDebMember(path, [&](const QString &name, archive *outer) -> Result {
        if (!name.startsWith(QLatin1String("data.tar")))
            return {};
        sawData = true;
        // Entries skipped unread.
        return forEachMemberEntry(outer, name, path, [&](archive *inner, archive_entry *entry) -> Expected<Walk> {
            if (archive_entry_filetype(entry) != AE_IFDIR)
                files.append(entryName(entry));
            archive_read_data_skip(inner);
            return Walk::Next;
        });
    });
    if (!walked)
        return makeError(walked.error());
    if (!sawData)
        return makeError(tr("%1 is not a usable Debian package: it has no data archive.").arg(fileLabel(path)));
    files.sort();
    return files;
}

} // namespace ft

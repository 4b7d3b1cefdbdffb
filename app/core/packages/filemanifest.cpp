#include "packages/filemanifest.h"

#include "packages/sha256.h"

#include <QCoreApplication>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>
#include <QThreadPool>
#include <QtConcurrent/QtConcurrentMap>

#include <algorithm>

namespace ft {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("ft", text);
}

bool isHexDigest(const QByteArray &text)
{
    if (text.size() != 64)
        return false;
    return std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    });
}

// sha256sum escapes a name holding a backslash or a newline and marks the line with '\'.
QByteArray escapedName(const QByteArray &name, bool *escaped)
{
    *escaped = name.contains('\\') || name.contains('\n') || name.contains('\r');
    if (!*escaped)
        return name;
    QByteArray out;
    out.reserve(name.size() + 8);
    for (char c : name) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else if (c == '\r')
            out += "\\r";
        else
            out += c;
    }
    return out;
}

std::optional<QByteArray> unescapedName(const QByteArray &name)
{
    QByteArray out;
    out.reserve(name.size());
    for (qsizetype i = 0; i < name.size(); ++i) {
        const char c = name.at(i);
        if (c != '\\') {
            out += c;
            continue;
        }
        if (++i >= name.size())
            return std::nullopt;
        switch (name.at(i)) {
        case '\\': out += '\\'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        default: return std::nullopt;
        }
    }
    return out;
}

bool isExcluded(const QString &path, const QStringList &excluded)
{
    for (const QString &pattern : excluded) {
        if (pattern.endsWith(QLatin1Char('/'))) {
            if (path.startsWith(pattern))
                return true;
        } else if (path == pattern) {
            return true;
        }
    }
    return false;
}

void sortUnique(QList<ManifestEntry> &entries)
{
    std::stable_sort(entries.begin(), entries.end(),
                     [](const ManifestEntry &a, const ManifestEntry &b) { return a.path < b.path; });
    entries.erase(std::unique(entries.begin(), entries.end(),
                              [](const ManifestEntry &a, const ManifestEntry &b) {
                                  return a.path == b.path;
                              }),
                  entries.end());
}

} // namespace

Expected<FileManifest> FileManifest::read(const QString &manifestPath)
{
    QFile file(manifestPath);
    if (!file.open(QIODevice::ReadOnly)) {
        return makeError(tr("Could not open the manifest %1: %2.")
                             .arg(manifestPath, file.errorString()));
    }
    // A manifest of 20,000 files is ~2 MB; refuse anything absurd rather than eat memory.
    if (file.size() > 256 * 1024 * 1024)
        return makeError(tr("The manifest %1 is too large to be a file manifest.").arg(manifestPath));
    return parse(file.readAll(), manifestPath);
}

Expected<FileManifest> FileManifest::parse(const QByteArray &text, const QString &sourceName)
{
    QList<ManifestEntry> entries;
    int lineNumber = 0;
    qsizetype position = 0;
    while (position < text.size()) {
        qsizetype end = text.indexOf('\n', position);
        if (end < 0)
            end = text.size();
        QByteArray line = text.mid(position, end - position);
        position = end + 1;
        ++lineNumber;
        if (line.endsWith('\r'))
            line.chop(1);
        if (line.isEmpty())
            continue;
        const bool escaped = line.startsWith('\\');
        if (escaped)
            line.remove(0, 1);
        // "<64 hex>  <name>" (two spaces; sha256sum writes " *" for binary mode).
        if (line.size() < 67 || line.at(64) != ' ' || (line.at(65) != ' ' && line.at(65) != '*')) {
            return makeError(tr("Line %1 of the manifest %2 is not a sha256sum line.")
                                 .arg(lineNumber)
                                 .arg(sourceName));
        }
        const QByteArray digest = line.left(64).toLower();
        if (!isHexDigest(digest)) {
            return makeError(tr("Line %1 of the manifest %2 has no valid SHA-256 checksum.")
                                 .arg(lineNumber)
                                 .arg(sourceName));
        }
        QByteArray name = line.mid(66);
        if (escaped) {
            const auto plain = unescapedName(name);
            if (!plain) {
                return makeError(tr("Line %1 of the manifest %2 has a badly escaped file name.")
                                     .arg(lineNumber)
                                     .arg(sourceName));
            }
            name = *plain;
        }
        entries.append({QString::fromUtf8(name), digest, -1});
    }
    return fromEntries(std::move(entries));
}

Expected<FileManifest> FileManifest::compute(const QString &rootDir, const QStringList &excluded)
{
    const QDir root(rootDir);
    if (!root.exists())
        return makeError(tr("The folder %1 does not exist.").arg(rootDir));

    QStringList paths;
    QDirIterator it(rootDir, QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot | QDir::System,
                    QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString absolute = it.next();
        const QFileInfo info = it.fileInfo();
        if (info.isSymLink() || !info.isFile())
            continue; // links are not part of a shipped file set
        const QString relative = root.relativeFilePath(absolute);
        if (!isExcluded(relative, excluded))
            paths.append(relative);
    }

    struct Hashed
    {
        ManifestEntry entry;
        QString error;
    };
    // A private pool: hashing is I/O and CPU bound and must not starve the global pool,
    // which the GUI's other jobs use.
    QThreadPool pool;
    pool.setMaxThreadCount(std::max(2, QThread::idealThreadCount()));
    const QList<Hashed> hashed = QtConcurrent::blockingMapped<QList<Hashed>>(
        &pool, paths, [&root](const QString &relative) {
            QFile file(root.filePath(relative));
            if (!file.open(QIODevice::ReadOnly))
                return Hashed{{}, tr("Could not open %1: %2.").arg(file.fileName(), file.errorString())};
            file.setObjectName(file.fileName());
            qint64 size = 0;
            const Expected<QByteArray> digest = sha256OfDevice(file, &size);
            if (!digest)
                return Hashed{{}, digest.error()};
            return Hashed{{relative, *digest, size}, {}};
        });

    QList<ManifestEntry> entries;
    entries.reserve(hashed.size());
    for (const Hashed &one : hashed) {
        if (!one.error.isEmpty())
            return makeError(one.error);
        entries.append(one.entry);
    }
    return fromEntries(std::move(entries));
}

FileManifest FileManifest::fromEntries(QList<ManifestEntry> entries)
{
    FileManifest manifest;
    sortUnique(entries);
    manifest.m_entries = std::move(entries);
    return manifest;
}

QByteArray FileManifest::toText() const
{
    QByteArray text;
    text.reserve(m_entries.size() * 100);
    for (const ManifestEntry &entry : m_entries) {
        bool escaped = false;
        const QByteArray name = escapedName(entry.path.toUtf8(), &escaped);
        if (escaped)
            text += '\\';
        text += entry.sha256;
        text += "  ";
        text += name;
        text += '\n';
    }
    return text;
}

Result FileManifest::write(const QString &manifestPath) const
{
    const QFileInfo info(manifestPath);
    if (!QDir().mkpath(info.absolutePath()))
        return makeError(tr("Could not create the folder %1.").arg(info.absolutePath()));
    QSaveFile file(manifestPath);
    if (!file.open(QIODevice::WriteOnly)) {
        return makeError(tr("Could not write the manifest %1: %2.")
                             .arg(manifestPath, file.errorString()));
    }
    file.write(toText());
    if (!file.commit()) {
        return makeError(tr("Could not write the manifest %1: %2.")
                             .arg(manifestPath, file.errorString()));
    }
    return {};
}

std::optional<ManifestEntry> FileManifest::find(const QString &path) const
{
    const auto it = std::lower_bound(m_entries.cbegin(), m_entries.cend(), path,
                                     [](const ManifestEntry &entry, const QString &wanted) {
                                         return entry.path < wanted;
                                     });
    if (it == m_entries.cend() || it->path != path)
        return std::nullopt;
    return *it;
}

QList<FileManifest::Change> FileManifest::compare(const FileManifest &actual) const
{
    // Both lists are sorted: one merge pass.
    QList<Change> changes;
    auto mine = m_entries.cbegin();
    auto theirs = actual.m_entries.cbegin();
    while (mine != m_entries.cend() || theirs != actual.m_entries.cend()) {
        if (theirs == actual.m_entries.cend()
            || (mine != m_entries.cend() && mine->path < theirs->path)) {
            changes.append({Change::Deleted, mine->path});
            ++mine;
        } else if (mine == m_entries.cend() || theirs->path < mine->path) {
            changes.append({Change::Added, theirs->path});
            ++theirs;
        } else {
            if (mine->sha256 != theirs->sha256)
                changes.append({Change::Modified, mine->path});
            ++mine;
            ++theirs;
        }
    }
    return changes;
}

} // namespace ft

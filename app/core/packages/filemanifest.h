#pragma once

#include "model/expected.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace ft {

// One file of a tree: its path relative to the tree's root ('/' separators, UTF-8 on
// disk), its SHA-256 (lower-case hex) and its size (-1 when read from a manifest file,
// which does not record sizes).
struct ManifestEntry
{
    QString path;
    QByteArray sha256;
    qint64 size = -1;
};

// A file tree's checksums in `sha256sum` format ("<hex>  <relpath>", sorted by path):
// the pristine manifests of the Web UI, and the actual state of an installed tree.
class FileManifest
{
public:
    struct Change
    {
        enum Kind { Modified, Added, Deleted } kind;
        QString path;
    };

    static Expected<FileManifest> read(const QString &manifestPath);
    // Parses manifest text (what read() reads); sourceName appears in error sentences.
    static Expected<FileManifest> parse(const QByteArray &text, const QString &sourceName);
    // Hashes every regular file below rootDir in parallel, streaming each file.
    // excluded: paths relative to rootDir to leave out; "dir/" leaves out a whole folder.
    static Expected<FileManifest> compute(const QString &rootDir, const QStringList &excluded = {});
    // Builds a manifest from entries (sorted and de-duplicated by path here).
    static FileManifest fromEntries(QList<ManifestEntry> entries);

    // Writes atomically (QSaveFile), creating the folder when needed.
    Result write(const QString &manifestPath) const;
    QByteArray toText() const;

    const QList<ManifestEntry> &entries() const { return m_entries; }
    std::optional<ManifestEntry> find(const QString &path) const;
    bool isEmpty() const { return m_entries.isEmpty(); }
    qsizetype size() const { return m_entries.size(); }

    // Differences of an actual tree against this pristine manifest, sorted by path:
    // Modified (both, other hash), Added (only in actual), Deleted (only here).
    QList<Change> compare(const FileManifest &actual) const;

private:
    QList<ManifestEntry> m_entries; // sorted by path, unique
};

} // namespace ft

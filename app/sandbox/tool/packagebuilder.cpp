#include "packagebuilder.h"

#include "packages/filemanifest.h"
#include "packages/package.h"
#include "sandboxfiles.h"
#include "webuigenerator.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>

#include <random>

namespace ft::sandbox {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("ftsandbox", text);
}

Result writeFile(const QString &path, const QByteArray &data, bool executable = false)
{
    if (!QDir().mkpath(QFileInfo(path).absolutePath()))
        return makeError(tr("Could not create the folder for %1.").arg(path));
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) || file.write(data) != data.size())
        return makeError(tr("Could not write %1: %2.").arg(path, file.errorString()));
    if (executable)
        file.setPermissions(file.permissions() | QFileDevice::ExeOwner | QFileDevice::ExeGroup | QFileDevice::ExeOther);
    return {};
}

// Incompressible filler in 1 MiB blocks, so a 1 GiB package never sits in memory.
Result writePadding(const QString &path, qint64 bytes)
{
    if (!QDir().mkpath(QFileInfo(path).absolutePath()))
        return makeError(tr("Could not create the folder for %1.").arg(path));
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return makeError(tr("Could not write %1: %2.").arg(path, file.errorString()));
    std::mt19937_64 random(0xf10f7a9ULL);
    QByteArray block(1024 * 1024, Qt::Uninitialized);
    qint64 left = bytes;
    while (left > 0) {
        auto *words = reinterpret_cast<quint64 *>(block.data());
        for (qsizetype i = 0; i < block.size() / qsizetype(sizeof(quint64)); ++i)
            words[i] = random();
        const qint64 count = std::min<qint64>(left, block.size());
        if (file.write(block.constData(), count) != count)
            return makeError(tr("Could not write %1: %2.").arg(path, file.errorString()));
        left -= count;
    }
    return {};
}

Result flipOneByte(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadWrite) || file.size() == 0)
        return makeError(tr("Could not damage %1 for the corrupt package.").arg(path));
    const qint64 position = file.size() / 2;
    file.seek(position);
    char byte = 0;
    file.getChar(&byte);
    file.seek(position);
    file.putChar(char(byte ^ 0x5a));
    return {};
}

} // namespace

QString paddingPath(Component component)
{
    switch (component) {
    case Component::Server: return QStringLiteral("bin/flowtraq-data.pak");
    case Component::Nbi: return QStringLiteral("nbi/lib/nbi-data.pak");
    case Component::WebUi: return QStringLiteral("webui/media/intro.pak");
    }
    return {};
}

Expected<QStringList> writePayload(const PackageSpec &spec, const QString &directory)
{
    const QDir root(directory);
    QStringList files; // relative to the payload root, in archive order
    switch (spec.component) {
    case Component::Server:
    case Component::Nbi: {
        QList<OsKind> systems;
        if (spec.os != QLatin1String("windows"))
            systems.append(OsKind::Linux);
        if (spec.os != QLatin1String("linux"))
            systems.append(OsKind::Windows);
        for (OsKind os : systems) {
            for (const QString &binary : binaryPaths(spec.component, os)) {
                if (Result written = writeFile(root.filePath(binary), standInBinary(binary, spec.version), true); !written)
                    return makeError(written.error());
                files.append(binary);
            }
        }
        break;
    }
    case Component::WebUi: {
        const WebUiGenerator generator(spec.version.toString(), spec.webUiFiles);
        for (const QString &path : generator.paths()) {
            const QString relative = QStringLiteral("webui/") + path;
            if (Result written = writeFile(root.filePath(relative), generator.content(path)); !written)
                return makeError(written.error());
            files.append(relative);
        }
        break;
    }
    }
    if (spec.padBytes > 0) {
        if (Result written = writePadding(root.filePath(paddingPath(spec.component)), spec.padBytes); !written)
            return makeError(written.error());
        files.append(paddingPath(spec.component));
    }
    return files;
}

Result damageOneFile(const QString &path)
{
    return flipOneByte(path);
}

Result buildPackage(const PackageSpec &spec)
{
    const QFileInfo output(spec.output);
    if (!QDir().mkpath(output.absolutePath()))
        return makeError(tr("Could not create the folder %1.").arg(output.absolutePath()));
    QTemporaryDir payload(output.absolutePath() + QStringLiteral("/.ftpkg-build-XXXXXX"));
    if (!payload.isValid())
        return makeError(tr("Could not create a temporary folder beside %1.").arg(spec.output));
    const QDir root(payload.path());
    const Expected<QStringList> written = writePayload(spec, root.path());
    if (!written)
        return makeError(written.error());
    const QStringList &files = *written;

    const Expected<FileManifest> hashed = FileManifest::compute(root.path());
    if (!hashed)
        return makeError(hashed.error());
    PackageManifest manifest;
    manifest.component = spec.component;
    manifest.version = spec.version;
    manifest.os = spec.os;
    manifest.mode = spec.mode;
    manifest.slowSeconds = spec.slowSeconds;
    manifest.created = QDateTime::currentDateTimeUtc();
    for (const QString &path : files) {
        const auto entry = hashed->find(path);
        if (!entry)
            return makeError(tr("Could not hash %1.").arg(path));
        manifest.files.append({path, entry->size, entry->sha256});
    }
    if (spec.mode == QLatin1String("corrupt")) {
        if (Result damaged = flipOneByte(root.filePath(files.first())); !damaged)
            return damaged;
    }
    return writePackage(spec.output, manifest, root.path());
}

} // namespace ft::sandbox

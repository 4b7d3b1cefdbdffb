// libFuzzer target: reading an install package (.ftpkg: package.json, SHA256SUMS and
// payload/… entries in an archive libarchive reads) as the agent and the installer do:
// the manifest, the full verification, one file, and extraction into a scratch folder.
// A package comes from a file the user picks or a download: untrusted.
//
// Input: the package file's bytes. A second pass reads the input as package.json alone.

#include "packages/package.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QTemporaryDir>

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static QTemporaryDir scratch(QDir::tempPath() + QStringLiteral("/ftfuzz-package-XXXXXX"));
    const QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));

    const QJsonDocument json = QJsonDocument::fromJson(bytes);
    if (json.isObject())
        (void)ft::PackageManifest::fromJson(json.object());

    const QString path = scratch.filePath(QStringLiteral("input.ftpkg"));
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return 0;
    file.write(bytes);
    file.close();

    (void)ft::readPackageManifest(path);
    const ft::Result verified = ft::verifyPackage(path);
    // The one-read check must judge the same bytes the same way.
    const ft::Expected<QByteArray> checked = ft::verifyPackageAndHash(path);
    if (checked.has_value() != verified.has_value())
        __builtin_trap();
    (void)ft::readPackageFile(path, QStringLiteral("VERSION"), 64 * 1024);
    const QString target = scratch.filePath(QStringLiteral("install"));
    QDir(target).removeRecursively();
    QDir().mkpath(target);
    (void)ft::extractPackagePayload(path, target);
    // Nothing may land outside the target: the scratch folder holds only these two.
    const QStringList entries = QDir(scratch.path()).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden);
    if (entries.size() > 2)
        __builtin_trap();
    return 0;
}

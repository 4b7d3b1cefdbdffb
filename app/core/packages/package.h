#pragma once

#include "model/domain.h"
#include "model/expected.h"
#include "model/version.h"

#include <QByteArray>
#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QString>

#include <functional>

namespace ft {

// One payload file of an install package; path is relative to the installation folder
// (the archive holds it as "payload/<path>").
struct PackageFile
{
    QString path;
    qint64 size = 0;
    QByteArray sha256; // lower-case hex
};

// package.json, the first entry of every *.ftpkg (see app/sandbox/LAYOUT.md).
struct PackageManifest
{
    int format = 1;
    Component component = Component::Server;
    Version version;
    QString os = QStringLiteral("any");        // any | linux | windows
    QString mode = QStringLiteral("normal");   // normal | slow | fail | hang | reboot | reboot-needed | corrupt
    int slowSeconds = 20;
    QDateTime created;
    QList<PackageFile> files;

    static Expected<PackageManifest> fromJson(const QJsonObject &json);
    QJsonObject toJson() const;

    // True when the package may be installed on a node of this OS.
    bool fitsOs(OsKind nodeOs) const;
};

// The modes a sandbox package's installer knows.
QStringList packageModes();

// Exit codes of an installer (Windows Installer's numbers, which the sandbox mirrors).
namespace InstallerExit {
constexpr int Success = 0;
constexpr int Failed = 1603;             // ERROR_INSTALL_FAILURE
constexpr int ServiceRunning = 1618;     // ERROR_INSTALL_ALREADY_RUNNING: stop the service first
constexpr int PackageInvalid = 1620;     // ERROR_INSTALL_PACKAGE_INVALID: checksum/manifest wrong
constexpr int OtherVersion = 1638;       // ERROR_PRODUCT_VERSION: wrong component/OS/lower version
constexpr int RebootStarted = 1641;      // ERROR_SUCCESS_REBOOT_INITIATED: the installer started a restart
constexpr int RebootRequired = 3010;     // ERROR_SUCCESS_REBOOT_REQUIRED
} // namespace InstallerExit

// POSIX keeps only the low 8 bits of an exit status (1603 arrives as 67). Maps a
// process's exit code back to the installer's code; unknown codes pass through.
int installerExitCodeFromStatus(int processExitCode);

// Reads package.json, the first entry, without reading the rest of the archive.
Expected<PackageManifest> readPackageManifest(const QString &packagePath);

// Streams every entry: each payload file's size and SHA-256 must match both package.json
// and SHA256SUMS, every listed file must be there once, nothing else may be.
Result verifyPackage(const QString &packagePath);

// verifyPackage() and the whole file's SHA-256 (lower-case hex) in one read, so the
// digest is of exactly the bytes that were checked: a file that changes between a check
// and a separate hash can not pass with the hash of its new bytes.
Expected<QByteArray> verifyPackageAndHash(const QString &packagePath);

// Extracts payload/… to targetDir/… (streaming, checking each file's SHA-256 on the way).
// Refuses absolute paths, "..", links and anything but regular files.
Result extractPackagePayload(const QString &packagePath, const QString &targetDir);
// The same, telling progress after each file (path relative to the install folder).
using ExtractProgress = std::function<void(const QString &path, qint64 bytesDone, qint64 bytesTotal)>;
Result extractPackagePayload(const QString &packagePath, const QString &targetDir,
                             const ExtractProgress &progress);

// One payload file ("payload/<path>", path relative to the install folder) of a package,
// at most maxBytes (for small files such as a pristine Web UI file).
Expected<QByteArray> readPackageFile(const QString &packagePath, const QString &path,
                                     qint64 maxBytes = 4 * 1024 * 1024);

// Writes a package: package.json (manifest as given), then payload/<path> for each of
// manifest.files read from payloadDir/<path> (streamed), then SHA256SUMS built from
// manifest.files. Written to a temporary file and renamed into place.
Result writePackage(const QString &packagePath, const PackageManifest &manifest,
                    const QString &payloadDir);

// True when a relative path is safe inside a folder: not empty, not absolute, no
// backslash, no "." or ".." segment, no empty segment.
bool isSafeRelativePath(const QString &path);

} // namespace ft

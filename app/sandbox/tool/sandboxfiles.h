#pragma once

#include "model/domain.h"
#include "model/expected.h"
#include "model/version.h"

#include <QByteArray>
#include <QDateTime>
#include <QString>
#include <QStringList>

// Pieces of an installation that `init`, `make-package` and `apply` share.
namespace ft::sandbox {

// File names of a component's stand-in binaries on an OS, relative to the install folder.
QStringList binaryPaths(Component component, OsKind os);
// A stand-in binary: a small file that names its component and version.
QByteArray standInBinary(const QString &path, const Version &version);

// The folder(s) an installer swaps wholesale for a component, and its version file.
QString componentFolder(Component component);        // "bin", "nbi", "webui"
QString componentVersionFile(Component component);   // "VERSION", "nbi/VERSION", "webui/VERSION"
QString webUiManifestPath(const QString &installDir, const Version &version);
QString webUiPackagePath(const QString &installDir, const Version &version);

// Reads a one-line version file; a null Version when the file is missing.
Expected<Version> readVersionFile(const QString &path);
// ownerOnly: mode 0600 (the file holds a secret, such as cluster.json's token).
Result writeFileAtomically(const QString &path, const QByteArray &data, bool ownerOnly = false);

// The pid in DIR/run/flowtraq.pid when that process is alive, else 0.
qint64 liveDaemonPid(const QString &installDir);
bool isProcessAlive(qint64 pid);

// 14 days of hourly flow counts ending at the last whole hour before `now`: busy office
// hours, quiet nights and weekends; deterministic per node name.
QByteArray seededFlowHistory(const QString &nodeName, const QDateTime &now);

// Replaces or adds key=value in [section] of an INI text, keeping everything else
// (comments, order, other keys) byte for byte.
QByteArray setIniValue(const QByteArray &ini, const QString &section, const QString &key,
                       const QString &value);

} // namespace ft::sandbox

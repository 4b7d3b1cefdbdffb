#pragma once

#include "model/domain.h"
#include "model/expected.h"
#include "model/version.h"

#include <QString>
#include <QStringList>

namespace ft::sandbox {

// What `ftsandbox make-package` writes.
struct PackageSpec
{
    Version version;
    Component component = Component::Server;
    QString mode = QStringLiteral("normal");
    QString os = QStringLiteral("any");
    int slowSeconds = 20;
    qint64 padBytes = 0;   // an extra payload file of this many bytes (streamed)
    int webUiFiles = 300;
    QString output;
};

// Builds the payload in a temporary folder beside the output (same file system, never
// in memory), hashes it, and writes the package. `corrupt` flips a byte of one payload
// file after hashing, so its checksum no longer matches.
Result buildPackage(const PackageSpec &spec);

// The component's files for spec (binaries, Web UI files, padding), written under
// directory; returns their paths relative to it, in archive order.
Expected<QStringList> writePayload(const PackageSpec &spec, const QString &directory);
// What `corrupt` does to a payload file after it was hashed.
Result damageOneFile(const QString &path);

// Where --pad-bytes puts its file, relative to the installation folder.
QString paddingPath(Component component);

} // namespace ft::sandbox

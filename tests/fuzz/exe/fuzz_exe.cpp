// libFuzzer target: the one vendor-format reader written by hand, ExeReader (a PE's
// version resource: DOS and PE headers, section table, resource directory, then the
// VS_VERSIONINFO blocks). An .exe comes from a file the user picks: untrusted. The other
// formats are read by libmsi, librpm and libarchive.
//
// Input: the file's bytes.

#include "packages/vendorpackage.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static QTemporaryDir scratch(QDir::tempPath() + QStringLiteral("/ftfuzz-exe-XXXXXX"));
    const QString path = scratch.filePath(QStringLiteral("input.exe"));
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return 0;
    file.write(reinterpret_cast<const char *>(data), qint64(size));
    file.close();
    (void)ft::ExeReader::read(path);
    return 0;
}

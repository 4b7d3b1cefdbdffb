#pragma once

#include "model/expected.h"

#include <QByteArray>
#include <QString>

#include <memory>

class QIODevice;

namespace ft {

// Incremental SHA-256. Uses OpenSSL's libcrypto when it can be loaded (SHA-NI/AVX2 code,
// several times faster than QCryptographicHash in Qt 6.4), else QCryptographicHash.
// The budget for Web UI manifests is ≥ 80 % of `sha256sum`, which the fallback misses.
class Sha256
{
public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256 &) = delete;
    Sha256 &operator=(const Sha256 &) = delete;

    void addData(const char *data, qint64 size);
    void addData(const QByteArray &data) { addData(data.constData(), data.size()); }
    // Lower-case hex digest; the object is spent afterwards.
    QByteArray hexResult();

    static QByteArray hexHash(const QByteArray &data);
    // "openssl" or "qt": which implementation hashes (for benchmarks and logs).
    static QString backend();

private:
    struct Private;
    std::unique_ptr<Private> d;
};

// SHA-256 of a file as lower-case hex, read in 1 MiB blocks (never the whole file).
Expected<QByteArray> sha256OfFile(const QString &path);

// SHA-256 of everything left on an open device, as lower-case hex; counts the bytes.
Expected<QByteArray> sha256OfDevice(QIODevice &device, qint64 *bytesRead = nullptr);

} // namespace ft

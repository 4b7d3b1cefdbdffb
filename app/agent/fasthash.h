#pragma once

#include "model/expected.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

#include <memory>

namespace ft::agent {

// SHA-256 through OpenSSL's EVP interface, which uses the CPU's SHA instructions where
// there are some: several times faster than QCryptographicHash, which matters when a
// staged package of a gigabyte is hashed while it downloads and again before install.
class Sha256
{
public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256 &) = delete;
    Sha256 &operator=(const Sha256 &) = delete;

    void addData(QByteArrayView data);
    // Lower-case hex; the object can not be used afterwards.
    QByteArray hexResult();

private:
    struct Private;
    std::unique_ptr<Private> d;
};

// SHA-256 of a file as lower-case hex, read in 1 MiB blocks.
Expected<QByteArray> sha256OfFileFast(const QString &path);

} // namespace ft::agent

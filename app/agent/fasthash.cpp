#include "fasthash.h"

#include <QCoreApplication>
#include <QFile>

#include <openssl/evp.h>

namespace ft::agent {

struct Sha256::Private
{
    EVP_MD_CTX *context = nullptr;
};

Sha256::Sha256()
    : d(std::make_unique<Private>())
{
    d->context = EVP_MD_CTX_new();
    if (!d->context || EVP_DigestInit_ex(d->context, EVP_sha256(), nullptr) != 1)
        qFatal("OpenSSL cannot compute SHA-256.");
}

Sha256::~Sha256()
{
    EVP_MD_CTX_free(d->context);
}

void Sha256::addData(QByteArrayView data)
{
    EVP_DigestUpdate(d->context, data.data(), size_t(data.size()));
}

QByteArray Sha256::hexResult()
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_DigestFinal_ex(d->context, digest, &length);
    return QByteArray(reinterpret_cast<const char *>(digest), int(length)).toHex();
}

Expected<QByteArray> sha256OfFileFast(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return makeError(QCoreApplication::translate("ft::agent::Sha256", "Cannot read %1: %2")
                             .arg(path, file.errorString()));
    Sha256 hash;
    QByteArray buffer(1024 * 1024, Qt::Uninitialized);
    for (;;) {
        const qint64 n = file.read(buffer.data(), buffer.size());
        if (n < 0)
            return makeError(QCoreApplication::translate("ft::agent::Sha256", "Cannot read %1: %2")
                                 .arg(path, file.errorString()));
        if (n == 0)
            break;
        hash.addData(QByteArrayView(buffer.constData(), n));
    }
    return hash.hexResult();
}

} // namespace ft::agent

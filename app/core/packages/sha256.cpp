#include "packages/sha256.h"

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QFile>
#include <QLibrary>

namespace ft {

namespace {

constexpr qint64 blockSize = 1024 * 1024;

// libcrypto's EVP digest API, resolved at run time as Qt resolves its TLS backend, so
// the core does not need libcrypto at link time and still works without it.
struct Crypto
{
    using NewFn = void *(*)();
    using FreeFn = void (*)(void *);
    using MdFn = const void *(*)();
    using InitFn = int (*)(void *, const void *, void *);
    using UpdateFn = int (*)(void *, const void *, size_t);
    using FinalFn = int (*)(void *, unsigned char *, unsigned int *);

    NewFn newContext = nullptr;
    FreeFn freeContext = nullptr;
    MdFn sha256 = nullptr;
    InitFn init = nullptr;
    UpdateFn update = nullptr;
    FinalFn final = nullptr;
    bool loaded = false;

    static const Crypto &instance()
    {
        static const Crypto crypto = load();
        return crypto;
    }

private:
    static Crypto load()
    {
        Crypto crypto;
        if (qEnvironmentVariableIsSet("FT_SHA256_NO_OPENSSL"))
            return crypto;
#if defined(Q_OS_WIN)
        static QLibrary library(QStringLiteral("libcrypto-3-x64"));
#else
        static QLibrary library(QStringLiteral("crypto"), 3);
#endif
        if (!library.load())
            return crypto;
        crypto.newContext = reinterpret_cast<NewFn>(library.resolve("EVP_MD_CTX_new"));
        crypto.freeContext = reinterpret_cast<FreeFn>(library.resolve("EVP_MD_CTX_free"));
        crypto.sha256 = reinterpret_cast<MdFn>(library.resolve("EVP_sha256"));
        crypto.init = reinterpret_cast<InitFn>(library.resolve("EVP_DigestInit_ex"));
        crypto.update = reinterpret_cast<UpdateFn>(library.resolve("EVP_DigestUpdate"));
        crypto.final = reinterpret_cast<FinalFn>(library.resolve("EVP_DigestFinal_ex"));
        crypto.loaded = crypto.newContext && crypto.freeContext && crypto.sha256 && crypto.init
                        && crypto.update && crypto.final;
        return crypto;
    }
};

} // namespace

struct Sha256::Private
{
    void *context = nullptr; // EVP_MD_CTX when libcrypto is there
    QCryptographicHash fallback{QCryptographicHash::Sha256};
};

Sha256::Sha256()
    : d(std::make_unique<Private>())
{
    const Crypto &crypto = Crypto::instance();
    if (crypto.loaded) {
        d->context = crypto.newContext();
        if (d->context && crypto.init(d->context, crypto.sha256(), nullptr) != 1) {
            crypto.freeContext(d->context);
            d->context = nullptr;
        }
    }
}

Sha256::~Sha256()
{
    if (d->context)
        Crypto::instance().freeContext(d->context);
}

void Sha256::addData(const char *data, qint64 size)
{
    if (d->context)
        Crypto::instance().update(d->context, data, size_t(size));
    else
        d->fallback.addData(QByteArrayView(data, size));
}

QByteArray Sha256::hexResult()
{
    if (!d->context)
        return d->fallback.result().toHex();
    unsigned char digest[32];
    unsigned int length = 0;
    Crypto::instance().final(d->context, digest, &length);
    return QByteArray(reinterpret_cast<const char *>(digest), int(length)).toHex();
}

QByteArray Sha256::hexHash(const QByteArray &data)
{
    Sha256 hash;
    hash.addData(data);
    return hash.hexResult();
}

QString Sha256::backend()
{
    return Crypto::instance().loaded ? QStringLiteral("openssl") : QStringLiteral("qt");
}

Expected<QByteArray> sha256OfDevice(QIODevice &device, qint64 *bytesRead)
{
    Sha256 hash;
    QByteArray block(blockSize, Qt::Uninitialized);
    qint64 total = 0;
    for (;;) {
        const qint64 got = device.read(block.data(), block.size());
        if (got < 0) {
            return makeError(QCoreApplication::translate("ft", "Could not read %1: %2.")
                                 .arg(device.objectName(), device.errorString()));
        }
        if (got == 0)
            break;
        hash.addData(block.constData(), got);
        total += got;
    }
    if (bytesRead)
        *bytesRead = total;
    return hash.hexResult();
}

Expected<QByteArray> sha256OfFile(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        return makeError(QCoreApplication::translate("ft", "Could not open %1: %2.")
                             .arg(path, file.errorString()));
    }
    file.setObjectName(path);
    return sha256OfDevice(file);
}

} // namespace ft

#include "tokenauth.h"

#include <QCryptographicHash>

#include <openssl/crypto.h>
#include <openssl/rand.h>

namespace ft::agent {

namespace {

QByteArray randomBytes(int count)
{
    QByteArray bytes(count, Qt::Uninitialized);
    // OpenSSL's CSPRNG: salts and tokens must not be predictable.
    if (RAND_bytes(reinterpret_cast<unsigned char *>(bytes.data()), count) != 1)
        qFatal("The system's random number generator failed.");
    return bytes;
}

QByteArray digest(const QByteArray &saltHex, QByteArrayView token)
{
    QCryptographicHash hash(QCryptographicHash::Sha256);
    hash.addData(QByteArray::fromHex(saltHex));
    hash.addData(token);
    return hash.result().toHex();
}

} // namespace

TokenHash TokenHash::make(QByteArrayView token)
{
    TokenHash result;
    result.salt = randomBytes(16).toHex();
    result.hash = digest(result.salt, token);
    return result;
}

bool TokenHash::matches(QByteArrayView token) const
{
    if (isNull() || token.isEmpty())
        return false;
    const QByteArray candidate = digest(salt, token);
    // Both are 64 hex characters; a stored hash of another length never matches,
    // but is still compared over the candidate's full length.
    const QByteArray expected = hash.leftJustified(candidate.size(), '\0', true);
    const bool same = CRYPTO_memcmp(candidate.constData(), expected.constData(),
                                    size_t(candidate.size())) == 0;
    return same && hash.size() == candidate.size();
}

QByteArray generateToken()
{
    return randomBytes(32).toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

QByteArray bearerToken(QByteArrayView authorizationHeader)
{
    const QByteArray value = authorizationHeader.trimmed().toByteArray();
    const QByteArray scheme = "bearer ";
    if (value.size() <= scheme.size() || value.left(scheme.size()).toLower() != scheme)
        return {};
    return value.mid(scheme.size()).trimmed();
}

} // namespace ft::agent

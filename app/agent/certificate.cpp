#include "certificate.h"

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QFile>
#include <QSaveFile>
#include <QSslCertificate>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

namespace ft::agent {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::agent::Certificate", text); }

template<typename T, void (*Free)(T *)>
struct Deleter
{
    void operator()(T *p) const { Free(p); }
};
using PKeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;

QByteArray bioContents(BIO *bio)
{
    char *data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    return QByteArray(data, size);
}

bool addExtension(X509 *cert, int nid, const QByteArray &value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.constData()));
    return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

Result writeFile(const QString &path, const QByteArray &data, QFile::Permissions permissions)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return makeError(tr("Cannot write %1: %2").arg(path, file.errorString()));
    // Restrict before any byte of a key reaches the disk.
    file.setPermissions(permissions);
    file.write(data);
    if (!file.commit())
        return makeError(tr("Cannot write %1: %2").arg(path, file.errorString()));
    return {};
}

} // namespace

Result writeSelfSignedCertificate(const QString &certPath, const QString &keyPath,
                                  const QStringList &hostNames)
{
    PKeyPtr key(EVP_EC_gen("P-256"));
    if (!key)
        return makeError(tr("Cannot make a key for the agent's certificate (OpenSSL failed)."));

    X509Ptr cert(X509_new());
    X509_set_version(cert.get(), 2); // v3, needed for extensions
    // A random serial keeps browsers and Qt from confusing two certificates of one host.
    ASN1_INTEGER *serial = X509_get_serialNumber(cert.get());
    BIGNUM *bn = BN_new();
    BN_rand(bn, 64, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY);
    BN_to_ASN1_INTEGER(bn, serial);
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60 * 60);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 10L * 365 * 24 * 60 * 60);
    X509_set_pubkey(cert.get(), key.get());

    const QString commonName = hostNames.isEmpty() ? QStringLiteral("localhost") : hostNames.first();
    X509_NAME *name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char *>("ftupgrade-agent"), -1, -1, 0);
    const QByteArray cn = commonName.toUtf8();
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char *>(cn.constData()), -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);

    QStringList altNames = {QStringLiteral("IP:127.0.0.1"), QStringLiteral("DNS:localhost")};
    for (const QString &host : hostNames) {
        const QString entry = QStringLiteral("DNS:") + host;
        if (!host.isEmpty() && !altNames.contains(entry) && host != QLatin1String("127.0.0.1"))
            altNames.append(entry);
    }
    if (!addExtension(cert.get(), NID_subject_alt_name, altNames.join(QLatin1Char(',')).toUtf8())
        || !addExtension(cert.get(), NID_basic_constraints, "critical,CA:FALSE")
        || !addExtension(cert.get(), NID_key_usage, "critical,digitalSignature,keyEncipherment")
        || !addExtension(cert.get(), NID_ext_key_usage, "serverAuth")
        || !addExtension(cert.get(), NID_subject_key_identifier, "hash")) {
        return makeError(tr("Cannot fill in the agent's certificate (OpenSSL failed)."));
    }
    if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0)
        return makeError(tr("Cannot sign the agent's certificate (OpenSSL failed)."));

    BioPtr certBio(BIO_new(BIO_s_mem()));
    BioPtr keyBio(BIO_new(BIO_s_mem()));
    if (PEM_write_bio_X509(certBio.get(), cert.get()) != 1
        || PEM_write_bio_PrivateKey(keyBio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
        return makeError(tr("Cannot encode the agent's certificate (OpenSSL failed)."));
    }

    if (auto written = writeFile(keyPath, bioContents(keyBio.get()),
                                 QFile::ReadOwner | QFile::WriteOwner); !written) {
        return written;
    }
    return writeFile(certPath, bioContents(certBio.get()),
                     QFile::ReadOwner | QFile::WriteOwner | QFile::ReadGroup | QFile::ReadOther);
}

Expected<QByteArray> certificateFingerprint(const QByteArray &pem)
{
    const QList<QSslCertificate> certs = QSslCertificate::fromData(pem, QSsl::Pem);
    if (certs.isEmpty() || certs.first().isNull())
        return makeError(tr("The file does not hold a PEM certificate."));
    return QCryptographicHash::hash(certs.first().toDer(), QCryptographicHash::Sha256).toHex();
}

Expected<QByteArray> certificateFingerprintOfFile(const QString &certPath)
{
    QFile file(certPath);
    if (!file.open(QIODevice::ReadOnly))
        return makeError(tr("Cannot read the certificate %1: %2").arg(certPath, file.errorString()));
    return certificateFingerprint(file.readAll());
}

} // namespace ft::agent

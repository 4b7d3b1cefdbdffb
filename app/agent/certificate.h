#pragma once

#include "model/expected.h"

#include <QByteArray>
#include <QString>
#include <QStringList>

namespace ft::agent {

// Makes a self-signed TLS certificate for the agent (EC P-256, valid 10 years,
// subject alternative names 127.0.0.1, localhost and the given host names) and
// writes it as PEM to certPath, the private key as PEM to keyPath with mode 0600
// (readable by the agent's own user only). Files are replaced atomically.
Result writeSelfSignedCertificate(const QString &certPath, const QString &keyPath,
                                  const QStringList &hostNames);

// SHA-256 of the DER form of a PEM certificate, lower-case hex: what the wizard pins
// (same as QSslCertificate::digest(QCryptographicHash::Sha256).toHex()).
Expected<QByteArray> certificateFingerprint(const QByteArray &pem);
Expected<QByteArray> certificateFingerprintOfFile(const QString &certPath);

} // namespace ft::agent

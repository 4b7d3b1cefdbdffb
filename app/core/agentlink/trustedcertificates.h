#pragma once

#include "model/expected.h"

#include <QString>
#include <QStringList>
#include <QUrl>

class QSettings;

namespace ft {

// The agents' certificate fingerprints the administrator has trusted, per agent
// address ("host:port"). Fingerprints are not secrets, so they live in QSettings;
// the tokens that go with them live in the keychain (CredentialStore).
class TrustedCertificates
{
public:
    // Uses the given settings (not owned); nullptr means the application's QSettings.
    explicit TrustedCertificates(QSettings *settings = nullptr);
    ~TrustedCertificates();

    TrustedCertificates(const TrustedCertificates &) = delete;
    TrustedCertificates &operator=(const TrustedCertificates &) = delete;

    // Stores the fingerprint (any accepted spelling) for the address; a bad
    // fingerprint is an error and changes nothing.
    Result trust(const QString &address, const QString &fingerprint);
    // The trusted fingerprint (lower-case hex), or an empty string.
    QString fingerprint(const QString &address) const;
    void forget(const QString &address);
    QStringList addresses() const;

    // "host:port" of an agent URL (the default agent port when the URL has none).
    static QString addressOf(const QUrl &url);

    // Accepts hex with or without colons or spaces, any case; gives 64 lower-case
    // hex digits (a SHA-256), or an error sentence.
    static Expected<QString> normalize(const QString &fingerprint);
    // For people: lower-case hex without separators, as 'ftupgrade-agent init' prints
    // it. Text that is not a fingerprint is returned as it is.
    static QString formatForPeople(const QString &fingerprint);

private:
    QSettings &settings() const;

    QSettings *m_settings = nullptr;
    QSettings *m_ownSettings = nullptr;
};

} // namespace ft

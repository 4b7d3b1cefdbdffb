#pragma once

#include "model/expected.h"

#include <QList>
#include <QString>
#include <QUrl>

class QSettings;

namespace ft {

// A saved way into a cluster: the portal agent's address and its trusted certificate.
// The token is not here: it lives in the OS keychain under
// CredentialStore::clusterKey(TrustedCertificates::addressOf(portalUrl)).
struct ConnectionProfile
{
    QString name;
    QUrl portalUrl;
    QString fingerprint;
};

// Saved profiles in QSettings (group "profiles"). Fingerprints are not secrets.
class ConnectionProfiles
{
public:
    explicit ConnectionProfiles(QSettings *settings = nullptr);
    ~ConnectionProfiles();
    ConnectionProfiles(const ConnectionProfiles &) = delete;
    ConnectionProfiles &operator=(const ConnectionProfiles &) = delete;

    QList<ConnectionProfile> list() const;
    // Adds or replaces the profile of that name. A name, an https URL and a
    // fingerprint are required; bad input changes nothing.
    Result save(const ConnectionProfile &profile);
    Result remove(const QString &name);

private:
    QSettings &settings() const;
    Result writeAll(const QList<ConnectionProfile> &profiles);

    QSettings *m_settings = nullptr;
    QSettings *m_ownSettings = nullptr;
};

// Checks what an administrator typed as a portal agent's address: "host",
// "host:port" or "https://host:port". Returns the https URL (default port 9650).
Expected<QUrl> parseAgentAddress(const QString &text, int defaultPort = 9650);

} // namespace ft

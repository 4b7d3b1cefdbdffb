#include "agentlink/connectionprofile.h"

#include "agentlink/trustedcertificates.h"

#include <QCoreApplication>
#include <QSettings>

namespace ft {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::ConnectionProfiles", text); }

} // namespace

ConnectionProfiles::ConnectionProfiles(QSettings *settings)
    : m_settings(settings)
{
    if (!m_settings)
        m_ownSettings = new QSettings;
}

ConnectionProfiles::~ConnectionProfiles()
{
    delete m_ownSettings;
}

QSettings &ConnectionProfiles::settings() const
{
    return m_settings ? *m_settings : *m_ownSettings;
}

QList<ConnectionProfile> ConnectionProfiles::list() const
{
    QList<ConnectionProfile> profiles;
    QSettings &s = settings();
    const int count = s.beginReadArray(QStringLiteral("profiles"));
    for (int i = 0; i < count; ++i) {
        s.setArrayIndex(i);
        ConnectionProfile profile;
        profile.name = s.value(QStringLiteral("name")).toString();
        profile.portalUrl = QUrl(s.value(QStringLiteral("portal")).toString());
        profile.fingerprint = s.value(QStringLiteral("fingerprint")).toString();
        if (!profile.name.isEmpty() && profile.portalUrl.isValid())
            profiles.append(profile);
    }
    s.endArray();
    return profiles;
}

Result ConnectionProfiles::save(const ConnectionProfile &profile)
{
    if (profile.name.trimmed().isEmpty())
        return makeError(tr("A connection needs a name."));
    if (!profile.portalUrl.isValid() || profile.portalUrl.scheme() != QLatin1String("https"))
        return makeError(tr("A connection needs the portal agent's https address."));
    const auto fingerprint = TrustedCertificates::normalize(profile.fingerprint);
    if (!fingerprint)
        return makeError(fingerprint.error());

    QList<ConnectionProfile> profiles = list();
    ConnectionProfile stored = profile;
    stored.name = profile.name.trimmed();
    stored.fingerprint = *fingerprint;
    bool replaced = false;
    for (ConnectionProfile &existing : profiles) {
        if (existing.name == stored.name) {
            existing = stored;
            replaced = true;
        }
    }
    if (!replaced)
        profiles.append(stored);

    return writeAll(profiles);
}

Result ConnectionProfiles::remove(const QString &name)
{
    QList<ConnectionProfile> profiles = list();
    profiles.removeIf([&](const ConnectionProfile &p) { return p.name == name; });
    return writeAll(profiles);
}

Result ConnectionProfiles::writeAll(const QList<ConnectionProfile> &profiles)
{
    QSettings &s = settings();
    s.remove(QStringLiteral("profiles"));
    s.beginWriteArray(QStringLiteral("profiles"), int(profiles.size()));
    for (int i = 0; i < profiles.size(); ++i) {
        s.setArrayIndex(i);
        s.setValue(QStringLiteral("name"), profiles.at(i).name);
        s.setValue(QStringLiteral("portal"), profiles.at(i).portalUrl.toString());
        s.setValue(QStringLiteral("fingerprint"), profiles.at(i).fingerprint);
    }
    s.endArray();
    s.sync();
    if (s.status() != QSettings::NoError)
        return makeError(tr("The connections could not be saved to %1.").arg(s.fileName()));
    return {};
}

Expected<QUrl> parseAgentAddress(const QString &text, int defaultPort)
{
    const QString trimmed = text.trimmed();
    if (trimmed.isEmpty())
        return makeError(tr("Enter the portal agent's address, e.g. portal.example.com:9650."));
    QUrl url = QUrl::fromUserInput(trimmed.contains(QLatin1String("://"))
                                       ? trimmed
                                       : QStringLiteral("https://") + trimmed);
    if (!url.isValid() || url.host().isEmpty())
        return makeError(tr("\"%1\" is not a host name or address.").arg(trimmed.left(80)));
    if (url.scheme() != QLatin1String("https"))
        return makeError(tr("The agent speaks HTTPS only; use https:// or just host:port."));
    if (!url.path().isEmpty() && url.path() != QLatin1String("/"))
        return makeError(tr("Give the agent's address without a path (host:port)."));
    if (url.port() <= 0)
        url.setPort(defaultPort);
    url.setPath(QString());
    return url;
}

} // namespace ft

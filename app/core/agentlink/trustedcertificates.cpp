#include "agentlink/trustedcertificates.h"

#include <algorithm>

#include <QCoreApplication>
#include <QRegularExpression>
#include <QSettings>

namespace ft {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("ft::TrustedCertificates", text);
}

constexpr int defaultAgentPort = 9650;

// QSettings treats '/' and '\' in keys as group separators, so addresses are
// stored percent-encoded; "host:port" never needs more than that.
QString settingsKey(const QString &address)
{
    return QStringLiteral("TrustedAgentCertificates/")
           + QString::fromLatin1(QUrl::toPercentEncoding(address.trimmed().toLower()));
}

} // namespace

TrustedCertificates::TrustedCertificates(QSettings *settings)
    : m_settings(settings)
{
}

TrustedCertificates::~TrustedCertificates()
{
    delete m_ownSettings;
}

QSettings &TrustedCertificates::settings() const
{
    if (m_settings)
        return *m_settings;
    auto *self = const_cast<TrustedCertificates *>(this);
    if (!self->m_ownSettings)
        self->m_ownSettings = new QSettings;
    return *self->m_ownSettings;
}

Result TrustedCertificates::trust(const QString &address, const QString &fingerprint)
{
    if (address.trimmed().isEmpty())
        return makeError(tr("The agent's address is empty."));
    const auto normalized = normalize(fingerprint);
    if (!normalized)
        return makeError(normalized.error());
    settings().setValue(settingsKey(address), *normalized);
    settings().sync();
    return {};
}

QString TrustedCertificates::fingerprint(const QString &address) const
{
    const QString stored = settings().value(settingsKey(address)).toString();
    return normalize(stored).value_or(QString());
}

void TrustedCertificates::forget(const QString &address)
{
    settings().remove(settingsKey(address));
    settings().sync();
}

QStringList TrustedCertificates::addresses() const
{
    QSettings &s = settings();
    s.beginGroup(QStringLiteral("TrustedAgentCertificates"));
    const QStringList keys = s.childKeys();
    s.endGroup();
    QStringList result;
    for (const QString &key : keys)
        result.append(QUrl::fromPercentEncoding(key.toLatin1()));
    result.sort();
    return result;
}

QString TrustedCertificates::addressOf(const QUrl &url)
{
    return QStringLiteral("%1:%2").arg(url.host().toLower()).arg(url.port(defaultAgentPort));
}

Expected<QString> TrustedCertificates::normalize(const QString &fingerprint)
{
    // Every agent call normalizes its pin: the usual spelling (64 lower-case hex digits)
    // is taken as it is, without a copy or a regular expression.
    const auto isSha256Hex = [](const QString &text) {
        return text.size() == 64 && std::all_of(text.cbegin(), text.cend(), [](QChar c) {
                   return (c >= QLatin1Char('0') && c <= QLatin1Char('9'))
                          || (c >= QLatin1Char('a') && c <= QLatin1Char('f'));
               });
    };
    if (isSha256Hex(fingerprint))
        return fingerprint;
    QString hex = fingerprint.trimmed().toLower();
    hex.remove(QLatin1Char(':'));
    hex.remove(QLatin1Char(' '));
    if (!isSha256Hex(hex))
        return makeError(tr("\"%1\" is not a SHA-256 certificate fingerprint (64 hexadecimal "
                            "digits, colons allowed).")
                             .arg(fingerprint.left(120)));
    return hex;
}

QString TrustedCertificates::formatForPeople(const QString &fingerprint)
{
    const auto hex = normalize(fingerprint);
    if (!hex)
        return fingerprint;
    // Exactly as 'ftupgrade-agent init' printed it, so the two compare at a glance.
    return *hex;
}

} // namespace ft

#include "webapi/webapiinfo.h"

#include "model/version.h"

#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonDocument>

namespace ft {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::WebApi", text); }

QString versionOf(const QJsonValue &value)
{
    if (value.isString())
        return findVersionText(value.toString());
    return {};
}

void collect(const QJsonObject &object, const QString &prefix, int depth, QStringList *keys,
             QList<std::pair<QString, QJsonValue>> *candidates)
{
    for (auto it = object.begin(); it != object.end(); ++it) {
        const QString path = prefix.isEmpty() ? it.key() : prefix + QLatin1Char('.') + it.key();
        keys->append(path);
        if (it.key().contains(QLatin1String("version"), Qt::CaseInsensitive))
            candidates->append({path, it.value()});
        if (it.value().isObject() && depth < 2)
            collect(it.value().toObject(), path, depth + 1, keys, candidates);
    }
}

int rank(const QString &path)
{
    const QString leaf = path.section(QLatin1Char('.'), -1).toLower();
    if (leaf == QLatin1String("version"))
        return 0;
    if (leaf.contains(QLatin1String("server")))
        return 1;
    return 2;
}

} // namespace

QUrl WebApiSettings::endpoint(const QString &name) const
{
    QUrl url = portal;
    url.setPath(QStringLiteral("/flowtraq/api/v3/") + name);
    url.setQuery(QString());
    url.setFragment(QString());
    return url;
}

Result WebApiSettings::validate() const
{
    if (!portal.isValid() || portal.host().isEmpty())
        return makeError(tr("The FlowTraq portal address must be a host name or address, e.g. https://portal.example."));
    if (portal.scheme() != QLatin1String("https"))
        return makeError(tr("The FlowTraq Web API is reached over https only (plain http is off unless the Web UI's config.php enables it)."));
    if (user.isEmpty())
        return makeError(tr("Type the FlowTraq user whose credentials read the Web API."));
    if (password.isEmpty())
        return makeError(tr("Type the password of FlowTraq user %1.").arg(user));
    if (!fingerprint.isEmpty()) {
        const QString hex = QString(fingerprint).remove(QLatin1Char(':')).trimmed();
        static const QRegularExpression sha(QStringLiteral("^[0-9A-Fa-f]{64}$"));
        if (!sha.match(hex).hasMatch())
            return makeError(tr("The portal's certificate fingerprint must be 64 hexadecimal digits."));
    }
    return {};
}

QString WebApiSettings::keychainKey() const
{
    return QStringLiteral("flowtraq-webapi:%1:%2").arg(portal.host()).arg(portal.port(443));
}

QString WebApiSettings::secretText() const
{
    return QString::fromUtf8(QJsonDocument(QJsonObject{{QStringLiteral("user"), user},
                                                       {QStringLiteral("password"), password},
                                                       {QStringLiteral("fingerprint"), fingerprint},
                                                       {QStringLiteral("version_key"), versionKey},
                                                       {QStringLiteral("session_key"), useSessionKey}})
                                 .toJson(QJsonDocument::Compact));
}

Result WebApiSettings::applySecretText(const QString &text)
{
    auto pair = parseSecretText(text);
    if (!pair)
        return makeError(pair.error());
    const QJsonObject object = QJsonDocument::fromJson(text.toUtf8()).object();
    user = pair->first;
    password = pair->second;
    fingerprint = object.value(QStringLiteral("fingerprint")).toString();
    versionKey = object.value(QStringLiteral("version_key")).toString();
    useSessionKey = object.value(QStringLiteral("session_key")).toBool();
    return {};
}

Expected<std::pair<QString, QString>> WebApiSettings::parseSecretText(const QString &text)
{
    const QJsonObject object = QJsonDocument::fromJson(text.toUtf8()).object();
    const QString user = object.value(QStringLiteral("user")).toString();
    const QString password = object.value(QStringLiteral("password")).toString();
    if (user.isEmpty() || password.isEmpty())
        return makeError(tr("The keychain entry of the Web API credentials is not readable; type them again."));
    return std::pair{user, password};
}

Expected<WebApiVersion> findVersionInInfo(const QJsonObject &info, const QString &configuredKey)
{
    if (!configuredKey.trimmed().isEmpty()) {
        QJsonValue value = info;
        for (const QString &part : configuredKey.trimmed().split(QLatin1Char('.')))
            value = value.toObject().value(part);
        if (value.isUndefined())
            return makeError(tr("The Web API's info has no key \"%1\" (keys: %2).")
                                 .arg(configuredKey, QStringList(info.keys()).join(QStringLiteral(", "))));
        const QString version = versionOf(value);
        if (version.isEmpty())
            return makeError(tr("The key \"%1\" of the Web API's info holds no version (\"%2\").")
                                 .arg(configuredKey, value.isString() ? value.toString().left(80)
                                                                      : QString::fromUtf8(QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact)).left(80)));
        return WebApiVersion{version, configuredKey.trimmed(), true};
    }
    QStringList keys;
    QList<std::pair<QString, QJsonValue>> candidates;
    collect(info, QString(), 0, &keys, &candidates);
    std::stable_sort(candidates.begin(), candidates.end(),
                     [](const auto &a, const auto &b) { return rank(a.first) < rank(b.first); });
    for (const auto &[path, value] : candidates) {
        const QString version = versionOf(value);
        if (!version.isEmpty())
            return WebApiVersion{version, path, false};
    }
    return makeError(tr("No key of the Web API's info holds a version; name the key to use (keys: %1).")
                         .arg(keys.isEmpty() ? tr("none") : keys.join(QStringLiteral(", "))));
}

} // namespace ft

#pragma once

#include "model/expected.h"

#include <QJsonObject>
#include <QString>
#include <QUrl>

namespace ft {

// How the wizard reaches FlowTraq's own Web API v3 on the portal (BRIEF §1):
// https://PORTAL/flowtraq/api/v3/… with a FlowTraq user's credentials. The password
// lives in memory and in the keychain only (WebApiCredentials), never in a file.
struct WebApiSettings
{
    QUrl portal;          // https://host[:port]; the path is ignored
    QString user;
    QString password;
    bool useSessionKey = false; // POST sessionkey first, then send ftsessionkey
    QString fingerprint;  // optional: SHA-256 (hex) of the portal's certificate to pin
    QString versionKey;   // the key of "info" that holds the version; "" = find one

    bool isConfigured() const { return portal.isValid() && !portal.host().isEmpty() && !user.isEmpty(); }
    // https://host:port/flowtraq/api/v3/<name>
    QUrl endpoint(const QString &name) const;
    // Checks the typed fields; one sentence when something is wrong.
    Result validate() const;
    // The keychain key of these credentials: "flowtraq-webapi:<host:port>".
    QString keychainKey() const;
    // The user and password as the keychain keeps them (JSON, with the pin and the
    // version key beside them), and back.
    QString secretText() const;
    static Expected<std::pair<QString, QString>> parseSecretText(const QString &text);
    // Fills user, password, fingerprint and version key from the keychain's text.
    Result applySecretText(const QString &text);
};

// The version found in an "info" answer, and which key held it.
struct WebApiVersion
{
    QString version;      // canonical, e.g. "6.2.1-1200"
    QString key;          // "server_version", or a dotted path "build.version"
    bool keyConfigured = false; // the administrator named the key
};

// The fields of "info" are not documented: with a configured key (a dotted path for
// nested objects) its value must hold a version; without one, the keys whose name
// contains "version" are tried (exact "version" first, then names with "server",
// then the rest in key order) down to two levels, the first holding a version wins.
// The error lists the keys seen, so the administrator can configure one.
Expected<WebApiVersion> findVersionInInfo(const QJsonObject &info, const QString &configuredKey = {});

} // namespace ft

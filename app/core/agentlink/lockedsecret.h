#pragma once

#include <QObject>
#include <QString>

#include <functional>

namespace ft {

// Whether a secret QtKeychain did not find is in fact there, in a locked keyring.
// On Linux QtKeychain goes through libsecret, which answers "not found" when the
// collection is locked and its unlock prompt was cancelled, refused or could not be
// shown; the administrator must hear "locked", not "nothing saved". This asks the
// Secret Service directly (org.freedesktop.Secret.Service.SearchItems lists locked
// and unlocked items apart; it never prompts). Elsewhere, and when no Secret Service
// answers, the answer is "not locked".
class LockedSecretProbe : public QObject
{
    Q_OBJECT

public:
    // `service` and `key` as given to QtKeychain (its libsecret schema stores them as the
    // attributes "server" and "user").
    LockedSecretProbe(QString service, QString key, QObject *parent = nullptr);

    // finished(locked) follows exactly once, never inside start(); then the probe deletes itself.
    void start();

Q_SIGNALS:
    void finished(bool locked);

private:
    void finish(bool locked);

    QString m_service;
    QString m_key;
};

} // namespace ft

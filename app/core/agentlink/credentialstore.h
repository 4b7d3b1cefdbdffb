#pragma once

#include <QObject>
#include <QString>

#include <memory>

namespace QKeychain {
class Job;
}

namespace ft {

// One read, write or delete of a secret, in the QtKeychain pattern: set it up, connect
// finished, call start(); finished(job) comes exactly once and never inside start().
// The secret itself is never logged and never part of errorString().
class CredentialJob : public QObject
{
    Q_OBJECT

public:
    enum Error {
        NoError,
        NotFound,       // nothing stored under the key
        AccessDenied,   // the keychain is locked or refused
        NoBackend,      // no keychain service reachable
        OtherError,
    };
    Q_ENUM(Error)

    enum class Operation { Read, Write, Delete };

    ~CredentialJob() override;

    Operation operation() const { return m_operation; }
    QString key() const { return m_key; }
    // The token read (Read), or the one to store (Write).
    QString token() const { return m_token; }

    Error error() const { return m_error; }
    QString errorString() const { return m_errorString; }

    // Like QKeychain::Job: deletes itself after finished (default true).
    bool autoDelete() const { return m_autoDelete; }
    void setAutoDelete(bool autoDelete) { m_autoDelete = autoDelete; }

    void start();

Q_SIGNALS:
    void finished(ft::CredentialJob *job);

protected:
    CredentialJob(Operation operation, QString key, QString token, QObject *parent);

    // Does the work; must end in exactly one complete() call, later than doStart().
    virtual void doStart() = 0;
    void complete(Error error, const QString &errorString, const QString &token = {});

private:
    Operation m_operation;
    QString m_key;
    QString m_token;
    Error m_error = NoError;
    QString m_errorString;
    bool m_autoDelete = true;
    bool m_started = false;
    bool m_finished = false;
};

// Where the wizard keeps access tokens. Keys name what the token opens, e.g.
// clusterKey("portal.example:9650"). The jobs come back unstarted.
class CredentialStore
{
public:
    virtual ~CredentialStore() = default;

    virtual CredentialJob *readToken(const QString &key, QObject *parent = nullptr) = 0;
    virtual CredentialJob *writeToken(const QString &key, const QString &token,
                                      QObject *parent = nullptr) = 0;
    virtual CredentialJob *deleteToken(const QString &key, QObject *parent = nullptr) = 0;

    // "cluster:<portal host:port>"
    static QString clusterKey(const QString &portalAddress);
};

// The OS keychain through QtKeychain: Secret Service (gnome-keyring, KWallet) on
// Linux, Credential Manager on Windows, Keychain on macOS. Never falls back to a
// plain-text file.
class KeychainCredentialStore : public CredentialStore
{
public:
    explicit KeychainCredentialStore(QString service = defaultService());

    QString service() const { return m_service; }
    static QString defaultService(); // "FlowTraq Upgrade Wizard"

    CredentialJob *readToken(const QString &key, QObject *parent = nullptr) override;
    CredentialJob *writeToken(const QString &key, const QString &token,
                              QObject *parent = nullptr) override;
    CredentialJob *deleteToken(const QString &key, QObject *parent = nullptr) override;

private:
    QString m_service;
};

} // namespace ft

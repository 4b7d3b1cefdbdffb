#include "agentlink/credentialstore.h"

#include "agentlink/lockedsecret.h"

#include <QCoreApplication>
#include <QMetaObject>

#include <qt6keychain/keychain.h>

namespace ft {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("ft::CredentialStore", text);
}

CredentialJob::Error fromKeychain(QKeychain::Error error)
{
    switch (error) {
    case QKeychain::NoError: return CredentialJob::NoError;
    case QKeychain::EntryNotFound: return CredentialJob::NotFound;
    case QKeychain::AccessDenied:
    case QKeychain::AccessDeniedByUser: return CredentialJob::AccessDenied;
    case QKeychain::NoBackendAvailable:
    case QKeychain::NotImplemented: return CredentialJob::NoBackend;
    case QKeychain::CouldNotDeleteEntry:
    case QKeychain::OtherError: break;
    }
    return CredentialJob::OtherError;
}

// A sentence for people that says which key and what went wrong, and what to do.
QString describe(CredentialJob::Operation operation, CredentialJob::Error error,
                 const QString &key, const QString &detail)
{
    QString what;
    switch (error) {
    case CredentialJob::NoError: return {};
    case CredentialJob::NotFound:
        return tr("No token is stored in the keychain for \"%1\" (not found).").arg(key);
    case CredentialJob::AccessDenied:
        what = tr("the keychain refused access (it may be locked)");
        break;
    case CredentialJob::NoBackend:
        what = tr("no keychain service is available (on Linux: a Secret Service such as "
                  "gnome-keyring or KWallet)");
        break;
    case CredentialJob::OtherError:
        what = tr("the keychain reported an error");
        break;
    }
    QString action;
    switch (operation) {
    case CredentialJob::Operation::Read: action = tr("read"); break;
    case CredentialJob::Operation::Write: action = tr("store"); break;
    case CredentialJob::Operation::Delete: action = tr("delete"); break;
    }
    QString sentence = tr("Could not %1 the token for \"%2\": %3").arg(action, key, what);
    if (!detail.isEmpty())
        sentence += QStringLiteral(": ") + detail;
    if (!sentence.endsWith(QLatin1Char('.')))
        sentence += QLatin1Char('.');
    return sentence;
}

class KeychainJob : public CredentialJob
{
public:
    KeychainJob(QString service, Operation operation, QString key, QString token,
                QObject *parent)
        : CredentialJob(operation, std::move(key), std::move(token), parent)
        , m_service(std::move(service))
    {}

protected:
    void doStart() override
    {
        QKeychain::Job *job = nullptr;
        switch (operation()) {
        case Operation::Read:
            job = new QKeychain::ReadPasswordJob(m_service, this);
            break;
        case Operation::Write: {
            auto *write = new QKeychain::WritePasswordJob(m_service, this);
            write->setTextData(token());
            job = write;
            break;
        }
        case Operation::Delete:
            job = new QKeychain::DeletePasswordJob(m_service, this);
            break;
        }
        // A secret never goes to a plain file, even if the keychain is missing.
        job->setInsecureFallback(false);
        job->setAutoDelete(true);
        job->setKey(key());
        connect(job, &QKeychain::Job::finished, this, [this](QKeychain::Job *done) {
            const Error error = fromKeychain(done->error());
            const QString detail = error == OtherError || error == AccessDenied
                                           || error == NoBackend
                                       ? done->errorString()
                                       : QString();
            if (error == NotFound && operation() == Operation::Read) {
                // libsecret says "not found" for a locked keyring whose unlock was cancelled:
                // ask the Secret Service which it was.
                auto *probe = new LockedSecretProbe(m_service, key(), this);
                connect(probe, &LockedSecretProbe::finished, this, [this](bool locked) {
                    if (locked)
                        complete(AccessDenied,
                                 describe(operation(), AccessDenied, key(),
                                          tr("the keyring holding it is locked, and the unlock was "
                                             "cancelled or no unlock prompt could be shown")));
                    else
                        complete(NotFound, describe(operation(), NotFound, key(), {}));
                });
                probe->start();
                return;
            }
            QString token;
            if (error == NoError && operation() == Operation::Read)
                token = static_cast<QKeychain::ReadPasswordJob *>(done)->textData();
            else if (operation() == Operation::Write)
                token = this->token();
            complete(error, describe(operation(), error, key(), detail), token);
        });
        job->start();
    }

private:
    QString m_service;
};

} // namespace

CredentialJob::CredentialJob(Operation operation, QString key, QString token, QObject *parent)
    : QObject(parent)
    , m_operation(operation)
    , m_key(std::move(key))
    , m_token(std::move(token))
{
}

CredentialJob::~CredentialJob() = default;

void CredentialJob::start()
{
    if (m_started)
        return;
    m_started = true;
    // Queued even though QtKeychain queues too: finished must never come inside start().
    QMetaObject::invokeMethod(this, [this] { doStart(); }, Qt::QueuedConnection);
}

void CredentialJob::complete(Error error, const QString &errorString, const QString &token)
{
    if (m_finished)
        return;
    m_finished = true;
    m_error = error;
    m_errorString = errorString;
    m_token = token;
    Q_EMIT finished(this);
    if (m_autoDelete)
        deleteLater();
}

QString CredentialStore::clusterKey(const QString &portalAddress)
{
    return QStringLiteral("cluster:") + portalAddress.trimmed().toLower();
}

KeychainCredentialStore::KeychainCredentialStore(QString service)
    : m_service(std::move(service))
{
}

QString KeychainCredentialStore::defaultService()
{
    return QStringLiteral("FlowTraq Upgrade Wizard");
}

CredentialJob *KeychainCredentialStore::readToken(const QString &key, QObject *parent)
{
    return new KeychainJob(m_service, CredentialJob::Operation::Read, key, {}, parent);
}

CredentialJob *KeychainCredentialStore::writeToken(const QString &key, const QString &token,
                                                   QObject *parent)
{
    return new KeychainJob(m_service, CredentialJob::Operation::Write, key, token, parent);
}

CredentialJob *KeychainCredentialStore::deleteToken(const QString &key, QObject *parent)
{
    return new KeychainJob(m_service, CredentialJob::Operation::Delete, key, {}, parent);
}

} // namespace ft

#include "agentlink/lockedsecret.h"

#include <QMetaObject>

#ifdef FT_HAVE_QTDBUS
#include <QDBusConnection>
#include <QDBusMessage>
#include <QDBusPendingCallWatcher>
#include <QDBusPendingReply>
#include <QDBusObjectPath>
#include <QDBusMetaType>
#include <QMap>
#endif

namespace ft {

LockedSecretProbe::LockedSecretProbe(QString service, QString key, QObject *parent)
    : QObject(parent)
    , m_service(std::move(service))
    , m_key(std::move(key))
{
}

void LockedSecretProbe::finish(bool locked)
{
    Q_EMIT finished(locked);
    deleteLater();
}

void LockedSecretProbe::start()
{
#ifdef FT_HAVE_QTDBUS
    QDBusConnection bus = QDBusConnection::sessionBus();
    if (bus.isConnected()) {
        QDBusMessage search = QDBusMessage::createMethodCall(
            QStringLiteral("org.freedesktop.secrets"), QStringLiteral("/org/freedesktop/secrets"),
            QStringLiteral("org.freedesktop.Secret.Service"), QStringLiteral("SearchItems"));
        qDBusRegisterMetaType<QMap<QString, QString>>(); // a{ss}
        const QMap<QString, QString> attributes{{QStringLiteral("server"), m_service},
                                                {QStringLiteral("user"), m_key}};
        search << QVariant::fromValue(attributes);
        // The Secret Service answers at once (no prompt); a few seconds bound a hung one.
        auto *watcher = new QDBusPendingCallWatcher(bus.asyncCall(search, 5000), this);
        connect(watcher, &QDBusPendingCallWatcher::finished, this, [this](QDBusPendingCallWatcher *call) {
            call->deleteLater();
            const QDBusPendingReply<QList<QDBusObjectPath>, QList<QDBusObjectPath>> reply = *call;
            finish(!reply.isError() && !reply.argumentAt<1>().isEmpty());
        });
        return;
    }
#endif
    QMetaObject::invokeMethod(this, [this] { finish(false); }, Qt::QueuedConnection);
}

} // namespace ft

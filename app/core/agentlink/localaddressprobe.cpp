#include "agentlink/localaddressprobe.h"

#include <QCoreApplication>
#include <QTcpSocket>

namespace ft {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::LocalAddressProbe", text); }

} // namespace

LocalAddressProbe::LocalAddressProbe(const QUrl &agentUrl, QObject *parent)
    : QObject(parent)
    , m_url(agentUrl)
{
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, [this] {
        finish(tr("No connection to %1:%2 within %3 s.").arg(m_url.host()).arg(m_url.port(9650)).arg(m_timeoutMs / 1000));
    });
}

LocalAddressProbe::~LocalAddressProbe()
{
    if (m_socket)
        m_socket->abort();
}

void LocalAddressProbe::start()
{
    QMetaObject::invokeMethod(
        this,
        [this] {
            if (m_url.host().isEmpty()) {
                finish(tr("\"%1\" names no host.").arg(m_url.toString()));
                return;
            }
            m_socket = new QTcpSocket(this);
            connect(m_socket, &QTcpSocket::connected, this, [this] {
                m_local = m_socket->localAddress();
                // A v4 address in v6 clothing reads better plain.
                bool ok = false;
                const quint32 v4 = m_local.toIPv4Address(&ok);
                if (ok)
                    m_local = QHostAddress(v4);
                finish({});
            });
            connect(m_socket, &QTcpSocket::errorOccurred, this, [this] {
                finish(tr("Cannot connect to %1:%2 (%3).")
                           .arg(m_url.host())
                           .arg(m_url.port(9650))
                           .arg(m_socket->errorString()));
            });
            m_timer.start(m_timeoutMs);
            m_socket->connectToHost(m_url.host(), quint16(m_url.port(9650)));
        },
        Qt::QueuedConnection);
}

void LocalAddressProbe::finish(const QString &error)
{
    if (m_done)
        return;
    m_done = true;
    m_error = error;
    m_timer.stop();
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
    }
    QMetaObject::invokeMethod(this, [this] { Q_EMIT finished(this); }, Qt::QueuedConnection);
}

} // namespace ft

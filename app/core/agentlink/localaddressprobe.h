#pragma once

#include "agentlink/agentclient.h"

#include <QHostAddress>
#include <QObject>
#include <QPointer>
#include <QTimer>

class QTcpSocket;

namespace ft {

// Which of this workstation's addresses faces an agent: opens a TCP connection to the
// agent's host and port and reads the connection's own local address (what the routing
// table picked for real), then hangs up. Nothing is sent. The answer to "where do I
// serve packages so the nodes can reach me" when this workstation serves them: never
// guessed from the list of interfaces. Job pattern: start(), finished() once, never
// inside start().
class LocalAddressProbe : public QObject
{
    Q_OBJECT

public:
    explicit LocalAddressProbe(const QUrl &agentUrl, QObject *parent = nullptr);
    ~LocalAddressProbe() override;

    void setTimeout(int milliseconds) { m_timeoutMs = milliseconds; }
    void start();

    bool hasError() const { return !m_error.isEmpty(); }
    QString errorString() const { return m_error; }
    QHostAddress localAddress() const { return m_local; }

Q_SIGNALS:
    void finished(ft::LocalAddressProbe *probe);

private:
    void finish(const QString &error);

    QUrl m_url;
    QPointer<QTcpSocket> m_socket;
    QTimer m_timer;
    int m_timeoutMs = 5000;
    QHostAddress m_local;
    QString m_error;
    bool m_done = false;
};

} // namespace ft

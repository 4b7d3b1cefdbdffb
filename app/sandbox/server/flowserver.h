#pragma once

#include "flowdecoder.h"
#include "flowhistory.h"
#include "flowstats.h"
#include "serverconfig.h"

#include <QDateTime>
#include <QJsonObject>
#include <QObject>
#include <QTimer>

class QTcpServer;
class QUdpSocket;

namespace ft::sandbox {
class WebApiServer;
}

namespace ft::sandbox {

// The stand-in FlowTraq daemon of one installation: counts the flows arriving on its
// UDP flow port, answers TCP probes with its status, writes run/status.json every
// second and data/flowhistory.json every minute (LAYOUT.md).
class FlowServer : public QObject
{
    Q_OBJECT

public:
    explicit FlowServer(ServerConfig config, QObject *parent = nullptr);
    ~FlowServer() override;

    // Binds the ports and starts the timers. An error names the port that failed.
    Result start();
    // Orderly shutdown: status "stopping", history saved, sockets closed; then `stopped`.
    void stop();
    // SIGHUP: re-reads flowtraq.conf; what needs a restart is logged, not applied.
    void reloadConfiguration();

    QJsonObject status() const;
    const FlowStats &stats() const { return m_stats; }

Q_SIGNALS:
    void stopped();

private:
    void readDatagrams();
    void answerProbes();
    void tick();
    void writeStatus();
    void saveHistory();
    void logMinute();

    ServerConfig m_config;
    QDateTime m_started;
    flow::FlowDecoder m_decoder;
    FlowStats m_stats;
    FlowHistory m_history;
    QUdpSocket *m_udp = nullptr;
    QTcpServer *m_tcp = nullptr;
    WebApiServer *m_webApi = nullptr;
    quint16 m_webApiPort = 0;
    QTimer m_statusTimer;
    QTimer m_historyTimer;
    bool m_running = false;
    bool m_stopping = false;

    // Rejections are logged one by one up to a limit, then summed up every minute, so
    // a stream of garbage cannot flood the log.
    int m_rejectionsLogged = 0;
    qint64 m_rejectedAtLastMinute = 0;
    qint64 m_deferredSets = 0;
    QString m_lastRejection;
};

} // namespace ft::sandbox

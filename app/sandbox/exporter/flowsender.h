#pragma once

#include "exporttarget.h"
#include "netflow9encoder.h"

#include <QElapsedTimer>
#include <QObject>
#include <QRandomGenerator>
#include <QTimer>

class QUdpSocket;

namespace ft::sandbox {

// Sends one target its flow records as NetFlow v9, paced by a timer: every tick it
// sends what the rate owes since the last one, in datagrams of up to 25 records.
class FlowSender : public QObject
{
    Q_OBJECT

public:
    static constexpr int kTickMsecs = 100;

    FlowSender(ExportTarget target, quint32 sourceId, QObject *parent = nullptr);

    void start();

    const ExportTarget &target() const { return m_target; }
    qint64 recordsSent() const { return m_recordsSent; }
    qint64 datagramsSent() const { return m_datagramsSent; }
    qint64 sendErrors() const { return m_sendErrors; }

private:
    void sendDue();
    QList<flow::FlowRecord> makeRecords(int count, qint64 nowMsecs);

    ExportTarget m_target;
    QUdpSocket *m_socket;
    QTimer m_timer;
    QElapsedTimer m_clock;
    qint64 m_lastTickMsecs = 0;
    double m_owed = 0;
    flow::NetFlow9Encoder m_encoder;
    QRandomGenerator m_random;
    qint64 m_recordsSent = 0;
    qint64 m_datagramsSent = 0;
    qint64 m_sendErrors = 0;
};

} // namespace ft::sandbox

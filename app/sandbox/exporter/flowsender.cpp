#include "flowsender.h"

#include <QDateTime>
#include <QUdpSocket>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

namespace ft::sandbox {

namespace {

// A few services so the flows look like an office network.
constexpr quint16 kServicePorts[] = {443, 443, 443, 80, 53, 22, 445, 3389, 25, 123};

} // namespace

FlowSender::FlowSender(ExportTarget target, quint32 sourceId, QObject *parent)
    : QObject(parent)
    , m_target(std::move(target))
    , m_socket(new QUdpSocket(this))
    , m_encoder(sourceId, QDateTime::currentMSecsSinceEpoch())
    , m_random(sourceId)
{
    m_timer.setInterval(kTickMsecs);
    m_timer.setTimerType(Qt::PreciseTimer);
    connect(&m_timer, &QTimer::timeout, this, [this] { sendDue(); });
}

void FlowSender::start()
{
    m_clock.start();
    m_lastTickMsecs = 0;
    m_timer.start();
}

void FlowSender::sendDue()
{
    const qint64 elapsed = m_clock.elapsed();
    m_owed += m_target.rate * double(elapsed - m_lastTickMsecs) / 1000.0;
    m_lastTickMsecs = elapsed;
    // After a stall (suspended, overloaded) send at most a second's worth, not a flood.
    m_owed = std::min(m_owed, std::max(m_target.rate, 1.0));
    int due = int(std::floor(m_owed));
    m_owed -= due;

    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    while (due > 0) {
        const int count = std::min(due, flow::NetFlow9Encoder::kMaxRecordsPerDatagram);
        due -= count;
        const QByteArray datagram = m_encoder.encode(makeRecords(count, now), now);
        if (m_socket->writeDatagram(datagram, m_target.host, m_target.port) != datagram.size()) {
            // The server may be down (it is being upgraded): count it and carry on.
            if (m_sendErrors++ == 0)
                spdlog::warn("{}: cannot send to {}:{}: {}", m_target.name.toStdString(),
                             m_target.host.toString().toStdString(), m_target.port,
                             m_socket->errorString().toStdString());
            // The collector may have lost its templates meanwhile.
            m_encoder.resendTemplate();
            continue;
        }
        ++m_datagramsSent;
        m_recordsSent += count;
    }
}

QList<flow::FlowRecord> FlowSender::makeRecords(int count, qint64 nowMsecs)
{
    QList<flow::FlowRecord> records;
    records.reserve(count);
    const quint32 uptime = m_encoder.uptimeAt(nowMsecs);
    for (int i = 0; i < count; ++i) {
        flow::FlowRecord r;
        r.sourceAddress = 0x0a000000u | m_random.bounded(1u << 16); // 10.0.x.y
        r.destinationAddress = 0xc0a80000u | m_random.bounded(1u << 16); // 192.168.x.y
        r.sourcePort = quint16(32768 + m_random.bounded(28232));
        r.destinationPort = kServicePorts[m_random.bounded(int(std::size(kServicePorts)))];
        r.protocol = r.destinationPort == 53 || r.destinationPort == 123 ? 17 : 6;
        r.tcpFlags = r.protocol == 6 ? 0x1b : 0;
        r.packets = 1 + m_random.bounded(200u);
        r.bytes = r.packets * (40 + m_random.bounded(1460u));
        const quint32 duration = m_random.bounded(30000u);
        r.lastSwitched = uptime;
        r.firstSwitched = uptime > duration ? uptime - duration : 0;
        records.append(r);
    }
    return records;
}

} // namespace ft::sandbox

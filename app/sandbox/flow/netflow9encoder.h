#pragma once

#include <QByteArray>
#include <QList>

namespace ft::flow {

// One IPv4 flow as the sandbox exporter sends it.
struct FlowRecord
{
    quint32 sourceAddress = 0;
    quint32 destinationAddress = 0;
    quint16 sourcePort = 0;
    quint16 destinationPort = 0;
    quint8 protocol = 6; // IANA protocol number
    quint8 tcpFlags = 0;
    quint32 packets = 1;
    quint32 bytes = 64;
    quint32 firstSwitched = 0; // router uptime (ms) of the first packet
    quint32 lastSwitched = 0; // … and of the last one
};

// Writes NetFlow v9 export packets (RFC 3954): one template (id 256) for the IPv4
// 5-tuple record above, refreshed every kTemplateEveryDatagrams datagrams or
// kTemplateEverySeconds seconds, whichever comes first, and data flowsets of up to
// kMaxRecordsPerDatagram records. The sequence number counts export packets.
class NetFlow9Encoder
{
public:
    static constexpr quint16 kTemplateId = 256;
    static constexpr int kRecordLength = 30;
    static constexpr int kMaxRecordsPerDatagram = 25;
    static constexpr int kTemplateEveryDatagrams = 20;
    static constexpr int kTemplateEverySeconds = 10;

    // `bootMsecs` is the exporter's "boot" (ms since the epoch) that sysUptime counts from.
    NetFlow9Encoder(quint32 sourceId, qint64 bootMsecs);

    // One export packet at time `nowMsecs` (ms since the epoch) with the first
    // kMaxRecordsPerDatagram of `records`; with the template when it is due.
    QByteArray encode(const QList<FlowRecord> &records, qint64 nowMsecs);

    // Router uptime in ms at `nowMsecs`, as the records' switched times want it.
    quint32 uptimeAt(qint64 nowMsecs) const { return quint32(nowMsecs - m_bootMsecs); }

    // The next datagram carries the template whatever the schedule says (e.g. after the
    // collector was restarted).
    void resendTemplate() { m_templateDue = true; }

    quint32 sourceId() const { return m_sourceId; }
    quint32 sequence() const { return m_sequence; } // of the next datagram

private:
    bool templateDue(qint64 nowMsecs) const;

    quint32 m_sourceId;
    qint64 m_bootMsecs;
    quint32 m_sequence = 0;
    int m_datagramsSinceTemplate = 0;
    qint64 m_lastTemplateMsecs = 0;
    bool m_templateDue = true;
};

} // namespace ft::flow

#include "netflow9encoder.h"

#include <QtEndian>

#include <algorithm>

namespace ft::flow {

namespace {

constexpr int kHeaderLength = 20;
constexpr quint16 kTemplateFlowSetId = 0;

// NetFlow v9 field types (RFC 3954 8) of one record, in order, with their lengths.
struct Field
{
    quint16 type;
    quint16 length;
};
constexpr Field kFields[] = {
        {8, 4}, // IPV4_SRC_ADDR
        {12, 4}, // IPV4_DST_ADDR
        {7, 2}, // L4_SRC_PORT
        {11, 2}, // L4_DST_PORT
        {4, 1}, // PROTOCOL
        {6, 1}, // TCP_FLAGS
        {2, 4}, // IN_PKTS
        {1, 4}, // IN_BYTES
        {22, 4}, // FIRST_SWITCHED
        {21, 4}, // LAST_SWITCHED
};
constexpr int kFieldCount = int(std::size(kFields));

class Writer
{
public:
    explicit Writer(QByteArray &out)
        : m_out(out)
    { }
    void u8(quint8 value) { m_out.append(char(value)); }
    void u16(quint16 value)
    {
        const quint16 be = qToBigEndian(value);
        m_out.append(reinterpret_cast<const char *>(&be), 2);
    }
    void u32(quint32 value)
    {
        const quint32 be = qToBigEndian(value);
        m_out.append(reinterpret_cast<const char *>(&be), 4);
    }
    // Flowsets are padded to a 4-byte boundary (RFC 3954 5.3).
    void padTo4(int setStart)
    {
        while ((m_out.size() - setStart) % 4 != 0)
            m_out.append('\0');
    }
    void patchU16(int at, quint16 value) { qToBigEndian(value, m_out.data() + at); }

private:
    QByteArray &m_out;
};

} // namespace

static_assert([] {
    int total = 0;
    for (const Field &field : kFields)
        total += field.length;
    return total;
}() == NetFlow9Encoder::kRecordLength);

NetFlow9Encoder::NetFlow9Encoder(quint32 sourceId, qint64 bootMsecs)
    : m_sourceId(sourceId)
    , m_bootMsecs(bootMsecs)
{ }

bool NetFlow9Encoder::templateDue(qint64 nowMsecs) const
{
    return m_templateDue || m_datagramsSinceTemplate >= kTemplateEveryDatagrams
            || nowMsecs - m_lastTemplateMsecs >= qint64(kTemplateEverySeconds) * 1000;
}

QByteArray NetFlow9Encoder::encode(const QList<FlowRecord> &records, qint64 nowMsecs)
{
    const int count = std::min(int(records.size()), kMaxRecordsPerDatagram);
    const bool withTemplate = templateDue(nowMsecs);

    QByteArray out;
    out.reserve(kHeaderLength + 8 + 4 * kFieldCount + 4 + kRecordLength * count + 4);
    Writer w(out);
    w.u16(9);
    w.u16(quint16(count + (withTemplate ? 1 : 0))); // records of any kind in the packet
    w.u32(uptimeAt(nowMsecs));
    w.u32(quint32(nowMsecs / 1000));
    w.u32(m_sequence);
    w.u32(m_sourceId);

    if (withTemplate) {
        const int start = int(out.size());
        w.u16(kTemplateFlowSetId);
        w.u16(0); // length, patched below
        w.u16(kTemplateId);
        w.u16(kFieldCount);
        for (const Field &field : kFields) {
            w.u16(field.type);
            w.u16(field.length);
        }
        w.patchU16(start + 2, quint16(out.size() - start));
        m_datagramsSinceTemplate = 0;
        m_lastTemplateMsecs = nowMsecs;
        m_templateDue = false;
    }

    if (count > 0) {
        const int start = int(out.size());
        w.u16(kTemplateId);
        w.u16(0);
        for (int i = 0; i < count; ++i) {
            const FlowRecord &r = records.at(i);
            w.u32(r.sourceAddress);
            w.u32(r.destinationAddress);
            w.u16(r.sourcePort);
            w.u16(r.destinationPort);
            w.u8(r.protocol);
            w.u8(r.tcpFlags);
            w.u32(r.packets);
            w.u32(r.bytes);
            w.u32(r.firstSwitched);
            w.u32(r.lastSwitched);
        }
        w.padTo4(start);
        w.patchU16(start + 2, quint16(out.size() - start));
    }

    ++m_sequence;
    ++m_datagramsSinceTemplate;
    return out;
}

} // namespace ft::flow

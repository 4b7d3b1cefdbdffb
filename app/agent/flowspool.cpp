#include "flowspool.h"

#include <QCoreApplication>
#include <QDir>
#include <QtEndian>

#include <cstring>

#ifdef Q_OS_UNIX
#include <unistd.h>
#endif

namespace ft::agent {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::agent::FlowSpool", text); }

constexpr quint32 kMaxDatagram = 65535;

// Record header, version 2 (little endian numbers, addresses in network order):
//   0 payload size (u32)   4 arrival, ms since the epoch (i64)   12 flags (bit 0: IPv6)
//  13 reserved             14 source port (u16)   16 flow port (u16)   18 reserved (u16)
//  20 source address (16 bytes; IPv4 as ::ffff:a.b.c.d)   36 destination address (16)
// Version 1 (IPv4 only, 24 bytes): size, arrival, source (u32), source port, flow port,
// destination (u32).
const QByteArray kMagicV1 = QByteArrayLiteral("FTSPOOL1");
constexpr qint64 kRecordHeaderV1 = 24;

void putAddress(uchar *at, bool ipv6, quint32 v4, const Q_IPV6ADDR &v6)
{
    if (ipv6) {
        std::memcpy(at, v6.c, 16);
        return;
    }
    std::memset(at, 0, 10);
    at[10] = at[11] = 0xff;
    qToBigEndian<quint32>(v4, at + 12);
}

void takeAddress(const uchar *at, bool ipv6, quint32 &v4, Q_IPV6ADDR &v6)
{
    if (ipv6)
        std::memcpy(v6.c, at, 16);
    else
        v4 = qFromBigEndian<quint32>(at + 12);
}

void setAddress(const QHostAddress &address, bool &ipv6, quint32 &v4, Q_IPV6ADDR &v6)
{
    bool isV4 = false;
    const quint32 plain = address.toIPv4Address(&isV4);
    ipv6 = !isV4 && address.protocol() == QAbstractSocket::IPv6Protocol;
    if (ipv6)
        v6 = address.toIPv6Address();
    else
        v4 = plain;
}

} // namespace

void SpooledDatagram::setSource(const QHostAddress &address)
{
    setAddress(address, ipv6, sourceAddress, source6);
}

void SpooledDatagram::setDestination(const QHostAddress &address)
{
    bool destinationIpv6 = false;
    setAddress(address, destinationIpv6, destinationAddress, destination6);
    if (destinationIpv6 != ipv6) { // a redirect never changes the family; be safe anyway
        if (ipv6)
            destination6 = QHostAddress(QHostAddress::LocalHostIPv6).toIPv6Address();
        else
            destinationAddress = QHostAddress(QHostAddress::LocalHost).toIPv4Address();
    }
}

const QByteArray FlowSpoolWriter::kMagic = QByteArrayLiteral("FTSPOOL2");

Result FlowSpoolWriter::open(const QString &path, qint64 capBytes)
{
    m_file.setFileName(path);
    if (!m_file.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return makeError(tr("Cannot create the flow spool %1: %2")
                                 .arg(QDir::toNativeSeparators(path), m_file.errorString()));
    m_cap = capBytes;
    m_bytes = 0;
    m_written = m_dropped = 0;
    m_error.clear();
    if (m_file.write(kMagic) != kMagic.size())
        return makeError(tr("Cannot write the flow spool %1: %2")
                                 .arg(QDir::toNativeSeparators(path), m_file.errorString()));
    m_bytes = kMagic.size();
    return {};
}

FlowSpoolWriter::Outcome FlowSpoolWriter::append(const SpooledDatagram &datagram)
{
    if (!m_error.isEmpty())
        return Outcome::Failed;
    const qint64 size = kRecordHeader + datagram.data.size();
    if (m_bytes + size > m_cap || datagram.data.size() > qsizetype(kMaxDatagram)) {
        ++m_dropped;
        return Outcome::Dropped;
    }
    uchar header[kRecordHeader] = {};
    qToLittleEndian<quint32>(quint32(datagram.data.size()), header);
    qToLittleEndian<qint64>(datagram.arrivalMsecs, header + 4);
    header[12] = datagram.ipv6 ? 1 : 0;
    qToLittleEndian<quint16>(datagram.sourcePort, header + 14);
    qToLittleEndian<quint16>(datagram.destinationPort, header + 16);
    putAddress(header + 20, datagram.ipv6, datagram.sourceAddress, datagram.source6);
    putAddress(header + 36, datagram.ipv6, datagram.destinationAddress, datagram.destination6);
    if (m_file.write(reinterpret_cast<const char *>(header), kRecordHeader) != kRecordHeader
        || m_file.write(datagram.data) != datagram.data.size()) {
        m_error = m_file.errorString();
        return Outcome::Failed;
    }
    m_bytes += size;
    ++m_written;
    return Outcome::Written;
}

Result FlowSpoolWriter::flush()
{
    if (m_error.isEmpty() && !m_file.flush())
        m_error = m_file.errorString();
    if (!m_error.isEmpty())
        return makeError(tr("Cannot write the flow spool %1: %2")
                                 .arg(QDir::toNativeSeparators(m_file.fileName()), m_error));
    return {};
}

void FlowSpoolWriter::close()
{
    (void)flush();
    m_file.close();
}

Result FlowSpoolReader::open(const QString &path)
{
    m_file.setFileName(path);
    if (!m_file.open(QIODevice::ReadOnly))
        return makeError(tr("Cannot read the flow spool %1: %2")
                                 .arg(QDir::toNativeSeparators(path), m_file.errorString()));
    const QByteArray magic = m_file.read(FlowSpoolWriter::kMagic.size());
    if (magic != FlowSpoolWriter::kMagic && magic != kMagicV1)
        return makeError(tr("%1 is not a flow spool.").arg(QDir::toNativeSeparators(path)));
    m_v1 = magic == kMagicV1;
    m_first = m_file.pos();
    return {};
}

Result FlowSpoolReader::seek(qint64 offset)
{
    if (offset < m_first || offset > m_file.size() || !m_file.seek(offset))
        return makeError(tr("The flow spool %1 has no record at offset %2.")
                                 .arg(QDir::toNativeSeparators(m_file.fileName()))
                                 .arg(offset));
    return {};
}

std::optional<SpooledDatagram> FlowSpoolReader::next()
{
    uchar header[FlowSpoolWriter::kRecordHeader];
    const qint64 headerSize = m_v1 ? kRecordHeaderV1 : FlowSpoolWriter::kRecordHeader;
    if (m_file.read(reinterpret_cast<char *>(header), headerSize) != headerSize)
        return std::nullopt;
    const quint32 size = qFromLittleEndian<quint32>(header);
    if (size > kMaxDatagram)
        return std::nullopt;
    SpooledDatagram d;
    d.arrivalMsecs = qFromLittleEndian<qint64>(header + 4);
    if (m_v1) {
        d.sourceAddress = qFromLittleEndian<quint32>(header + 12);
        d.sourcePort = qFromLittleEndian<quint16>(header + 16);
        d.destinationPort = qFromLittleEndian<quint16>(header + 18);
        d.destinationAddress = qFromLittleEndian<quint32>(header + 20);
    } else {
        d.ipv6 = header[12] & 1;
        d.sourcePort = qFromLittleEndian<quint16>(header + 14);
        d.destinationPort = qFromLittleEndian<quint16>(header + 16);
        takeAddress(header + 20, d.ipv6, d.sourceAddress, d.source6);
        takeAddress(header + 36, d.ipv6, d.destinationAddress, d.destination6);
    }
    d.data = m_file.read(size);
    if (d.data.size() != qsizetype(size))
        return std::nullopt;
    return d;
}

Expected<qint64> FlowSpoolReader::count(const QString &path)
{
    FlowSpoolReader reader;
    if (auto opened = reader.open(path); !opened)
        return makeError(opened.error());
    qint64 n = 0;
    while (reader.next())
        ++n;
    return n;
}

QString ReplayJournal::pathFor(const QString &spoolPath)
{
    return spoolPath + QStringLiteral(".replayed");
}

Result ReplayJournal::open(const QString &spoolPath, qint64 start)
{
    m_file.setFileName(pathFor(spoolPath));
    // Unbuffered: every record() is one write the kernel has, even if the agent is
    // killed right after.
    if (!m_file.open(QIODevice::ReadWrite | QIODevice::Unbuffered))
        return makeError(tr("Cannot keep the replay's progress in %1: %2")
                                 .arg(QDir::toNativeSeparators(m_file.fileName()), m_file.errorString()));
    const QByteArray stored = m_file.read(8);
    m_offset = stored.size() == 8 ? qFromLittleEndian<qint64>(stored.constData()) : start;
    if (m_offset < start)
        m_offset = start;
    return {};
}

Result ReplayJournal::record(qint64 offset)
{
    uchar bytes[8];
    qToLittleEndian<qint64>(offset, bytes);
#ifdef Q_OS_UNIX
    // One system call per datagram replayed: pwrite at 0 instead of a seek and a write.
    if (::pwrite(m_file.handle(), bytes, 8, 0) != 8)
#else
    if (!m_file.seek(0) || m_file.write(reinterpret_cast<const char *>(bytes), 8) != 8)
#endif
        return makeError(tr("Cannot keep the replay's progress in %1: %2")
                                 .arg(QDir::toNativeSeparators(m_file.fileName()), m_file.errorString()));
    m_offset = offset;
    return {};
}

} // namespace ft::agent

#include "flowspool.h"

#include <QCoreApplication>
#include <QDir>
#include <QtEndian>

namespace ft::agent {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::agent::FlowSpool", text); }

constexpr quint32 kMaxDatagram = 65535;

} // namespace

const QByteArray FlowSpoolWriter::kMagic = QByteArrayLiteral("FTSPOOL1");

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
    uchar header[kRecordHeader];
    qToLittleEndian<quint32>(quint32(datagram.data.size()), header);
    qToLittleEndian<qint64>(datagram.arrivalMsecs, header + 4);
    qToLittleEndian<quint32>(datagram.sourceAddress, header + 12);
    qToLittleEndian<quint16>(datagram.sourcePort, header + 16);
    qToLittleEndian<quint16>(datagram.destinationPort, header + 18);
    qToLittleEndian<quint32>(datagram.destinationAddress, header + 20);
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
    if (m_file.read(FlowSpoolWriter::kMagic.size()) != FlowSpoolWriter::kMagic)
        return makeError(tr("%1 is not a flow spool.").arg(QDir::toNativeSeparators(path)));
    return {};
}

std::optional<SpooledDatagram> FlowSpoolReader::next()
{
    uchar header[FlowSpoolWriter::kRecordHeader];
    if (m_file.read(reinterpret_cast<char *>(header), sizeof header) != qint64(sizeof header))
        return std::nullopt;
    const quint32 size = qFromLittleEndian<quint32>(header);
    if (size > kMaxDatagram)
        return std::nullopt;
    SpooledDatagram d;
    d.arrivalMsecs = qFromLittleEndian<qint64>(header + 4);
    d.sourceAddress = qFromLittleEndian<quint32>(header + 12);
    d.sourcePort = qFromLittleEndian<quint16>(header + 16);
    d.destinationPort = qFromLittleEndian<quint16>(header + 18);
    d.destinationAddress = qFromLittleEndian<quint32>(header + 20);
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

} // namespace ft::agent

#pragma once

#include "model/expected.h"

#include <QByteArray>
#include <QFile>
#include <QString>

#include <optional>

namespace ft::agent {

// One flow datagram kept while the service was down: when it arrived, who sent it
// (the redirect keeps the exporter's address and port) and where it was going.
// Addresses are IPv4 in host order.
struct SpooledDatagram
{
    qint64 arrivalMsecs = 0;
    quint32 sourceAddress = 0;
    quint16 sourcePort = 0;
    quint32 destinationAddress = 0;
    quint16 destinationPort = 0; // the node's flow port the exporter sent to
    QByteArray data;
};

// Appends datagrams to a spool file: "FTSPOOL1", then per datagram a 24-byte record
// header (little endian) and the payload. Past the size cap a datagram is counted as
// dropped and not written, so a flood can never block or fill the disk beyond the cap.
class FlowSpoolWriter
{
public:
    enum class Outcome { Written, Dropped, Failed };

    Result open(const QString &path, qint64 capBytes);
    Outcome append(const SpooledDatagram &datagram);
    // Pushes buffered records to the file; a full disk shows here.
    Result flush();
    void close();

    qint64 written() const { return m_written; }
    qint64 dropped() const { return m_dropped; }
    qint64 bytes() const { return m_bytes; }
    QString errorString() const { return m_error; }

    static constexpr qint64 kRecordHeader = 24;
    static const QByteArray kMagic;

private:
    QFile m_file;
    qint64 m_cap = 0;
    qint64 m_bytes = 0;
    qint64 m_written = 0;
    qint64 m_dropped = 0;
    QString m_error;
};

// Reads a spool file back in arrival order. A torn last record (the agent was killed
// while writing) ends the spool rather than failing it.
class FlowSpoolReader
{
public:
    Result open(const QString &path);
    std::optional<SpooledDatagram> next();
    // Counts the complete records, from the start, without keeping them.
    static Expected<qint64> count(const QString &path);

private:
    QFile m_file;
};

} // namespace ft::agent

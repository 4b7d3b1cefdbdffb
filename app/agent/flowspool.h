#pragma once

#include "model/expected.h"

#include <QByteArray>
#include <QFile>
#include <QHostAddress>
#include <QString>

#include <optional>

namespace ft::agent {

// One flow datagram kept while the service was down: when it arrived, who sent it
// (the redirect keeps the exporter's address and port) and where it was going.
// IPv4 addresses are in host order in the quint32 fields; an IPv6 datagram (ipv6 set)
// has its addresses in source6/destination6 instead.
struct SpooledDatagram
{
    qint64 arrivalMsecs = 0;
    bool ipv6 = false;
    quint32 sourceAddress = 0;
    quint16 sourcePort = 0;
    quint32 destinationAddress = 0;
    quint16 destinationPort = 0; // the node's flow port the exporter sent to
    Q_IPV6ADDR source6{};
    Q_IPV6ADDR destination6{};
    QByteArray data;

    QHostAddress source() const { return ipv6 ? QHostAddress(source6) : QHostAddress(sourceAddress); }
    QHostAddress destination() const
    {
        return ipv6 ? QHostAddress(destination6) : QHostAddress(destinationAddress);
    }
    // Sets source or destination from an address of either family (an IPv4-mapped IPv6
    // address, as a dual-stack socket reports IPv4 senders, counts as IPv4).
    void setSource(const QHostAddress &address);
    void setDestination(const QHostAddress &address);
};

// Appends datagrams to a spool file: "FTSPOOL2", then per datagram a 52-byte record
// header and the payload (layout in flowspool.cpp). Past the size cap a datagram is
// counted as dropped and not written, so a flood can never block or fill the disk
// beyond the cap.
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

    static constexpr qint64 kRecordHeader = 52;
    static const QByteArray kMagic;

private:
    QFile m_file;
    qint64 m_cap = 0;
    qint64 m_bytes = 0;
    qint64 m_written = 0;
    qint64 m_dropped = 0;
    QString m_error;
};

// Reads a spool file back in arrival order (also the IPv4-only "FTSPOOL1" files of
// earlier agents). A torn last record (the agent was killed while writing) ends the
// spool rather than failing it.
class FlowSpoolReader
{
public:
    Result open(const QString &path);
    std::optional<SpooledDatagram> next();
    // Where the next record starts; seek() goes back there (a replay resumed).
    qint64 offset() const { return m_file.pos(); }
    qint64 firstRecord() const { return m_first; }
    Result seek(qint64 offset);
    // Counts the complete records, from the start, without keeping them.
    static Expected<qint64> count(const QString &path);

private:
    QFile m_file;
    bool m_v1 = false;
    qint64 m_first = 0;
};

// How far the replay of a spool got: `<spool>.replayed`, 8 bytes (little endian), the
// offset of the first datagram not yet handed to the raw socket. It is written before
// each datagram is sent, so a replay cut off by a kill goes on after the last datagram
// sent and never sends one twice (the one in flight at the kill may be lost).
class ReplayJournal
{
public:
    static QString pathFor(const QString &spoolPath);

    // Opens (or creates) the journal; offset() is where the replay goes on, or
    // `start` when nothing was replayed yet.
    Result open(const QString &spoolPath, qint64 start);
    qint64 offset() const { return m_offset; }
    Result record(qint64 offset);
    void close() { m_file.close(); }

private:
    QFile m_file;
    qint64 m_offset = 0;
};

} // namespace ft::agent

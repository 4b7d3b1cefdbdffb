#pragma once

#include "flowspool.h"
#include "model/expected.h"

#include <QHash>
#include <QList>
#include <QMap>

#include <array>
#include <atomic>

namespace ft::agent {

// Sends spooled datagrams to the local service through a raw socket (IPPROTO_RAW, the
// IP header included: IPv4, or IPv6 on a second socket opened for the first IPv6
// datagram), so the service sees each one from its exporter's own address and port, as
// if it had arrived live. Linux only; needs CAP_NET_RAW.
class RawReplaySocket
{
public:
    RawReplaySocket() = default;
    ~RawReplaySocket();
    RawReplaySocket(const RawReplaySocket &) = delete;
    RawReplaySocket &operator=(const RawReplaySocket &) = delete;

    // `mark` (SO_MARK) lets the packets pass the agent's own redirect while it is still in place.
    Result open(quint32 mark);
    Result send(const SpooledDatagram &datagram);

    // The IPv4 or IPv6 + UDP packet for one datagram, with a correct UDP checksum.
    static QByteArray packet(const SpooledDatagram &datagram);

private:
    Result openIpv6();

    int m_fd = -1;
    int m_fd6 = -1;
    quint32 m_mark = 0;
    QByteArray m_buffer;
};

// What the kernel says about the service's UDP socket on a port (/proc/net/udp): bytes
// waiting to be read, and datagrams dropped because the buffer was full. The replay
// paces itself on the queue, so the service is never sent more than it keeps up with.
struct UdpSocketQueue
{
    bool found = false;
    qint64 queuedBytes = 0;
    qint64 drops = 0;

    static UdpSocketQueue read(quint16 port);
};

// The latest NetFlow v9 / IPFIX templates and options templates seen per exporter
// (source address and port, version, source id / observation domain), each as a
// datagram of its own, ready to be sent before the data that needs them.
class SpoolTemplates
{
public:
    void add(const SpooledDatagram &datagram);
    QList<SpooledDatagram> datagrams() const;
    int exporters() const { return int(m_exporters.size()); }
    // Beyond this many exporters new ones are not kept (a flood of spoofed sources
    // cannot grow it without bound); 0: no limit.
    void setMaxExporters(int max) { m_maxExporters = max; }

private:
    using Address = std::array<quint8, 17>; // family, then the 16 bytes of the address
    struct Key
    {
        Address address;
        quint16 port;
        Address destination;
        quint16 destinationPort;
        quint16 version;
        quint32 domain;
        friend bool operator<(const Key &a, const Key &b)
        {
            return std::tie(a.address, a.port, a.destination, a.destinationPort, a.version, a.domain)
                   < std::tie(b.address, b.port, b.destination, b.destinationPort, b.version, b.domain);
        }
    };
    struct Exporter
    {
        QByteArray header; // the latest datagram's header
        qint64 arrivalMsecs = 0;
        QMap<quint16, QPair<quint16, QByteArray>> templates; // template id → (set id, record)
    };
    void addV9(const Key &key, const QByteArray &data);
    void addIpfix(const Key &key, const QByteArray &data);

    QMap<Key, Exporter> m_exporters;
    int m_maxExporters = 0;
};

// How a replay runs and ends; the counters are read from the agent's thread while a
// worker thread replays.
struct SpoolReplayCounters
{
    std::atomic<qint64> sent{0};  // datagrams sent by this replay
    std::atomic<qint64> total{0}; // datagrams this replay has to send
    std::atomic<bool> cancel{false};
};

struct SpoolReplayOutcome
{
    QString error;
    qint64 sent = 0;          // by this replay
    qint64 replayedBefore = 0; // by an earlier replay of the same spool (its journal)
    qint64 templates = 0;
    double seconds = 0;
    bool paced = true;
    qint64 serviceDrops = 0;
};

// Replays a spool to the local service through a raw socket, in arrival order, from
// where its ReplayJournal says an earlier replay stopped (the journal is kept up to
// date as it goes), paced on the service socket's receive queue. With `templatesFirst`,
// the latest v9/IPFIX templates found in the whole spool go first (a spool left by a
// killed agent: the service has none of them). Blocks: run it on a worker thread.
SpoolReplayOutcome replaySpool(const QString &spoolPath, quint32 mark, bool templatesFirst,
                               SpoolReplayCounters &counters);

// Without /proc/net/udp (service in another namespace) the replay goes at this rate.
constexpr int kReplayFallbackPerSecond = 2000;

} // namespace ft::agent

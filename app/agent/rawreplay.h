#pragma once

#include "flowspool.h"
#include "model/expected.h"

#include <QHash>
#include <QList>
#include <QMap>

namespace ft::agent {

// Sends spooled datagrams to the local service through a raw socket (IPPROTO_RAW, the
// IPv4 header included), so the service sees each one from its exporter's own address
// and port, as if it had arrived live. Linux only; needs CAP_NET_RAW.
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

    // The IPv4 + UDP packet for one datagram, with a correct UDP checksum.
    static QByteArray packet(const SpooledDatagram &datagram);

private:
    int m_fd = -1;
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

private:
    struct Key
    {
        quint32 address;
        quint16 port;
        quint32 destination;
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
};

} // namespace ft::agent

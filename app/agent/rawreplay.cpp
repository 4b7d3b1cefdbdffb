#include "rawreplay.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QHash>
#include <QThread>
#include <QtEndian>

#ifdef Q_OS_LINUX
#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

namespace ft::agent {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::agent::RawReplay", text); }

quint16 be16(const QByteArray &d, qsizetype at) { return qFromBigEndian<quint16>(d.constData() + at); }
quint32 be32(const QByteArray &d, qsizetype at) { return qFromBigEndian<quint32>(d.constData() + at); }

void putBe16(QByteArray &d, qsizetype at, quint16 v) { qToBigEndian<quint16>(v, d.data() + at); }

quint32 sumWords(const uchar *p, qsizetype n, quint32 sum)
{
    for (qsizetype i = 0; i + 1 < n; i += 2)
        sum += quint32(p[i]) << 8 | p[i + 1];
    if (n % 2)
        sum += quint32(p[n - 1]) << 8;
    return sum;
}

} // namespace

// ------------------------------------------------------------------ raw socket

RawReplaySocket::~RawReplaySocket()
{
#ifdef Q_OS_LINUX
    if (m_fd >= 0)
        ::close(m_fd);
    if (m_fd6 >= 0)
        ::close(m_fd6);
#endif
}

Result RawReplaySocket::open(quint32 mark)
{
#ifdef Q_OS_LINUX
    m_mark = mark;
    m_fd = ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW); // implies IP_HDRINCL
    if (m_fd < 0)
        return makeError(tr("Cannot open a raw socket to replay the kept flows (%1); the agent needs to run "
                            "as root.").arg(QString::fromLocal8Bit(std::strerror(errno))));
    const int value = int(mark);
    if (::setsockopt(m_fd, SOL_SOCKET, SO_MARK, &value, sizeof value) != 0)
        return makeError(tr("Cannot mark the replay socket: %1").arg(QString::fromLocal8Bit(std::strerror(errno))));
    const int buffer = 4 * 1024 * 1024;
    (void)::setsockopt(m_fd, SOL_SOCKET, SO_SNDBUFFORCE, &buffer, sizeof buffer);
    return {};
#else
    Q_UNUSED(mark);
    return makeError(tr("Replaying flows is only available on Linux nodes."));
#endif
}

Result RawReplaySocket::openIpv6()
{
#ifdef Q_OS_LINUX
    // IPPROTO_RAW on an IPv6 socket includes the header too (the kernel adds nothing).
    m_fd6 = ::socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
    if (m_fd6 < 0)
        return makeError(tr("Cannot open a raw IPv6 socket to replay the kept flows (%1).")
                                 .arg(QString::fromLocal8Bit(std::strerror(errno))));
    const int value = int(m_mark);
    if (::setsockopt(m_fd6, SOL_SOCKET, SO_MARK, &value, sizeof value) != 0)
        return makeError(tr("Cannot mark the replay socket: %1").arg(QString::fromLocal8Bit(std::strerror(errno))));
    const int buffer = 4 * 1024 * 1024;
    (void)::setsockopt(m_fd6, SOL_SOCKET, SO_SNDBUFFORCE, &buffer, sizeof buffer);
    return {};
#else
    return makeError(tr("Replaying flows is only available on Linux nodes."));
#endif
}

namespace {

QByteArray packet6(const SpooledDatagram &d)
{
    const qsizetype udpLength = 8 + d.data.size();
    QByteArray p(40 + udpLength, '\0');
    auto *b = reinterpret_cast<uchar *>(p.data());
    b[0] = 0x60;                                  // IPv6, no traffic class or flow label
    qToBigEndian<quint16>(quint16(udpLength), b + 4);
    b[6] = 17;                                    // next header: UDP
    b[7] = 64;                                    // hop limit
    std::memcpy(b + 8, d.source6.c, 16);
    std::memcpy(b + 24, d.destination6.c, 16);
    uchar *u = b + 40;
    qToBigEndian<quint16>(d.sourcePort, u);
    qToBigEndian<quint16>(d.destinationPort, u + 2);
    qToBigEndian<quint16>(quint16(udpLength), u + 4);
    std::memcpy(u + 8, d.data.constData(), size_t(d.data.size()));
    // Mandatory in IPv6: the pseudo header is both addresses, the length and the protocol.
    quint32 sum = sumWords(b + 8, 32, 0) + quint32(udpLength) + 17;
    sum = sumWords(u, udpLength, sum);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    quint16 checksum = quint16(~sum);
    if (checksum == 0)
        checksum = 0xffff;
    qToBigEndian<quint16>(checksum, u + 6);
    return p;
}

} // namespace

QByteArray RawReplaySocket::packet(const SpooledDatagram &d)
{
    if (d.ipv6)
        return packet6(d);
    const qsizetype udpLength = 8 + d.data.size();
    QByteArray p(20 + udpLength, '\0');
    auto *b = reinterpret_cast<uchar *>(p.data());
    b[0] = 0x45;                                  // IPv4, 20-byte header
    qToBigEndian<quint16>(quint16(p.size()), b + 2);
    qToBigEndian<quint16>(0x4000, b + 6);          // don't fragment; the kernel fills id and checksum
    b[8] = 64;                                    // TTL
    b[9] = 17;                                    // UDP
    qToBigEndian<quint32>(d.sourceAddress, b + 12);
    qToBigEndian<quint32>(d.destinationAddress, b + 16);
    uchar *u = b + 20;
    qToBigEndian<quint16>(d.sourcePort, u);
    qToBigEndian<quint16>(d.destinationPort, u + 2);
    qToBigEndian<quint16>(quint16(udpLength), u + 4);
    std::memcpy(u + 8, d.data.constData(), size_t(d.data.size()));
    // The checksum covers the pseudo header (addresses, protocol, length) and the datagram.
    quint32 sum = sumWords(b + 12, 8, 0) + 17 + quint32(udpLength);
    sum = sumWords(u, udpLength, sum);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    quint16 checksum = quint16(~sum);
    if (checksum == 0)
        checksum = 0xffff;
    qToBigEndian<quint16>(checksum, u + 6);
    return p;
}

Result RawReplaySocket::send(const SpooledDatagram &d)
{
#ifdef Q_OS_LINUX
    m_buffer = packet(d);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(d.destinationAddress);
    sockaddr_in6 to6{};
    if (d.ipv6) {
        if (m_fd6 < 0) {
            if (auto opened = openIpv6(); !opened)
                return opened;
        }
        to6.sin6_family = AF_INET6;
        std::memcpy(&to6.sin6_addr, d.destination6.c, 16);
    }
    const int fd = d.ipv6 ? m_fd6 : m_fd;
    const auto *address = d.ipv6 ? reinterpret_cast<const sockaddr *>(&to6) : reinterpret_cast<const sockaddr *>(&to);
    const socklen_t addressSize = d.ipv6 ? sizeof to6 : sizeof to;
    for (;;) {
        const ssize_t sent = ::sendto(fd, m_buffer.constData(), size_t(m_buffer.size()), 0, address, addressSize);
        if (sent == m_buffer.size())
            return {};
        if (sent < 0 && (errno == EINTR || errno == ENOBUFS || errno == EAGAIN)) {
            ::usleep(200); // the send buffer is full: wait rather than lose the datagram
            continue;
        }
        return makeError(tr("Cannot replay a datagram: %1").arg(QString::fromLocal8Bit(std::strerror(errno))));
    }
#else
    Q_UNUSED(d);
    return makeError(tr("Replaying flows is only available on Linux nodes."));
#endif
}

// ------------------------------------------------------------------ socket queue

UdpSocketQueue UdpSocketQueue::read(quint16 port)
{
    UdpSocketQueue q;
    const QByteArray portHex = QByteArray::number(port, 16).toUpper().rightJustified(4, '0');
    // A dual-stack or IPv6 service socket is listed in udp6 only; an IPv4 one in udp.
    // Both are read: a port may have sockets in both, and every queue counts.
    for (const QString &table : {QStringLiteral("/proc/net/udp"), QStringLiteral("/proc/net/udp6")}) {
        QFile file(table);
        if (!file.open(QIODevice::ReadOnly))
            continue;
        const QList<QByteArray> lines = file.readAll().split('\n');
        for (qsizetype i = 1; i < lines.size(); ++i) {
            const QList<QByteArray> f = lines.at(i).simplified().split(' ');
            // sl local rem st tx:rx tr tm retrnsmt uid timeout inode ref pointer drops
            if (f.size() < 13 || !f.at(1).endsWith(':' + portHex))
                continue;
            q.found = true;
            q.queuedBytes += f.at(4).mid(f.at(4).indexOf(':') + 1).toLongLong(nullptr, 16);
            q.drops += f.last().toLongLong();
        }
    }
    return q;
}

// ------------------------------------------------------------------ templates

void SpoolTemplates::add(const SpooledDatagram &d)
{
    if (d.data.size() < 16)
        return;
    const quint16 version = be16(d.data, 0);
    const auto addressOf = [&d](bool source) {
        Address a{};
        a[0] = d.ipv6 ? 6 : 4;
        if (d.ipv6)
            std::memcpy(a.data() + 1, (source ? d.source6 : d.destination6).c, 16);
        else
            qToBigEndian<quint32>(source ? d.sourceAddress : d.destinationAddress, a.data() + 1);
        return a;
    };
    Key key{addressOf(true), d.sourcePort, addressOf(false), d.destinationPort, version, 0};
    if (version == 9 && d.data.size() >= 20)
        key.domain = be32(d.data, 16);
    else if (version == 10)
        key.domain = be32(d.data, 12);
    if (m_maxExporters > 0 && m_exporters.size() >= m_maxExporters && !m_exporters.contains(key))
        return;
    if (version == 9 && d.data.size() >= 20) {
        key.domain = be32(d.data, 16);
        Exporter &e = m_exporters[key];
        e.header = d.data.left(20);
        e.arrivalMsecs = d.arrivalMsecs;
        addV9(key, d.data);
    } else if (version == 10) {
        key.domain = be32(d.data, 12);
        Exporter &e = m_exporters[key];
        e.header = d.data.left(16);
        e.arrivalMsecs = d.arrivalMsecs;
        addIpfix(key, d.data);
    }
}

void SpoolTemplates::addV9(const Key &key, const QByteArray &data)
{
    Exporter &e = m_exporters[key];
    qsizetype at = 20;
    while (at + 4 <= data.size()) {
        const quint16 setId = be16(data, at);
        const quint16 length = be16(data, at + 2);
        if (length < 4 || at + length > data.size())
            return;
        const qsizetype end = at + length;
        qsizetype r = at + 4;
        if (setId == 0) { // templates: id, field count, fields of 4 bytes
            while (r + 4 <= end) {
                const quint16 id = be16(data, r);
                const qsizetype size = 4 + qsizetype(be16(data, r + 2)) * 4;
                if (id < 256 || r + size > end)
                    break;
                e.templates[id] = {setId, data.mid(r, size)};
                r += size;
            }
        } else if (setId == 1) { // options templates: id, scope length, option length, fields
            while (r + 6 <= end) {
                const quint16 id = be16(data, r);
                const qsizetype size = 6 + qsizetype(be16(data, r + 2)) + be16(data, r + 4);
                if (id < 256 || r + size > end)
                    break;
                e.templates[id] = {setId, data.mid(r, size)};
                r += size;
            }
        }
        at = end;
    }
}

void SpoolTemplates::addIpfix(const Key &key, const QByteArray &data)
{
    Exporter &e = m_exporters[key];
    const qsizetype total = qMin<qsizetype>(be16(data, 2), data.size());
    qsizetype at = 16;
    while (at + 4 <= total) {
        const quint16 setId = be16(data, at);
        const quint16 length = be16(data, at + 2);
        if (length < 4 || at + length > total)
            return;
        const qsizetype end = at + length;
        qsizetype r = at + 4;
        if (setId == 2 || setId == 3) {
            while (r + 4 <= end) {
                const quint16 id = be16(data, r);
                const quint16 fields = be16(data, r + 2);
                if (id < 256)
                    break;
                if (fields == 0) { // withdrawal
                    e.templates.remove(id);
                    r += 4;
                    continue;
                }
                qsizetype f = r + (setId == 3 ? 6 : 4);
                bool ok = true;
                for (int i = 0; i < fields && ok; ++i) {
                    if (f + 4 > end) {
                        ok = false;
                        break;
                    }
                    const bool enterprise = be16(data, f) & 0x8000;
                    f += enterprise ? 8 : 4;
                    ok = f <= end;
                }
                if (!ok)
                    break;
                e.templates[id] = {setId, data.mid(r, f - r)};
                r = f;
            }
        }
        at = end;
    }
}

QList<SpooledDatagram> SpoolTemplates::datagrams() const
{
    QList<SpooledDatagram> out;
    for (auto it = m_exporters.cbegin(); it != m_exporters.cend(); ++it) {
        const Key &k = it.key();
        const Exporter &e = it.value();
        for (auto t = e.templates.cbegin(); t != e.templates.cend(); ++t) {
            const quint16 setId = t.value().first;
            const QByteArray &record = t.value().second;
            QByteArray set(4, '\0');
            set += record;
            while (set.size() % 4)
                set += '\0';
            putBe16(set, 0, setId);
            putBe16(set, 2, quint16(set.size()));
            QByteArray data = e.header + set;
            if (k.version == 9)
                putBe16(data, 2, 1); // one record in this packet
            else
                putBe16(data, 2, quint16(data.size()));
            SpooledDatagram d;
            d.arrivalMsecs = e.arrivalMsecs;
            d.ipv6 = k.address[0] == 6;
            if (d.ipv6) {
                std::memcpy(d.source6.c, k.address.data() + 1, 16);
                std::memcpy(d.destination6.c, k.destination.data() + 1, 16);
            } else {
                d.sourceAddress = qFromBigEndian<quint32>(k.address.data() + 1);
                d.destinationAddress = qFromBigEndian<quint32>(k.destination.data() + 1);
            }
            d.sourcePort = k.port;
            d.destinationPort = k.destinationPort;
            d.data = data;
            out.append(d);
        }
    }
    return out;
}

// ------------------------------------------------------------------ replay

namespace {

// Datagrams sent between two looks at the service socket's queue.
constexpr int kBurst = 8;

qint64 queueThreshold()
{
    // A quarter of the default socket buffer, so a burst on top never reaches the limit.
    QFile file(QStringLiteral("/proc/sys/net/core/rmem_default"));
    qint64 rmem = 212992;
    if (file.open(QIODevice::ReadOnly))
        rmem = qMax<qint64>(file.readAll().trimmed().toLongLong(), 65536);
    return rmem / 4;
}

} // namespace

SpoolReplayOutcome replaySpool(const QString &spoolPath, quint32 mark, bool templatesFirst,
                               SpoolReplayCounters &counters)
{
    SpoolReplayOutcome outcome;
    RawReplaySocket socket;
    if (auto opened = socket.open(mark); !opened) {
        outcome.error = opened.error();
        return outcome;
    }
    FlowSpoolReader reader;
    if (auto opened = reader.open(spoolPath); !opened) {
        outcome.error = opened.error();
        return outcome;
    }
    ReplayJournal journal;
    if (auto opened = journal.open(spoolPath, reader.firstRecord()); !opened) {
        outcome.error = opened.error();
        return outcome;
    }
    // Unless the caller knows the count (a fresh spool it just wrote), one pass first for
    // the counts and the templates: what an earlier replay sent, and what is left.
    SpoolTemplates templates;
    if (templatesFirst || counters.total <= 0 || journal.offset() > reader.firstRecord()) {
        qint64 total = 0;
        for (;;) {
            const qint64 at = reader.offset();
            const auto d = reader.next();
            if (!d)
                break;
            if (at < journal.offset())
                ++outcome.replayedBefore;
            else
                ++total;
            if (templatesFirst)
                templates.add(*d);
        }
        counters.total = total;
    }
    if (auto sought = reader.seek(journal.offset()); !sought) {
        outcome.error = sought.error();
        return outcome;
    }
    for (const SpooledDatagram &d : templates.datagrams()) {
        if (auto sent = socket.send(d); !sent) {
            outcome.error = sent.error();
            return outcome;
        }
        ++outcome.templates;
    }

    const qint64 threshold = queueThreshold();
    QHash<quint16, qint64> dropsBefore;
    QElapsedTimer clock;
    clock.start();
    qint64 n = 0;
    while (auto d = reader.next()) {
        if (counters.cancel)
            break;
        if (n % kBurst == 0) {
            if (!dropsBefore.contains(d->destinationPort))
                dropsBefore.insert(d->destinationPort, UdpSocketQueue::read(d->destinationPort).drops);
            for (;;) {
                const UdpSocketQueue q = UdpSocketQueue::read(d->destinationPort);
                if (!q.found) {
                    outcome.paced = false;
                    const qint64 due = n * 1000 / kReplayFallbackPerSecond;
                    if (clock.elapsed() < due)
                        QThread::msleep(quint64(due - clock.elapsed()));
                    break;
                }
                if (q.queuedBytes <= threshold)
                    break;
                QThread::usleep(100);
            }
        }
        // Recorded before the send: a kill in between loses this datagram, never sends it twice.
        if (auto recorded = journal.record(reader.offset()); !recorded) {
            outcome.error = recorded.error();
            break;
        }
        if (auto sent = socket.send(*d); !sent) {
            outcome.error = sent.error();
            break;
        }
        ++n;
        counters.sent = n;
    }
    outcome.sent = n;
    outcome.seconds = double(clock.nsecsElapsed()) / 1e9;
    for (auto it = dropsBefore.cbegin(); it != dropsBefore.cend(); ++it)
        outcome.serviceDrops += UdpSocketQueue::read(it.key()).drops - it.value();
    return outcome;
}

} // namespace ft::agent

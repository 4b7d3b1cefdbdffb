#include "flowcapture.h"

#include "flowdecoder.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHostAddress>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSaveFile>
#include <QSocketNotifier>
#include <QTimer>
#include <QtEndian>

#ifdef Q_OS_LINUX
#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

namespace ft::agent {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::agent::FlowCapture", text); }

constexpr int kMaxPorts = 64;
constexpr int kSaveIntervalMs = 60 * 1000;

qint64 hourOf(const QDateTime &when)
{
    const qint64 seconds = when.toSecsSinceEpoch();
    return seconds - seconds % 3600;
}

} // namespace

// ---------------------------------------------------------------- history

FlowHistoryStore::FlowHistoryStore(QString file)
    : m_file(std::move(file))
{
}

bool FlowHistoryStore::load()
{
    QFile file(m_file);
    if (!file.open(QIODevice::ReadOnly))
        return false;
    const QJsonArray hours = QJsonDocument::fromJson(file.readAll()).object().value(QStringLiteral("hours")).toArray();
    m_hours.clear();
    for (const auto &value : hours) {
        const QJsonObject hour = value.toObject();
        const QDateTime start = QDateTime::fromString(hour.value(QStringLiteral("start")).toString(), Qt::ISODate);
        if (start.isValid())
            m_hours.insert(hourOf(start), hour.value(QStringLiteral("flows")).toInteger());
    }
    trim();
    return true;
}

Result FlowHistoryStore::save() const
{
    QDir().mkpath(QFileInfo(m_file).absolutePath());
    QSaveFile file(m_file);
    if (!file.open(QIODevice::WriteOnly))
        return makeError(tr("Cannot write the flow history %1: %2").arg(QDir::toNativeSeparators(m_file), file.errorString()));
    file.write(QJsonDocument(toJson(kMaxHours)).toJson(QJsonDocument::Compact));
    if (!file.commit())
        return makeError(tr("Cannot write the flow history %1: %2").arg(QDir::toNativeSeparators(m_file), file.errorString()));
    return {};
}

void FlowHistoryStore::add(const QDateTime &when, qint64 flows)
{
    m_hours[hourOf(when)] += flows;
    if (m_hours.size() > kMaxHours)
        trim();
}

void FlowHistoryStore::seed(const QJsonObject &history)
{
    for (const auto &value : history.value(QStringLiteral("hours")).toArray()) {
        const QJsonObject hour = value.toObject();
        const QDateTime start = QDateTime::fromString(hour.value(QStringLiteral("start")).toString(), Qt::ISODate);
        if (start.isValid() && !m_hours.contains(hourOf(start)))
            m_hours.insert(hourOf(start), hour.value(QStringLiteral("flows")).toInteger());
    }
    trim();
}

QJsonObject FlowHistoryStore::toJson(int hours) const
{
    QJsonArray list;
    auto it = m_hours.cend();
    int count = 0;
    while (it != m_hours.cbegin() && count < hours) {
        --it;
        ++count;
    }
    for (; it != m_hours.cend(); ++it) {
        list.append(QJsonObject{
            {QStringLiteral("start"), QDateTime::fromSecsSinceEpoch(it.key(), Qt::UTC).toString(Qt::ISODate)},
            {QStringLiteral("flows"), it.value()}});
    }
    return {{QStringLiteral("hours"), list}};
}

void FlowHistoryStore::trim()
{
    if (m_hours.isEmpty())
        return;
    // 31 days back from the newest hour.
    const qint64 oldest = m_hours.lastKey() - qint64(kMaxHours - 1) * 3600;
    while (!m_hours.isEmpty() && m_hours.firstKey() < oldest)
        m_hours.erase(m_hours.begin());
}

// ---------------------------------------------------------------- capture

FlowCapture::FlowCapture(QList<quint16> ports, QString historyFile, QObject *parent)
    : QObject(parent)
    , m_ports(std::move(ports))
    , m_history(std::move(historyFile))
    , m_decoder(std::make_unique<flow::FlowDecoder>())
{
    m_history.load();
    m_secondOf.fill(-1);
    m_templates.setMaxExporters(1024);
    auto *timer = new QTimer(this);
    timer->setInterval(kSaveIntervalMs);
    connect(timer, &QTimer::timeout, this, [this] {
        if (m_unsavedSince != 0) {
            (void)m_history.save();
            m_unsavedSince = 0;
        }
    });
    timer->start();
}

FlowCapture::~FlowCapture()
{
    if (m_unsavedSince != 0)
        (void)m_history.save();
#ifdef Q_OS_LINUX
    if (m_fd >= 0)
        ::close(m_fd);
#endif
}

QByteArray FlowCapture::filterProgram(const QList<quint16> &ports)
{
#ifdef Q_OS_LINUX
    QList<sock_filter> code;
    auto op = [&code](quint16 c, quint32 k, quint8 jt = 0, quint8 jf = 0) { code.append(sock_filter{c, jt, jf, k}); };
    const int n = int(ports.size());
    // Offsets below are relative jumps: target = next instruction + offset.
    // Layout: [0..9] IPv4, [10..13] IPv6, [14..14+n-1] ports, accept, drop.
    const int portsAt = 14;
    const int acceptAt = portsAt + n;
    const int dropAt = acceptAt + 1;
    auto to = [](int from, int target) { return quint8(target - from - 1); };
    op(BPF_LD | BPF_B | BPF_ABS, 0);                              // 0: A = first byte
    op(BPF_ALU | BPF_RSH | BPF_K, 4);                             // 1: A = IP version
    op(BPF_JMP | BPF_JEQ | BPF_K, 4, 0, to(2, 10));               // 2: IPv4? else IPv6 check
    op(BPF_LD | BPF_B | BPF_ABS, 9);                              // 3: protocol
    op(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, to(4, dropAt)); // 4: UDP?
    op(BPF_LD | BPF_H | BPF_ABS, 6);                              // 5: flags + fragment offset
    op(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, to(6, dropAt), 0);     // 6: a later fragment has no UDP header
    op(BPF_LDX | BPF_B | BPF_MSH, 0);                             // 7: X = IPv4 header length
    op(BPF_LD | BPF_H | BPF_IND, 2);                              // 8: A = UDP destination port
    op(BPF_JMP | BPF_JA, quint32(portsAt - 10));                  // 9: to the ports
    op(BPF_JMP | BPF_JEQ | BPF_K, 6, 0, to(10, dropAt));          // 10: IPv6?
    op(BPF_LD | BPF_B | BPF_ABS, 6);                              // 11: next header (no extension headers)
    op(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, to(12, dropAt));// 12: UDP?
    op(BPF_LD | BPF_H | BPF_ABS, 42);                             // 13: UDP destination port
    for (int i = 0; i < n; ++i)
        op(BPF_JMP | BPF_JEQ | BPF_K, ports.at(i), to(portsAt + i, acceptAt),
           i + 1 < n ? 0 : to(portsAt + i, dropAt));
    op(BPF_RET | BPF_K, 0x40000);                                 // accept (whole datagram)
    op(BPF_RET | BPF_K, 0);                                       // drop
    return QByteArray(reinterpret_cast<const char *>(code.constData()), code.size() * qsizetype(sizeof(sock_filter)));
#else
    Q_UNUSED(ports);
    return {};
#endif
}

Result FlowCapture::start()
{
    m_since = QDateTime::currentDateTimeUtc();
#ifndef Q_OS_LINUX
    m_reason = tr("Flow rates are measured by the agent on Linux only (a packet socket); not on this system.");
    return makeError(m_reason);
#else
    if (m_ports.isEmpty() || m_ports.size() > kMaxPorts) {
        m_reason = m_ports.isEmpty() ? tr("No flow_ports are configured in agent.conf.")
                                     : tr("flow_ports lists more than %1 ports.").arg(kMaxPorts);
        return makeError(m_reason);
    }
    const int fd = ::socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (fd < 0) {
        const int error = errno;
        m_reason = error == EPERM || error == EACCES
                       ? tr("The agent may not open a packet socket (it needs CAP_NET_RAW, e.g. "
                            "AmbientCapabilities=CAP_NET_RAW in its systemd unit): %1").arg(QString::fromLocal8Bit(std::strerror(error)))
                       : tr("The packet socket could not be opened: %1").arg(QString::fromLocal8Bit(std::strerror(error)));
        return makeError(m_reason);
    }
    const QByteArray program = filterProgram(m_ports);
    sock_fprog fprog{};
    fprog.len = static_cast<unsigned short>(program.size() / qsizetype(sizeof(sock_filter)));
    fprog.filter = reinterpret_cast<sock_filter *>(const_cast<char *>(program.constData()));
    if (::setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof(fprog)) != 0) {
        m_reason = tr("The packet filter could not be attached: %1").arg(QString::fromLocal8Bit(std::strerror(errno)));
        ::close(fd);
        return makeError(m_reason);
    }
    // Bursts of exporters are absorbed by the kernel's buffer, not dropped.
    const int buffer = 8 * 1024 * 1024;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof(buffer));
    // Packets queued before the filter was attached may be anything: drain them.
    char scratch[16];
    while (::recv(fd, scratch, sizeof(scratch), MSG_DONTWAIT | MSG_TRUNC) >= 0) {
    }
    m_fd = fd;
    m_reason.clear();
    m_notifier = new QSocketNotifier(fd, QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &FlowCapture::readPackets);
    return {};
#endif
}

void FlowCapture::readPackets()
{
#ifdef Q_OS_LINUX
    QByteArray buffer(65536 + 64, Qt::Uninitialized);
    // Bounded per wake-up so a flood cannot starve the API.
    for (int i = 0; i < 4096; ++i) {
        sockaddr_ll from{};
        socklen_t fromLength = sizeof(from);
        const ssize_t got = ::recvfrom(m_fd, buffer.data(), size_t(buffer.size()), MSG_DONTWAIT,
                                       reinterpret_cast<sockaddr *>(&from), &fromLength);
        if (got < 0)
            return;
        // On the way out the kernel shows the agent a copy too (loopback: each
        // datagram twice). Only what arrives counts.
        if (from.sll_pkttype == PACKET_OUTGOING)
            continue;
        handlePacket(QByteArray::fromRawData(buffer.constData(), qsizetype(got)), QDateTime::currentDateTimeUtc());
    }
#endif
}

void FlowCapture::handlePacket(const QByteArray &packet, const QDateTime &now)
{
    const auto *data = reinterpret_cast<const uchar *>(packet.constData());
    const qsizetype size = packet.size();
    if (size < 1)
        return;
    qsizetype udpAt = 0;
    QHostAddress source;
    const int version = data[0] >> 4;
    if (version == 4) {
        const qsizetype headerLength = qsizetype(data[0] & 0x0f) * 4;
        if (size < 20 || headerLength < 20 || data[9] != 17 || (qFromBigEndian<quint16>(data + 6) & 0x1fff) != 0)
            return;
        udpAt = headerLength;
        source = QHostAddress(qFromBigEndian<quint32>(data + 12));
    } else if (version == 6) {
        if (size < 40 || data[6] != 17)
            return;
        udpAt = 40;
        source = QHostAddress(data + 8);
    } else {
        return;
    }
    if (size < udpAt + 8)
        return;
    const quint16 port = qFromBigEndian<quint16>(data + udpAt + 2);
    const quint16 udpLength = qFromBigEndian<quint16>(data + udpAt + 4);
    if (!m_ports.contains(port) || udpLength < 8 || udpAt + udpLength > size)
        return;
    ++m_datagrams;
    const QByteArray payload(packet.constData() + udpAt + 8, udpLength - 8);
    const auto decoded = m_decoder->decode(payload, source);
    if (!decoded) {
        ++m_rejected;
        return;
    }
    if (decoded->templates + decoded->optionsTemplates + decoded->withdrawnTemplates > 0) {
        SpooledDatagram d;
        d.setSource(source);
        d.sourcePort = qFromBigEndian<quint16>(data + udpAt);
        d.setDestination(version == 4 ? QHostAddress(qFromBigEndian<quint32>(data + 16)) : QHostAddress(data + 24));
        d.destinationPort = port;
        d.data = payload;
        m_templates.add(d);
    }
    if (decoded->flows <= 0)
        return;
    m_records += decoded->flows;
    m_lastFlowAt = now;
    tickSecond(now.toSecsSinceEpoch(), decoded->flows);
    m_history.add(now, decoded->flows);
    if (m_unsavedSince == 0)
        m_unsavedSince = now.toSecsSinceEpoch();
}

void FlowCapture::tickSecond(qint64 second, qint64 records)
{
    const auto slot = size_t(second % 60);
    if (m_secondOf[slot] != second) {
        m_secondOf[slot] = second;
        m_perSecond[slot] = 0;
    }
    m_perSecond[slot] += records;
}

FlowMeasurement FlowCapture::measurement() const
{
    FlowMeasurement m;
    m.ports = m_ports;
    m.measured = m_fd >= 0;
    m.reason = m_reason;
    m.since = m_since;
    m.lastFlowAt = m_lastFlowAt;
    m.datagrams = m_datagrams;
    m.records = m_records;
    m.rejected = m_rejected;
    if (!m.measured)
        return m;
    const QDateTime now = QDateTime::currentDateTimeUtc();
    const qint64 second = now.toSecsSinceEpoch();
    // Whole seconds before the current one; right after start, over the time counted.
    const qint64 counted = qMax<qint64>(1, qMin<qint64>(60, second - m_since.toSecsSinceEpoch()));
    qint64 lastMinute = 0;
    qint64 lastTen = 0;
    for (size_t i = 0; i < m_perSecond.size(); ++i) {
        const qint64 age = second - m_secondOf[i];
        if (m_secondOf[i] < 0 || age < 1 || age > 60)
            continue;
        lastMinute += m_perSecond[i];
        if (age <= 10)
            lastTen += m_perSecond[i];
    }
    m.perSecond1m = double(lastMinute) / double(counted);
    m.perSecond10s = double(lastTen) / double(qMin<qint64>(10, counted));
    return m;
}

} // namespace ft::agent

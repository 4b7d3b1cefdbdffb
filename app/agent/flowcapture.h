#pragma once

#include "rawreplay.h"

#include "model/expected.h"

#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QMap>
#include <QObject>
#include <QString>

#include <array>
#include <memory>

class QSocketNotifier;

namespace ft::flow {
class FlowDecoder;
}

namespace ft::agent {

// The agent's own view of the flows arriving at this node.
struct FlowMeasurement
{
    bool measured = false;
    QString reason;          // why not measured, a sentence
    QList<quint16> ports;
    double perSecond1m = 0;
    double perSecond10s = 0;
    QDateTime lastFlowAt;
    QDateTime since;         // when counting began
    qint64 datagrams = 0;
    qint64 records = 0;
    qint64 rejected = 0;     // datagrams the decoder refused
};

// The hourly flow counts the agent keeps itself, because FlowTraq's own history is
// lost at every restart (vendor documentation): whole UTC hours, at most 31 days,
// in a JSON file in the agent's state folder.
class FlowHistoryStore
{
public:
    static constexpr int kMaxHours = 31 * 24;

    explicit FlowHistoryStore(QString file);

    QString file() const { return m_file; }
    bool load();                       // false when there is no file yet
    Result save() const;               // atomically
    void add(const QDateTime &when, qint64 flows);
    // Seeds hours from another history ({"hours": [...]}) where this one has none.
    void seed(const QJsonObject &history);
    // The last `hours` whole hours, oldest first, as GET /v1/flows/history answers.
    QJsonObject toJson(int hours) const;
    bool isEmpty() const { return m_hours.isEmpty(); }

private:
    void trim();

    QString m_file;
    QMap<qint64, qint64> m_hours; // hour start (seconds since the epoch) -> flows
};

// Counts the NetFlow/IPFIX records arriving on the node's flow ports with a Linux
// packet socket (AF_PACKET) and a classic BPF filter on the UDP destination ports: the
// kernel hands the agent a copy of every datagram, the FlowTraq daemon's own socket
// gets its datagram as before. Each datagram is counted once: copies the node sends
// (PACKET_OUTGOING, e.g. on the loopback interface) are skipped. Without Linux or
// without CAP_NET_RAW, nothing is measured and `measurement()` says why.
class FlowCapture : public QObject
{
    Q_OBJECT

public:
    FlowCapture(QList<quint16> ports, QString historyFile, QObject *parent = nullptr);
    ~FlowCapture() override;

    // Opens the packet socket. An error (no privilege, not Linux) leaves the capture
    // "not measured" with that sentence.
    Result start();
    FlowMeasurement measurement() const;
    // The latest v9/IPFIX templates seen per exporter, for the flow keeper's replay: the
    // service restarted by an upgrade has none until each exporter sends them again.
    const SpoolTemplates &templates() const { return m_templates; }
    const FlowHistoryStore &history() const { return m_history; }
    FlowHistoryStore &history() { return m_history; }
    Result saveHistory() const { return m_history.save(); }

    // The BPF program for these ports (tests read it; IPv4 and IPv6, unfragmented UDP).
    static QByteArray filterProgram(const QList<quint16> &ports);

    // One IP packet (as a SOCK_DGRAM packet socket delivers it): counts its flow
    // records when it is a UDP datagram to one of the ports. Public for tests.
    void handlePacket(const QByteArray &packet, const QDateTime &now);

private:
    void readPackets();
    void tickSecond(qint64 second, qint64 records);

    QList<quint16> m_ports;
    FlowHistoryStore m_history;
    std::unique_ptr<flow::FlowDecoder> m_decoder;
    SpoolTemplates m_templates;
    int m_fd = -1;
    QSocketNotifier *m_notifier = nullptr;
    QString m_reason;
    QDateTime m_since;
    QDateTime m_lastFlowAt;
    qint64 m_datagrams = 0;
    qint64 m_records = 0;
    qint64 m_rejected = 0;
    // Records per second for the last minute, as a ring indexed by second.
    std::array<qint64, 60> m_perSecond{};
    std::array<qint64, 60> m_secondOf{};
    qint64 m_unsavedSince = 0;
};

} // namespace ft::agent

#pragma once

#include "flowdecoder.h"

#include <QDateTime>
#include <QMap>

#include <array>

namespace ft::sandbox {

// The daemon's counters: totals, flows per second over the last minute (a ring of
// 60 one-second slots) and flows per whole UTC hour of this run. Times are passed in
// (ms since the epoch) so the arithmetic is testable without waiting.
class FlowStats
{
public:
    explicit FlowStats(qint64 startedMsecs);

    void addDatagram() { ++m_datagrams; }
    void addRejected() { ++m_rejected; }
    void addFlows(flow::Protocol protocol, int flows, qint64 nowMsecs);
    // Flows per exporter address (as the datagram's source), so a replay that arrives
    // from the wrong address shows as another exporter. At most kMaxExporters addresses;
    // flows of any further one are summed under "other".
    void addExporterFlows(const QString &address, int flows);
    const QMap<QString, qint64> &byExporter() const { return m_byExporter; }
    static constexpr int kMaxExporters = 1000;
    // Makes the current hour exist (with 0 flows) while the daemon listens for flows, so
    // a quiet hour is recorded as quiet rather than missing.
    void touchHour(qint64 nowMsecs);

    qint64 datagrams() const { return m_datagrams; }
    qint64 rejected() const { return m_rejected; }
    qint64 flowsTotal() const { return m_flowsTotal; }
    qint64 flows(flow::Protocol protocol) const { return m_byProtocol.at(size_t(protocol)); }
    QDateTime lastFlowAt() const { return m_lastFlowAt; }

    // Flows in the last `seconds` (1 to 60) up to and including the current second.
    qint64 flowsInLast(int seconds, qint64 nowMsecs) const;
    // The rate over the last `seconds`, or over the time the daemon has run if shorter.
    double flowsPerSecond(int seconds, qint64 nowMsecs) const;

    // Whole UTC hours (start, seconds since the epoch) of this run and their flows.
    const QMap<qint64, qint64> &hours() const { return m_hours; }

    static qint64 hourStart(qint64 msecs) { return msecs / 1000 / 3600 * 3600; }

private:
    static constexpr int kSlots = 60;

    qint64 m_startedMsecs;
    qint64 m_datagrams = 0;
    qint64 m_rejected = 0;
    qint64 m_flowsTotal = 0;
    std::array<qint64, 3> m_byProtocol{};
    std::array<qint64, kSlots> m_slotFlows{};
    std::array<qint64, kSlots> m_slotSecond{};
    QDateTime m_lastFlowAt;
    QMap<qint64, qint64> m_hours;
    QMap<QString, qint64> m_byExporter;
};

} // namespace ft::sandbox

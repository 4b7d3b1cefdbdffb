#include "flowstats.h"

#include <algorithm>

namespace ft::sandbox {

FlowStats::FlowStats(qint64 startedMsecs)
    : m_startedMsecs(startedMsecs)
{
    m_slotSecond.fill(-1);
}

void FlowStats::addExporterFlows(const QString &address, int flows)
{
    if (flows <= 0)
        return;
    auto it = m_byExporter.find(address);
    if (it == m_byExporter.end() && m_byExporter.size() >= kMaxExporters)
        it = m_byExporter.insert(QStringLiteral("other"), m_byExporter.value(QStringLiteral("other")));
    else if (it == m_byExporter.end())
        it = m_byExporter.insert(address, 0);
    *it += flows;
}

void FlowStats::addFlows(flow::Protocol protocol, int flows, qint64 nowMsecs)
{
    if (flows <= 0)
        return;
    const qint64 second = nowMsecs / 1000;
    const size_t slot = size_t(second % kSlots);
    if (m_slotSecond[slot] != second) {
        m_slotSecond[slot] = second;
        m_slotFlows[slot] = 0;
    }
    m_slotFlows[slot] += flows;
    m_flowsTotal += flows;
    m_byProtocol[size_t(protocol)] += flows;
    m_hours[hourStart(nowMsecs)] += flows;
    m_lastFlowAt = QDateTime::fromMSecsSinceEpoch(nowMsecs, Qt::UTC);
}

void FlowStats::touchHour(qint64 nowMsecs)
{
    m_hours[hourStart(nowMsecs)] += 0;
}

qint64 FlowStats::flowsInLast(int seconds, qint64 nowMsecs) const
{
    seconds = std::clamp(seconds, 1, kSlots);
    const qint64 now = nowMsecs / 1000;
    qint64 total = 0;
    for (size_t i = 0; i < size_t(kSlots); ++i) {
        if (m_slotSecond[i] > now - seconds && m_slotSecond[i] <= now)
            total += m_slotFlows[i];
    }
    return total;
}

double FlowStats::flowsPerSecond(int seconds, qint64 nowMsecs) const
{
    seconds = std::clamp(seconds, 1, kSlots);
    // The slots cover the whole seconds before this one plus this one so far.
    const double covered = double(seconds - 1) + double(nowMsecs % 1000) / 1000.0;
    const double ran = double(nowMsecs - m_startedMsecs) / 1000.0;
    const double window = std::max(1.0, std::min(covered, ran));
    return double(flowsInLast(seconds, nowMsecs)) / window;
}

} // namespace ft::sandbox

#pragma once

#include "model/expected.h"

#include <QMap>
#include <QString>

namespace ft::sandbox {

// data/flowhistory.json: flows per whole UTC hour, oldest first, at most kMaxDays.
// The history found at start-up is the baseline; this run's hours are added to it, so
// saving again (every minute) never counts an hour twice.
class FlowHistory
{
public:
    static constexpr int kMaxDays = 31;

    // A missing file is an empty history; an unreadable one is an error.
    static Expected<FlowHistory> load(const QString &path);

    // Baseline plus `runHours` (hour start in seconds since the epoch → flows), capped
    // to the kMaxDays before `nowMsecs`' hour.
    QMap<qint64, qint64> merged(const QMap<qint64, qint64> &runHours, qint64 nowMsecs) const;

    Result save(const QString &path, const QMap<qint64, qint64> &runHours, qint64 nowMsecs) const;

    const QMap<qint64, qint64> &baseline() const { return m_baseline; }

private:
    QMap<qint64, qint64> m_baseline;
};

} // namespace ft::sandbox

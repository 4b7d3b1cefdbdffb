#pragma once

#include "notice/notice.h"

#include <QDateTime>
#include <QString>
#include <QTimeZone>

namespace ft {

// How far before the announced window a start counts as early and is asked about again.
inline constexpr qint64 kEarlyStartToleranceMs = 5 * 60 * 1000;

// The moment of commitment: what the administrator is told before a run may stop any
// service. Built from the same facts as the notice, so it restates what users were told.
struct Commitment
{
    QDateTime windowStart; // the announced window (UTC)
    QDateTime windowEnd;
    bool scheduled = false; // the window lies ahead: stage now, stop services at windowStart
    QString title;
    QString html; // what stops when, the window, the flow loss
};

// `flowsLost` and `flowArithmetic` are the plan's one flow-loss figure for this start
// and how it was reached; `keptFlowNodes` the nodes whose agents keep and replay their
// flows (they lose none). `now` decides whether the run waits for the window.
Commitment describeCommitment(const NoticeFacts &facts, qint64 flowsLost, const QString &flowArithmetic,
                              const QDateTime &now, const QStringList &keptFlowNodes = {});

// The second question, when the run is started before its announced window: empty
// when `now` is no more than kEarlyStartToleranceMs before it.
QString earlyStartQuestion(const QDateTime &windowStart, const QDateTime &now, const QTimeZone &zone);

// Empty when users are told at least `leadMs` before `windowStart` (the lead time set on
// the Plan page); otherwise a sentence saying how much notice they get instead (the
// caller says what to do about it, as fits its page).
QString shortNoticeWarning(const QDateTime &windowStart, const QDateTime &now, qint64 leadMs);

// "23:00 CET (22:00 UTC)"
QString timeWithZone(const QDateTime &time, const QTimeZone &zone);
// "1:02:03" or "4:05" until the window.
QString countdownText(qint64 ms);

} // namespace ft

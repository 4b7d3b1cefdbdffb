#include "notice/commitment.h"

#include "plan/estimate.h"

#include <QCoreApplication>
#include <QLocale>
#include <QStringList>

namespace ft {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::Commitment", text); }

QString clock(const QDateTime &time, const QTimeZone &zone)
{
    return time.toTimeZone(zone).toString(QStringLiteral("HH:mm"));
}

QString whatStops(const ImpactPeriod &period)
{
    const QString nodes = period.nodes.join(QStringLiteral(", "));
    switch (period.kind) {
    case ImpactPeriod::WorkersSlow:
        return tr("the FlowTraq service on %1 (queries slower, possibly incomplete)").arg(nodes);
    case ImpactPeriod::PortalDown:
        return nodes.compare(QLatin1String("portal"), Qt::CaseInsensitive) == 0
                   ? tr("the FlowTraq service on the portal (no queries at all)")
                   : tr("the FlowTraq service on the portal %1 (no queries at all)").arg(nodes);
    case ImpactPeriod::WebUiDown:
        return tr("the Web UI on %1 (its files are replaced)").arg(nodes);
    case ImpactPeriod::NbiDown:
        return tr("the NBI service on %1").arg(nodes);
    }
    return nodes;
}

} // namespace

QString timeWithZone(const QDateTime &time, const QTimeZone &zone)
{
    const QDateTime local = time.toTimeZone(zone);
    const QString abbreviation = zone.abbreviation(local);
    const QString today = local.date() == QDateTime::currentDateTime().toTimeZone(zone).date()
                              ? QString()
                              : QLocale().toString(local.date(), QLocale::ShortFormat) + QLatin1Char(' ');
    if (zone.offsetFromUtc(local) == 0 && (abbreviation.contains(QLatin1String("UTC")) || abbreviation == QLatin1String("GMT")))
        return tr("%1%2 UTC").arg(today, local.toString(QStringLiteral("HH:mm")));
    return tr("%1%2 %3 (%4 UTC)")
        .arg(today, local.toString(QStringLiteral("HH:mm")), abbreviation,
             time.toUTC().toString(QStringLiteral("HH:mm")));
}

QString countdownText(qint64 ms)
{
    const qint64 seconds = std::max<qint64>(0, (ms + 999) / 1000);
    if (seconds >= 3600)
        return QStringLiteral("%1:%2:%3")
            .arg(seconds / 3600)
            .arg((seconds % 3600) / 60, 2, 10, QLatin1Char('0'))
            .arg(seconds % 60, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1:%2").arg(seconds / 60).arg(seconds % 60, 2, 10, QLatin1Char('0'));
}

Commitment describeCommitment(const NoticeFacts &facts, qint64 flowsLost, const QString &flowArithmetic,
                              const QDateTime &now, const QStringList &keptFlowNodes)
{
    Commitment commitment;
    commitment.windowStart = facts.windowStart;
    commitment.windowEnd = facts.windowEnd;
    // A window a few seconds away counts as open: no countdown for that.
    commitment.scheduled = now.msecsTo(facts.windowStart) > 10 * 1000;
    const QTimeZone zone = facts.adminZone.isValid() ? facts.adminZone : QTimeZone::systemTimeZone();

    QString html;
    html += tr("<p><b>Announced window:</b> %1 – %2.</p>")
                .arg(timeWithZone(facts.windowStart, zone), timeWithZone(facts.windowEnd, zone));
    if (commitment.scheduled)
        html += tr("<p>The packages are staged on every node <b>now</b>; no service stops before "
                   "<b>%1</b> (in %2). The run page counts down to it.</p>")
                    .arg(timeWithZone(facts.windowStart, zone), formatDuration(now.msecsTo(facts.windowStart)));
    else
        html += tr("<p>The packages are staged now, and the first service stops as soon as they are "
                   "all verified.</p>");
    html += tr("<p><b>What will be stopped, and when</b> (estimates):</p><ul>");
    for (const ImpactPeriod &period : facts.periods) {
        const qint64 length = period.start.msecsTo(period.end);
        const QString when = length < 60 * 1000 || clock(period.start, zone) == clock(period.end, zone)
                                 ? tr("about %1 at %2").arg(formatDuration(length), clock(period.start, zone))
                                 : tr("%1 – %2 (%3)").arg(clock(period.start, zone), clock(period.end, zone),
                                                          formatDuration(length));
        html += QStringLiteral("<li>%1</li>").arg(tr("%1: %2").arg(when, whatStops(period).toHtmlEscaped()));
    }
    html += QStringLiteral("</ul>");
    const QString kept = keptFlowNodes.isEmpty()
                             ? QString()
                             : tr("the flows %1 receive while down are kept by their agents and replayed "
                                  "afterwards")
                                   .arg(QLocale().createSeparatedList(keptFlowNodes).toHtmlEscaped());
    if (flowsLost > 0)
        html += tr("<p><b>Expected flow loss:</b> about %1 flow records%2%3.</p>")
                    .arg(QLocale().toString(flowsLost),
                         flowArithmetic.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(flowArithmetic.toHtmlEscaped()),
                         kept.isEmpty() ? QString() : QStringLiteral("; ") + kept);
    else if (!kept.isEmpty())
        html += tr("<p><b>Expected flow loss:</b> none: %1.</p>").arg(kept);
    else
        html += tr("<p><b>Expected flow loss:</b> none (no upgraded server receives flows directly).</p>");
    commitment.html = html;
    commitment.title = commitment.scheduled ? tr("Stage now and start at %1?").arg(clock(facts.windowStart, zone))
                                            : tr("Start the upgrade now?");
    return commitment;
}

QString earlyStartQuestion(const QDateTime &windowStart, const QDateTime &now, const QTimeZone &zone)
{
    const qint64 early = now.msecsTo(windowStart);
    if (!windowStart.isValid() || early <= kEarlyStartToleranceMs)
        return {};
    return tr("<p>Users were told the upgrade starts at <b>%1</b>. Starting now stops services "
              "<b>%2 early</b>, outside the announced window.</p><p>Start anyway?</p>")
        .arg(timeWithZone(windowStart, zone), formatDuration(early));
}

QString shortNoticeWarning(const QDateTime &windowStart, const QDateTime &now, qint64 leadMs)
{
    if (!windowStart.isValid() || leadMs <= 0)
        return {};
    const qint64 notice = now.msecsTo(windowStart);
    if (notice >= leadMs)
        return {};
    if (notice < 60 * 1000)
        return tr("Users get no notice: the window starts now, and you chose to tell them %1 ahead.")
            .arg(formatDuration(leadMs));
    // Whole minutes: "22 min", never a count of seconds that is already stale.
    return tr("Users get only %1 of notice for this window, less than the %2 you chose.")
        .arg(formatDuration(notice / 60000 * 60000), formatDuration(leadMs));
}

} // namespace ft

#include "notice/notice.h"

#include "plan/estimate.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QLocale>
#include <QRegularExpression>
#include <QSaveFile>
#include <QUrl>

#include <algorithm>

namespace ft {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("ft::Notice", text);
}

const QString kDash = QStringLiteral("\u2013"); // en dash, for ranges

// Notices are written in English (the shipped templates are), so dates use the C
// locale's English names whatever the administrator's desktop locale is.
QString format(const QDateTime &time, const QString &pattern)
{
    return QLocale::c().toString(time, pattern);
}

QString abbreviation(const QTimeZone &zone, const QDateTime &time)
{
    if (zone == QTimeZone::utc())
        return QStringLiteral("UTC");
    return zone.abbreviation(time);
}

QString utcOffset(const QTimeZone &zone, const QDateTime &time)
{
    const int seconds = zone.offsetFromUtc(time);
    const int minutes = std::abs(seconds) / 60;
    return QStringLiteral("UTC%1%2:%3")
            .arg(seconds < 0 ? QLatin1Char('-') : QLatin1Char('+'))
            .arg(minutes / 60, 2, 10, QLatin1Char('0'))
            .arg(minutes % 60, 2, 10, QLatin1Char('0'));
}

class TimeFormatter
{
public:
    TimeFormatter(const QTimeZone &zone, const QDateTime &windowStart)
        : m_zone(zone)
        , m_windowDate(windowStart.toTimeZone(zone).date())
    { }

    QDateTime local(const QDateTime &time) const { return time.toTimeZone(m_zone); }

    // "Sat 5 Dec 2026 22:00 CET"
    QString full(const QDateTime &time) const
    {
        const QDateTime here = local(time);
        return format(here, QStringLiteral("ddd d MMM yyyy HH:mm")) + QLatin1Char(' ')
                + abbreviation(m_zone, here);
    }
    // "Sat 5 Dec 2026 21:00 UTC"
    QString utc(const QDateTime &time) const
    {
        return format(time.toUTC(), QStringLiteral("ddd d MMM yyyy HH:mm"))
                + QStringLiteral(" UTC");
    }
    QString clock(const QDateTime &time) const
    {
        return format(local(time), QStringLiteral("HH:mm"));
    }

    // "22:00–22:45" within the window's first day, else "Sun 00:10–Sun 00:40"; a period
    // shorter than a minute or within one minute on the clock: "about 45 s at 22:43".
    QString range(const QDateTime &start, const QDateTime &end) const
    {
        const QDateTime from = local(start);
        const QDateTime to = local(end);
        if (start.msecsTo(end) < 60 * 1000 || clock(start) == clock(end)) {
            const QString at = from.date() == m_windowDate ? clock(start)
                                                           : format(from, QStringLiteral("ddd HH:mm"));
            return tr("about %1 at %2").arg(formatDuration(start.msecsTo(end)), at);
        }
        if (from.date() == m_windowDate && to.date() == m_windowDate)
            return clock(start) + kDash + clock(end);
        return format(from, QStringLiteral("ddd HH:mm")) + kDash
                + format(to, QStringLiteral("ddd HH:mm"));
    }

private:
    QTimeZone m_zone;
    QDate m_windowDate;
};

QString periodName(ImpactPeriod::Kind kind)
{
    switch (kind) {
    case ImpactPeriod::WorkersSlow:
        return tr("slower queries");
    case ImpactPeriod::PortalDown:
        return tr("portal unavailable");
    case ImpactPeriod::WebUiDown:
        return tr("Web UI unavailable");
    case ImpactPeriod::NbiDown:
        return tr("NBI unavailable");
    }
    return {};
}

QString listKey(ImpactPeriod::Kind kind)
{
    switch (kind) {
    case ImpactPeriod::WorkersSlow:
        return QStringLiteral("slow_queries");
    case ImpactPeriod::PortalDown:
        return QStringLiteral("portal_down");
    case ImpactPeriod::WebUiDown:
        return QStringLiteral("webui_down");
    case ImpactPeriod::NbiDown:
        return QStringLiteral("nbi_down");
    }
    return {};
}

bool isAtext(QChar c)
{
    return (c >= QLatin1Char('a') && c <= QLatin1Char('z'))
            || (c >= QLatin1Char('A') && c <= QLatin1Char('Z'))
            || (c >= QLatin1Char('0') && c <= QLatin1Char('9'))
            || QStringLiteral("!#$%&'*+-/=?^_`{|}~.").contains(c);
}

bool isValidAddress(const QString &address)
{
    const qsizetype at = address.indexOf(QLatin1Char('@'));
    if (at <= 0 || at != address.lastIndexOf(QLatin1Char('@')) || at == address.size() - 1)
        return false;
    const QString local = address.left(at);
    const QString domain = address.mid(at + 1);
    if (!std::all_of(local.begin(), local.end(), isAtext) || local.startsWith(QLatin1Char('.'))
        || local.endsWith(QLatin1Char('.')) || local.contains(QLatin1String("..")))
        return false;
    static const QRegularExpression label(
            QStringLiteral("^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-"
                           "Za-z0-9])?)*$"));
    return label.match(domain).hasMatch();
}

} // namespace

Expected<Mailbox> Mailbox::parse(const QString &text)
{
    const QString trimmed = text.trimmed();
    Mailbox mailbox;
    if (trimmed.endsWith(QLatin1Char('>')) && trimmed.contains(QLatin1Char('<'))) {
        const qsizetype open = trimmed.lastIndexOf(QLatin1Char('<'));
        mailbox.address = trimmed.mid(open + 1, trimmed.size() - open - 2).trimmed();
        QString name = trimmed.left(open).trimmed();
        if (name.size() >= 2 && name.startsWith(QLatin1Char('"'))
            && name.endsWith(QLatin1Char('"'))) {
            name = name.mid(1, name.size() - 2);
            name.replace(QLatin1String("\\\""), QLatin1String("\""));
            name.replace(QLatin1String("\\\\"), QLatin1String("\\"));
        }
        mailbox.displayName = name;
    } else {
        mailbox.address = trimmed;
    }
    if (!isValidAddress(mailbox.address)) {
        return makeError(tr("\"%1\" is not an e-mail address. Write name@example.org or "
                            "Display Name <name@example.org>.")
                                 .arg(trimmed));
    }
    if (mailbox.displayName.contains(QLatin1Char('\n'))
        || mailbox.displayName.contains(QLatin1Char('\r')))
        return makeError(tr("The name in \"%1\" must be on one line.").arg(trimmed));
    return mailbox;
}

QString Mailbox::toString() const
{
    if (displayName.isEmpty())
        return address;
    static const QRegularExpression plain(QStringLiteral("^[^\"\\\\()<>\\[\\]:;@,.]*$"));
    if (plain.match(displayName).hasMatch())
        return displayName + QStringLiteral(" <") + address + QLatin1Char('>');
    QString quoted = displayName;
    quoted.replace(QLatin1Char('\\'), QLatin1String("\\\\"));
    quoted.replace(QLatin1Char('"'), QLatin1String("\\\""));
    return QLatin1Char('"') + quoted + QStringLiteral("\" <") + address + QLatin1Char('>');
}

Expected<QVariantMap> noticeValues(const NoticeFacts &facts, const NoticeFields &fields)
{
    if (!facts.windowStart.isValid() || !facts.windowEnd.isValid())
        return makeError(tr("The notice needs the maintenance window's start and end."));
    if (facts.windowEnd <= facts.windowStart)
        return makeError(tr("The maintenance window must end after it starts."));
    if (!facts.adminZone.isValid())
        return makeError(tr("The notice needs the administrator's time zone."));

    const TimeFormatter time(facts.adminZone, facts.windowStart);
    const QDateTime start = facts.windowStart;
    const QDateTime end = facts.windowEnd;

    QVariantMap values;
    values.insert(QStringLiteral("cluster_name"),
                  facts.clusterName.trimmed().isEmpty() ? QStringLiteral("FlowTraq")
                                                        : facts.clusterName.trimmed());
    values.insert(QStringLiteral("target_version"), facts.targetVersion);
    values.insert(QStringLiteral("window_start"), time.full(start));
    values.insert(QStringLiteral("window_end"), time.full(end));
    values.insert(QStringLiteral("window_start_time"), time.clock(start));
    values.insert(QStringLiteral("window_end_time"), time.clock(end));
    values.insert(QStringLiteral("window_date"),
                  format(time.local(start), QStringLiteral("dddd d MMMM yyyy")));
    values.insert(QStringLiteral("window_start_utc"), time.utc(start));
    values.insert(QStringLiteral("window_end_utc"), time.utc(end));
    values.insert(QStringLiteral("window_duration"), formatDuration(start.msecsTo(end)));
    values.insert(QStringLiteral("time_zone"), QString::fromUtf8(facts.adminZone.id()));
    values.insert(QStringLiteral("time_zone_abbrev"),
                  abbreviation(facts.adminZone, time.local(start)));
    values.insert(QStringLiteral("utc_offset"), utcOffset(facts.adminZone, start));
    values.insert(QStringLiteral("ends_next_day"),
                  time.local(end).date() != time.local(start).date());

    QString senderName;
    if (!fields.sender.trimmed().isEmpty()) {
        const auto sender = Mailbox::parse(fields.sender);
        if (!sender)
            return makeError(tr("Sender: %1").arg(sender.error()));
        senderName = sender->displayName.isEmpty() ? sender->address : sender->displayName;
    }
    values.insert(QStringLiteral("sender"), fields.sender.trimmed());
    values.insert(QStringLiteral("sender_name"), senderName);
    values.insert(QStringLiteral("contact"), fields.contact.trimmed());
    values.insert(QStringLiteral("has_contact"), !fields.contact.trimmed().isEmpty());

    QList<ImpactPeriod> periods = facts.periods;
    std::stable_sort(
            periods.begin(), periods.end(),
            [](const ImpactPeriod &a, const ImpactPeriod &b) { return a.start < b.start; });
    QHash<QString, QVariantList> lists;
    for (const ImpactPeriod &period : periods) {
        if (!period.start.isValid() || !period.end.isValid() || period.end < period.start) {
            return makeError(tr("The plan's \"%1\" period needs a start and an end after it.")
                                     .arg(periodName(period.kind)));
        }
        QVariantMap item;
        item.insert(QStringLiteral("start"), time.full(period.start));
        item.insert(QStringLiteral("end"), time.full(period.end));
        item.insert(QStringLiteral("start_time"), time.clock(period.start));
        item.insert(QStringLiteral("end_time"), time.clock(period.end));
        item.insert(QStringLiteral("start_utc"), time.utc(period.start));
        item.insert(QStringLiteral("end_utc"), time.utc(period.end));
        item.insert(QStringLiteral("when"), time.range(period.start, period.end));
        item.insert(QStringLiteral("duration"), formatDuration(period.start.msecsTo(period.end)));
        item.insert(QStringLiteral("nodes"), period.nodes.join(QStringLiteral(", ")));
        item.insert(QStringLiteral("node_count"), QString::number(period.nodes.size()));
        // " (ft-portal-1)", but nothing when the name says no more than the role does
        // ("the portal (portal)").
        const QString nodes = period.nodes.join(QStringLiteral(", "));
        const bool saysRole = period.nodes.size() == 1
                              && (nodes.compare(QLatin1String("portal"), Qt::CaseInsensitive) == 0
                                  || nodes.compare(QLatin1String("nbi"), Qt::CaseInsensitive) == 0);
        item.insert(QStringLiteral("named"), saysRole ? QString() : QStringLiteral(" (%1)").arg(nodes));
        lists[listKey(period.kind)].append(item);
        for (const auto kind : {ImpactPeriod::WorkersSlow, ImpactPeriod::PortalDown,
                                ImpactPeriod::WebUiDown, ImpactPeriod::NbiDown})
            item.insert(QStringLiteral("is_") + listKey(kind), kind == period.kind);
        lists[QStringLiteral("impacts")].append(item);
    }
    values.insert(QStringLiteral("impacts"), lists.value(QStringLiteral("impacts")));
    for (const auto kind : {ImpactPeriod::WorkersSlow, ImpactPeriod::PortalDown,
                            ImpactPeriod::WebUiDown, ImpactPeriod::NbiDown}) {
        const QString key = listKey(kind);
        values.insert(key, lists.value(key));
        values.insert(QStringLiteral("has_") + key, !lists.value(key).isEmpty());
    }

    values.insert(QStringLiteral("has_impacts"), !periods.isEmpty());

    QList<FlowGap> gaps = facts.flowGaps;
    std::stable_sort(gaps.begin(), gaps.end(), [](const FlowGap &a, const FlowGap &b) {
        return a.start != b.start ? a.start < b.start : a.node < b.node;
    });
    QVariantList gapItems;
    for (const FlowGap &gap : gaps) {
        if (gap.node.trimmed().isEmpty() || gap.minutes <= 0 || !gap.start.isValid()) {
            return makeError(tr("The plan's flow gap on \"%1\" needs a node, a start and a "
                                "number of minutes above zero.")
                                     .arg(gap.node));
        }
        QVariantMap item;
        item.insert(QStringLiteral("node"), gap.node.trimmed());
        item.insert(QStringLiteral("minutes"), QString::number(gap.minutes));
        item.insert(QStringLiteral("length"), gap.minutes == 1 ? tr("1 minute") : tr("%1 minutes").arg(gap.minutes));
        item.insert(QStringLiteral("start"), time.full(gap.start));
        item.insert(QStringLiteral("start_time"), time.clock(gap.start));
        item.insert(QStringLiteral("start_utc"), time.utc(gap.start));
        gapItems.append(item);
    }
    values.insert(QStringLiteral("flow_gaps"), gapItems);
    values.insert(QStringLiteral("has_flow_gaps"), !gapItems.isEmpty());
    return values;
}

Expected<NoticeDraft> draftNotice(const NoticeFacts &facts, const NoticeFields &fields,
                                  const NoticeTemplates &templates)
{
    NoticeDraft draft;
    for (const QString &recipient : fields.recipients) {
        if (recipient.trimmed().isEmpty())
            continue;
        const auto mailbox = Mailbox::parse(recipient);
        if (!mailbox)
            return makeError(tr("Recipients: %1").arg(mailbox.error()));
        draft.recipients.append(*mailbox);
    }
    if (!fields.sender.trimmed().isEmpty()) {
        const auto sender = Mailbox::parse(fields.sender);
        if (!sender)
            return makeError(tr("Sender: %1").arg(sender.error()));
        draft.sender = *sender;
    }

    const auto values = noticeValues(facts, fields);
    if (!values)
        return makeError(values.error());

    NoticeTemplate subjectTemplate = templates.subject;
    if (!fields.subjectTemplate.trimmed().isEmpty()) {
        auto custom = NoticeTemplate::parse(fields.subjectTemplate, NoticeTemplate::Kind::PlainText,
                                            tr("the subject"));
        if (!custom)
            return makeError(custom.error());
        subjectTemplate = *custom;
    }
    const auto subject = subjectTemplate.render(*values);
    if (!subject)
        return makeError(subject.error());
    const auto text = templates.text.render(*values);
    if (!text)
        return makeError(text.error());
    const auto html = templates.html.render(*values);
    if (!html)
        return makeError(html.error());

    // A subject is one line, whatever line breaks the template had.
    draft.subject = subject->simplified();
    if (draft.subject.isEmpty())
        return makeError(tr("The notice's subject is empty; check the subject template."));
    draft.textBody = *text;
    draft.htmlBody = *html;
    draft.contact = fields.contact.trimmed();
    draft.windowStart = facts.windowStart.toUTC();
    draft.windowEnd = facts.windowEnd.toUTC();
    draft.adminZone = facts.adminZone;
    draft.clusterName = values->value(QStringLiteral("cluster_name")).toString();
    return draft;
}

NoticeDraft withEditedBody(NoticeDraft draft, const QString &text)
{
    QString normalized = text;
    normalized.replace(QStringLiteral("\r\n"), QStringLiteral("\n"));
    draft.textBody = normalized;
    QStringList paragraphs;
    static const QRegularExpression blank(QStringLiteral("\n\s*\n"));
    for (const QString &paragraph : normalized.split(blank, Qt::SkipEmptyParts))
        paragraphs.append(QStringLiteral("<p>%1</p>")
                              .arg(paragraph.trimmed().toHtmlEscaped().replace(QLatin1Char('\n'),
                                                                              QStringLiteral("<br>\n"))));
    draft.htmlBody = QStringLiteral("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head>"
                                    "<body style=\"font-family: Segoe UI, Helvetica, Arial, sans-serif; "
                                    "font-size: 14px;\">\n%1\n</body></html>\n")
                         .arg(paragraphs.join(QLatin1Char('\n')));
    return draft;
}

QString mailtoUrl(const NoticeDraft &draft)
{
    QStringList addresses;
    for (const Mailbox &recipient : draft.recipients)
        addresses << QString::fromLatin1(QUrl::toPercentEncoding(recipient.address, "@"));
    QString body = draft.textBody;
    body.replace(QLatin1String("\r\n"), QLatin1String("\n"));
    body.replace(QLatin1Char('\n'), QLatin1String("\r\n"));
    return QStringLiteral("mailto:") + addresses.join(QLatin1Char(','))
            + QStringLiteral("?subject=")
            + QString::fromLatin1(QUrl::toPercentEncoding(draft.subject)) + QStringLiteral("&body=")
            + QString::fromLatin1(QUrl::toPercentEncoding(body));
}

Result saveNoticeFile(const QString &path, const QByteArray &contents, bool overwrite)
{
    const QFileInfo target(path);
    if (path.isEmpty())
        return makeError(tr("Choose a file to save the notice to."));
    if (target.isDir())
        return makeError(tr("Cannot save the notice as %1: it is a folder.").arg(path));
    if (target.exists() && !overwrite) {
        return makeError(tr("%1 already exists. Choose another name, or confirm that it "
                            "should be replaced.")
                                 .arg(path));
    }
    if (!target.absoluteDir().exists()) {
        return makeError(tr("Cannot save the notice as %1: the folder %2 does not exist.")
                                 .arg(path, target.absolutePath()));
    }
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return makeError(tr("Cannot save the notice as %1: %2").arg(path, file.errorString()));
    if (file.write(contents) != contents.size()) {
        const QString why = file.errorString();
        file.cancelWriting();
        return makeError(tr("Cannot save the notice as %1: %2").arg(path, why));
    }
    if (!file.commit())
        return makeError(tr("Cannot save the notice as %1: %2").arg(path, file.errorString()));
    return {};
}

} // namespace ft

#include "notice/calendarexport.h"

#include <QCoreApplication>
#include <QUuid>

namespace ft {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("ft::CalendarExport", text);
}

// A parameter value (CN=…) cannot hold a double quote; it is quoted when it has
// ':', ';' or ','.
QString parameterValue(const QString &value)
{
    QString clean = value.simplified();
    clean.remove(QLatin1Char('"'));
    if (clean.contains(QLatin1Char(':')) || clean.contains(QLatin1Char(';'))
        || clean.contains(QLatin1Char(',')))
        return QLatin1Char('"') + clean + QLatin1Char('"');
    return clean;
}

} // namespace

namespace ical {

QString escapeText(const QString &text)
{
    QString out;
    out.reserve(text.size() + 16);
    QString normalized = text;
    normalized.replace(QLatin1String("\r\n"), QLatin1String("\n"));
    for (const QChar c : normalized) {
        switch (c.unicode()) {
        case '\\':
            out += QLatin1String("\\\\");
            break;
        case ';':
            out += QLatin1String("\\;");
            break;
        case ',':
            out += QLatin1String("\\,");
            break;
        case '\n':
            out += QLatin1String("\\n");
            break;
        case '\r':
            break;
        default:
            // Other control characters are not allowed in TEXT.
            if (c.unicode() < 0x20 && c != QLatin1Char('\t'))
                break;
            out += c;
        }
    }
    return out;
}

QByteArray foldLine(const QString &line)
{
    QByteArray out;
    int used = 0;
    for (qsizetype i = 0; i < line.size(); ++i) {
        qsizetype length = 1;
        if (line.at(i).isHighSurrogate() && i + 1 < line.size() && line.at(i + 1).isLowSurrogate())
            length = 2;
        const QByteArray character = line.mid(i, length).toUtf8();
        i += length - 1;
        if (used + character.size() > 75) {
            out += "\r\n ";
            used = 1;
        }
        out += character;
        used += int(character.size());
    }
    return out + "\r\n";
}

QByteArray utcDateTime(const QDateTime &time)
{
    return time.toUTC().toString(QStringLiteral("yyyyMMdd'T'HHmmss'Z'")).toLatin1();
}

} // namespace ical

Expected<QByteArray> toIcs(const NoticeDraft &draft, const CalendarExportOptions &options)
{
    if (!draft.windowStart.isValid() || !draft.windowEnd.isValid()
        || draft.windowEnd <= draft.windowStart)
        return makeError(
                tr("The calendar event needs a maintenance window that ends after it starts."));

    const QDateTime stamp
            = options.stamp.isValid() ? options.stamp : QDateTime::currentDateTimeUtc();
    const QString domain = draft.sender ? draft.sender->address.section(QLatin1Char('@'), 1)
                                        : QStringLiteral("ftupgrade.invalid");
    const QString uid = options.uid.isEmpty()
            ? QUuid::createUuid().toString(QUuid::WithoutBraces) + QLatin1Char('@') + domain
            : options.uid;

    QByteArray out;
    const auto line = [&out](const QString &text) {
        out += ical::foldLine(text);
    };
    line(QStringLiteral("BEGIN:VCALENDAR"));
    line(QStringLiteral("VERSION:2.0"));
    line(QStringLiteral("PRODID:-//FlowTraq Upgrade Wizard//Maintenance notice//EN"));
    line(QStringLiteral("CALSCALE:GREGORIAN"));
    line(QStringLiteral("METHOD:PUBLISH"));
    line(QStringLiteral("BEGIN:VEVENT"));
    line(QStringLiteral("UID:") + ical::escapeText(uid));
    line(QStringLiteral("DTSTAMP:") + QString::fromLatin1(ical::utcDateTime(stamp)));
    line(QStringLiteral("DTSTART:") + QString::fromLatin1(ical::utcDateTime(draft.windowStart)));
    line(QStringLiteral("DTEND:") + QString::fromLatin1(ical::utcDateTime(draft.windowEnd)));
    line(QStringLiteral("SUMMARY:") + ical::escapeText(draft.subject));
    line(QStringLiteral("DESCRIPTION:") + ical::escapeText(draft.textBody.trimmed()));
    if (draft.sender) {
        QString organizer = QStringLiteral("ORGANIZER");
        if (!draft.sender->displayName.isEmpty())
            organizer += QStringLiteral(";CN=") + parameterValue(draft.sender->displayName);
        line(organizer + QStringLiteral(":mailto:") + draft.sender->address);
    }
    line(QStringLiteral("TRANSP:TRANSPARENT"));
    line(QStringLiteral("STATUS:CONFIRMED"));
    line(QStringLiteral("CLASS:PUBLIC"));
    line(QStringLiteral("END:VEVENT"));
    line(QStringLiteral("END:VCALENDAR"));
    return out;
}

} // namespace ft

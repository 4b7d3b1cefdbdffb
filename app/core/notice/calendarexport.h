#pragma once

#include "model/expected.h"
#include "notice/notice.h"

#include <QByteArray>
#include <QDateTime>
#include <QString>

namespace ft {

// Overrides for reproducible output (tests); by default now and a new random UID.
struct CalendarExportOptions
{
    QDateTime stamp; // DTSTAMP
    QString uid;
};

// The maintenance window as an RFC 5545 calendar (VCALENDAR with one VEVENT):
// DTSTART/DTEND in UTC, SUMMARY = the subject, DESCRIPTION = the plain-text notice,
// ORGANIZER = the sender when there is one, TRANSP:TRANSPARENT (an announcement, not
// a meeting that blocks the reader's time). Text is escaped (\\ \; \, \n); lines are
// folded at 75 octets without splitting a UTF-8 sequence; CRLF line endings.
Expected<QByteArray> toIcs(const NoticeDraft &draft, const CalendarExportOptions &options = {});

namespace ical {
// A TEXT value escaped per RFC 5545 §3.3.11.
QString escapeText(const QString &text);
// One content line folded at 75 octets, each continuation starting with a space;
// never inside a UTF-8 sequence. Ends with CRLF.
QByteArray foldLine(const QString &line);
// "20261205T210000Z"
QByteArray utcDateTime(const QDateTime &time);
} // namespace ical

} // namespace ft

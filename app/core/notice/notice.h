#pragma once

#include "model/expected.h"
#include "notice/noticetemplate.h"

#include <QByteArray>
#include <QDateTime>
#include <QList>
#include <QString>
#include <QStringList>
#include <QTimeZone>
#include <QVariantMap>

#include <optional>

namespace ft {

// What end users will notice during one part of the maintenance window.
struct ImpactPeriod
{
    enum Kind {
        WorkersSlow, // queries slower and possibly incomplete while a worker is upgraded
        PortalDown, // the portal (and so every query) is unavailable
        WebUiDown, // the Web UI files are being replaced
        NbiDown // the northbound interface service is stopped
    };

    Kind kind = WorkersSlow;
    QDateTime start;
    QDateTime end;
    QStringList nodes;
};

// A server that receives flows directly and cannot collect them for a while.
struct FlowGap
{
    QString node;
    int minutes = 0;
    QDateTime start;
};

// The facts a notice is drafted from, taken from the plan (kept apart from the
// planner so either can change on its own).
struct NoticeFacts
{
    QDateTime windowStart;
    QDateTime windowEnd;
    QTimeZone adminZone; // times are shown in this zone and in UTC
    QList<ImpactPeriod> periods;
    QList<FlowGap> flowGaps;
    QString clusterName; // empty: "FlowTraq"
    QString targetVersion;
};

// What the administrator types: who gets the notice, who sends it, who to ask.
// Addresses are "name@example.org" or "Display Name <name@example.org>".
struct NoticeFields
{
    QStringList recipients;
    QString sender;
    QString contact; // a free line: "the NOC, +1 555 0100, noc@example.org"
    QString subjectTemplate; // empty: the subject template file's
};

// A mailbox split into its parts.
struct Mailbox
{
    QString displayName;
    QString address;

    static Expected<Mailbox> parse(const QString &text);
    QString toString() const; // "Display Name <address>" or the bare address
};

// The drafted notice, ready for the exports (.eml, .ics, mailto:, clipboard).
struct NoticeDraft
{
    QString subject;
    QString textBody; // '\n' line breaks
    QString htmlBody;
    QList<Mailbox> recipients;
    std::optional<Mailbox> sender;
    QString contact;
    QDateTime windowStart; // UTC
    QDateTime windowEnd; // UTC
    QTimeZone adminZone;
    QString clusterName;
};

// The values the templates are filled with (see NoticeTemplate::placeholders()), from
// the facts and fields. Exposed so a preview can show them.
Expected<QVariantMap> noticeValues(const NoticeFacts &facts, const NoticeFields &fields);

// Fills the templates. A bad window, zone or address, or a template error, is an
// error sentence naming what to fix.
Expected<NoticeDraft> draftNotice(const NoticeFacts &facts, const NoticeFields &fields,
                                  const NoticeTemplates &templates);

// The draft with the body the administrator edited (plain text): the exports carry the
// edit, its HTML made from the text (paragraphs, line breaks, escaped). Subject,
// addresses and window stay the template's.
NoticeDraft withEditedBody(NoticeDraft draft, const QString &text);

// A mailto: URL (RFC 6068) with the recipients' addresses, the subject and the
// plain-text body, percent-encoded as UTF-8 (line breaks as %0D%0A). The GUI hands
// it to QDesktopServices::openUrl(QUrl(url, QUrl::StrictMode)). Mail clients on
// Windows truncate long URLs; compare with kMailtoSafeLength and offer the .eml then.
QString mailtoUrl(const NoticeDraft &draft);
inline constexpr int kMailtoSafeLength = 2000;

// Writes an export atomically. An existing file is kept and reported unless
// overwrite is set; a failed write says why (the draft itself is untouched).
Result saveNoticeFile(const QString &path, const QByteArray &contents, bool overwrite = false);

} // namespace ft

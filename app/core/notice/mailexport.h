#pragma once

#include "model/expected.h"
#include "notice/notice.h"

#include <QByteArray>
#include <QDateTime>
#include <QString>

namespace ft {

// Overrides for reproducible output (tests); by default the current time and a new
// random Message-ID and MIME boundary.
struct MailExportOptions
{
    QDateTime date;
    QString messageId; // without angle brackets: "abc@example.org"
    QString boundary;
};

// The notice as an RFC 5322 message that Outlook and Thunderbird open as an unsent
// draft (X-Unsent: 1): MIME multipart/alternative with a text/plain and a text/html
// part, both UTF-8 and quoted-printable; non-ASCII header text as RFC 2047
// encoded-words; CRLF line endings; no line longer than 78 characters.
// The draft needs a sender (From is mandatory in RFC 5322).
Expected<QByteArray> toEml(const NoticeDraft &draft, const MailExportOptions &options = {});

// Building blocks, exposed for tests and other exports.
namespace mime {
// Quoted-printable (RFC 2045 §6.7) of UTF-8 text; line breaks become CRLF hard breaks,
// soft breaks keep lines at most 76 characters.
QByteArray quotedPrintable(const QString &text);
// The text as-is when it is printable ASCII, else RFC 2047 "B" encoded-words of at
// most 75 characters each, split between characters (never inside a UTF-8 sequence),
// separated by CRLF + space so the header folds there. `firstLineUsed` is how many
// characters of the first line the header name already takes.
QByteArray encodedWords(const QString &text, int firstLineUsed);
// "Display Name <address>" for a header, the name quoted or encoded as needed.
QByteArray mailboxHeader(const Mailbox &mailbox, int firstLineUsed);
// An RFC 5322 date-time: "Fri, 27 Nov 2026 09:15:00 +0100".
QByteArray dateHeader(const QDateTime &time);
} // namespace mime

} // namespace ft

#include "notice/mailexport.h"

#include <QCoreApplication>
#include <QLocale>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QUuid>

namespace ft {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("ft::MailExport", text);
}

constexpr int kMaxLine = 78;
const QByteArray kCrlf = QByteArrayLiteral("\r\n");

bool isPrintableAscii(const QString &text)
{
    return std::all_of(text.begin(), text.end(),
                       [](QChar c) { return c.unicode() >= 0x20 && c.unicode() < 0x7f; });
}

// Length of the last physical line of a (possibly folded) header piece.
int tailLength(const QByteArray &piece)
{
    const qsizetype lastBreak = piece.lastIndexOf(kCrlf);
    return int(lastBreak < 0 ? piece.size() : piece.size() - lastBreak - 2);
}

int headLength(const QByteArray &piece)
{
    const qsizetype firstBreak = piece.indexOf(kCrlf);
    return int(firstBreak < 0 ? piece.size() : firstBreak);
}

// Printable ASCII folded at spaces so every line fits; empty when a word is too long.
QByteArray foldedAscii(const QString &text, int firstLineUsed)
{
    const QByteArray bytes = text.toLatin1();
    QByteArray out;
    int used = firstLineUsed;
    qsizetype pos = 0;
    while (pos < bytes.size()) {
        // The next chunk runs up to (not including) the next space after a non-space.
        qsizetype next = bytes.indexOf(' ', pos + 1);
        if (next < 0)
            next = bytes.size();
        const QByteArray chunk = bytes.mid(pos, next - pos);
        if (used + chunk.size() > kMaxLine) {
            if (!chunk.startsWith(' ') || chunk.size() > kMaxLine)
                return {};
            out += kCrlf;
            used = 0;
        }
        out += chunk;
        used += int(chunk.size());
        pos = next;
    }
    return out;
}

// RFC 2047 "B" words. A full word ends after a space where there is one, so a reader
// that (wrongly) keeps the folding whitespace between two words in a display name,
// as Python 3.11's email package does (CPython gh-128110), still shows every letter
// of a name in one piece.
QByteArray bEncoded(const QString &text, int firstLineUsed)
{
    static const QByteArray prefix = QByteArrayLiteral("=?UTF-8?B?");
    static const QByteArray suffix = QByteArrayLiteral("?=");
    const auto bytesFor = [](int wordLength) {
        return std::max(3, (wordLength - int(prefix.size() + suffix.size())) / 4 * 3);
    };
    QByteArray out;
    int limit = bytesFor(std::min(75, kMaxLine - firstLineUsed));
    const auto addWord = [&](const QString &chunk) {
        if (chunk.isEmpty())
            return;
        if (!out.isEmpty())
            out += kCrlf + ' ';
        out += prefix + chunk.toUtf8().toBase64() + suffix;
        limit = bytesFor(kMaxLine - 3); // continuation line: " " + word, then maybe ','
    };
    QString pending;
    for (qsizetype i = 0; i < text.size(); ++i) {
        // A whole code point at a time, so no word ends inside a UTF-8 sequence.
        qsizetype length = 1;
        if (text.at(i).isHighSurrogate() && i + 1 < text.size() && text.at(i + 1).isLowSurrogate())
            length = 2;
        const QString character = text.mid(i, length);
        i += length - 1;
        while (!pending.isEmpty() && (pending + character).toUtf8().size() > limit) {
            const qsizetype space = pending.lastIndexOf(QLatin1Char(' '));
            if (space > 0 && space >= pending.size() / 2) {
                addWord(pending.left(space + 1));
                pending = pending.mid(space + 1);
            } else {
                addWord(pending);
                pending.clear();
            }
        }
        pending += character;
    }
    addWord(pending);
    return out;
}

QByteArray qpLine(const QByteArray &line)
{
    static const char hex[] = "0123456789ABCDEF";
    QByteArray out;
    int used = 0;
    for (qsizetype i = 0; i < line.size(); ++i) {
        const auto c = static_cast<unsigned char>(line.at(i));
        const bool last = i == line.size() - 1;
        QByteArray token;
        // "From " at a line start is mangled by some mail stores; '.' alone by SMTP.
        const bool guardStart = i == 0 && (line.startsWith("From ") || line == ".");
        if (((c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last))
            && !guardStart) {
            token = QByteArray(1, char(c));
        } else {
            token = QByteArray("=") + hex[c >> 4] + hex[c & 0x0f];
        }
        // 76 characters at most, a soft break '=' included.
        if (used + token.size() > (last ? 76 : 75)) {
            out += "=\r\n";
            used = 0;
        }
        out += token;
        used += int(token.size());
    }
    return out;
}

QString normalizedLines(const QString &text)
{
    QString normalized = text;
    normalized.replace(QLatin1String("\r\n"), QLatin1String("\n"));
    normalized.replace(QLatin1Char('\r'), QLatin1Char('\n'));
    return normalized;
}

} // namespace

namespace mime {

QByteArray quotedPrintable(const QString &text)
{
    const QStringList lines = normalizedLines(text).split(QLatin1Char('\n'));
    QByteArray out;
    for (qsizetype i = 0; i < lines.size(); ++i) {
        if (i > 0)
            out += kCrlf;
        out += qpLine(lines.at(i).toUtf8());
    }
    return out;
}

QByteArray encodedWords(const QString &text, int firstLineUsed)
{
    if (isPrintableAscii(text) && !text.contains(QLatin1String("=?"))) {
        const QByteArray folded = foldedAscii(text, firstLineUsed);
        if (!folded.isEmpty() || text.isEmpty())
            return folded;
    }
    return bEncoded(text, firstLineUsed);
}

QByteArray mailboxHeader(const Mailbox &mailbox, int firstLineUsed)
{
    const QByteArray address = '<' + mailbox.address.toLatin1() + '>';
    if (mailbox.displayName.isEmpty())
        return mailbox.address.toLatin1();
    QByteArray name;
    static const QRegularExpression atoms(QStringLiteral("^[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]+$"));
    const QString displayName = mailbox.displayName.simplified();
    if (isPrintableAscii(displayName) && !displayName.contains(QLatin1String("=?"))
        && firstLineUsed + displayName.size() + 2 <= kMaxLine) {
        if (atoms.match(displayName).hasMatch()) {
            name = displayName.toLatin1();
        } else {
            QString quoted = displayName;
            quoted.replace(QLatin1Char('\\'), QLatin1String("\\\\"));
            quoted.replace(QLatin1Char('"'), QLatin1String("\\\""));
            name = '"' + quoted.toLatin1() + '"';
        }
    } else {
        name = bEncoded(displayName, firstLineUsed);
    }
    // The address on the same line when it fits (with a following ','), else folded.
    if (tailLength(name) + 1 + address.size() + 1 <= kMaxLine)
        return name + ' ' + address;
    return name + kCrlf + ' ' + address;
}

QByteArray dateHeader(const QDateTime &time)
{
    const int offset = time.offsetFromUtc() / 60;
    const int minutes = std::abs(offset);
    return QLocale::c().toString(time, QStringLiteral("ddd, d MMM yyyy HH:mm:ss")).toLatin1()
            + QStringLiteral(" %1%2%3")
                      .arg(offset < 0 ? QLatin1Char('-') : QLatin1Char('+'))
                      .arg(minutes / 60, 2, 10, QLatin1Char('0'))
                      .arg(minutes % 60, 2, 10, QLatin1Char('0'))
                      .toLatin1();
}

} // namespace mime

Expected<QByteArray> toEml(const NoticeDraft &draft, const MailExportOptions &options)
{
    if (!draft.sender)
        return makeError(tr("The notice needs a sender's address to be saved as an e-mail draft."));
    if (draft.subject.isEmpty())
        return makeError(tr("The notice has no subject."));

    QDateTime date = options.date;
    if (!date.isValid()) {
        date = QDateTime::currentDateTime();
        if (draft.adminZone.isValid())
            date = date.toTimeZone(draft.adminZone);
    }
    const QString domain = draft.sender->address.section(QLatin1Char('@'), 1);
    const QString messageId = options.messageId.isEmpty()
            ? QUuid::createUuid().toString(QUuid::WithoutBraces) + QLatin1Char('@') + domain
            : options.messageId;
    const QByteArray boundary = options.boundary.isEmpty()
            ? "=_ftupgrade_" + QByteArray::number(QRandomGenerator::global()->generate64(), 16)
            : options.boundary.toLatin1();

    QByteArray out;
    const auto header = [&out](const QByteArray &name, const QByteArray &value) {
        out += name + ": " + value + kCrlf;
    };
    header("MIME-Version", "1.0");
    header("Date", mime::dateHeader(date));
    header("Message-ID", '<' + messageId.toLatin1() + '>');
    header("From", mime::mailboxHeader(*draft.sender, 6));
    if (!draft.recipients.isEmpty()) {
        QByteArray to;
        int used = 4; // "To: "
        for (qsizetype i = 0; i < draft.recipients.size(); ++i) {
            const bool last = i == draft.recipients.size() - 1;
            const int separator = i == 0 ? 0 : 1;
            QByteArray piece = mime::mailboxHeader(draft.recipients.at(i), used + separator);
            if (!last)
                piece += ',';
            if (i > 0) {
                if (used + 1 + headLength(piece) > kMaxLine) {
                    piece = mime::mailboxHeader(draft.recipients.at(i), 1) + (last ? "" : ",");
                    to += kCrlf;
                    used = 0;
                }
                to += ' ';
                ++used;
            }
            to += piece;
            used = piece.contains(kCrlf) ? tailLength(piece) : used + int(piece.size());
        }
        header("To", to);
    }
    header("Subject", mime::encodedWords(draft.subject, 9));
    header("X-Unsent", "1");
    header("Content-Type", "multipart/alternative;\r\n boundary=\"" + boundary + '"');
    out += kCrlf;
    out += "This is a message in MIME format: a plain-text and an HTML version." + kCrlf;

    const auto part = [&](const QByteArray &type, const QString &body) {
        out += "--" + boundary + kCrlf;
        out += "Content-Type: " + type + "; charset=UTF-8" + kCrlf;
        out += "Content-Transfer-Encoding: quoted-printable" + kCrlf + kCrlf;
        out += mime::quotedPrintable(body) + kCrlf;
    };
    part("text/plain", draft.textBody);
    part("text/html", draft.htmlBody);
    out += "--" + boundary + "--" + kCrlf;
    return out;
}

} // namespace ft

#include "model/version.h"

#include <QCoreApplication>
#include <QRegularExpression>

namespace ft {

namespace {

// Up to four dotted numbers, then an optional build: "-N", "+N", ".bN", "bN",
// " build N" or " (build N)". Anything else is rejected rather than guessed at.
const QRegularExpression &versionPattern()
{
    static const QRegularExpression pattern(
        QStringLiteral(R"(^\s*v?(\d{1,6}(?:\.\d{1,6}){0,3}))"
                       R"((?:(?:[-+]|\.?b|\s+build\s+|\s*\(build\s+)(\d{1,9})\)?)?\s*$)"),
        QRegularExpression::CaseInsensitiveOption);
    return pattern;
}

} // namespace

Expected<Version> Version::parse(const QString &text)
{
    const QRegularExpressionMatch match = versionPattern().match(text);
    if (!match.hasMatch()) {
        if (text.trimmed().isEmpty())
            return makeError(QCoreApplication::translate("ft", "The version is empty."));
        return makeError(QCoreApplication::translate("ft", "\"%1\" is not a FlowTraq version (expected dotted "
                                     "numbers such as 6.2.1, optionally with a build number "
                                     "such as 6.2.1-1234).")
                             .arg(text.left(80)));
    }

    Version version;
    const QStringList numbers = match.captured(1).split(QLatin1Char('.'));
    for (const QString &number : numbers)
        version.m_parts.append(number.toInt());
    if (match.hasCaptured(2) && !match.captured(2).isEmpty()) {
        version.m_build = match.captured(2).toInt();
        version.m_hasBuild = true;
    }
    return version;
}

QString Version::toString() const
{
    QStringList numbers;
    numbers.reserve(m_parts.size());
    for (int part : m_parts)
        numbers.append(QString::number(part));
    QString text = numbers.join(QLatin1Char('.'));
    if (m_hasBuild)
        text += QLatin1Char('-') + QString::number(m_build);
    return text;
}

std::strong_ordering Version::operator<=>(const Version &other) const
{
    // Missing trailing parts count as zero: 6.2 == 6.2.0.
    const qsizetype count = std::max(m_parts.size(), other.m_parts.size());
    for (qsizetype i = 0; i < count; ++i) {
        const int mine = m_parts.value(i, 0);
        const int theirs = other.m_parts.value(i, 0);
        if (mine != theirs)
            return mine <=> theirs;
    }
    return m_build <=> other.m_build;
}

} // namespace ft

namespace ft {

QString findVersionText(const QString &text)
{
    static const QRegularExpression pattern(
        QStringLiteral("(?<![\\d.])(\\d{1,6}(?:\\.\\d{1,6}){1,3})(?:(?:-|\\s+build\\s+|b)(\\d{1,9}))?(?![\\d.]*\\d)"),
        QRegularExpression::CaseInsensitiveOption);
    const auto match = pattern.match(text);
    if (!match.hasMatch())
        return {};
    const QString candidate = match.captured(2).isEmpty() ? match.captured(1)
                                                          : match.captured(1) + QLatin1Char('-') + match.captured(2);
    const auto version = Version::parse(candidate);
    return version ? version->toString() : QString();
}

} // namespace ft

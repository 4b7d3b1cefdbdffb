#include "guard/textdiff.h"

#include <dtl/dtl.hpp>

#include <QHash>

#include <algorithm>
#include <vector>

namespace ft {

namespace {

struct Line
{
    QStringView text;
    bool hasNewline = true;
};

QList<Line> splitLines(const QString &text)
{
    QList<Line> lines;
    qsizetype start = 0;
    while (start < text.size()) {
        const qsizetype end = text.indexOf(QLatin1Char('\n'), start);
        if (end < 0) {
            lines.append({QStringView(text).mid(start), false});
            break;
        }
        lines.append({QStringView(text).mid(start, end - start), true});
        start = end + 1;
    }
    return lines;
}

// Lines become small integers (equal lines, equal ids) so dtl compares ints, not strings.
// A last line without a line break differs from the same text with one, as in diff.
class LineIds
{
public:
    std::vector<int> idsOf(const QList<Line> &lines)
    {
        std::vector<int> ids;
        ids.reserve(size_t(lines.size()));
        for (const Line &line : lines) {
            const QString key
                    = line.hasNewline ? line.text.toString() : line.text.toString() + QChar(0xFFFF);
            auto it = m_ids.constFind(key);
            if (it == m_ids.constEnd())
                it = m_ids.insert(key, int(m_ids.size()));
            ids.push_back(it.value());
        }
        return ids;
    }

private:
    QHash<QString, int> m_ids;
};

struct Op
{
    DiffLine::Kind kind;
    int oldIndex; // 0-based, -1 when absent
    int newIndex;
};

// The edit script in file order, each run of changes with its removals before its
// additions (the order diff -u prints them in).
std::vector<Op> editScript(const std::vector<int> &a, const std::vector<int> &b)
{
    dtl::Diff<int, std::vector<int>> diff(a, b);
    diff.compose();
    const auto ses = diff.getSes().getSequence();

    std::vector<Op> ops;
    ops.reserve(ses.size());
    std::vector<Op> removed;
    std::vector<Op> added;
    int i = 0;
    int j = 0;
    const auto flush = [&] {
        ops.insert(ops.end(), removed.begin(), removed.end());
        ops.insert(ops.end(), added.begin(), added.end());
        removed.clear();
        added.clear();
    };
    for (const auto &element : ses) {
        switch (element.second.type) {
        case dtl::SES_COMMON:
            flush();
            ops.push_back({DiffLine::Context, i++, j++});
            break;
        case dtl::SES_DELETE:
            removed.push_back({DiffLine::Removed, i++, -1});
            break;
        case dtl::SES_ADD:
            added.push_back({DiffLine::Added, -1, j++});
            break;
        }
    }
    flush();
    return ops;
}

DiffLine toDiffLine(const Op &op, const QList<Line> &oldLines, const QList<Line> &newLines)
{
    DiffLine line;
    line.kind = op.kind;
    const Line &source
            = op.kind == DiffLine::Added ? newLines.at(op.newIndex) : oldLines.at(op.oldIndex);
    line.text = source.text.toString();
    line.noNewlineAtEnd = !source.hasNewline;
    line.oldLine = op.oldIndex >= 0 ? op.oldIndex + 1 : 0;
    line.newLine = op.newIndex >= 0 ? op.newIndex + 1 : 0;
    return line;
}

} // namespace

QString DiffHunk::header() const
{
    const auto range = [](int start, int count) {
        if (count == 1)
            return QString::number(start);
        return QStringLiteral("%1,%2").arg(start).arg(count);
    };
    return QStringLiteral("@@ -%1 +%2 @@")
            .arg(range(oldStart, oldCount), range(newStart, newCount));
}

QList<DiffHunk> diffHunks(const QString &oldText, const QString &newText, int context)
{
    context = std::max(context, 0);
    const QList<Line> oldLines = splitLines(oldText);
    const QList<Line> newLines = splitLines(newText);
    LineIds ids;
    const std::vector<int> a = ids.idsOf(oldLines);
    const std::vector<int> b = ids.idsOf(newLines);
    if (a == b)
        return {};

    const std::vector<Op> ops = editScript(a, b);
    const int count = int(ops.size());

    QList<DiffHunk> hunks;
    int index = 0;
    int counted = 0; // ops before `counted` are summed into oldBefore/newBefore
    int oldBefore = 0; // old lines before the current hunk
    int newBefore = 0;
    while (index < count) {
        // The next change, then the last change reachable through gaps of at most
        // 2 × context unchanged lines: those share one hunk.
        while (index < count && ops[size_t(index)].kind == DiffLine::Context)
            ++index;
        if (index >= count)
            break;
        const int firstChange = index;
        int lastChange = index;
        int scan = index + 1;
        while (scan < count) {
            if (ops[size_t(scan)].kind != DiffLine::Context) {
                lastChange = scan++;
                continue;
            }
            int gapEnd = scan;
            while (gapEnd < count && ops[size_t(gapEnd)].kind == DiffLine::Context)
                ++gapEnd;
            if (gapEnd >= count || gapEnd - scan > 2 * context)
                break;
            scan = gapEnd;
        }

        const int from = std::max(0, firstChange - context);
        const int to = std::min(count - 1, lastChange + context);
        for (; counted < from; ++counted) {
            if (ops[size_t(counted)].kind != DiffLine::Added)
                ++oldBefore;
            if (ops[size_t(counted)].kind != DiffLine::Removed)
                ++newBefore;
        }
        DiffHunk hunk;
        for (int k = from; k <= to; ++k) {
            const Op &op = ops[size_t(k)];
            hunk.lines.append(toDiffLine(op, oldLines, newLines));
            if (op.kind != DiffLine::Added)
                ++hunk.oldCount;
            if (op.kind != DiffLine::Removed)
                ++hunk.newCount;
        }
        // A range starts at its first line; an empty one at the line before the hunk.
        hunk.oldStart = hunk.oldCount == 0 ? oldBefore : oldBefore + 1;
        hunk.newStart = hunk.newCount == 0 ? newBefore : newBefore + 1;
        hunks.append(hunk);
        index = to + 1;
    }
    return hunks;
}

QString formatUnifiedDiff(const QList<DiffHunk> &hunks, const QString &oldLabel,
                          const QString &newLabel)
{
    if (hunks.isEmpty())
        return {};
    QString out;
    out += QStringLiteral("--- ") + oldLabel + QLatin1Char('\n');
    out += QStringLiteral("+++ ") + newLabel + QLatin1Char('\n');
    for (const DiffHunk &hunk : hunks) {
        out += hunk.header() + QLatin1Char('\n');
        for (const DiffLine &line : hunk.lines) {
            switch (line.kind) {
            case DiffLine::Context:
                out += QLatin1Char(' ');
                break;
            case DiffLine::Removed:
                out += QLatin1Char('-');
                break;
            case DiffLine::Added:
                out += QLatin1Char('+');
                break;
            }
            out += line.text + QLatin1Char('\n');
            if (line.noNewlineAtEnd)
                out += QStringLiteral("\\ No newline at end of file\n");
        }
    }
    return out;
}

QString unifiedDiff(const QString &oldText, const QString &newText, const QString &oldLabel,
                    const QString &newLabel, int context)
{
    return formatUnifiedDiff(diffHunks(oldText, newText, context), oldLabel, newLabel);
}

} // namespace ft

#pragma once

#include <QList>
#include <QString>

namespace ft {

// One line of a unified-diff hunk. Line numbers are 1-based; 0 where the line does
// not exist on that side (an added line has no old number, a removed one no new one).
struct DiffLine
{
    enum Kind { Context, Removed, Added };

    Kind kind = Context;
    QString text; // without its line break
    int oldLine = 0;
    int newLine = 0;
    bool noNewlineAtEnd = false; // the last line of its file has no line break

    bool operator==(const DiffLine &) const = default;
};

// A hunk as `diff -u` prints it: "@@ -oldStart,oldCount +newStart,newCount @@".
// An empty range starts at the line before it (0 for the top of the file).
struct DiffHunk
{
    int oldStart = 0;
    int oldCount = 0;
    int newStart = 0;
    int newCount = 0;
    QList<DiffLine> lines;

    QString header() const;
};

// Line differences of two texts, from the shortest edit script of the diff template
// library (dtl: Wu, Manber and Myers' O(NP) algorithm), grouped into hunks with
// `context` unchanged lines around each change, like GNU diff. Lines are split on
// '\n'; a '\r' stays part of its line. Identical texts give no hunks.
QList<DiffHunk> diffHunks(const QString &oldText, const QString &newText, int context = 3);

// The hunks in unified format: "--- oldLabel", "+++ newLabel", then each hunk, with
// "\ No newline at end of file" where `diff -u` prints it. Empty when nothing differs.
QString formatUnifiedDiff(const QList<DiffHunk> &hunks, const QString &oldLabel,
                          const QString &newLabel);

// diffHunks() and formatUnifiedDiff() in one call: what `diff -u --label oldLabel
// --label newLabel` prints for the same texts.
QString unifiedDiff(const QString &oldText, const QString &newText, const QString &oldLabel,
                    const QString &newLabel, int context = 3);

} // namespace ft

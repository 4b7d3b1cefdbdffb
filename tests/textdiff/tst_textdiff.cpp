#include "guard/textdiff.h"

#include <QFile>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>

using namespace ft;

// Unified diffs checked against the real tools: GNU `diff -u` must print the same
// text, and GNU `patch` must turn the old file into the new one with our output.
class TestTextDiff : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void matchesGnuDiff_data();
    void matchesGnuDiff();
    void structuredHunks();
    void identicalTextsGiveNothing();
    void patchAppliesRandomEdits();

private:
    static QString numbered(int from, int to, const QString &prefix = QStringLiteral("line"));
    bool writeFile(const QString &path, const QString &text);
    QString gnuDiff(const QString &oldText, const QString &newText, int context);

    QTemporaryDir m_dir;
};

QString TestTextDiff::numbered(int from, int to, const QString &prefix)
{
    QString text;
    for (int i = from; i <= to; ++i)
        text += QStringLiteral("%1 %2\n").arg(prefix).arg(i);
    return text;
}

bool TestTextDiff::writeFile(const QString &path, const QString &text)
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return false;
    return file.write(text.toUtf8()) >= 0;
}

QString TestTextDiff::gnuDiff(const QString &oldText, const QString &newText, int context)
{
    const QString a = m_dir.filePath(QStringLiteral("a.txt"));
    const QString b = m_dir.filePath(QStringLiteral("b.txt"));
    if (!writeFile(a, oldText) || !writeFile(b, newText))
        return QStringLiteral("<cannot write>");
    QProcess diff;
    diff.start(QStringLiteral("diff"),
               {QStringLiteral("-U%1").arg(context), QStringLiteral("--label"),
                QStringLiteral("old/index.html"), QStringLiteral("--label"),
                QStringLiteral("new/index.html"), a, b});
    if (!diff.waitForFinished(10000))
        return QStringLiteral("<diff did not finish>");
    return QString::fromUtf8(diff.readAllStandardOutput());
}

void TestTextDiff::matchesGnuDiff_data()
{
    QTest::addColumn<QString>("oldText");
    QTest::addColumn<QString>("newText");
    QTest::addColumn<int>("context");

    const QString twenty = numbered(1, 20);
    QString changedMiddle = twenty;
    changedMiddle.replace(QStringLiteral("line 10\n"), QStringLiteral("line ten (customized)\n"));
    QTest::newRow("one line changed") << twenty << changedMiddle << 3;
    QTest::newRow("one line changed, -U0") << twenty << changedMiddle << 0;
    QTest::newRow("one line changed, -U1") << twenty << changedMiddle << 1;
    QTest::newRow("added at the top")
            << twenty << QStringLiteral("<!-- site banner -->\n") + twenty << 3;
    QTest::newRow("removed at the end") << twenty << numbered(1, 17) << 3;
    QTest::newRow("from empty") << QString() << numbered(1, 4) << 3;
    QTest::newRow("to empty") << numbered(1, 4) << QString() << 3;
    QTest::newRow("added to an empty range, -U0")
            << numbered(1, 5) << numbered(1, 2) + QStringLiteral("new\n") + numbered(3, 5) << 0;

    // Changes 6 unchanged lines apart share a hunk with -U3; 7 apart do not.
    QString six = numbered(1, 30);
    six.replace(QStringLiteral("line 5\n"), QStringLiteral("five\n"));
    six.replace(QStringLiteral("line 12\n"), QStringLiteral("twelve\n"));
    QTest::newRow("gap of 6 joins") << numbered(1, 30) << six << 3;
    QString seven = numbered(1, 30);
    seven.replace(QStringLiteral("line 5\n"), QStringLiteral("five\n"));
    seven.replace(QStringLiteral("line 13\n"), QStringLiteral("thirteen\n"));
    QTest::newRow("gap of 7 splits") << numbered(1, 30) << seven << 3;

    QTest::newRow("no newline at end, old")
            << QStringLiteral("a\nb\nc") << QStringLiteral("a\nb\nc\n") << 3;
    QTest::newRow("no newline at end, new")
            << QStringLiteral("a\nb\nc\n") << QStringLiteral("a\nB\nc") << 3;
    QTest::newRow("no newline at end, both")
            << QStringLiteral("a\nb\nc") << QStringLiteral("a\nb\nC") << 3;
    QTest::newRow("replaced block")
            << numbered(1, 12)
            << numbered(1, 4) + QStringLiteral("<div class=\"logo\">ACME</div>\n<p>Ünïcödé ✓</p>\n")
                    + numbered(9, 12)
            << 3;
    QTest::newRow("CRLF lines kept")
            << QStringLiteral("a\r\nb\r\nc\r\n") << QStringLiteral("a\r\nbee\r\nc\r\n") << 3;
}

void TestTextDiff::matchesGnuDiff()
{
    QFETCH(QString, oldText);
    QFETCH(QString, newText);
    QFETCH(int, context);
    QVERIFY(m_dir.isValid());

    const QString expected = gnuDiff(oldText, newText, context);
    QVERIFY2(!expected.isEmpty(), "the cases all differ, so diff must print something");
    const QString actual = unifiedDiff(oldText, newText, QStringLiteral("old/index.html"),
                                       QStringLiteral("new/index.html"), context);
    QCOMPARE(actual, expected);
}

void TestTextDiff::structuredHunks()
{
    QString changed = numbered(1, 20);
    changed.replace(QStringLiteral("line 10\n"), QStringLiteral("custom\n"));
    changed += QStringLiteral("appended\n");
    const QList<DiffHunk> hunks = diffHunks(numbered(1, 20), changed, 2);
    QCOMPARE(hunks.size(), 2);

    const DiffHunk &first = hunks.at(0);
    QCOMPARE(first.header(), QStringLiteral("@@ -8,5 +8,5 @@"));
    QCOMPARE(first.lines.size(), 6);
    QCOMPARE(first.lines.at(0),
             (DiffLine{DiffLine::Context, QStringLiteral("line 8"), 8, 8, false}));
    QCOMPARE(first.lines.at(2),
             (DiffLine{DiffLine::Removed, QStringLiteral("line 10"), 10, 0, false}));
    QCOMPARE(first.lines.at(3),
             (DiffLine{DiffLine::Added, QStringLiteral("custom"), 0, 10, false}));
    QCOMPARE(first.lines.at(5),
             (DiffLine{DiffLine::Context, QStringLiteral("line 12"), 12, 12, false}));

    const DiffHunk &second = hunks.at(1);
    QCOMPARE(second.header(), QStringLiteral("@@ -19,2 +19,3 @@"));
    QCOMPARE(second.lines.last(),
             (DiffLine{DiffLine::Added, QStringLiteral("appended"), 0, 21, false}));
}

void TestTextDiff::identicalTextsGiveNothing()
{
    QVERIFY(diffHunks(numbered(1, 5), numbered(1, 5)).isEmpty());
    QVERIFY(unifiedDiff(QString(), QString(), QStringLiteral("a"), QStringLiteral("b")).isEmpty());
    QVERIFY(unifiedDiff(QStringLiteral("x"), QStringLiteral("x"), QStringLiteral("a"),
                        QStringLiteral("b"))
                    .isEmpty());
}

// Edits where several alignments are equally short may be printed differently from
// GNU diff; what must hold is that patch(1) rebuilds the new file from our diff.
void TestTextDiff::patchAppliesRandomEdits()
{
    QVERIFY(m_dir.isValid());
    QRandomGenerator random(20261127);
    const QStringList vocabulary
            = {QStringLiteral("<div>"), QStringLiteral("</div>"), QStringLiteral("  <p>text</p>"),
               QStringLiteral(""),      QStringLiteral("}"),      QStringLiteral("var x = 1;")};
    for (int round = 0; round < 30; ++round) {
        QStringList oldLines;
        const int size = random.bounded(0, 60);
        for (int i = 0; i < size; ++i)
            oldLines << vocabulary.at(random.bounded(vocabulary.size()));
        QStringList newLines = oldLines;
        const int edits = random.bounded(1, 8);
        for (int e = 0; e < edits; ++e) {
            const int at = newLines.isEmpty() ? 0 : random.bounded(newLines.size());
            switch (random.bounded(3)) {
            case 0:
                newLines.insert(at, QStringLiteral("added %1").arg(e));
                break;
            case 1:
                if (!newLines.isEmpty())
                    newLines.removeAt(at);
                break;
            default:
                if (!newLines.isEmpty())
                    newLines[at] = QStringLiteral("changed %1").arg(e);
            }
        }
        const QString oldText = oldLines.isEmpty()
                ? QString()
                : oldLines.join(QLatin1Char('\n')) + QLatin1Char('\n');
        const QString newText = newLines.isEmpty()
                ? QString()
                : newLines.join(QLatin1Char('\n')) + QLatin1Char('\n');
        const QString diff = unifiedDiff(oldText, newText, QStringLiteral("a/f.txt"),
                                         QStringLiteral("b/f.txt"), int(random.bounded(0, 4)));
        if (oldText == newText) {
            QVERIFY(diff.isEmpty());
            continue;
        }
        const QString target = m_dir.filePath(QStringLiteral("f.txt"));
        const QString patchFile = m_dir.filePath(QStringLiteral("f.patch"));
        QVERIFY(writeFile(target, oldText));
        QVERIFY(writeFile(patchFile, diff));
        QProcess patch;
        patch.start(QStringLiteral("patch"),
                    {QStringLiteral("--force"), QStringLiteral("--silent"),
                     QStringLiteral("--fuzz=0"), target, patchFile});
        QVERIFY(patch.waitForFinished(10000));
        QVERIFY2(patch.exitCode() == 0,
                 qPrintable(QStringLiteral("round %1:\n%2\n%3")
                                    .arg(round)
                                    .arg(diff, QString::fromUtf8(patch.readAll()))));
        QFile patched(target);
        QVERIFY(patched.open(QIODevice::ReadOnly));
        QCOMPARE(QString::fromUtf8(patched.readAll()), newText);
    }
}

QTEST_GUILESS_MAIN(TestTextDiff)
#include "tst_textdiff.moc"

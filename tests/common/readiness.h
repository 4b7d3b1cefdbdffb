#pragma once

// Whether a test's set-up is there, for the fixtures that check it: Skip where this
// machine cannot run the test at all (a tool not built, no root, no namespaces), Fail
// where it should and does not (a package from .ci/packages.txt missing, a tool that
// failed). QSKIP and QFAIL must stand in the test function itself: FT_REQUIRE_READY.

#include <QFile>
#include <QString>
#include <QStringList>
#include <QTest>

namespace fixture {

struct Readiness
{
    enum Verdict { Ready, Skip, Fail };
    Verdict verdict = Ready;
    QString why;
};

// Skip, naming the first of the project's tools (FT_BIN_DIR) that is not built.
inline Readiness requireBuiltTools(const QStringList &names)
{
    for (const QString &name : names) {
        if (!QFile::exists(QStringLiteral(FT_BIN_DIR "/") + name))
            return {Readiness::Skip, name + QStringLiteral(" is not built, so this test is skipped.")};
    }
    return {};
}

} // namespace fixture

// In a test function: skips it or fails it as the Readiness says, else goes on.
#define FT_REQUIRE_READY(readiness)                                                        \
    do {                                                                                   \
        const ::fixture::Readiness ftReady = (readiness);                                  \
        if (ftReady.verdict == ::fixture::Readiness::Skip)                                 \
            QSKIP(qPrintable(ftReady.why));                                                \
        QVERIFY2(ftReady.verdict == ::fixture::Readiness::Ready, qPrintable(ftReady.why)); \
    } while (false)

#include "model/version.h"

#include <QTest>

using ft::Version;

class tst_Version : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parsesGoodStrings_data();
    void parsesGoodStrings();
    void rejectsBadStrings_data();
    void rejectsBadStrings();
    void orders_data();
    void orders();
};

void tst_Version::parsesGoodStrings_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("canonical");
    QTest::addColumn<int>("build");

    QTest::newRow("three parts") << "6.2.1" << "6.2.1" << 0;
    QTest::newRow("two parts") << "6.2" << "6.2" << 0;
    QTest::newRow("one part") << "7" << "7" << 0;
    QTest::newRow("four parts") << "6.2.1.4" << "6.2.1.4" << 0;
    QTest::newRow("dash build") << "6.2.1-1234" << "6.2.1-1234" << 1234;
    QTest::newRow("plus build") << "6.2.1+77" << "6.2.1-77" << 77;
    QTest::newRow("word build") << "6.2.1 build 1234" << "6.2.1-1234" << 1234;
    QTest::newRow("parenthesised build") << "6.2.1 (build 99)" << "6.2.1-99" << 99;
    QTest::newRow("b build") << "6.2.1b42" << "6.2.1-42" << 42;
    QTest::newRow("leading v and spaces") << "  v6.3.0  " << "6.3.0" << 0;
    QTest::newRow("leading zeros") << "06.02.01" << "6.2.1" << 0;
}

void tst_Version::parsesGoodStrings()
{
    QFETCH(QString, text);
    QFETCH(QString, canonical);
    QFETCH(int, build);

    const auto version = Version::parse(text);
    QVERIFY2(version.has_value(), qPrintable(version.has_value() ? QString() : version.error()));
    QCOMPARE(version->toString(), canonical);
    QCOMPARE(version->build(), build);
    QVERIFY(!version->isNull());
}

void tst_Version::rejectsBadStrings_data()
{
    QTest::addColumn<QString>("text");

    QTest::newRow("empty") << "";
    QTest::newRow("blank") << "   ";
    QTest::newRow("word") << "latest";
    QTest::newRow("trailing dot") << "6.2.";
    QTest::newRow("double dot") << "6..2";
    QTest::newRow("five parts") << "6.2.1.4.5";
    QTest::newRow("negative") << "-6.2";
    QTest::newRow("letters inside") << "6.x.1";
    QTest::newRow("build without number") << "6.2.1-";
    QTest::newRow("garbage after build") << "6.2.1-12abc";
    QTest::newRow("too long number") << "6.2.12345678901";
}

void tst_Version::rejectsBadStrings()
{
    QFETCH(QString, text);

    const auto version = Version::parse(text);
    QVERIFY(!version.has_value());
    QVERIFY(!version.error().isEmpty());
}

void tst_Version::orders_data()
{
    QTest::addColumn<QString>("lower");
    QTest::addColumn<QString>("higher");

    QTest::newRow("patch") << "6.2.1" << "6.2.2";
    QTest::newRow("minor beats patch") << "6.2.9" << "6.3.0";
    QTest::newRow("numeric not textual") << "6.9.0" << "6.10.0";
    QTest::newRow("build") << "6.2.1-100" << "6.2.1-101";
    QTest::newRow("no build below build") << "6.2.1" << "6.2.1-1";
    QTest::newRow("shorter below longer") << "6.2" << "6.2.0.1";
    QTest::newRow("major") << "5.99.99" << "6";
}

void tst_Version::orders()
{
    QFETCH(QString, lower);
    QFETCH(QString, higher);

    const Version a = *Version::parse(lower);
    const Version b = *Version::parse(higher);
    QVERIFY(a < b);
    QVERIFY(b > a);
    QVERIFY(a != b);
    QCOMPARE(*Version::parse(QStringLiteral("6.2")), *Version::parse(QStringLiteral("6.2.0")));
}

QTEST_GUILESS_MAIN(tst_Version)
#include "tst_version.moc"

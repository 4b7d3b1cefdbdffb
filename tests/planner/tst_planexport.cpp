#include "../planner/clusterfixture.h"

#include "plan/planexport.h"
#include "plan/planner.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <QTimeZone>

using namespace ft;
using namespace fixture;

namespace {

const QDateTime kStart(QDate(2026, 11, 29), QTime(3, 0), QTimeZone::utc());

UpgradePlan samplePlan(const QString &oddName = QStringLiteral("w<b>&amp;\"x\", y"))
{
    QList<NodeStatus> nodes{withNbi(withFlows(portal(), 20)), withFlows(worker(oddName), 100),
                            worker("w2"), worker("w3", "6.3.0-1500")};
    PlanOptions options;
    options.startTime = kStart;
    options.dropFlowsOn = {oddName, QStringLiteral("portal")}; // flows lost, as without keeping them
    return UpgradePlanner().plan(nodes, target(), options);
}

// Splits one CSV document (RFC 4180) into rows of fields.
QList<QStringList> parseCsv(const QString &text)
{
    QList<QStringList> rows;
    QStringList row;
    QString field;
    bool quoted = false;
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar c = text.at(i);
        if (quoted) {
            if (c == '"' && i + 1 < text.size() && text.at(i + 1) == '"') {
                field += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                field += c;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            row.append(field);
            field.clear();
        } else if (c == '\r' && i + 1 < text.size() && text.at(i + 1) == '\n') {
            row.append(field);
            rows.append(row);
            row.clear();
            field.clear();
            ++i;
        } else {
            field += c;
        }
    }
    return rows;
}

} // namespace

class tst_PlanExport : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void jsonParsesBack();
    void jsonRejectsBadInput_data();
    void jsonRejectsBadInput();
    void csvHasHeaderAndQuoting();
    void csvNeverStartsACellWithAFormula_data();
    void csvNeverStartsACellWithAFormula();
    void htmlIsEscapedAndSelfContained();
    void exportChoosesFormatByName_data();
    void exportChoosesFormatByName();
    void exportRefusesUnknownSuffix();
};

void tst_PlanExport::jsonParsesBack()
{
    const UpgradePlan plan = samplePlan();
    QTemporaryDir dir;
    const QString path = dir.filePath("plan.json");
    QVERIFY(exportPlan(plan, path).has_value());

    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(file.readAll(), &error);
    QCOMPARE(error.error, QJsonParseError::NoError);
    QVERIFY(document.isObject());
    QCOMPARE(document.object().value("totals").toObject().value("flows_lost").toInteger(),
             plan.totalFlowsLost);

    const auto back = planFromJson(document.object());
    QVERIFY2(back.has_value(), qPrintable(back ? QString() : back.error()));
    QCOMPARE(back->startTime, kStart);
    QCOMPARE(back->waves.size(), plan.waves.size());
    QCOMPARE(back->skipped.size(), plan.skipped.size());
    QCOMPARE(back->stage.size(), plan.stage.size());
    QCOMPARE(names(back->stage.first().components), names(plan.stage.first().components));
    QCOMPARE(back->wallTimeMs, plan.wallTimeMs);
    QCOMPARE(back->mixedVersionWindowMs, plan.mixedVersionWindowMs);
    QCOMPARE(back->mixedVersionStartMs, plan.mixedVersionStartMs);
    QCOMPARE(back->totalFlowsLost, plan.totalFlowsLost);
    for (qsizetype w = 0; w < plan.waves.size(); ++w) {
        const PlanStep &a = plan.waves.at(w).steps.first();
        const PlanStep &b = back->waves.at(w).steps.first();
        QCOMPARE(b.node, a.node);
        QCOMPARE(toString(b.component), toString(a.component));
        QCOMPARE(toString(b.role), toString(a.role));
        QCOMPARE(b.fromVersion, a.fromVersion);
        QCOMPARE(b.toVersion, a.toVersion);
        QCOMPARE(b.estimate.phases, a.estimate.phases);
        QCOMPARE(b.estimate.basis, a.estimate.basis);
        QCOMPARE(b.impact.flowsLost, a.impact.flowsLost);
        QCOMPARE(b.impact.sentence, a.impact.sentence);
        QCOMPARE(b.startOffsetMs, a.startOffsetMs);
    }
    // The plan JSON written again from what was read is the same document.
    QCOMPARE(planToJson(*back), planToJson(plan));
}

void tst_PlanExport::jsonRejectsBadInput_data()
{
    QTest::addColumn<QString>("json");
    QTest::newRow("wrong format") << R"({"format": 2})";
    QTest::newRow("no format") << R"({})";
    QTest::newRow("unknown component")
        << R"({"format": 1, "waves": [{"steps": [{"node": "w1", "role": "worker", "os": "linux",
              "component": "database"}]}]})";
    QTest::newRow("empty wave") << R"({"format": 1, "waves": [{"steps": []}]})";
    QTest::newRow("step without node")
        << R"({"format": 1, "skipped": [{"role": "worker", "os": "linux", "component": "server"}]})";
    QTest::newRow("bad version")
        << R"({"format": 1, "skipped": [{"node": "w1", "role": "worker", "os": "linux",
              "component": "server", "from_version": "latest"}]})";
}

void tst_PlanExport::jsonRejectsBadInput()
{
    QFETCH(QString, json);
    const auto plan = planFromJson(QJsonDocument::fromJson(json.toUtf8()).object());
    QVERIFY(!plan.has_value());
    QVERIFY(!plan.error().isEmpty());
}

void tst_PlanExport::csvHasHeaderAndQuoting()
{
    const QString oddName = QStringLiteral("w\"1\", east");
    const UpgradePlan plan = samplePlan(oddName);
    const QByteArray csv = planToCsv(plan);
    QVERIFY(csv.startsWith("phase,wave,node,role,os,component,from_version,to_version,package,"
                           "start_offset_s,duration_s,outage_s,estimate_source,estimate_basis,"
                           "flows_lost,impact,skip_reason\r\n"));
    // The raw text doubles the quotes and wraps the field.
    QVERIFY(csv.contains(",\"w\"\"1\"\", east\","));

    const QList<QStringList> rows = parseCsv(QString::fromUtf8(csv));
    const int columns = int(rows.first().size());
    QCOMPARE(columns, 17);
    // Rows: header + staged nodes + steps + skipped.
    QCOMPARE(rows.size(), 1 + plan.stage.size() + plan.stepCount() + plan.skipped.size());
    bool found = false;
    for (const QStringList &row : rows) {
        QCOMPARE(row.size(), columns);
        if (row.at(0) == "upgrade" && row.at(2) == oddName) {
            found = true;
            QCOMPARE(row.at(5), QStringLiteral("server"));
            QCOMPARE(row.at(14), QStringLiteral("21000"));
            QCOMPARE(row.at(12), QStringLiteral("default"));
        }
    }
    QVERIFY(found);
    QCOMPARE(rows.last().at(0), QStringLiteral("skipped"));
    QCOMPARE(rows.last().at(2), QStringLiteral("w3"));
}

// A node's name comes from its configuration: a spreadsheet must not run it.
void tst_PlanExport::csvNeverStartsACellWithAFormula_data()
{
    QTest::addColumn<QString>("name");
    QTest::newRow("=2+5") << QStringLiteral("=2+5");
    QTest::newRow("hyperlink") << QStringLiteral("=HYPERLINK(\"http://x\",\"y\")");
    QTest::newRow("+") << QStringLiteral("+1+cmd|' /C calc'!A0");
    QTest::newRow("-") << QStringLiteral("-2+3");
    QTest::newRow("@") << QStringLiteral("@SUM(1,2)");
    QTest::newRow("tab") << QStringLiteral("\t=1");
}

void tst_PlanExport::csvNeverStartsACellWithAFormula()
{
    QFETCH(QString, name);
    const UpgradePlan plan = samplePlan(name);
    const QString csv = QString::fromUtf8(planToCsv(plan));
    QVERIFY2(!csv.contains(QLatin1Char(',') + name), qPrintable(csv));
    bool found = false;
    for (const QStringList &row : parseCsv(csv)) {
        for (const QString &cell : row)
            QVERIFY2(cell.isEmpty() || !QStringLiteral("=+@\t\r").contains(cell.front())
                         || (cell.front() == QLatin1Char('-') && !cell.contains(QLatin1Char('+'))),
                     qPrintable(cell));
        if (row.at(0) == QLatin1String("upgrade") && row.at(2) == QLatin1Char('\'') + name)
            found = true; // the name kept, as text
    }
    QVERIFY(found);
    // Plain numbers stay numbers.
    QVERIFY(csv.contains(QStringLiteral(",21000,")) || csv.contains(QStringLiteral(",0,")));
}

void tst_PlanExport::htmlIsEscapedAndSelfContained()
{
    const UpgradePlan plan = samplePlan(QStringLiteral("w<b>&1"));
    const QString html = planToHtml(plan, QStringLiteral("Plan for <acme> & co"));
    QVERIFY(html.startsWith("<!DOCTYPE html>"));
    QVERIFY(html.contains("w&lt;b&gt;&amp;1"));
    QVERIFY(!html.contains("w<b>"));
    QVERIFY(html.contains("<title>Plan for &lt;acme&gt; &amp; co</title>"));
    // Self-contained: no external references of any kind.
    QVERIFY(!html.contains(QRegularExpression("(src|href)\\s*=", QRegularExpression::CaseInsensitiveOption)));
    QVERIFY(!html.contains("<script", Qt::CaseInsensitive));
    // A table, and where the estimates come from.
    QVERIFY(html.contains("<table>"));
    QVERIFY(html.contains("Where the estimates come from"));
    QVERIFY(html.contains(plan.waves.first().steps.first().estimate.basis.toHtmlEscaped()));
    QVERIFY(html.contains("Skipped"));
}

void tst_PlanExport::exportChoosesFormatByName_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QByteArray>("begins");
    QTest::newRow("json") << "plan.json" << QByteArray("{");
    QTest::newRow("csv") << "plan.CSV" << QByteArray("phase,");
    QTest::newRow("html") << "plan.html" << QByteArray("<!DOCTYPE html>");
    QTest::newRow("htm") << "plan.htm" << QByteArray("<!DOCTYPE html>");
}

void tst_PlanExport::exportChoosesFormatByName()
{
    QFETCH(QString, name);
    QFETCH(QByteArray, begins);
    QTemporaryDir dir;
    const QString path = dir.filePath(name);
    QVERIFY(exportPlan(samplePlan(), path).has_value());
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QVERIFY(file.readAll().startsWith(begins));
}

void tst_PlanExport::exportRefusesUnknownSuffix()
{
    QTemporaryDir dir;
    const QString path = dir.filePath("plan.txt");
    const Result result = exportPlan(samplePlan(), path);
    QVERIFY(!result);
    QVERIFY(result.error().contains("plan.txt"));
    QVERIFY(!QFile::exists(path));
}

QTEST_GUILESS_MAIN(tst_PlanExport)
#include "tst_planexport.moc"

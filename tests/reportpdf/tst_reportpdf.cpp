// The PDF run report, read back by poppler's pdftotext (a real PDF parser, not our own
// code): every word of the report is in the PDF whole, and no word is broken across
// lines ("FlowT raq Serve r" was seen once). The journal is a long, realistic one:
// four nodes, three components, an abort with reasons, long sentences in narrow
// columns, the announced window, the users' impacts and what a resume found.

#include "verify/runreport.h"
#include "verify/verification.h"

#include <QGuiApplication>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTextDocument>
#include <QtTest>

using namespace ft;

namespace {

Version v(const char *text)
{
    return *Version::parse(QString::fromLatin1(text));
}

const QDateTime kWindow(QDate(2026, 11, 27), QTime(21, 0), Qt::UTC);

RunStepRecord step(const QString &node, NodeRole role, Component component, int wave, RunStepState state,
                   const QString &impact)
{
    RunStepRecord record;
    record.step.node = node;
    record.step.role = role;
    record.step.component = component;
    record.step.fromVersion = v("6.2.1-1200");
    record.step.toVersion = v("6.3.0-1500");
    record.step.packageFile = QStringLiteral("%1-6.3.0-1500.ftpkg").arg(toString(component));
    record.step.estimate.totalMs = 210000;
    record.step.estimate.basis = QStringLiteral("measured on this cluster (3 earlier upgrades)");
    record.step.impact.sentence = impact;
    record.wave = wave;
    record.state = state;
    record.versionBefore = QStringLiteral("6.2.1-1200");
    record.started = kWindow.addSecs(60 * wave);
    return record;
}

RunJournal longJournal()
{
    RunJournal journal;
    journal.runId = QStringLiteral("2026-11-27T21-00-00-portal.example.com");
    journal.clusterId = QStringLiteral("portal.example.com:9650");
    journal.created = kWindow.addSecs(-300);
    journal.updated = kWindow.addSecs(1500);
    journal.state = RunState::Aborted;
    journal.stateSentence = QStringLiteral("Aborted by the administrator after the FlowTraq Server on w2 failed; "
                                           "w3, the portal, the NBI service and the Web UI were not attempted.");
    journal.announcedStart = kWindow;
    journal.noticeSent = QStringLiteral("FlowTraq upgrade notice exported to /home/admin/Documents/flowtraq-upgrade-notice.eml");
    journal.customizationsAcknowledged = {QStringLiteral("flowtraq/css/site-branding.css"),
                                          QStringLiteral("flowtraq/js/dashboard-extensions.js")};
    RunPackage server;
    server.component = Component::Server;
    server.fileName = QStringLiteral("server-6.3.0-1500.ftpkg");
    server.version = QStringLiteral("6.3.0-1500");
    server.sha256 = QStringLiteral("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
    journal.packages = {server};

    RunStepRecord w1 = step(QStringLiteral("w1"), NodeRole::Worker, Component::Server, 0, RunStepState::Succeeded,
                            QStringLiteral("While w1 is down (about 3 min 30 s at 21:00 UTC), queries are slower and "
                                           "may leave out w1's data; w1 receives flows: about 2,599 flow records are lost."));
    w1.versionAfter = QStringLiteral("6.3.0-1500");
    w1.elapsedMs = 201000;
    w1.phases.stoppingMs = 4000;
    w1.phases.installingMs = 150000;
    w1.phases.startingMs = 30000;
    w1.finished = w1.started.addMSecs(201000);
    w1.exitCode = 0;
    RunStepRecord w2 = step(QStringLiteral("w2"), NodeRole::Worker, Component::Server, 1, RunStepState::Failed,
                            QStringLiteral("While w2 is down (about 3 min 30 s at 21:04 UTC), queries are slower and "
                                           "may leave out w2's data."));
    w2.error = QStringLiteral("The installer of the FlowTraq Server ended with exit code 1603 (a fatal error during "
                              "installation); the service was started again on the old version 6.2.1-1200.");
    w2.attempts = 2;
    w2.exitCode = 1603;
    w2.decisions = {{RunDecision::Retry, kWindow.addSecs(400), QStringLiteral("administrator")},
                    {RunDecision::Abort, kWindow.addSecs(700), QStringLiteral("administrator")}};
    RunStepRecord w3 = step(QStringLiteral("w3"), NodeRole::Worker, Component::Server, 2, RunStepState::Pending,
                            QStringLiteral("While w3 is down (about 3 min 30 s at 21:08 UTC), queries are slower."));
    RunStepRecord portal = step(QStringLiteral("portal"), NodeRole::Portal, Component::Server, 3, RunStepState::Pending,
                                QStringLiteral("No queries at all for about 3 min 30 s at 21:12 UTC; the Web UI "
                                               "shows an error meanwhile."));
    RunStepRecord nbi = step(QStringLiteral("portal"), NodeRole::Portal, Component::Nbi, 4, RunStepState::Pending,
                             QStringLiteral("The NBI service is unavailable for about 1 min 40 s at 21:16 UTC."));
    RunStepRecord webUi = step(QStringLiteral("portal"), NodeRole::Portal, Component::WebUi, 5, RunStepState::Pending,
                               QStringLiteral("The Web UI is unavailable for about 45 s at 21:18 UTC."));
    journal.steps = {w1, w2, w3, portal, nbi, webUi};

    RunDifference difference;
    difference.step = 0;
    difference.node = QStringLiteral("w1");
    difference.journalState = QStringLiteral("running");
    difference.found = QStringLiteral("agent_job_succeeded");
    difference.foundVersion = QStringLiteral("6.3.0-1500");
    difference.detail = QStringLiteral("the upgrade finished while the wizard was away (now 6.3.0-1500).");
    journal.differences = {difference};
    return journal;
}

NodeStatus node(const QString &name, NodeRole role, const char *server)
{
    NodeStatus status;
    status.name = name;
    status.role = role;
    status.reachable = true;
    status.service = ServiceState::Running;
    status.server = {true, v(server)};
    return status;
}

QStringList words(const QString &text)
{
    static const QRegularExpression space(QStringLiteral("\\s+"), QRegularExpression::UseUnicodePropertiesOption);
    return text.split(space, Qt::SkipEmptyParts);
}

} // namespace

class tst_ReportPdf : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void noWordBrokenNothingLeftOut();
};

void tst_ReportPdf::noWordBrokenNothingLeftOut()
{
    const QString pdftotext = QStandardPaths::findExecutable(QStringLiteral("pdftotext"));
    if (pdftotext.isEmpty())
        QFAIL("pdftotext is missing: install poppler-utils (.ci/packages.txt lists it).");

    const RunJournal journal = longJournal();
    const VerificationReport verification = buildVerification(
        {node(QStringLiteral("portal"), NodeRole::Portal, "6.2.1-1200"),
         node(QStringLiteral("w1"), NodeRole::Worker, "6.3.0-1500"),
         node(QStringLiteral("w2"), NodeRole::Worker, "6.2.1-1200"),
         node(QStringLiteral("w3"), NodeRole::Worker, "6.2.1-1200")},
        targetsOf(journal), &journal, kWindow.addSecs(1600));

    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("upgrade-report.pdf"));
    const Result written = exportRunReport(journal, &verification, path);
    QVERIFY2(written.has_value(), written ? "" : qPrintable(written.error()));

    QProcess extract;
    extract.start(pdftotext, {QStringLiteral("-enc"), QStringLiteral("UTF-8"), path, QStringLiteral("-")});
    QVERIFY(extract.waitForFinished(30000));
    QCOMPARE(extract.exitCode(), 0);
    const QString pdfText = QString::fromUtf8(extract.readAllStandardOutput());
    if (const QString keep = qEnvironmentVariable("FT_REPORT_PDF_DIR"); !keep.isEmpty()) {
        QFile::copy(path, QDir(keep).filePath(QStringLiteral("upgrade-report.pdf")));
        QFile text(QDir(keep).filePath(QStringLiteral("upgrade-report.txt")));
        QVERIFY(text.open(QIODevice::WriteOnly));
        text.write(pdfText.toUtf8());
    }

    // The words of the report as its HTML says them, against the words the PDF holds.
    QTextDocument document;
    document.setHtml(runReportHtml(journal, &verification));
    const QStringList reportWords = words(document.toPlainText());
    const QSet<QString> expected(reportWords.begin(), reportWords.end());
    const QStringList inPdf = words(pdfText);
    const QSet<QString> found(inPdf.begin(), inPdf.end());

    // A word broken across lines shows up as pieces that are no word of the report.
    QStringList pieces;
    for (const QString &word : inPdf) {
        if (!expected.contains(word))
            pieces.append(word);
    }
    QVERIFY2(pieces.isEmpty(), qPrintable(QStringLiteral("Not words of the report (broken?): ") + pieces.join(QStringLiteral(" | "))));
    QStringList missing;
    for (const QString &word : expected) {
        if (!found.contains(word))
            missing.append(word);
    }
    QVERIFY2(missing.isEmpty(), qPrintable(QStringLiteral("Missing from the PDF: ") + missing.join(QStringLiteral(" | "))));

    // And what a reader looks for, by name: times with their zone, the window, impacts,
    // reasons, the component names whole.
    const QString flat = inPdf.join(QLatin1Char(' '));
    for (const QString &phrase : {QStringLiteral("Announced window from 2026-11-27 21:00:00 UTC"),
                                  QStringLiteral("2026-11-27 20:55:00 UTC"),
                                  QStringLiteral("What users were told to expect"),
                                  QStringLiteral("No queries at all for about 3 min 30 s at 21:12 UTC"),
                                  QStringLiteral("about 2,599 flow records are lost"),
                                  QStringLiteral("The Web UI is unavailable for about 45 s at 21:18 UTC"),
                                  QStringLiteral("exit code 1603"),
                                  QStringLiteral("FlowTraq Server"),
                                  QStringLiteral("Found when the run was resumed")}) {
        QVERIFY2(flat.contains(phrase), qPrintable(phrase));
    }
}

int main(int argc, char *argv[])
{
    // The PDF needs a GUI application; the offscreen platform needs no display.
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QGuiApplication app(argc, argv);
    tst_ReportPdf test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_reportpdf.moc"

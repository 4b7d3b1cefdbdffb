#include "verify/runreport.h"
#include "verify/verification.h"
#include "verify/stepstatus.h"
#include "agentlink/agentjobstatus.h"

#include <QFile>
#include <QGuiApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QtTest>

using namespace ft;

namespace {

Version v(const QString &text)
{
    return text.isEmpty() ? Version() : *Version::parse(text);
}

NodeStatus node(const QString &name, NodeRole role, const QString &server, const QString &webUi = {})
{
    NodeStatus status;
    status.name = name;
    status.role = role;
    status.reachable = true;
    status.service = ServiceState::Running;
    status.server = {true, v(server)};
    if (!webUi.isEmpty())
        status.webUi = {true, v(webUi)};
    return status;
}

RunStepRecord stepRecord(const QString &nodeName, Component component, RunStepState state,
                         const QString &before, const QString &after)
{
    RunStepRecord record;
    record.step.node = nodeName;
    record.step.component = component;
    record.step.fromVersion = v(before);
    record.step.toVersion = v(QStringLiteral("6.3.0-1500"));
    record.state = state;
    record.versionBefore = before;
    record.versionAfter = after;
    return record;
}

const QDateTime kNow(QDate(2026, 11, 27), QTime(9, 0), Qt::UTC);

} // namespace

class TestVerification : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void verdicts_data()
    {
        QTest::addColumn<QString>("now");
        QTest::addColumn<bool>("withStep");
        QTest::addColumn<int>("stepState");
        QTest::addColumn<QString>("before");
        QTest::addColumn<bool>("rebootRequested");
        QTest::addColumn<int>("service");
        QTest::addColumn<int>("verdict");
        QTest::addColumn<QString>("sentencePart");

        const int running = int(ServiceState::Running);
        QTest::newRow("upgraded") << "6.3.0-1500" << true << int(RunStepState::Succeeded) << "6.2.1-1200"
                                  << false << running << int(Verdict::Upgraded) << "Upgraded from 6.2.1-1200";
        QTest::newRow("already current") << "6.3.0-1500" << true << int(RunStepState::AlreadyCurrent)
                                         << "6.3.0-1500" << false << running << int(Verdict::AlreadyCurrent)
                                         << "Already at";
        QTest::newRow("failed, old version") << "6.2.1-1200" << true << int(RunStepState::Failed) << "6.2.1-1200"
                                             << false << running << int(Verdict::Failed) << "Still on 6.2.1-1200";
        QTest::newRow("skipped by decision") << "6.2.1-1200" << true << int(RunStepState::Skipped)
                                             << "6.2.1-1200" << false << running << int(Verdict::Skipped)
                                             << "Skipped";
        // The vendor: a reboot is needed only when the version did not change.
        QTest::newRow("3010, version unchanged") << "6.2.1-1200" << true << int(RunStepState::Succeeded)
                                                 << "6.2.1-1200" << true << running
                                                 << int(Verdict::RebootNeeded) << "reboot";
        QTest::newRow("3010, version changed") << "6.3.0-1500" << true << int(RunStepState::Succeeded)
                                               << "6.2.1-1200" << true << running << int(Verdict::Upgraded)
                                               << "reboot is not needed";
        QTest::newRow("at target, service down") << "6.3.0-1500" << true << int(RunStepState::Succeeded)
                                                 << "6.2.1-1200" << false << int(ServiceState::Stopped)
                                                 << int(Verdict::Failed) << "service is stopped";
        QTest::newRow("no run, at target") << "6.3.0-1500" << false << 0 << "" << false << running
                                           << int(Verdict::Upgraded) << "At the target";
        QTest::newRow("no run, behind") << "6.2.1-1200" << false << 0 << "" << false << running
                                        << int(Verdict::Failed) << "Still on";
    }

    void verdicts()
    {
        QFETCH(QString, now);
        QFETCH(bool, withStep);
        QFETCH(int, stepState);
        QFETCH(QString, before);
        QFETCH(bool, rebootRequested);
        QFETCH(int, service);
        QFETCH(int, verdict);
        QFETCH(QString, sentencePart);

        NodeStatus status = node(QStringLiteral("w1"), NodeRole::Worker, now);
        status.service = ServiceState(service);
        RunStepRecord record = stepRecord(QStringLiteral("w1"), Component::Server, RunStepState(stepState),
                                          before, now);
        record.rebootRequested = rebootRequested;
        record.wave = 0;
        const VerificationCell cell = verifyCell(status, Component::Server, v(QStringLiteral("6.3.0-1500")),
                                                 withStep ? &record : nullptr, kNow);
        QCOMPARE(int(cell.verdict), verdict);
        QVERIFY2(cell.sentence.contains(sentencePart, Qt::CaseInsensitive), qPrintable(cell.sentence));
        QCOMPARE(cell.versionNow, now);
        QCOMPARE(cell.target, QStringLiteral("6.3.0-1500"));
    }

    // After an abort, a step never tried, a node skipped by the administrator and a
    // real failure are three different verdicts, each with its reason.
    void verdictsAfterAnAbort()
    {
        const NodeStatus status = node(QStringLiteral("w1"), NodeRole::Worker, QStringLiteral("6.2.1-1200"));
        const Version target = v(QStringLiteral("6.3.0-1500"));

        RunStepRecord never = stepRecord(QStringLiteral("w1"), Component::Server, RunStepState::Pending,
                                         QStringLiteral("6.2.1-1200"), {});
        never.wave = 2;
        VerificationCell cell = verifyCell(status, Component::Server, target, &never, kNow, RunState::Aborted);
        QCOMPARE(toString(cell.verdict), QStringLiteral("not_attempted"));
        QVERIFY2(cell.sentence.contains(QStringLiteral("aborted")), qPrintable(cell.sentence));

        RunStepRecord skipped = stepRecord(QStringLiteral("w1"), Component::Server, RunStepState::Skipped,
                                           QStringLiteral("6.2.1-1200"), {});
        skipped.wave = 1;
        skipped.attempts = 1;
        skipped.decisions.append({RunDecision::Skip, kNow, QStringLiteral("administrator")});
        cell = verifyCell(status, Component::Server, target, &skipped, kNow, RunState::Aborted);
        QCOMPARE(toString(cell.verdict), QStringLiteral("skipped"));
        QVERIFY2(cell.sentence.contains(QStringLiteral("by the administrator")), qPrintable(cell.sentence));

        RunStepRecord failed = stepRecord(QStringLiteral("w1"), Component::Server, RunStepState::Failed,
                                          QStringLiteral("6.2.1-1200"), {});
        failed.wave = 0;
        failed.attempts = 2;
        failed.error = QStringLiteral("the installer exited with code 1");
        cell = verifyCell(status, Component::Server, target, &failed, kNow, RunState::Aborted);
        QCOMPARE(toString(cell.verdict), QStringLiteral("failed"));
        QVERIFY2(cell.sentence.contains(QStringLiteral("exited with code 1")), qPrintable(cell.sentence));

        // The same words as the run page's panes.
        QCOMPARE(toString(stepStatus(never, RunState::Aborted).kind), QStringLiteral("not_run"));
        QCOMPARE(stepStatus(skipped, RunState::Aborted).text(),
                 QStringLiteral("Skipped: by the administrator; left on its old version"));
        QCOMPARE(stepStatus(failed, RunState::Aborted).word, QStringLiteral("Failed (attempt 2)"));
        failed.state = RunStepState::Running;
        failed.phase = QStringLiteral("installing");
        QCOMPARE(stepStatus(failed, RunState::Running).text(), QStringLiteral("Retrying (attempt 2): Installing"));
        never.deferred = true;
        QCOMPARE(toString(stepStatus(never, RunState::Running).kind), QStringLiteral("deferred"));
        QCOMPARE(stepStatus(never, RunState::Halted, QStringLiteral("w2 failed")).text(),
                 QStringLiteral("Not run: the run halted before this step (w2 failed)"));
    }

    void unreachableNode()
    {
        NodeStatus status = node(QStringLiteral("w4"), NodeRole::Worker, QStringLiteral("6.2.1-1200"));
        status.reachable = false;
        status.unreachableReason = QStringLiteral("connection refused");
        const VerificationCell cell = verifyCell(status, Component::Server, v(QStringLiteral("6.3.0-1500")),
                                                 nullptr, kNow);
        QCOMPARE(toString(cell.verdict), toString(Verdict::Unreachable));
        QVERIFY(cell.sentence.contains(QStringLiteral("connection refused")));
    }

    void flowsArriving_data()
    {
        QTest::addColumn<int>("lastFlowSecondsAgo");
        QTest::addColumn<double>("recentRate");
        QTest::addColumn<bool>("arriving");
        QTest::newRow("fresh") << 2 << 0.0 << true;
        QTest::newRow("stale, no rate") << 600 << 0.0 << false;
        QTest::newRow("stale timestamp, rate") << 600 << 12.5 << true;
        QTest::newRow("never") << -1 << 0.0 << false;
    }

    void flowsArriving()
    {
        QFETCH(int, lastFlowSecondsAgo);
        QFETCH(double, recentRate);
        QFETCH(bool, arriving);
        NodeStatus status = node(QStringLiteral("w1"), NodeRole::Worker, QStringLiteral("6.3.0-1500"));
        status.receivesFlows = true;
        status.flowsPerSecondRecent = recentRate;
        if (lastFlowSecondsAgo >= 0)
            status.lastFlowAt = kNow.addSecs(-lastFlowSecondsAgo);
        const VerificationReport report = buildVerification({status}, {{Component::Server, v(QStringLiteral("6.3.0-1500"))}},
                                                            nullptr, kNow);
        QCOMPARE(report.cells.size(), 1);
        QCOMPARE(report.cells.at(0).flowsArriving, std::optional<bool>(arriving));
        QCOMPARE(report.warnings.join(QLatin1Char(' ')).contains(QStringLiteral("not arriving")), !arriving);
        // A node that receives no flows has no opinion on them.
        status.receivesFlows = false;
        QCOMPARE(verifyCell(status, Component::Server, v(QStringLiteral("6.3.0-1500")), nullptr, kNow).flowsArriving,
                 std::optional<bool>());
    }

    // The agent job's "flows" object travels through the journal into the cell, the
    // Verify JSON, the report and its HTML, with the dropped datagrams made visible.
    void flowKeepingFigures_data()
    {
        QTest::addColumn<QByteArray>("agentFlows");
        QTest::addColumn<QString>("figures");
        QTest::addColumn<bool>("warned");
        QTest::addColumn<QString>("extra");
        QTest::newRow("all replayed")
            << QByteArray(R"({"state":"replayed","kept":12800,"dropped":0,"templates":3,"replayed":12800})")
            << QStringLiteral("12,800 kept, 12,800 replayed, 0 dropped") << false << QString();
        QTest::newRow("cap reached")
            << QByteArray(R"({"state":"replayed","kept":9000,"dropped":3800,"templates":3,"replayed":9000})")
            << QStringLiteral("9,000 kept, 9,000 replayed, 3,800 dropped") << true
            << QStringLiteral("3,800 datagrams were dropped because the spool reached its cap");
        QTest::newRow("kept, not replayed")
            << QByteArray(R"({"state":"kept","kept":500,"dropped":0,"templates":0,"replayed":0,"spool":"/var/lib/ftupgrade-agent/flows/j1.spool"})")
            << QStringLiteral("500 kept, 0 replayed, 0 dropped") << false
            << QStringLiteral("500 kept datagrams were not replayed; they stay in /var/lib/ftupgrade-agent/flows/j1.spool.");
    }

    void flowKeepingFigures()
    {
        QFETCH(QByteArray, agentFlows);
        QFETCH(QString, figures);
        QFETCH(bool, warned);
        QFETCH(QString, extra);
        QJsonObject agentJob{{QStringLiteral("id"), QStringLiteral("j1")}, {QStringLiteral("state"), QStringLiteral("succeeded")},
                             {QStringLiteral("flows"), QJsonDocument::fromJson(agentFlows).object()}};
        const auto status = AgentJobStatus::fromAgentJson(agentJob);
        QVERIFY(status.has_value());
        QVERIFY(status->flowKeeping.has_value());

        RunJournal journal;
        journal.runId = QStringLiteral("run-1");
        journal.clusterId = QStringLiteral("cluster-1");
        RunPackage package;
        package.component = Component::Server;
        package.version = QStringLiteral("6.3.0-1500");
        journal.packages = {package};
        RunStepRecord record = stepRecord(QStringLiteral("w1"), Component::Server, RunStepState::Succeeded,
                                          QStringLiteral("6.2.1-1200"), QStringLiteral("6.3.0-1500"));
        record.flowKeeping = status->flowKeeping;
        journal.steps = {record};
        // Through the journal file's JSON, as after a crash of the wizard.
        const auto reread = RunJournal::fromJson(journal.toJson());
        QVERIFY2(reread.has_value(), reread ? "" : qPrintable(reread.error()));
        QVERIFY(reread->steps.at(0).flowKeeping.has_value());

        NodeStatus w1 = node(QStringLiteral("w1"), NodeRole::Worker, QStringLiteral("6.3.0-1500"));
        w1.receivesFlows = true;
        w1.lastFlowAt = kNow;
        const VerificationReport report = buildVerification({w1}, targetsOf(*reread), &*reread, kNow);
        QCOMPARE(report.cells.size(), 1);
        const VerificationCell &cell = report.cells.at(0);
        QVERIFY(cell.flowKeeping.has_value());
        QCOMPARE(cell.flowKeeping->figures(), figures);
        QVERIFY2(cell.sentence.contains(figures), qPrintable(cell.sentence));
        if (!extra.isEmpty())
            QVERIFY2(cell.sentence.contains(extra), qPrintable(cell.sentence));
        QCOMPARE(report.warnings.join(QLatin1Char(' ')).contains(QStringLiteral("spool reached its cap")), warned);

        const QJsonObject kept = report.toJson().value(QStringLiteral("cells")).toArray().at(0).toObject()
                                     .value(QStringLiteral("flows_kept")).toObject();
        const QJsonObject sent = QJsonDocument::fromJson(agentFlows).object();
        for (const QString &key : {QStringLiteral("kept"), QStringLiteral("replayed"), QStringLiteral("dropped")})
            QCOMPARE(kept.value(key).toInteger(), sent.value(key).toInteger());
        QCOMPARE(runReportJson(*reread, &report).value(QStringLiteral("steps")).toArray().at(0).toObject()
                     .value(QStringLiteral("flow_keeping")).toObject().value(QStringLiteral("kept")).toInteger(),
                 sent.value(QStringLiteral("kept")).toInteger());
        QVERIFY(runReportHtml(*reread, &report).contains(figures));

        // Keeping off: the agent reports no "flows", and the cell has no figures.
        agentJob.remove(QStringLiteral("flows"));
        QVERIFY(!AgentJobStatus::fromAgentJson(agentJob)->flowKeeping.has_value());
    }

    void matrixAndMixedVersions()
    {
        const QList<NodeStatus> nodes{
            node(QStringLiteral("w10"), NodeRole::Worker, QStringLiteral("6.3.0-1500")),
            node(QStringLiteral("w2"), NodeRole::Worker, QStringLiteral("6.2.1-1200")),
            node(QStringLiteral("portal"), NodeRole::Portal, QStringLiteral("6.3.0-1500"), QStringLiteral("6.3.0-1500")),
        };
        RunJournal journal;
        journal.steps = {stepRecord(QStringLiteral("w2"), Component::Server, RunStepState::Skipped,
                                    QStringLiteral("6.2.1-1200"), QStringLiteral("6.2.1-1200")),
                         stepRecord(QStringLiteral("w10"), Component::Server, RunStepState::Succeeded,
                                    QStringLiteral("6.2.1-1200"), QStringLiteral("6.3.0-1500")),
                         stepRecord(QStringLiteral("w99"), Component::Server, RunStepState::Pending,
                                    QStringLiteral("6.2.1-1200"), {})};
        const QHash<Component, Version> targets{{Component::Server, v(QStringLiteral("6.3.0-1500"))},
                                                {Component::WebUi, v(QStringLiteral("6.3.0-1500"))}};
        const VerificationReport report = buildVerification(nodes, targets, &journal, kNow);
        // portal server + portal Web UI, then workers in natural order, then the vanished w99.
        QStringList order;
        for (const VerificationCell &cell : report.cells)
            order.append(cell.node + QLatin1Char('/') + toString(cell.component));
        QCOMPARE(order, (QStringList{QStringLiteral("portal/server"), QStringLiteral("portal/webui"),
                                     QStringLiteral("w2/server"), QStringLiteral("w10/server"),
                                     QStringLiteral("w99/server")}));
        QCOMPARE(toString(report.cells.at(2).verdict), toString(Verdict::Skipped));
        QCOMPARE(toString(report.cells.at(3).verdict), toString(Verdict::Upgraded));
        QCOMPARE(toString(report.cells.at(4).verdict), toString(Verdict::Unreachable));
        QCOMPARE(report.portalWebUiVersion, QStringLiteral("6.3.0-1500"));
        QVERIFY(report.anyFailed());
        QVERIFY(!report.allAtTarget());
        QVERIFY(!report.warnings.isEmpty());
        QVERIFY2(report.warnings.first().contains(QStringLiteral("Mixed versions")), qPrintable(report.warnings.first()));
        QVERIFY(report.warnings.first().contains(QStringLiteral("6.2.1-1200 on w2")));

        const QJsonObject json = report.toJson();
        QCOMPARE(json.value(QStringLiteral("cells")).toArray().size(), 5);
        QCOMPARE(json.value(QStringLiteral("any_failed")).toBool(), true);
    }

    void allCurrentHasNoWarnings()
    {
        const QList<NodeStatus> nodes{
            node(QStringLiteral("portal"), NodeRole::Portal, QStringLiteral("6.3.0-1500")),
            node(QStringLiteral("w1"), NodeRole::Worker, QStringLiteral("6.3.0-1500")),
        };
        const VerificationReport report = buildVerification(nodes, {{Component::Server, v(QStringLiteral("6.3.0-1500"))}},
                                                            nullptr, kNow);
        QVERIFY(report.allAtTarget());
        QVERIFY(!report.rebootNeeded());
        QVERIFY(report.warnings.isEmpty());
    }

    void reportsCarryEverything()
    {
        RunJournal journal;
        journal.runId = QStringLiteral("run-1");
        journal.state = RunState::Completed;
        journal.customizationsAcknowledged = {QStringLiteral("css/<site>.css")};
        journal.noticeSent = QStringLiteral("mail to ops");
        RunPackage package;
        package.component = Component::Server;
        package.fileName = QStringLiteral("server-6.3.0-1500.ftpkg");
        package.version = QStringLiteral("6.3.0-1500");
        journal.packages = {package};
        RunStepRecord record = stepRecord(QStringLiteral("w1"), Component::Server, RunStepState::Succeeded,
                                          QStringLiteral("6.2.1-1200"), QStringLiteral("6.3.0-1500"));
        record.step.estimate.totalMs = 120000;
        record.elapsedMs = 95000;
        record.exitCode = 3010;
        record.rebootRequested = true;
        journal.steps = {record};
        const VerificationReport verification = buildVerification(
            {node(QStringLiteral("w1"), NodeRole::Worker, QStringLiteral("6.3.0-1500"))}, targetsOf(journal),
            &journal, kNow);

        const QJsonObject json = runReportJson(journal, &verification);
        QCOMPARE(json.value(QStringLiteral("timings")).toObject().value(QStringLiteral("estimated_ms")).toInteger(), 120000);
        QCOMPARE(json.value(QStringLiteral("timings")).toObject().value(QStringLiteral("actual_ms")).toInteger(), 95000);
        QCOMPARE(json.value(QStringLiteral("steps")).toArray().at(0).toObject().value(QStringLiteral("reboot_needed")).toBool(),
                 false);
        QCOMPARE(json.value(QStringLiteral("verification")).toObject().value(QStringLiteral("cells")).toArray().size(), 1);
        QCOMPARE(json.value(QStringLiteral("notice_sent")).toString(), QStringLiteral("mail to ops"));

        const QString html = runReportHtml(journal, &verification);
        QVERIFY(html.contains(QStringLiteral("css/&lt;site&gt;.css"))); // escaped
        QVERIFY(!html.contains(QStringLiteral("css/<site>.css")));
        QVERIFY(html.contains(QStringLiteral("reboot asked for but not needed")));
        QVERIFY(html.contains(QStringLiteral("Upgraded from 6.2.1-1200 to 6.3.0-1500")));

        QTemporaryDir dir;
        for (const QString &name : {QStringLiteral("r.json"), QStringLiteral("r.html"), QStringLiteral("r.pdf")}) {
            const QString path = dir.filePath(name);
            const Result written = exportRunReport(journal, &verification, path);
            QVERIFY2(written.has_value(), written ? "" : qPrintable(written.error()));
            QFile file(path);
            QVERIFY(file.open(QIODevice::ReadOnly));
            const QByteArray head = file.read(5);
            if (name.endsWith(QLatin1String(".pdf")))
                QCOMPARE(head, QByteArray("%PDF-"));
            else if (name.endsWith(QLatin1String(".json")))
                QVERIFY(QJsonDocument::fromJson(head + file.readAll()).isObject());
            else
                QVERIFY(head.startsWith("<!DOC"));
        }
        QVERIFY(!exportRunReport(journal, &verification, dir.filePath(QStringLiteral("r.txt"))).has_value());
    }
};

int main(int argc, char *argv[])
{
    // The PDF needs a GUI application; the offscreen platform needs no display.
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QGuiApplication app(argc, argv);
    TestVerification test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_verification.moc"

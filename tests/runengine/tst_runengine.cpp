#include "packages/packageserver.h"
#include "runharness.h"

#include <QCryptographicHash>
#include <QSignalSpy>
#include <QtTest>

using namespace ft;
using namespace fixture;
using namespace runharness;

class TestRunEngine : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        qRegisterMetaType<ft::RunState>();
        if (!QFile::exists(tool(QStringLiteral("ftsandbox"))) || !QFile::exists(tool(QStringLiteral("ftupgrade-agent"))))
            QSKIP("ftsandbox and ftupgrade-agent are not built");
    }

    // 1 portal + 4 workers + NBI + Web UI: every version at the target, flowtraq.conf
    // untouched, workers one at a time before the portal, NBI after the servers, the
    // Web UI last; a pause in between leaves every service running.
    void fullRun()
    {
        Cluster cluster;
        QVERIFY(cluster.up({QStringLiteral("--workers"), QStringLiteral("4"), QStringLiteral("--nbi"),
                            QStringLiteral("--flows"), QStringLiteral("w1=50")}));
        const QString server = cluster.makePackage(QStringLiteral("server"), kTarget, QStringLiteral("normal"));
        const QString nbi = cluster.makePackage(QStringLiteral("nbi"), kTarget, QStringLiteral("normal"));
        const QString webui = cluster.makePackage(QStringLiteral("webui"), kTarget, QStringLiteral("normal"));
        QVERIFY(!server.isEmpty() && !nbi.isEmpty() && !webui.isEmpty());
        QHash<QString, QByteArray> confBefore;
        for (const SandboxNode &node : cluster.file().nodes)
            confBefore.insert(node.name, readAll(node.installDir + QStringLiteral("/flowtraq.conf")));

        Run run;
        QVERIFY(connectAndDiscover(run.session, cluster.file()));
        QVERIFY(choosePackage(run.session, server, Component::Server));
        QVERIFY(choosePackage(run.session, nbi, Component::Nbi));
        QVERIFY(choosePackage(run.session, webui, Component::WebUi));
        const UpgradePlan plan = run.session.plan();
        QCOMPARE(plan.stepCount(), 7); // 4 workers, portal server, NBI, Web UI
        RunOptions options;
        options.flowResumeTimeoutMs = 20000;
        run.makeEngine(options);
        QVERIFY(run.engine->prepare(plan, run.session.target(), {QStringLiteral("css/site.css")},
                                    QStringLiteral("mail to ops")).has_value());

        // Pause as soon as the first step runs; it takes effect once that step ended.
        bool paused = false;
        QObject::connect(run.engine.get(), &RunEngine::stepChanged, run.engine.get(),
                         [&](int, const RunStepProgress &progress) {
                             if (!paused && progress.state == RunStepState::Running) {
                                 paused = true;
                                 run.engine->pause();
                             }
                         });
        run.engine->start();
        QTRY_VERIFY_WITH_TIMEOUT(run.engine->state() == RunState::Paused, 60000);
        // At a safe point: exactly one step done, every service up.
        int done = 0;
        for (int i = 0; i < run.engine->stepCount(); ++i)
            done += run.engine->step(i).state == RunStepState::Succeeded ? 1 : 0;
        QCOMPARE(done, 1);
        QVERIFY(run.states.contains(RunState::Pausing) || run.states.contains(RunState::Paused));
        {
            UpgradeSession probe;
            QVERIFY(connectAndDiscover(probe, cluster.file()));
            for (const NodeStatus &node : probe.nodes())
                QCOMPARE(toString(node.service), toString(ServiceState::Running));
        }
        run.engine->resume();
        QTRY_VERIFY_WITH_TIMEOUT(run.finished, 90000);
        QCOMPARE(toString(run.engine->state()), toString(RunState::Completed));
        QVERIFY(run.engine->allUpgraded());
        QVERIFY(run.decisions.isEmpty());

        for (const SandboxNode &node : cluster.file().nodes) {
            QCOMPARE(installedVersion(node.installDir, Component::Server), kTarget);
            QCOMPARE(readAll(node.installDir + QStringLiteral("/flowtraq.conf")), confBefore.value(node.name));
        }
        const SandboxNode *portal = cluster.file().portal();
        QCOMPARE(installedVersion(portal->installDir, Component::Nbi), kTarget);
        QCOMPARE(installedVersion(portal->installDir, Component::WebUi), kTarget);

        // Order: each step started after the previous one ended (one worker at a time).
        QList<const RunStepRecord *> ordered;
        for (const RunStepRecord &record : run.engine->journal().steps) {
            if (record.wave >= 0)
                ordered.append(&record);
        }
        std::sort(ordered.begin(), ordered.end(),
                  [](const RunStepRecord *a, const RunStepRecord *b) { return a->started < b->started; });
        for (int i = 1; i < ordered.size(); ++i)
            QVERIFY(ordered.at(i)->started >= ordered.at(i - 1)->finished);
        QCOMPARE(toString(ordered.last()->step.component), toString(Component::WebUi));
        QCOMPARE(ordered.at(4)->step.node, portal->name);
        QCOMPARE(toString(ordered.at(5)->step.component), toString(Component::Nbi));
        for (const RunStepRecord *record : ordered) {
            QVERIFY(record->phases.installingMs > 0);
            QCOMPARE(record->attempts, 1);
        }
        // The flow-receiving worker was watched until its flows came back.
        const RunStepRecord &w1 = run.engine->step(run.stepOf(QStringLiteral("w1"), Component::Server));
        QCOMPARE(w1.flowsResumed, std::optional<bool>(true));
        // The installer's log was streamed.
        QVERIFY(!run.logs.value(run.stepOf(QStringLiteral("w2"), Component::Server)).isEmpty());
        // Measured durations went to the history, so the next plan uses them.
        const auto measured = run.history.steps(run.session.clusterId());
        QVERIFY(measured.has_value());
        QCOMPARE(measured->size(), 7);
        // The journal on disk says the same, and the audit log names every node.
        const auto journal = RunJournal::load(run.dir.filePath(QStringLiteral("run.json")));
        QVERIFY(journal.has_value());
        QCOMPARE(toString(journal->state), toString(RunState::Completed));
        const QByteArray audit = readAll(run.engine->auditLogPath());
        for (const SandboxNode &node : cluster.file().nodes)
            QVERIFY2(audit.contains(node.name.toUtf8()), audit.constData());
        QVERIFY(!audit.contains(cluster.file().token.toUtf8()));
        // One upgrade job per component per node.
        for (const SandboxNode &node : cluster.file().nodes)
            QCOMPARE(upgradeJobs(run.session, node.name).size(), node.role == NodeRole::Portal ? 3 : 1);
    }

    // The wizard dies while a step installs; the agent finishes the job meanwhile.
    // Resuming takes the job's outcome instead of upgrading again, and carries on.
    void resumeAfterTheWizardDied()
    {
        Cluster cluster;
        QVERIFY(cluster.up({QStringLiteral("--workers"), QStringLiteral("2")}));
        const QString server = cluster.makePackage(QStringLiteral("server"), kTarget, QStringLiteral("slow"),
                                                   {QStringLiteral("--slow-seconds"), QStringLiteral("2")});
        Run first;
        QVERIFY(connectAndDiscover(first.session, cluster.file()));
        QVERIFY(choosePackage(first.session, server, Component::Server));
        first.makeEngine();
        QVERIFY(first.engine->prepare(first.session.plan(), first.session.target()).has_value());
        const QString journalPath = first.dir.filePath(QStringLiteral("run.json"));
        first.engine->start();
        const int w1 = first.stepOf(QStringLiteral("w1"), Component::Server);
        QTRY_VERIFY_WITH_TIMEOUT(first.engine->step(w1).phase == QLatin1String("installing"), 60000);
        const QString jobId = first.engine->step(w1).agentJobId;
        QVERIFY(!jobId.isEmpty());
        first.engine.reset(); // gone without a word, like a killed process
        // The agent carries on alone.
        QTRY_VERIFY_WITH_TIMEOUT(installedVersion(cluster.node(QStringLiteral("w1"))->installDir, Component::Server)
                                     == kTarget,
                                 30000);
        QTRY_VERIFY_WITH_TIMEOUT(!upgradeJobs(first.session, QStringLiteral("w1")).isEmpty()
                                     && upgradeJobs(first.session, QStringLiteral("w1")).first().isTerminal(),
                                 30000);

        const auto journal = RunJournal::load(journalPath);
        QVERIFY(journal.has_value());
        QCOMPARE(toString(journal->steps.at(w1).state), toString(RunStepState::Running));
        Run second;
        QVERIFY(connectAndDiscover(second.session, cluster.file()));
        second.makeEngine();
        QSignalSpy differences(second.engine.get(), &RunEngine::differencesFound);
        QVERIFY(second.engine->resumeFrom(*journal).has_value());
        second.engine->start();
        QTRY_VERIFY_WITH_TIMEOUT(second.finished, 60000);
        QCOMPARE(toString(second.engine->state()), toString(RunState::Completed));
        QVERIFY(second.engine->allUpgraded());
        QCOMPARE(differences.count(), 1);
        const auto found = differences.first().first().value<QList<RunDifference>>();
        QCOMPARE(found.size(), 1);
        QCOMPARE(found.first().step, w1);
        QCOMPARE(found.first().node, QStringLiteral("w1"));
        QCOMPARE(found.first().found, QStringLiteral("agent_job_succeeded"));
        QCOMPARE(found.first().journalState, toString(RunStepState::Running));
        QVERIFY2(found.first().detail.contains(QStringLiteral("while the wizard was away")),
                 qPrintable(found.first().text()));
        QCOMPARE(second.engine->step(w1).agentJobId, jobId);
        QCOMPARE(second.engine->step(w1).attempts, 1);
        QVERIFY(!second.states.contains(RunState::Halted));
        QVERIFY(second.states.contains(RunState::Reconciling));
        for (const SandboxNode &node : cluster.file().nodes) {
            QCOMPARE(installedVersion(node.installDir, Component::Server), kTarget);
            QCOMPARE(upgradeJobs(second.session, node.name).size(), 1); // nothing ran twice
        }
    }

    // HTTPS staging: the agents pin the package server's certificate.
    void stagesOverHttps()
    {
        Cluster cluster;
        QVERIFY(cluster.up({QStringLiteral("--workers"), QStringLiteral("1")}));
        const QString server = cluster.makePackage(QStringLiteral("server"), kTarget, QStringLiteral("normal"));
        const QSslConfiguration tls = selfSignedTls(cluster.path(QString()));
        if (tls.isNull())
            QSKIP("the openssl tool is not available");
        Run run;
        QVERIFY(connectAndDiscover(run.session, cluster.file()));
        QVERIFY(choosePackage(run.session, server, Component::Server));
        RunOptions options;
        options.tls = tls;
        run.makeEngine(options);
        QVERIFY(run.engine->prepare(run.session.plan(), run.session.target()).has_value());
        run.engine->start();
        QTRY_VERIFY_WITH_TIMEOUT(run.finished, 60000);
        QCOMPARE(toString(run.engine->state()), toString(RunState::Completed));
        QVERIFY(run.engine->packageServer()->isTls());
        QVERIFY(readAll(run.engine->auditLogPath()).contains("over HTTPS"));
        for (const SandboxNode &node : cluster.file().nodes)
            QCOMPARE(installedVersion(node.installDir, Component::Server), kTarget);
    }

    // Exit 3010: a reboot is needed only when the version did not change.
    void rebootVerdicts_data()
    {
        QTest::addColumn<QString>("mode");
        QTest::addColumn<bool>("rebootNeeded");
        QTest::newRow("version changed") << QStringLiteral("reboot") << false;
        QTest::newRow("version unchanged") << QStringLiteral("reboot-needed") << true;
    }

    void rebootVerdicts()
    {
        QFETCH(QString, mode);
        QFETCH(bool, rebootNeeded);
        Cluster cluster;
        QVERIFY(cluster.up({QStringLiteral("--workers"), QStringLiteral("1")}));
        const QString server = cluster.makePackage(QStringLiteral("server"), kTarget, mode);
        Run run;
        QVERIFY(connectAndDiscover(run.session, cluster.file()));
        QVERIFY(choosePackage(run.session, server, Component::Server));
        run.makeEngine();
        QVERIFY(run.engine->prepare(run.session.plan(), run.session.target()).has_value());
        run.engine->start();
        QTRY_VERIFY_WITH_TIMEOUT(run.finished, 60000);
        QCOMPARE(toString(run.engine->state()), toString(RunState::Completed));
        QCOMPARE(run.engine->rebootNeeded(), rebootNeeded);
        const RunStepRecord &record = run.engine->step(run.stepOf(QStringLiteral("w1"), Component::Server));
        QCOMPARE(record.exitCode, std::optional<int>(3010));
        QVERIFY(record.rebootRequested);

        VerifyJob verify(run.session.client());
        QList<AgentEndpoint> endpoints;
        for (const NodeStatus &node : run.session.nodes())
            endpoints.append(run.session.endpointFor(node));
        verify.setEndpoints(endpoints);
        verify.setTargets(targetsOf(run.engine->journal()));
        verify.setJournal(run.engine->journal());
        QSignalSpy verified(&verify, &VerifyJob::finished);
        verify.start();
        QTRY_COMPARE_WITH_TIMEOUT(verified.count(), 1, 20000);
        QCOMPARE(verify.report().rebootNeeded(), rebootNeeded);
        for (const VerificationCell &cell : verify.report().cells) {
            QCOMPARE(toString(cell.verdict), toString((rebootNeeded ? Verdict::RebootNeeded : Verdict::Upgraded)));
            if (!rebootNeeded)
                QVERIFY(cell.sentence.contains(QStringLiteral("not needed")));
        }
    }

    // A corrupt package fails staging, and no service is stopped.
    void corruptPackageStopsBeforeAnyService()
    {
        Cluster cluster;
        QVERIFY(cluster.up({QStringLiteral("--workers"), QStringLiteral("2")}));
        const QString server = cluster.makePackage(QStringLiteral("server"), kTarget, QStringLiteral("corrupt"));
        Run run;
        QVERIFY(connectAndDiscover(run.session, cluster.file()));
        // The wizard's own check would refuse it; this is a package that broke after it.
        PackageChoice choice;
        choice.component = Component::Server;
        choice.version = *Version::parse(kTarget);
        choice.filePath = server;
        choice.size = QFileInfo(server).size();
        choice.sha256 = QString::fromLatin1(QCryptographicHash::hash(readAll(server), QCryptographicHash::Sha256).toHex());
        run.session.setPackage(Component::Server, choice);
        QHash<QString, QByteArray> pids;
        for (const SandboxNode &node : cluster.file().nodes)
            pids.insert(node.name, readAll(node.installDir + QStringLiteral("/run/flowtraq.pid")));
        run.makeEngine();
        QVERIFY(run.engine->prepare(run.session.plan(), run.session.target()).has_value());
        run.engine->start();
        QTRY_VERIFY_WITH_TIMEOUT(run.finished, 60000);
        QCOMPARE(toString(run.engine->state()), toString(RunState::Halted));
        QVERIFY2(run.engine->journal().stateSentence.contains(QStringLiteral("no service was stopped")),
                 qPrintable(run.engine->journal().stateSentence));
        QVERIFY(!run.states.contains(RunState::Running));
        for (const SandboxNode &node : cluster.file().nodes) {
            QVERIFY(upgradeJobs(run.session, node.name).isEmpty());
            QCOMPARE(readAll(node.installDir + QStringLiteral("/run/flowtraq.pid")), pids.value(node.name));
            QCOMPARE(installedVersion(node.installDir, Component::Server), kOld);
        }
        for (int i = 0; i < run.engine->stepCount(); ++i)
            QCOMPARE(toString(run.engine->step(i).state), toString(RunStepState::Pending));
    }
};

QTEST_GUILESS_MAIN(TestRunEngine)
#include "tst_runengine.moc"

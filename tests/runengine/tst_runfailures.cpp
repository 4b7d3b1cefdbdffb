#include "agentfaults.h"
#include "runharness.h"

#include <QCryptographicHash>
#include <QSignalSpy>
#include <QtTest>

using namespace ft;
using namespace fixture;
using namespace runharness;

class TestRunFailures : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        qRegisterMetaType<ft::RunState>();
        if (!QFile::exists(tool(QStringLiteral("ftsandbox"))) || !QFile::exists(tool(QStringLiteral("ftupgrade-agent"))))
            QSKIP("ftsandbox and ftupgrade-agent are not built");
    }

    // A worker that fails halts the run: the later workers and the portal are untouched.
    void failureHaltsBeforeTheNextOutage()
    {
        Cluster cluster;
        QVERIFY(cluster.up({QStringLiteral("--workers"), QStringLiteral("3")}));
        const QString server = cluster.makePackage(QStringLiteral("server"), kTarget, QStringLiteral("fail"));
        Run run;
        QVERIFY(connectAndDiscover(run.session, cluster.file()));
        QVERIFY(choosePackage(run.session, server, Component::Server));
        run.makeEngine();
        QVERIFY(run.engine->prepare(run.session.plan(), run.session.target()).has_value());
        run.engine->start();
        QTRY_COMPARE_WITH_TIMEOUT(run.decisions.size(), 1, 60000);
        QCOMPARE(toString(run.engine->state()), toString(RunState::WaitingForDecision));
        const int failed = run.decisions.first().first;
        QCOMPARE(run.engine->step(failed).step.node, QStringLiteral("w1"));
        QCOMPARE(toString(run.engine->step(failed).state), toString(RunStepState::Failed));
        QCOMPARE(run.engine->step(failed).exitCode, std::optional<int>(1603));
        QVERIFY(run.decisions.first().second.contains(QStringLiteral("w1")));
        // Nothing else moves while the decision waits.
        QTest::qWait(1500);
        for (const QString &name : {QStringLiteral("w2"), QStringLiteral("w3"), QStringLiteral("portal")}) {
            QVERIFY2(upgradeJobs(run.session, name).isEmpty(), qPrintable(name));
            QCOMPARE(installedVersion(cluster.node(name)->installDir, Component::Server), kOld);
        }
        // The failed node runs its old version again.
        QCOMPARE(installedVersion(cluster.node(QStringLiteral("w1"))->installDir, Component::Server), kOld);
        QVERIFY(!run.engine->decide(failed + 1, RunDecision::Skip).has_value()); // not failed
        QVERIFY(run.engine->decide(failed, RunDecision::Abort).has_value());
        QTRY_VERIFY_WITH_TIMEOUT(run.finished, 20000);
        QCOMPARE(toString(run.engine->state()), toString(RunState::Aborted));
        for (const QString &name : {QStringLiteral("w2"), QStringLiteral("w3"), QStringLiteral("portal")})
            QVERIFY(upgradeJobs(run.session, name).isEmpty());
    }

    // The failure is made on one node only: its staged package is changed after
    // staging, so its agent refuses to install it (without touching the service).
    void decisions_data()
    {
        QTest::addColumn<int>("decision");
        QTest::newRow("retry") << int(RunDecision::Retry);
        QTest::newRow("skip") << int(RunDecision::Skip);
        QTest::newRow("defer") << int(RunDecision::Defer);
    }

    void decisions()
    {
        QFETCH(int, decision);
        Cluster cluster;
        QVERIFY(cluster.up({QStringLiteral("--workers"), QStringLiteral("3")}));
        const QString server = cluster.makePackage(QStringLiteral("server"), kTarget, QStringLiteral("normal"));
        Run run;
        QVERIFY(connectAndDiscover(run.session, cluster.file()));
        QVERIFY(choosePackage(run.session, server, Component::Server));
        run.makeEngine();
        QVERIFY(run.engine->prepare(run.session.plan(), run.session.target()).has_value());
        const QString staged = cluster.node(QStringLiteral("w2"))->installDir + QStringLiteral("/agent/staging/")
                               + QFileInfo(server).fileName();
        FileTamper tamper(staged);
        QObject::connect(run.engine.get(), &RunEngine::stateChanged, run.engine.get(), [&](RunState state) {
            if (state == RunState::Running && !tamper.tampered())
                tamper.tamper();
        });
        run.engine->start();
        QTRY_COMPARE_WITH_TIMEOUT(run.decisions.size(), 1, 60000);
        QVERIFY2(tamper.tampered(), qPrintable(staged));
        const int w2 = run.decisions.first().first;
        QVERIFY2(run.engine->step(w2).step.node == QLatin1String("w2"), qPrintable(run.decisions.first().second));
        QCOMPARE(installedVersion(cluster.node(QStringLiteral("w1"))->installDir, Component::Server), kTarget);
        QCOMPARE(installedVersion(cluster.node(QStringLiteral("w3"))->installDir, Component::Server), kOld);
        auto restore = [&] { QVERIFY(tamper.restore()); };

        switch (RunDecision(decision)) {
        case RunDecision::Retry:
            restore();
            QVERIFY(run.engine->decide(w2, RunDecision::Retry).has_value());
            QTRY_VERIFY_WITH_TIMEOUT(run.finished, 60000);
            QCOMPARE(toString(run.engine->state()), toString(RunState::Completed));
            QVERIFY(run.engine->allUpgraded());
            QCOMPARE(run.engine->step(w2).attempts, 2);
            QCOMPARE(upgradeJobs(run.session, QStringLiteral("w2")).size(), 2); // the failed one and the retry
            for (const SandboxNode &node : cluster.file().nodes)
                QCOMPARE(installedVersion(node.installDir, Component::Server), kTarget);
            break;
        case RunDecision::Skip: {
            QVERIFY(run.engine->decide(w2, RunDecision::Skip).has_value());
            QTRY_VERIFY_WITH_TIMEOUT(run.finished, 60000);
            QCOMPARE(toString(run.engine->state()), toString(RunState::Completed));
            QVERIFY(!run.engine->allUpgraded());
            QCOMPARE(toString(run.engine->step(w2).state), toString(RunStepState::Skipped));
            QCOMPARE(installedVersion(cluster.node(QStringLiteral("w2"))->installDir, Component::Server), kOld);
            QCOMPARE(installedVersion(cluster.node(QStringLiteral("w3"))->installDir, Component::Server), kTarget);
            QCOMPARE(installedVersion(cluster.file().portal()->installDir, Component::Server), kTarget);
            // Verification flags it, and the mixed versions.
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
            QVERIFY(verify.report().anyFailed());
            QVERIFY(verify.report().warnings.join(QLatin1Char(' ')).contains(QStringLiteral("Mixed versions")));
            break;
        }
        case RunDecision::Defer: {
            QVERIFY(run.engine->decide(w2, RunDecision::Defer).has_value());
            restore();
            QTRY_VERIFY_WITH_TIMEOUT(run.finished, 60000);
            QCOMPARE(toString(run.engine->state()), toString(RunState::Completed));
            QVERIFY(run.engine->allUpgraded());
            const RunStepRecord &deferred = run.engine->step(w2);
            QVERIFY(deferred.deferred);
            // It ran after everything else.
            for (const RunStepRecord &record : run.engine->journal().steps) {
                if (&record != &deferred && record.wave >= 0)
                    QVERIFY(record.finished <= deferred.started);
            }
            QCOMPARE(installedVersion(cluster.node(QStringLiteral("w2"))->installDir, Component::Server), kTarget);
            break;
        }
        case RunDecision::Abort:
            break;
        }
    }

    // Unattended policies: skip (or defer) failed nodes until the limit of failed nodes
    // is reached, then halt with the rest untouched.
    void failurePolicy_data()
    {
        QTest::addColumn<int>("policy");
        QTest::addColumn<int>("stopAfter");
        QTest::addColumn<int>("endState");
        QTest::addColumn<int>("touchedWorkers");
        QTest::newRow("skip, no limit") << int(FailurePolicy::Skip) << 0 << int(RunState::Completed) << 3;
        QTest::newRow("skip, stop after 2") << int(FailurePolicy::Skip) << 2 << int(RunState::Halted) << 2;
        QTest::newRow("halt") << int(FailurePolicy::Halt) << 1 << int(RunState::Halted) << 1;
    }

    void failurePolicy()
    {
        QFETCH(int, policy);
        QFETCH(int, stopAfter);
        QFETCH(int, endState);
        QFETCH(int, touchedWorkers);
        Cluster cluster;
        QVERIFY(cluster.up({QStringLiteral("--workers"), QStringLiteral("3")}));
        const QString server = cluster.makePackage(QStringLiteral("server"), kTarget, QStringLiteral("fail"));
        Run run;
        QVERIFY(connectAndDiscover(run.session, cluster.file()));
        QVERIFY(choosePackage(run.session, server, Component::Server));
        RunOptions options;
        options.onFailure = FailurePolicy(policy);
        options.stopAfterFailedNodes = stopAfter;
        run.makeEngine(options);
        QVERIFY(run.engine->prepare(run.session.plan(), run.session.target()).has_value());
        run.engine->start();
        QTRY_VERIFY_WITH_TIMEOUT(run.finished, 60000);
        QCOMPARE(toString(run.engine->state()), toString(RunState(endState)));
        QVERIFY(run.decisions.isEmpty()); // never asked: the policy answered
        int touched = 0;
        for (const QString &name : {QStringLiteral("w1"), QStringLiteral("w2"), QStringLiteral("w3")}) {
            const int jobs = int(upgradeJobs(run.session, name).size());
            QVERIFY(jobs <= 1);
            touched += jobs;
            QCOMPARE(installedVersion(cluster.node(name)->installDir, Component::Server), kOld);
        }
        QCOMPARE(touched, touchedWorkers);
        // The portal comes after the workers: with a halt it is never reached.
        QCOMPARE(upgradeJobs(run.session, QStringLiteral("portal")).isEmpty(), endState == int(RunState::Halted));
        const RunStepRecord &w1 = run.engine->step(run.stepOf(QStringLiteral("w1"), Component::Server));
        if (FailurePolicy(policy) == FailurePolicy::Skip) {
            QCOMPARE(toString(w1.state), toString(RunStepState::Skipped));
            QCOMPARE(w1.decisions.size(), 1);
            QVERIFY(w1.decisions.first().by.contains(QStringLiteral("skip")));
        }
    }

    // A hung installer is stopped at its time-out and reported; a "taking longer than
    // expected" warning says what is known before that.
    void hungInstallerTimesOut()
    {
        Cluster cluster;
        QVERIFY(cluster.up({QStringLiteral("--workers"), QStringLiteral("1")}));
        const QString server = cluster.makePackage(QStringLiteral("server"), kTarget, QStringLiteral("hang"));
        Run run;
        QVERIFY(connectAndDiscover(run.session, cluster.file()));
        QVERIFY(choosePackage(run.session, server, Component::Server));
        RunOptions options;
        options.installerTimeoutSeconds = 4;
        options.slowFactor = 0;
        options.slowGraceMs = 1500;
        run.makeEngine(options);
        QVERIFY(run.engine->prepare(run.session.plan(), run.session.target()).has_value());
        run.engine->start();
        QTRY_COMPARE_WITH_TIMEOUT(run.decisions.size(), 1, 60000);
        const int step = run.decisions.first().first;
        QCOMPARE(run.slow.size(), 1);
        QCOMPARE(run.slow.first().first, step);
        QVERIFY2(run.slow.first().second.contains(QStringLiteral("longer than expected")), qPrintable(run.slow.first().second));
        QVERIFY2(run.slow.first().second.contains(QStringLiteral("installing")), qPrintable(run.slow.first().second));
        QVERIFY2(run.engine->step(step).error.contains(QStringLiteral("4 s")), qPrintable(run.engine->step(step).error));
        QCOMPARE(installedVersion(cluster.node(QStringLiteral("w1"))->installDir, Component::Server), kOld);
        QVERIFY(run.engine->decide(step, RunDecision::Abort).has_value());
        QTRY_VERIFY_WITH_TIMEOUT(run.finished, 20000);
        QCOMPARE(toString(run.engine->state()), toString(RunState::Aborted));
        QVERIFY(upgradeJobs(run.session, QStringLiteral("portal")).isEmpty());
    }

};

QTEST_GUILESS_MAIN(TestRunFailures)
#include "tst_runfailures.moc"

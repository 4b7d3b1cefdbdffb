#include "agentfaults.h"
#include "runharness.h"

#include <QtTest>

using namespace ft;
using namespace fixture;
using namespace runharness;

class TestRunInterrupted : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        qRegisterMetaType<ft::RunState>();
        if (!QFile::exists(tool(QStringLiteral("ftsandbox"))) || !QFile::exists(tool(QStringLiteral("ftupgrade-agent"))))
            QSKIP("ftsandbox and ftupgrade-agent are not built");
    }

    // w1's agent is killed while its installer runs and comes back: the engine asks,
    // says the service is stopped, offers Start service, and that brings w1 up again.
    void startServiceAfterAnInterruptedInstall()
    {
        Cluster cluster;
        QVERIFY(cluster.up({QStringLiteral("--workers"), QStringLiteral("1")}));
        const QString server = cluster.makePackage(QStringLiteral("server"), kTarget, QStringLiteral("slow"),
                                                   {QStringLiteral("--slow-seconds"), QStringLiteral("8")});
        QVERIFY(!server.isEmpty());
        Run run;
        QVERIFY(connectAndDiscover(run.session, cluster.file()));
        QVERIFY(choosePackage(run.session, server, Component::Server));
        run.makeEngine();
        QVERIFY(run.engine->prepare(run.session.plan(), run.session.target()).has_value());
        run.engine->start();
        const int w1 = run.stepOf(QStringLiteral("w1"), Component::Server);
        QVERIFY(w1 >= 0);
        QTRY_COMPARE_WITH_TIMEOUT(run.engine->step(w1).phase, QStringLiteral("installing"), 60000);

        AgentRestart restarted; // stopped when the test ends
        QVERIFY(restarted.killAndRestart(cluster, QStringLiteral("w1")));

        QTRY_COMPARE_WITH_TIMEOUT(run.decisions.size(), 1, 90000);
        QCOMPARE(run.decisions.first().first, w1);
        const QString sentence = run.decisions.first().second;
        QVERIFY2(sentence.contains(QStringLiteral("The FlowTraq service is stopped and the installer did not finish")),
                 qPrintable(sentence));
        QVERIFY2(sentence.contains(QStringLiteral("Retry runs the installer again; Start service brings up what is installed")),
                 qPrintable(sentence));
        QCOMPARE(toString(serviceState(run.session, QStringLiteral("w1"))), toString(ServiceState::Stopped));

        QVERIFY(run.engine->decide(w1, RunDecision::StartService).has_value());
        QTRY_VERIFY_WITH_TIMEOUT(run.finished, 120000);
        QCOMPARE(toString(run.engine->step(w1).state), toString(RunStepState::Skipped));
        QCOMPARE(toString(run.engine->step(w1).decisions.last().decision), toString(RunDecision::StartService));
        // w1 runs again, on what is installed.
        QTRY_VERIFY_WITH_TIMEOUT(serviceState(run.session, QStringLiteral("w1")) == ServiceState::Running, 20000);
    }
};

QTEST_GUILESS_MAIN(TestRunInterrupted)
#include "tst_runinterrupted.moc"

#include "runharness.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QSettings>
#include <QtTest>

#include <csignal>

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

        const SandboxNode *node = cluster.node(QStringLiteral("w1"));
        qint64 agentPid = 0;
        for (const QJsonValue &v : QJsonDocument::fromJson(readAll(cluster.directory() + QStringLiteral("/cluster.json")))
                                       .object().value(QStringLiteral("nodes")).toArray()) {
            if (v.toObject().value(QStringLiteral("name")).toString() == QLatin1String("w1"))
                agentPid = v.toObject().value(QStringLiteral("agent")).toObject().value(QStringLiteral("pid")).toInteger();
        }
        QVERIFY(agentPid > 0);
        QCOMPARE(::kill(pid_t(agentPid), SIGKILL), 0);
        const QString config = node->installDir + QStringLiteral("/agent/agent.conf");
        QSettings(config, QSettings::IniFormat).setValue(QStringLiteral("agent/port"), node->agentUrl.port());
        QTest::qWait(300);
        qint64 restartedPid = 0;
        QProcess restarted;
        restarted.setProgram(tool(QStringLiteral("ftupgrade-agent")));
        restarted.setArguments({QStringLiteral("run"), QStringLiteral("--config"), config});
        restarted.setStandardOutputFile(QProcess::nullDevice());
        restarted.setStandardErrorFile(QProcess::nullDevice());
        QVERIFY(restarted.startDetached(&restartedPid));
        const auto stopRestarted = qScopeGuard([restartedPid] { ::kill(pid_t(restartedPid), SIGTERM); });

        QTRY_COMPARE_WITH_TIMEOUT(run.decisions.size(), 1, 90000);
        QCOMPARE(run.decisions.first().first, w1);
        const QString sentence = run.decisions.first().second;
        QVERIFY2(sentence.contains(QStringLiteral("The FlowTraq service is stopped and the installer did not finish")),
                 qPrintable(sentence));
        QVERIFY2(sentence.contains(QStringLiteral("Retry runs the installer again; Start service brings up what is installed")),
                 qPrintable(sentence));
        QCOMPARE(toString(serviceState(run, QStringLiteral("w1"))), toString(ServiceState::Stopped));

        QVERIFY(run.engine->decide(w1, RunDecision::StartService).has_value());
        QTRY_VERIFY_WITH_TIMEOUT(run.finished, 120000);
        QCOMPARE(toString(run.engine->step(w1).state), toString(RunStepState::Skipped));
        QCOMPARE(toString(run.engine->step(w1).decisions.last().decision), toString(RunDecision::StartService));
        // w1 runs again, on what is installed.
        QTRY_VERIFY_WITH_TIMEOUT(serviceState(run, QStringLiteral("w1")) == ServiceState::Running, 20000);
    }

private:
    static ServiceState serviceState(Run &run, const QString &name)
    {
        for (const NodeStatus &node : run.session.nodes()) {
            if (node.name != name)
                continue;
            // Agent jobs delete themselves once finished: read the answer in the handler.
            auto *job = new FetchNodeJob(run.session.client(), run.session.endpointFor(node));
            bool done = false;
            ServiceState state = ServiceState::Unknown;
            QObject::connect(job, &AgentJob::finished, [&done, &state, job] {
                if (job->error() == AgentJob::NoError)
                    state = job->node().service;
                done = true;
            });
            job->start();
            QTest::qWaitFor([&done] { return done; }, 10000);
            return state;
        }
        return ServiceState::Unknown;
    }
};

QTEST_GUILESS_MAIN(TestRunInterrupted)
#include "tst_runinterrupted.moc"

#include "../runengine/contextfixture.h"
#include "run/stager.h"
#include "run/steprunner.h"

#include <QSignalSpy>
#include <QtTest>

using namespace ft;
using namespace fixture;

namespace {

const QString kTarget = QStringLiteral("6.3.0-1500");

int stepOf(const RunContext &context, const QString &node)
{
    for (int i = 0; i < context.journal.steps.size(); ++i) {
        if (context.journal.steps.at(i).step.node == node && context.journal.steps.at(i).wave >= 0)
            return i;
    }
    return -1;
}

} // namespace

// One step, carried out by the StepRunner alone: no state machine around it, so what
// the record says afterwards is the runner's doing.
class TestStepRunner : public QObject
{
    Q_OBJECT

private:
    Cluster m_cluster;
    UpgradeSession m_session;
    RunContext m_context;

private Q_SLOTS:
    void initTestCase()
    {
        if (!QFile::exists(tool(QStringLiteral("ftsandbox"))) || !QFile::exists(tool(QStringLiteral("ftupgrade-agent"))))
            QSKIP("ftsandbox and ftupgrade-agent are not built");
        QVERIFY(m_cluster.up({QStringLiteral("--workers"), QStringLiteral("1")}));
        const QString package = m_cluster.makePackage(QStringLiteral("server"), kTarget, QStringLiteral("normal"));
        QVERIFY(!package.isEmpty());
        QVERIFY(connectAndDiscover(m_session, m_cluster.file()));
        QVERIFY(choosePackage(m_session, package, Component::Server));
        fillContext(m_context, m_session);
        // The packages go on the nodes first, as in a run.
        Stager stager(m_context);
        QVERIFY(stager.serve().has_value());
        QSignalSpy staged(&stager, &Stager::finished);
        stager.start(false);
        QTRY_VERIFY_WITH_TIMEOUT(staged.count() == 1, 60000);
        QVERIFY(stager.errors().isEmpty());
    }

    // The upgrade runs through the agent: phases seen, the log streamed, the version
    // after the install recorded, and stepEnded(Succeeded) once, never inside run().
    void upgradesOneNode()
    {
        const int w1 = stepOf(m_context, QStringLiteral("w1"));
        QVERIFY(w1 >= 0);
        StepRunner runner(m_context);
        QSignalSpy ended(&runner, &StepRunner::stepEnded);
        QSignalSpy changed(&runner, &StepRunner::stepChanged);
        QSignalSpy logs(&runner, &StepRunner::logLines);
        runner.run(w1);
        QCOMPARE(ended.count(), 0);
        QCOMPARE(toString(m_context.journal.steps.at(w1).state), toString(RunStepState::Starting));
        QTRY_VERIFY_WITH_TIMEOUT(ended.count() == 1, 90000);
        QCOMPARE(ended.constFirst().at(0).toInt(), w1);
        const RunStepRecord &record = m_context.journal.steps.at(w1);
        QVERIFY2(record.state == RunStepState::Succeeded, qPrintable(record.error));
        QCOMPARE(record.versionAfter, kTarget);
        QCOMPARE(record.attempts, 1);
        QVERIFY(!record.agentJobId.isEmpty());
        QVERIFY(record.phases.installingMs > 0);
        QVERIFY(!logs.isEmpty());
        QVERIFY(changed.count() >= 2);
        QCOMPARE(toString(runner.progress(w1).state), toString(RunStepState::Succeeded));
        QCOMPARE(installedVersion(m_cluster.node(QStringLiteral("w1"))->installDir, Component::Server), kTarget);
        // The portal was not touched.
        QVERIFY(installedVersion(m_cluster.file().portal()->installDir, Component::Server) != kTarget);
    }

    // A package the node never staged: the agent refuses, the step fails with its
    // sentence, and the node keeps its version.
    void failsWhenTheAgentRefuses()
    {
        const int portal = stepOf(m_context, m_cluster.file().portal()->name);
        QVERIFY(portal >= 0);
        m_context.journal.steps[portal].step.packageFile = QStringLiteral("never-staged.ftpkg");
        StepRunner runner(m_context);
        QSignalSpy ended(&runner, &StepRunner::stepEnded);
        runner.run(portal);
        QTRY_VERIFY_WITH_TIMEOUT(ended.count() == 1, 30000);
        QCOMPARE(toString(ended.constFirst().at(1).value<RunStepState>()), toString(RunStepState::Failed));
        const RunStepRecord &record = m_context.journal.steps.at(portal);
        QCOMPARE(toString(record.state), toString(RunStepState::Failed));
        QVERIFY(!record.error.isEmpty());
        QVERIFY(installedVersion(m_cluster.file().portal()->installDir, Component::Server) != kTarget);
    }

    // No address for the node: failed with the lookup's sentence, announced later.
    void failsWithoutAnAddress()
    {
        RunContext context = m_context;
        context.lookup = [](const QString &node) -> Expected<AgentEndpoint> {
            return makeError(QStringLiteral("no address for %1").arg(node));
        };
        const int portal = stepOf(context, m_cluster.file().portal()->name);
        context.journal.steps[portal].state = RunStepState::Pending;
        StepRunner runner(context);
        QSignalSpy ended(&runner, &StepRunner::stepEnded);
        runner.run(portal);
        QCOMPARE(ended.count(), 0);
        QTRY_COMPARE(ended.count(), 1);
        QCOMPARE(context.journal.steps.at(portal).error, QStringLiteral("no address for %1").arg(m_cluster.file().portal()->name));
    }
};

QTEST_MAIN(TestStepRunner)
#include "tst_steprunner.moc"

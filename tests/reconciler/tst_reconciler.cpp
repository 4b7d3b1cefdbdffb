#include "run/reconciler.h"

#include <QtTest>

using namespace ft;

// The Reconciler alone: a journal as the wizard left it and what the nodes answer when
// the run is resumed, and what the journal says afterwards.
class TestReconciler : public QObject
{
    Q_OBJECT

private:
    static Version version(const char *text) { return *Version::parse(QString::fromLatin1(text)); }

    static RunJournal journalWith(RunStepState state, const QString &jobId)
    {
        RunJournal journal;
        journal.created = QDateTime::currentDateTimeUtc().addSecs(-600);
        RunStepRecord record;
        record.step.node = QStringLiteral("w1");
        record.step.component = Component::Server;
        record.step.fromVersion = version("6.2.1-1200");
        record.step.toVersion = version("6.3.0-1500");
        record.step.packageFile = QStringLiteral("server-6.3.0.ftpkg");
        record.state = state;
        record.agentJobId = jobId;
        record.versionBefore = QStringLiteral("6.2.1-1200");
        record.started = journal.created.addSecs(60);
        journal.steps.append(record);
        return journal;
    }

    static NodeStatus nodeAt(const char *serverVersion)
    {
        NodeStatus node;
        node.name = QStringLiteral("w1");
        node.reachable = true;
        node.server.installed = true;
        node.server.version = version(serverVersion);
        return node;
    }

    static AgentJobStatus upgradeJob(const QString &id, AgentJobState state, const QDateTime &created)
    {
        AgentJobStatus job;
        job.id = id;
        job.kind = QStringLiteral("upgrade");
        job.component = toString(Component::Server);
        job.package = QStringLiteral("server-6.3.0.ftpkg");
        job.state = state;
        job.phase = state == AgentJobState::Running ? QStringLiteral("installing") : QStringLiteral("done");
        job.created = created;
        job.versionBefore = QStringLiteral("6.2.1-1200");
        if (state == AgentJobState::Succeeded)
            job.versionAfter = QStringLiteral("6.3.0-1500");
        if (state == AgentJobState::Failed)
            job.error = QStringLiteral("installer exit 1");
        return job;
    }

private Q_SLOTS:
    void reconcile_data()
    {
        QTest::addColumn<int>("before");           // RunStepState in the journal
        QTest::addColumn<QString>("journalJobId"); // what the journal knew of the agent's job
        QTest::addColumn<QString>("nodeVersion");  // "" = the node did not answer
        QTest::addColumn<int>("agentJob");         // -1 none, else its AgentJobState
        QTest::addColumn<int>("after");
        QTest::addColumn<QString>("difference");   // part of the sentence; "" = none
        QTest::addColumn<bool>("followed");        // the engine follows the agent's job
        QTest::addColumn<QString>("foundKind");    // RunDifference::found

        const int none = -1;
        const auto s = [](RunStepState state) { return int(state); };
        const auto j = [](AgentJobState state) { return int(state); };
        QTest::newRow("pending, node old: nothing changed")
            << s(RunStepState::Pending) << QString() << QStringLiteral("6.2.1-1200") << none
            << s(RunStepState::Pending) << QString() << false << QString();
        QTest::newRow("pending, node upgraded by hand")
            << s(RunStepState::Pending) << QString() << QStringLiteral("6.3.0-1500") << none
            << s(RunStepState::AlreadyCurrent) << QStringLiteral("already at 6.3.0-1500") << false << QStringLiteral("at_target");
        QTest::newRow("running, agent still runs it")
            << s(RunStepState::Running) << QStringLiteral("J1") << QStringLiteral("6.2.1-1200")
            << j(AgentJobState::Running) << s(RunStepState::Running) << QStringLiteral("still running")
            << true << QStringLiteral("agent_job_running");
        QTest::newRow("running, killed before the job id was written")
            << s(RunStepState::Starting) << QString() << QStringLiteral("6.2.1-1200") << j(AgentJobState::Running)
            << s(RunStepState::Running) << QStringLiteral("still running") << true << QStringLiteral("agent_job_running");
        QTest::newRow("running, finished while away")
            << s(RunStepState::Running) << QStringLiteral("J1") << QStringLiteral("6.3.0-1500")
            << j(AgentJobState::Succeeded) << s(RunStepState::Succeeded) << QStringLiteral("finished while")
            << false << QStringLiteral("agent_job_succeeded");
        QTest::newRow("running, failed while away")
            << s(RunStepState::Running) << QStringLiteral("J1") << QStringLiteral("6.2.1-1200")
            << j(AgentJobState::Failed) << s(RunStepState::Pending) << QStringLiteral("tried again") << false << QStringLiteral("agent_job_failed");
        QTest::newRow("running, no job on the agent")
            << s(RunStepState::Running) << QString() << QStringLiteral("6.2.1-1200") << none
            << s(RunStepState::Pending) << QStringLiteral("no upgrade job") << false << QStringLiteral("no_agent_job");
        QTest::newRow("succeeded, but the node runs the old version")
            << s(RunStepState::Succeeded) << QStringLiteral("J1") << QStringLiteral("6.2.1-1200") << none
            << s(RunStepState::Pending) << QStringLiteral("upgraded again") << false << QStringLiteral("not_at_target");
        QTest::newRow("failed, node at the target now")
            << s(RunStepState::Failed) << QStringLiteral("J1") << QStringLiteral("6.3.0-1500") << none
            << s(RunStepState::Succeeded) << QStringLiteral("at 6.3.0-1500 now") << false << QStringLiteral("at_target");
        QTest::newRow("skipped stays skipped")
            << s(RunStepState::Skipped) << QString() << QStringLiteral("6.2.1-1200") << none
            << s(RunStepState::Skipped) << QString() << false << QString();
        QTest::newRow("running, node does not answer")
            << s(RunStepState::Running) << QStringLiteral("J1") << QString() << none
            << s(RunStepState::Failed) << QStringLiteral("did not answer") << false << QStringLiteral("no_answer");
    }

    void reconcile()
    {
        QFETCH(int, before);
        QFETCH(QString, journalJobId);
        QFETCH(QString, nodeVersion);
        QFETCH(int, agentJob);
        QFETCH(int, after);
        QFETCH(QString, difference);
        QFETCH(bool, followed);

        RunJournal journal = journalWith(RunStepState(before), journalJobId);
        ClusterProbe probe;
        if (nodeVersion.isEmpty()) {
            probe.unreachable.insert(QStringLiteral("w1"), QStringLiteral("connection refused"));
        } else {
            probe.nodes.insert(QStringLiteral("w1"), nodeAt(nodeVersion.toLatin1().constData()));
            QList<AgentJobStatus> jobs;
            if (agentJob >= 0)
                jobs.append(upgradeJob(QStringLiteral("J1"), AgentJobState(agentJob),
                                       journal.created.addSecs(70)));
            probe.jobs.insert(QStringLiteral("w1"), jobs);
        }

        const Reconciliation result = Reconciler::reconcile(journal, probe);
        const RunStepRecord &record = journal.steps.constFirst();
        QCOMPARE(toString(record.state), toString(RunStepState(after)));
        if (difference.isEmpty()) {
            QVERIFY2(result.differences.isEmpty(),
                     qPrintable(result.differences.isEmpty() ? QString() : result.differences.constFirst().text()));
        } else {
            QCOMPARE(result.differences.size(), 1);
            const RunDifference &found = result.differences.constFirst();
            QVERIFY2(found.detail.contains(difference), qPrintable(found.detail));
            QVERIFY(found.text().startsWith(runStepName(record)));
            // Tied to its step by ids, with what the journal said and what the node said.
            QCOMPARE(found.step, 0);
            QCOMPARE(found.node, QStringLiteral("w1"));
            QCOMPARE(toString(found.component), toString(Component::Server));
            QCOMPARE(found.journalState, toString(RunStepState(before)));
            QFETCH(QString, foundKind);
            QCOMPARE(found.found, foundKind);
            QCOMPARE(found.foundVersion, nodeVersion);
        }
        QCOMPARE(result.running.size(), followed ? 1 : 0);
        if (followed) {
            QCOMPARE(result.running.constFirst().step, 0);
            QCOMPARE(result.running.constFirst().jobId, QStringLiteral("J1"));
            QCOMPARE(result.running.constFirst().phase, QStringLiteral("installing"));
            QCOMPARE(record.agentJobId, QStringLiteral("J1"));
        }
    }

    // A job the agent ran for an earlier run (older than this one) is not taken for
    // this step's job.
    void olderJobIsNotThisRun()
    {
        RunJournal journal = journalWith(RunStepState::Starting, QString());
        ClusterProbe probe;
        probe.nodes.insert(QStringLiteral("w1"), nodeAt("6.2.1-1200"));
        probe.jobs.insert(QStringLiteral("w1"), {upgradeJob(QStringLiteral("OLD"), AgentJobState::Running,
                                                            journal.created.addDays(-3))});
        const Reconciliation result = Reconciler::reconcile(journal, probe);
        QCOMPARE(toString(journal.steps.constFirst().state), toString(RunStepState::Pending));
        QVERIFY(result.running.isEmpty());
        QVERIFY(journal.steps.constFirst().agentJobId.isEmpty());
    }

    // Steps the plan skipped (no wave) are not compared at all.
    void planSkippedStepsLeftAlone()
    {
        RunJournal journal = journalWith(RunStepState::AlreadyCurrent, QString());
        journal.steps[0].wave = -1;
        const Reconciliation result = Reconciler::reconcile(journal, ClusterProbe{});
        QVERIFY(result.differences.isEmpty());
        QCOMPARE(toString(journal.steps.constFirst().state), toString(RunStepState::AlreadyCurrent));
    }

    // With no node to ask (no address for any), probed() still comes, later, once.
    void probeWithoutAddresses()
    {
        RunContext context;
        context.journal = journalWith(RunStepState::Pending, QString());
        context.lookup = [](const QString &node) -> Expected<AgentEndpoint> {
            return makeError(QStringLiteral("no address for %1").arg(node));
        };
        Reconciler reconciler(context);
        QSignalSpy probed(&reconciler, &Reconciler::probed);
        reconciler.probe();
        QCOMPARE(probed.count(), 0); // never inside probe()
        QTRY_COMPARE(probed.count(), 1);
        const auto probe = probed.constFirst().constFirst().value<ClusterProbe>();
        QCOMPARE(probe.unreachable.value(QStringLiteral("w1")), QStringLiteral("no address for w1"));
    }
};

QTEST_MAIN(TestReconciler)
#include "tst_reconciler.moc"

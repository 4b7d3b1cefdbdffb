#include "../runengine/contextfixture.h"
#include "packages/packageserver.h"
#include "packages/sha256.h"
#include "agentlink/agentjobwatcher.h"
#include "run/stager.h"
#include "agentlink/uploadjobs.h"

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

using namespace ft;
using namespace fixture;

namespace {

const QString kTarget = QStringLiteral("6.3.0-1500");

// What the node's agent has staged (GET /v1/staged).
QList<StagedPackage> stagedOn(UpgradeSession &session, const QString &nodeName)
{
    for (const NodeStatus &node : session.nodes()) {
        if (node.name != nodeName)
            continue;
        ListStagedJob job(session.client(), session.endpointFor(node));
        job.setAutoDelete(false);
        QSignalSpy done(&job, &AgentJob::finished);
        job.start();
        if (!done.wait(15000) || job.error() != AgentJob::NoError)
            return {};
        return job.packages();
    }
    return {};
}

// The log of a job on the node's agent, one line per entry.
QStringList jobLog(UpgradeSession &session, const QString &nodeName, const QString &jobId)
{
    for (const NodeStatus &node : session.nodes()) {
        if (node.name != nodeName)
            continue;
        AgentJobWatcher watcher(session.client(), session.endpointFor(node), jobId);
        QStringList lines;
        QObject::connect(&watcher, &AgentJobWatcher::logLines, &watcher, [&lines](const QList<AgentLogLine> &got) {
            for (const AgentLogLine &line : got)
                lines.append(line.line);
        });
        QSignalSpy done(&watcher, &AgentJobWatcher::finished);
        watcher.start();
        if (!done.wait(15000))
            return {};
        return lines;
    }
    return {};
}

// The run carries `path` instead of its chosen package, under that file's own name,
// SHA-256 and size.
void runPackage(RunContext &context, const QString &path)
{
    RunPackage &package = context.journal.packages[0];
    const QString before = package.fileName;
    package.path = path;
    package.fileName = QFileInfo(path).fileName();
    package.sha256 = QString::fromLatin1(ft::sha256OfFile(path).value());
    package.size = QFileInfo(path).size();
    for (RunStageRecord &record : context.journal.stage) {
        if (record.packageFile == before)
            record.packageFile = package.fileName;
    }
}

// The run carries `path` as a chosen package is carried: checked in the read that gave
// its SHA-256, when its file had the time it has now.
void runCheckedPackage(RunContext &context, const QString &path)
{
    runPackage(context, path);
    RunPackage &package = context.journal.packages[0];
    package.contentsChecked = true;
    package.modifiedMs = QFileInfo(path).lastModified().toMSecsSinceEpoch();
}

// Starts the stager and waits for its finished(); false on a time-out. `activity`: what
// it said meanwhile, a sentence per line.
bool stageToEnd(Stager &stager, QString *activity)
{
    QStringList sentences;
    QObject::connect(&stager, &Stager::activity, &stager,
                     [&sentences](const QString &sentence, bool) { sentences.append(sentence); });
    QSignalSpy finished(&stager, &Stager::finished);
    stager.start(false);
    const bool ended = finished.wait(60000);
    *activity = sentences.join(QLatin1Char('\n'));
    return ended;
}

// A copy of the test package under another name (the agents key staged files by name).
QString copyOfPackage(const QTemporaryDir &dir, const QString &package)
{
    const QString copy = dir.filePath(QStringLiteral("server-6.3.0-1500-copy-%1.ftpkg")
                                          .arg(QDateTime::currentMSecsSinceEpoch()));
    return QFile::copy(package, copy) ? copy : QString();
}

// Changes one byte half-way through the file, then sets its last-modified time.
bool flipByteInTheMiddle(const QString &path, const QDateTime &modified)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadWrite) || !file.seek(file.size() / 2))
        return false;
    char byte = 0;
    if (!file.getChar(&byte) || !file.seek(file.size() / 2) || !file.putChar(char(byte ^ 0x5a)))
        return false;
    file.close();
    return file.open(QIODevice::ReadWrite) && file.setFileTime(modified, QFileDevice::FileModificationTime);
}

} // namespace

class TestStager : public QObject
{
    Q_OBJECT

private:
    Cluster m_cluster;
    UpgradeSession m_session;
    QString m_package;

private Q_SLOTS:
    void initTestCase()
    {
        if (!QFile::exists(tool(QStringLiteral("ftsandbox"))) || !QFile::exists(tool(QStringLiteral("ftupgrade-agent"))))
            QSKIP("ftsandbox and ftupgrade-agent are not built");
        QVERIFY(m_cluster.up({QStringLiteral("--workers"), QStringLiteral("2")}));
        m_package = m_cluster.makePackage(QStringLiteral("server"), kTarget, QStringLiteral("normal"));
        QVERIFY(!m_package.isEmpty());
        QVERIFY(connectAndDiscover(m_session, m_cluster.file()));
        QVERIFY(choosePackage(m_session, m_package, Component::Server));
    }

    // Cancelled before it starts: asks no agent and stages nothing.
    void cancelledBeforeStart()
    {
        RunContext context;
        fillContext(context, m_session);
        Stager stager(context);
        QVERIFY(stager.serve().has_value());
        QSignalSpy finished(&stager, &Stager::finished);
        stager.cancel();
        stager.start(false);
        QCOMPARE(finished.count(), 0); // never inside start()
        QTRY_COMPARE(finished.count(), 1);
        QVERIFY(stager.isCancelled());
        QCOMPARE(stager.server()->bytesSent(), qint64(0));
        for (const RunStageRecord &record : context.journal.stage)
            QCOMPARE(record.state, QStringLiteral("pending"));
        QVERIFY(stagedOn(m_session, QStringLiteral("w1")).isEmpty());
    }

    // A package not checked when it was chosen (a vendor installer, a journal from before)
    // whose file no longer has the SHA-256 the nodes would be given: caught on this
    // workstation, before any node is asked to fetch a byte.
    void wrongChecksumIsCaughtBeforeAnyNode()
    {
        RunContext context;
        fillContext(context, m_session);
        context.journal.packages[0].sha256 = QString(64, QLatin1Char('0'));
        context.journal.packages[0].contentsChecked = false;
        Stager stager(context);
        QVERIFY(stager.serve().has_value());
        QSignalSpy finished(&stager, &Stager::finished);
        stager.start(false);
        QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 60000);
        QCOMPARE(stager.errors().size(), 1);
        QVERIFY2(stager.errors().constFirst().contains(QStringLiteral("changed since it was chosen")),
                 qPrintable(stager.errors().constFirst()));
        for (const RunStageRecord &record : context.journal.stage) {
            QCOMPARE(record.state, QStringLiteral("pending"));
            QVERIFY(record.agentJobId.isEmpty());
        }
        QCOMPARE(stager.server()->bytesSent(), qint64(0));
    }

    // A package damaged inside, whose SHA-256 is of those damaged bytes (it broke after
    // the wizard checked it): refused here, no node fetches it.
    void damagedPackageIsCaughtBeforeAnyNode()
    {
        const QString damaged = m_cluster.makePackage(QStringLiteral("server"), kTarget, QStringLiteral("corrupt"));
        QVERIFY(!damaged.isEmpty());
        RunContext context;
        fillContext(context, m_session);
        runPackage(context, damaged);
        context.options.delivery = PackageDelivery::Portal;
        Stager stager(context);
        QVERIFY(stager.serve().has_value());
        QSignalSpy finished(&stager, &Stager::finished);
        stager.start(false);
        QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 60000);
        QCOMPARE(stager.errors().size(), 1);
        QVERIFY2(stager.errors().constFirst().contains(QStringLiteral("does not match")),
                 qPrintable(stager.errors().constFirst()));
        for (const RunStageRecord &record : context.journal.stage)
            QVERIFY(record.agentJobId.isEmpty());
        QVERIFY(stagedOn(m_session, QStringLiteral("w1")).isEmpty());
    }

    // A package checked when it was chosen, then rewritten (same size, a new time): read
    // and checked again here, and refused before any node is asked for it.
    void packageTouchedSinceChosenIsReadAgain()
    {
        QTemporaryDir dir;
        const QString copy = copyOfPackage(dir, m_package);
        QVERIFY(!copy.isEmpty());
        RunContext context;
        fillContext(context, m_session);
        runCheckedPackage(context, copy);
        QVERIFY(flipByteInTheMiddle(copy, QFileInfo(copy).lastModified().addSecs(2)));
        context.options.delivery = PackageDelivery::Portal;
        Stager stager(context);
        QVERIFY(stager.serve().has_value());
        QString activity;
        QVERIFY(stageToEnd(stager, &activity));
        QCOMPARE(stager.errors().size(), 1);
        // Whichever of its checks the changed byte breaks, the sentence names the file.
        QVERIFY2(stager.errors().constFirst().contains(copy), qPrintable(stager.errors().constFirst()));
        QVERIFY2(activity.contains(QStringLiteral("Checking ") + QFileInfo(copy).fileName()), qPrintable(activity));
        for (const RunStageRecord &record : context.journal.stage)
            QVERIFY(record.agentJobId.isEmpty());
    }

    // Bytes changed under the same time and size: not read again here, but the portal's
    // agent compares the SHA-256 at the upload's last byte, so no node stages them.
    void bytesChangedUnderTheSameTimeAreRefusedByThePortal()
    {
        QTemporaryDir dir;
        const QString copy = copyOfPackage(dir, m_package);
        QVERIFY(!copy.isEmpty());
        RunContext context;
        fillContext(context, m_session);
        runCheckedPackage(context, copy);
        const RunPackage &package = context.journal.packages[0];
        QVERIFY(flipByteInTheMiddle(copy, QFileInfo(copy).lastModified()));
        QCOMPARE(QFileInfo(copy).lastModified().toMSecsSinceEpoch(), package.modifiedMs);
        context.options.delivery = PackageDelivery::Portal;
        Stager stager(context);
        QVERIFY(stager.serve().has_value());
        QString activity;
        QVERIFY(stageToEnd(stager, &activity));
        QVERIFY2(activity.contains(QStringLiteral("is not read again here")), qPrintable(activity));
        QVERIFY(!stager.errors().isEmpty());
        QVERIFY2(stager.errors().constFirst().contains(QStringLiteral("SHA-256")),
                 qPrintable(stager.errors().constFirst()));
        for (const QString &node : {QStringLiteral("portal"), QStringLiteral("w1"), QStringLiteral("w2")}) {
            for (const StagedPackage &staged : stagedOn(m_session, node))
                QVERIFY2(staged.name != package.fileName, qPrintable(node));
        }
        for (const RunStageRecord &record : context.journal.stage)
            QVERIFY(record.state != QLatin1String("staged"));
    }

    // Every node that needs the package gets it, verified; progress ends at the total;
    // the journal's stage records say so and the agents list the package.
    void stagesEveryNode()
    {
        RunContext context;
        fillContext(context, m_session);
        QCOMPARE(context.journal.stage.size(), 3); // portal and two workers
        Stager stager(context);
        QVERIFY(stager.serve().has_value());
        QSignalSpy finished(&stager, &Stager::finished);
        QSignalSpy progress(&stager, &Stager::progress);
        QSignalSpy saved(&stager, &Stager::journalChanged);
        QStringList activity;
        connect(&stager, &Stager::activity, &stager,
                [&activity](const QString &sentence, bool) { activity.append(sentence); });
        stager.start(false);
        QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 120000);
        QVERIFY2(stager.errors().isEmpty(), qPrintable(stager.errors().join(QLatin1Char(' '))));
        for (const RunStageRecord &record : context.journal.stage) {
            QCOMPARE(record.state, QStringLiteral("staged"));
            QVERIFY(!record.agentJobId.isEmpty());
        }
        const qint64 size = context.journal.packages.constFirst().size;
        QVERIFY(!progress.isEmpty());
        QCOMPARE(progress.constLast().at(0).toLongLong(), 3 * size);
        QCOMPARE(progress.constLast().at(1).toLongLong(), 3 * size);
        QVERIFY(saved.count() >= 3);
        QCOMPARE(stager.server()->bytesSent(), 3 * size);
        QVERIFY(activity.contains(QStringLiteral("%1 staged and verified on w1.")
                                      .arg(context.journal.packages.constFirst().fileName)));
        // Checked when it was chosen, in the read that gave its SHA-256: not read again here.
        QVERIFY(m_session.target().server->contentsChecked);
        QCOMPARE(m_session.target().server->modifiedMs, QFileInfo(m_package).lastModified().toMSecsSinceEpoch());
        const QString said = activity.join(QLatin1Char('\n'));
        QVERIFY2(said.contains(QStringLiteral("is not read again here")) && !said.contains(QStringLiteral("Checking ")),
                 qPrintable(said));
        // Checked here once, so the nodes compared size and SHA-256 and read it only once.
        const auto w1 = std::find_if(context.journal.stage.cbegin(), context.journal.stage.cend(),
                                     [](const RunStageRecord &record) { return record.node == QLatin1String("w1"); });
        QVERIFY(w1 != context.journal.stage.cend());
        const QStringList log = jobLog(m_session, QStringLiteral("w1"), w1->agentJobId);
        QVERIFY2(log.join(QLatin1Char('\n')).contains(QStringLiteral("were not read a second time")),
                 qPrintable(log.join(QLatin1Char('\n'))));
        bool listed = false;
        for (const StagedPackage &staged : stagedOn(m_session, QStringLiteral("w2")))
            listed = listed
                     || staged.sha256.compare(context.journal.packages.constFirst().sha256, Qt::CaseInsensitive) == 0;
        QVERIFY(listed);
    }

    // Staged already (same name and SHA-256): asked about again (a resumed run), but
    // nothing is downloaded a second time.
    void stagedAlreadyIsNotFetchedAgain()
    {
        RunContext context;
        fillContext(context, m_session);
        for (RunStageRecord &record : context.journal.stage)
            record.state = QStringLiteral("staged"); // what the journal said; rechecked below
        Stager stager(context);
        QVERIFY(stager.serve().has_value());
        QSignalSpy finished(&stager, &Stager::finished);
        stager.start(true);
        QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 60000);
        QVERIFY(stager.errors().isEmpty());
        QCOMPARE(stager.server()->bytesSent(), qint64(0));
        for (const RunStageRecord &record : context.journal.stage) {
            QCOMPARE(record.state, QStringLiteral("staged"));
            QVERIFY(record.agentJobId.isEmpty());
        }
    }

    // Portal delivery where every node holds the package already: the nodes are asked
    // first, and nothing crosses this workstation's link.
    void portalDeliveryUploadsNothingWhenEveryNodeHasIt()
    {
        RunContext context;
        fillContext(context, m_session);
        context.options.delivery = PackageDelivery::Portal;
        Stager stager(context);
        QVERIFY(stager.serve().has_value());
        QStringList activity;
        connect(&stager, &Stager::activity, &stager,
                [&activity](const QString &sentence, bool) { activity.append(sentence); });
        QSignalSpy finished(&stager, &Stager::finished);
        stager.start(true);
        QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 60000);
        QVERIFY2(stager.errors().isEmpty(), qPrintable(stager.errors().join(QLatin1Char(' '))));
        QCOMPARE(stager.bytesSent(), qint64(0));
        QVERIFY(context.journal.delivery.uploads.isEmpty());
        QVERIFY2(activity.contains(QStringLiteral("Every node has the packages staged already; nothing is uploaded.")),
                 qPrintable(activity.join(QLatin1Char('\n'))));
        for (const QString &sentence : std::as_const(activity))
            QVERIFY2(!sentence.startsWith(QLatin1String("Uploading")), qPrintable(sentence));
    }

    // Portal delivery of a package no node has: one copy uploaded, every node stages it,
    // and then the upload leaves the portal's disk (and the journal).
    void portalDeliveryRemovesItsUploadOnceStaged()
    {
        const QString other = m_cluster.makePackage(QStringLiteral("server"), kTarget, QStringLiteral("slow"));
        QVERIFY(!other.isEmpty());
        RunContext context;
        fillContext(context, m_session);
        context.options.delivery = PackageDelivery::Portal;
        runPackage(context, other);
        const RunPackage &package = context.journal.packages[0];
        Stager stager(context);
        QVERIFY(stager.serve().has_value());
        QStringList activity;
        connect(&stager, &Stager::activity, &stager,
                [&activity](const QString &sentence, bool) { activity.append(sentence); });
        QStringList uploadsSeen;
        connect(&stager, &Stager::journalChanged, &stager, [&] {
            for (const QString &id : context.journal.delivery.uploads) {
                if (!uploadsSeen.contains(id))
                    uploadsSeen.append(id);
            }
        });
        QSignalSpy finished(&stager, &Stager::finished);
        stager.start(false);
        QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 120000);
        QVERIFY2(stager.errors().isEmpty(), qPrintable(stager.errors().join(QLatin1Char(' '))));
        for (const RunStageRecord &record : context.journal.stage)
            QCOMPARE(record.state, QStringLiteral("staged"));
        QCOMPARE(stager.bytesSent(), package.size); // one copy, not one per node
        QCOMPARE(uploadsSeen.size(), 1);
        QVERIFY(context.journal.delivery.uploads.isEmpty());
        QVERIFY2(activity.contains(QStringLiteral("Removed the upload %1 from the portal's agent.").arg(uploadsSeen.first())),
                 qPrintable(activity.join(QLatin1Char('\n'))));
        // The portal's agent has it no more.
        Expected<AgentEndpoint> portal = context.endpoint(QStringLiteral("portal"));
        QVERIFY(portal.has_value());
        UploadCallJob fetch(m_session.client(), *portal, UploadCallJob::fetchRequest(uploadsSeen.first()));
        fetch.setAutoDelete(false);
        QSignalSpy fetched(&fetch, &AgentJob::finished);
        fetch.start();
        QVERIFY(fetched.wait(15000));
        QCOMPARE(fetch.httpStatus(), 404);
    }
};

QTEST_MAIN(TestStager)
#include "tst_stager.moc"

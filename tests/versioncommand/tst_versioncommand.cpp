// A version_command that takes seconds (a slow package tool) must not stall the agent:
// while it reads the installed version before and after an upgrade, /v1/health and the
// job's own status answer. Proven by order, not by time: each answer arrives while the
// command that is reading is still running (it has not written its "end" mark).

#include "agentharness.h"

#include <QRegularExpression>
#include <QSettings>

using namespace agenttest;

namespace {

const QString kBefore = QStringLiteral("6.2.1-1200");
const QString kTarget = QStringLiteral("6.3.0-1500");

// "start PID" / "end PID" lines the version command appends to its marks file.
struct Marks
{
    QStringList running; // started, not ended, in order
    int started = 0;
};

Marks readMarks(const QString &path)
{
    Marks marks;
    QStringList ended;
    QStringList started;
    for (const QByteArray &line : readAll(path).split('\n')) {
        const QList<QByteArray> words = line.trimmed().split(' ');
        if (words.size() != 2)
            continue;
        (words.first() == "start" ? started : ended).append(QString::fromLatin1(words.last()));
    }
    marks.started = int(started.size());
    for (const QString &pid : std::as_const(started)) {
        if (!ended.contains(pid))
            marks.running.append(pid);
    }
    return marks;
}

bool hasEnded(const QString &marksPath, const QString &pid)
{
    return readAll(marksPath).contains("end " + pid.toLatin1() + '\n');
}

} // namespace

class TestVersionCommand : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        if (!QFile::exists(bin(QStringLiteral("ftupgrade-agent"))) || !QFile::exists(bin(QStringLiteral("ftsandbox"))))
            QSKIP("ftupgrade-agent and ftsandbox are not built");
    }

    void healthAndJobPollsAnswerWhileTheVersionIsRead()
    {
        Agent agent;
        const QString setUp = agent.setUp({QStringLiteral("--webui-files"), QStringLiteral("20")});
        QVERIFY2(setUp.isEmpty(), qPrintable(setUp));

        // The version command: marks its start, sleeps, marks its end, prints the version.
        const QString marks = agent.dir.filePath(QStringLiteral("version-marks.txt"));
        const QString script = agent.dir.filePath(QStringLiteral("slow-version.sh"));
        {
            QFile file(script);
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write(QStringLiteral("#!/bin/sh\n"
                                      "echo \"start $$\" >> '%1'\n"
                                      "sleep 3\n"
                                      "echo \"end $$\" >> '%1'\n"
                                      "case \"$1\" in\n"
                                      "  server) cat '%2/VERSION' ;;\n"
                                      "  webui) cat '%2/webui/VERSION' ;;\n"
                                      "  *) exit 1 ;;\n"
                                      "esac\n")
                           .arg(marks, agent.installDir)
                           .toUtf8());
        }
        QSettings(agent.configFile, QSettings::IniFormat)
            .setValue(QStringLiteral("agent/version_command"), QStringLiteral("/bin/sh %1 {component}").arg(script));

        const QString started = agent.start();
        QVERIFY2(started.isEmpty(), qPrintable(started));
        Client client;
        client.bind(agent);
        Response r = client.post(QStringLiteral("/v1/service"), {{QStringLiteral("action"), QStringLiteral("start")}});
        QCOMPARE(r.status, 200);

        const QString package = agent.dir.filePath(QStringLiteral("server.ftpkg"));
        int code = 0;
        const QByteArray made = runTool(QStringLiteral("ftsandbox"),
                                        {QStringLiteral("make-package"), QStringLiteral("--version"), kTarget,
                                         QStringLiteral("--component"), QStringLiteral("server"),
                                         QStringLiteral("--mode"), QStringLiteral("normal"), QStringLiteral("-o"), package},
                                        &code);
        QVERIFY2(code == 0, made.constData());
        FileServer files;
        files.data = readAll(package);
        QVERIFY(files.listen());
        r = client.post(QStringLiteral("/v1/stage"),
                        {{QStringLiteral("url"), files.url(QStringLiteral("server.ftpkg"))},
                         {QStringLiteral("sha256"), QString::fromLatin1(sha256Hex(files.data))},
                         {QStringLiteral("size"), files.data.size()},
                         {QStringLiteral("name"), QStringLiteral("server.ftpkg")}});
        QCOMPARE(r.status, 202);
        QCOMPARE(client.waitForJob(r.json.value(QStringLiteral("job")).toString()).value(QStringLiteral("state")).toString(),
                 QStringLiteral("succeeded"));

        const int readsBefore = readMarks(marks).started;
        r = client.post(QStringLiteral("/v1/upgrade"), {{QStringLiteral("component"), QStringLiteral("server")},
                                                        {QStringLiteral("package"), QStringLiteral("server.ftpkg")}});
        QCOMPARE(r.status, 202);
        const QString id = r.json.value(QStringLiteral("job")).toString();

        // The reads of the version before and after the upgrade, one after the other.
        const QStringList expectedPhase{QStringLiteral("queued"), QStringLiteral("checking")};
        for (int read = 0; read < 2; ++read) {
            QString pid;
            QVERIFY2(QTest::qWaitFor(
                         [&] {
                             const Marks now = readMarks(marks);
                             if (now.started <= readsBefore + read || now.running.isEmpty())
                                 return false;
                             pid = now.running.last();
                             return true;
                         },
                         60000),
                     qPrintable(QStringLiteral("version read %1 never started: %2").arg(read).arg(QString::fromUtf8(readAll(marks)))));

            const Response health = client.get(QStringLiteral("/v1/health"));
            QCOMPARE(health.status, 200);
            QCOMPARE(health.json.value(QStringLiteral("status")).toString(), QStringLiteral("ok"));
            QVERIFY2(!hasEnded(marks, pid), "/v1/health was answered only after the version command had finished");

            const Response job = client.get(QStringLiteral("/v1/jobs/%1").arg(id));
            QCOMPARE(job.status, 200);
            QCOMPARE(job.json.value(QStringLiteral("state")).toString(),
                     read == 0 ? QStringLiteral("queued") : QStringLiteral("running"));
            QCOMPARE(job.json.value(QStringLiteral("phase")).toString(), expectedPhase.at(read));
            QVERIFY2(!hasEnded(marks, pid), "the job's status was answered only after the version command had finished");
            qInfo("version read %d (pid %s): health and the job answered while it ran", read, qPrintable(pid));
        }

        // And the versions the command read are the job's.
        const QJsonObject job = client.waitForJob(id);
        QCOMPARE(job.value(QStringLiteral("state")).toString(), QStringLiteral("succeeded"));
        QCOMPARE(job.value(QStringLiteral("version_before")).toString(), kBefore);
        QCOMPARE(job.value(QStringLiteral("version_after")).toString(), kTarget);
        QCOMPARE(agent.installedVersion(), kTarget);
    }
};

QTEST_GUILESS_MAIN(TestVersionCommand)
#include "tst_versioncommand.moc"

// Upgrade jobs end to end: a real agent, a real sandbox daemon and the sandbox's real
// installer (`ftsandbox apply`) for each package mode; phases, log lines, exit-code
// mapping and the service's state afterwards; a disconnect and a restart mid-job.

#include "agentharness.h"

#include <QRegularExpression>
#include <QSslSocket>

using namespace agenttest;

namespace {

const QString kBefore = QStringLiteral("6.2.1-1200");
const QString kTarget = QStringLiteral("6.3.0-1500");

QStringList phaseNames(const QJsonObject &job)
{
    QStringList names;
    for (const QJsonValue &phase : job.value(QStringLiteral("phases")).toArray())
        names.append(phase.toObject().value(QStringLiteral("phase")).toString());
    return names;
}

} // namespace

class TestAgentJobs : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void upgradeEachPackageMode_data();
    void upgradeEachPackageMode();
    void secondUpgradeWhileOneRunsIsRefused();
    void callerDisconnectsMidJob();
    void agentRestartMidJobReportsInterrupted();

private:
    // A running agent on a fresh installation with its service started and the package staged.
    struct Node
    {
        Agent agent;
        Client client;
        FileServer files;
    };
    std::unique_ptr<Node> prepare(const QString &mode, int slowSeconds = 2);
};

std::unique_ptr<TestAgentJobs::Node> TestAgentJobs::prepare(const QString &mode, int slowSeconds)
{
    auto node = std::make_unique<Node>();
    const QString setUp = node->agent.setUp({QStringLiteral("--webui-files"), QStringLiteral("20")});
    if (!setUp.isEmpty()) {
        qWarning("%s", qPrintable(setUp));
        return nullptr;
    }
    const QString started = node->agent.start();
    if (!started.isEmpty()) {
        qWarning("%s", qPrintable(started));
        return nullptr;
    }
    node->client.bind(node->agent);
    Response r = node->client.post(QStringLiteral("/v1/service"), {{QStringLiteral("action"), QStringLiteral("start")}});
    if (r.status != 200) {
        qWarning("service start: %s", r.body.constData());
        return nullptr;
    }
    const QString package = node->agent.dir.filePath(QStringLiteral("pkg.ftpkg"));
    int code = 0;
    const QByteArray out = runTool(QStringLiteral("ftsandbox"),
                                   {QStringLiteral("make-package"), QStringLiteral("--version"), kTarget,
                                    QStringLiteral("--component"), QStringLiteral("server"),
                                    QStringLiteral("--mode"), mode, QStringLiteral("--slow-seconds"),
                                    QString::number(slowSeconds), QStringLiteral("-o"), package},
                                   &code);
    if (code != 0) {
        qWarning("make-package: %s", out.constData());
        return nullptr;
    }
    node->files.data = readAll(package);
    node->files.listen();
    r = node->client.post(QStringLiteral("/v1/stage"),
                          {{QStringLiteral("url"), node->files.url(QStringLiteral("server.ftpkg"))},
                           {QStringLiteral("sha256"), QString::fromLatin1(sha256Hex(node->files.data))},
                           {QStringLiteral("size"), node->files.data.size()},
                           {QStringLiteral("name"), QStringLiteral("server-%1.ftpkg").arg(mode)}});
    const QJsonObject staged = node->client.waitForJob(r.json.value(QStringLiteral("job")).toString());
    if (staged.value(QStringLiteral("state")).toString() != QLatin1String("succeeded")) {
        qWarning("staging: %s", QJsonDocument(staged).toJson().constData());
        return nullptr;
    }
    return node;
}

void TestAgentJobs::upgradeEachPackageMode_data()
{
    QTest::addColumn<QString>("mode");
    QTest::addColumn<int>("timeoutSeconds");
    QTest::addColumn<QString>("state");
    QTest::addColumn<QVariant>("exitCode");       // null: no exit code (killed)
    QTest::addColumn<QString>("versionAfter");
    QTest::addColumn<bool>("rebootRequested");
    QTest::addColumn<bool>("rebootNeeded");
    QTest::addColumn<QVariant>("serviceRestored"); // null: not a failure
    QTest::addColumn<QString>("errorPattern");

    QTest::newRow("normal") << "normal" << 60 << "succeeded" << QVariant(0) << kTarget << false << false
                            << QVariant() << QString();
    QTest::newRow("slow") << "slow" << 60 << "succeeded" << QVariant(0) << kTarget << false << false
                          << QVariant() << QString();
    QTest::newRow("fail") << "fail" << 60 << "failed" << QVariant(1603) << kBefore << false << false
                          << QVariant(true) << QStringLiteral("exit code 1603.*started again on version 6.2.1-1200");
    QTest::newRow("hang") << "hang" << 2 << "failed" << QVariant() << kBefore << false << false
                          << QVariant(true) << QStringLiteral("did not finish within 2 s.*started again");
    QTest::newRow("reboot") << "reboot" << 60 << "succeeded" << QVariant(3010) << kTarget << true << false
                            << QVariant() << QString();
    QTest::newRow("reboot-needed") << "reboot-needed" << 60 << "succeeded" << QVariant(3010) << kBefore << true
                                   << true << QVariant() << QString();
}

void TestAgentJobs::upgradeEachPackageMode()
{
    QFETCH(QString, mode);
    QFETCH(int, timeoutSeconds);
    QFETCH(QString, state);
    QFETCH(QVariant, exitCode);
    QFETCH(QString, versionAfter);
    QFETCH(bool, rebootRequested);
    QFETCH(bool, rebootNeeded);
    QFETCH(QVariant, serviceRestored);
    QFETCH(QString, errorPattern);

    auto node = prepare(mode);
    QVERIFY(node);
    const QByteArray confBefore = readAll(QDir(node->agent.installDir).filePath(QStringLiteral("flowtraq.conf")));
    Response r = node->client.post(QStringLiteral("/v1/upgrade"),
                                   {{QStringLiteral("component"), QStringLiteral("server")},
                                    {QStringLiteral("package"), QStringLiteral("server-%1.ftpkg").arg(mode)},
                                    {QStringLiteral("timeout_seconds"), timeoutSeconds}});
    QCOMPARE(r.status, 202);
    const QString id = r.json.value(QStringLiteral("job")).toString();
    QStringList lines;
    QList<qint64> latencies;
    const QJsonObject job = node->client.waitForJob(id, nullptr, &lines, 60000, &latencies);
    if (!latencies.isEmpty()) {
        std::sort(latencies.begin(), latencies.end());
        qInfo("long poll: %lld lines pushed while waiting; latency median %lld ms, max %lld ms",
              qint64(latencies.size()), latencies.at(latencies.size() / 2), latencies.last());
    }

    QCOMPARE(job.value(QStringLiteral("state")).toString(), state);
    QCOMPARE(job.value(QStringLiteral("kind")).toString(), QStringLiteral("upgrade"));
    QCOMPARE(phaseNames(job), (QStringList{QStringLiteral("verifying"), QStringLiteral("stopping"),
                                           QStringLiteral("installing"), QStringLiteral("starting"),
                                           QStringLiteral("checking")}));
    if (state == QLatin1String("succeeded"))
        QCOMPARE(job.value(QStringLiteral("phase")).toString(), QStringLiteral("done"));
    if (exitCode.isNull())
        QVERIFY(job.value(QStringLiteral("exit_code")).isNull());
    else
        QCOMPARE(job.value(QStringLiteral("exit_code")).toInt(), exitCode.toInt());
    QCOMPARE(job.value(QStringLiteral("version_before")).toString(), kBefore);
    QCOMPARE(job.value(QStringLiteral("version_after")).toString(), versionAfter);
    QCOMPARE(node->agent.installedVersion(), versionAfter);
    QCOMPARE(job.value(QStringLiteral("reboot_requested")).toBool(), rebootRequested);
    QCOMPARE(job.value(QStringLiteral("reboot_needed")).toBool(), rebootNeeded);
    if (serviceRestored.isNull())
        QVERIFY(job.value(QStringLiteral("service_restored")).isNull());
    else
        QCOMPARE(job.value(QStringLiteral("service_restored")).toBool(), serviceRestored.toBool());
    const QString error = job.value(QStringLiteral("error")).toString();
    if (errorPattern.isEmpty())
        QVERIFY2(error.isEmpty(), qPrintable(error));
    else
        QVERIFY2(error.contains(QRegularExpression(errorPattern)), qPrintable(error));

    // Every line the installer printed is in the job's log, numbered without gaps.
    const Response full = node->client.get(QStringLiteral("/v1/jobs/%1").arg(id));
    const QJsonArray log = full.json.value(QStringLiteral("log")).toArray();
    QCOMPARE(log.size(), lines.size());
    int installerLines = 0;
    for (int i = 0; i < log.size(); ++i) {
        const QJsonObject line = log.at(i).toObject();
        QCOMPARE(line.value(QStringLiteral("n")).toInt(), i);
        if (line.value(QStringLiteral("stream")).toString() != QLatin1String("agent"))
            ++installerLines;
    }
    QVERIFY2(installerLines >= 1, qPrintable(lines.join(QLatin1Char('\n'))));
    if (mode == QLatin1String("slow"))
        QVERIFY(installerLines >= 2);
    if (mode == QLatin1String("fail")) {
        QVERIFY(std::any_of(log.begin(), log.end(), [](const QJsonValue &v) {
            return v.toObject().value(QStringLiteral("stream")).toString() == QLatin1String("stderr")
                   && v.toObject().value(QStringLiteral("line")).toString().startsWith(QLatin1String("error:"));
        }));
    }

    // Whatever happened, the service runs again and the configuration is untouched.
    r = node->client.get(QStringLiteral("/v1/node"));
    QCOMPARE(r.json.value(QStringLiteral("service")).toObject().value(QStringLiteral("state")).toString(),
             QStringLiteral("running"));
    QCOMPARE(r.json.value(QStringLiteral("busy")).toBool(), false);
    QCOMPARE(readAll(QDir(node->agent.installDir).filePath(QStringLiteral("flowtraq.conf"))), confBefore);
}

void TestAgentJobs::secondUpgradeWhileOneRunsIsRefused()
{
    auto node = prepare(QStringLiteral("slow"), 3);
    QVERIFY(node);
    const QJsonObject upgrade{{QStringLiteral("component"), QStringLiteral("server")},
                              {QStringLiteral("package"), QStringLiteral("server-slow.ftpkg")}};
    Response r = node->client.post(QStringLiteral("/v1/upgrade"), upgrade);
    QCOMPARE(r.status, 202);
    const QString id = r.json.value(QStringLiteral("job")).toString();

    r = node->client.post(QStringLiteral("/v1/upgrade"), upgrade);
    QCOMPARE(r.status, 409);
    r = node->client.post(QStringLiteral("/v1/service"), {{QStringLiteral("action"), QStringLiteral("start")}});
    QCOMPARE(r.status, 409);
    r = node->client.get(QStringLiteral("/v1/node"));
    QCOMPARE(r.json.value(QStringLiteral("busy")).toBool(), true);

    // Between stopping and starting the service, cancel is refused.
    QTRY_COMPARE_WITH_TIMEOUT(node->client.get(QStringLiteral("/v1/jobs/%1").arg(id)).json.value(QStringLiteral("phase")).toString(),
                              QStringLiteral("installing"), 20000);
    r = node->client.request("POST", QStringLiteral("/v1/jobs/%1/cancel").arg(id));
    QCOMPARE(r.status, 409);
    QVERIFY(r.json.value(QStringLiteral("error")).toString().contains(QStringLiteral("installing")));

    const QJsonObject job = node->client.waitForJob(id);
    QCOMPARE(job.value(QStringLiteral("state")).toString(), QStringLiteral("succeeded"));
    // After it finished, a new upgrade is accepted again (and refused by version, not by 409).
    const Response jobs = node->client.get(QStringLiteral("/v1/jobs"));
    QCOMPARE(jobs.json.value(QStringLiteral("jobs")).toArray().first().toObject().value(QStringLiteral("id")).toString(), id);
}

void TestAgentJobs::callerDisconnectsMidJob()
{
    auto node = prepare(QStringLiteral("slow"), 3);
    QVERIFY(node);
    Response r = node->client.post(QStringLiteral("/v1/upgrade"),
                                   {{QStringLiteral("component"), QStringLiteral("server")},
                                    {QStringLiteral("package"), QStringLiteral("server-slow.ftpkg")}});
    QCOMPARE(r.status, 202);
    const QString id = r.json.value(QStringLiteral("job")).toString();

    // A raw long poll, then the caller vanishes while the agent holds the answer.
    QSslSocket socket;
    connect(&socket, &QSslSocket::sslErrors, &socket, [&socket](const QList<QSslError> &errors) {
        socket.ignoreSslErrors(errors); // the hang-up is what matters here
    });
    socket.connectToHostEncrypted(QStringLiteral("127.0.0.1"), quint16(node->agent.url.port()));
    QVERIFY(socket.waitForEncrypted(10000));
    socket.write("GET /v1/jobs/" + id.toLatin1() + "?since=100000&wait=30000 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 "Authorization: Bearer " + node->agent.token + "\r\n\r\n");
    QVERIFY(socket.waitForBytesWritten(5000));
    QTest::qWait(300);
    socket.abort();

    QStringList lines;
    const QJsonObject job = node->client.waitForJob(id, nullptr, &lines);
    QCOMPARE(job.value(QStringLiteral("state")).toString(), QStringLiteral("succeeded"));
    QCOMPARE(job.value(QStringLiteral("version_after")).toString(), kTarget);
    QVERIFY(lines.size() >= 5);
    QCOMPARE(node->client.request("GET", QStringLiteral("/v1/health"), {}, {}, false).status, 200);
}

void TestAgentJobs::agentRestartMidJobReportsInterrupted()
{
    auto node = prepare(QStringLiteral("slow"), 10);
    QVERIFY(node);
    Response r = node->client.post(QStringLiteral("/v1/upgrade"),
                                   {{QStringLiteral("component"), QStringLiteral("server")},
                                    {QStringLiteral("package"), QStringLiteral("server-slow.ftpkg")}});
    QCOMPARE(r.status, 202);
    const QString id = r.json.value(QStringLiteral("job")).toString();
    QTRY_COMPARE_WITH_TIMEOUT(node->client.get(QStringLiteral("/v1/jobs/%1").arg(id)).json.value(QStringLiteral("phase")).toString(),
                              QStringLiteral("installing"), 20000);

    node->agent.stop();
    const QString restarted = node->agent.start();
    QVERIFY2(restarted.isEmpty(), qPrintable(restarted));
    node->client.bind(node->agent);

    // Answered at once (no waiting on a job that no longer runs), never as running.
    r = node->client.get(QStringLiteral("/v1/jobs/%1?since=0&wait=20000").arg(id));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json.value(QStringLiteral("state")).toString(), QStringLiteral("interrupted"));
    QCOMPARE(r.json.value(QStringLiteral("phase")).toString(), QStringLiteral("installing"));
    QVERIFY(r.json.value(QStringLiteral("error")).toString().contains(QStringLiteral("restarted")));
    QVERIFY(!r.json.value(QStringLiteral("finished")).isNull());
    QCOMPARE(r.json.value(QStringLiteral("version_before")).toString(), kBefore);
    const QJsonArray log = r.json.value(QStringLiteral("log")).toArray();
    QVERIFY(log.size() >= 3); // the lines from before the restart survived
    r = node->client.get(QStringLiteral("/v1/node"));
    QCOMPARE(r.json.value(QStringLiteral("busy")).toBool(), false);
    // The installation is either the old or the new version, never a mix.
    const QString version = node->agent.installedVersion();
    QVERIFY2(version == kBefore || version == kTarget, qPrintable(version));
}

QTEST_GUILESS_MAIN(TestAgentJobs)
#include "tst_agentjobs.moc"

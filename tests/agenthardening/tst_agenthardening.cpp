// Fault tests of the agent with real processes: a symlinked folder in the Web UI,
// stalled and surplus connections, unknown query parameters on POST, a disk that fills
// up while staging, a SIGKILL mid-install followed by a restart, and old job files.

#include "agentharness.h"

#include <QDirIterator>
#include <QSettings>
#include <QStandardPaths>

#include <sys/statvfs.h>
#include <unistd.h>

using namespace agenttest;

namespace {

const QString kTarget = QStringLiteral("6.3.0-1500");

// The limits this test runs its agent with (short, so the test is quick).
constexpr int kHandshakeMs = 1500;
constexpr int kHeaderMs = 1500;
constexpr int kBodyMs = 1500;
constexpr int kIdleMs = 4000;
constexpr int kPerAddress = 8;

void writeLimits(const QString &configFile)
{
    QSettings ini(configFile, QSettings::IniFormat);
    ini.setValue(QStringLiteral("connections/handshake_timeout_ms"), kHandshakeMs);
    ini.setValue(QStringLiteral("connections/header_timeout_ms"), kHeaderMs);
    ini.setValue(QStringLiteral("connections/body_timeout_ms"), kBodyMs);
    ini.setValue(QStringLiteral("connections/idle_timeout_ms"), kIdleMs);
    ini.setValue(QStringLiteral("connections/per_address"), kPerAddress);
}

// A TLS connection to the agent that trusts its certificate; waits for the handshake.
std::unique_ptr<QSslSocket> openTls(const Agent &agent)
{
    auto socket = std::make_unique<QSslSocket>();
    socket->setPeerVerifyMode(QSslSocket::VerifyNone);
    socket->connectToHostEncrypted(agent.url.host(), quint16(agent.url.port()));
    if (!socket->waitForEncrypted(10000))
        return nullptr;
    return socket;
}

bool closedWithin(QAbstractSocket &socket, int ms)
{
    QElapsedTimer timer;
    timer.start();
    while (socket.state() != QAbstractSocket::UnconnectedState && timer.elapsed() < ms) {
        socket.waitForReadyRead(100);
        socket.readAll();
    }
    return socket.state() == QAbstractSocket::UnconnectedState;
}

QString makePackage(const QString &dir, const QString &mode, int slowSeconds, int padBytes = 0)
{
    const QString path = QDir(dir).filePath(QStringLiteral("%1.ftpkg").arg(mode));
    int code = 0;
    QStringList arguments{QStringLiteral("make-package"), QStringLiteral("--version"), kTarget,
                          QStringLiteral("--component"), QStringLiteral("server"), QStringLiteral("--mode"), mode,
                          QStringLiteral("--slow-seconds"), QString::number(slowSeconds), QStringLiteral("-o"), path};
    if (padBytes > 0)
        arguments << QStringLiteral("--pad-bytes") << QString::number(padBytes);
    const QByteArray out = runTool(QStringLiteral("ftsandbox"), arguments, &code);
    if (code != 0)
        qWarning("make-package: %s", out.constData());
    return code == 0 ? path : QString();
}

// Serves one file over HTTP, holding back all but the first `first` bytes until
// release() is called (so a test can fill the disk in between).
class GatedServer : public QObject
{
public:
    QByteArray data;
    qint64 first = 0;

    bool listen() // outside the ephemeral range (serviceports.h)
    {
        return ft::test::portOutsideEphemeralRange(
                   [this](quint16 port) { return m_server.listen(QHostAddress::LocalHost, port); })
               != 0;
    }
    QString url() const { return QStringLiteral("http://127.0.0.1:%1/pkg.ftpkg").arg(m_server.serverPort()); }
    bool requested() const { return !m_socket.isNull(); }
    void release()
    {
        if (m_socket) {
            m_socket->write(data.mid(first));
            m_socket->disconnectFromHost();
        }
    }

    GatedServer()
    {
        QObject::connect(&m_server, &QTcpServer::newConnection, this, [this] {
            QTcpSocket *socket = m_server.nextPendingConnection();
            QObject::connect(socket, &QTcpSocket::readyRead, socket, [this, socket] {
                m_buffer += socket->readAll();
                if (!m_buffer.contains("\r\n\r\n") || m_socket)
                    return;
                m_socket = socket;
                socket->write("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: "
                              + QByteArray::number(data.size()) + "\r\nConnection: close\r\n\r\n");
                socket->write(data.left(first));
            });
        });
    }

private:
    QTcpServer m_server;
    QPointer<QTcpSocket> m_socket;
    QByteArray m_buffer;
};

} // namespace

class TestAgentHardening : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();

    void symlinkedFolderIsRefused_data();
    void symlinkedFolderIsRefused();
    void unknownQueryParametersOnPostAreRefused_data();
    void unknownQueryParametersOnPostAreRefused();
    void stalledConnectionsAreClosed();
    void connectionsPerAddressAreCapped();
    void diskFullWhileStagingNamesTheCause();
    void killedMidInstallSaysTheServiceIsStopped();
    void oldJobFilesArePruned();

private:
    Agent m_agent;
    Client m_client;
};

void TestAgentHardening::initTestCase()
{
    const QString error = m_agent.setUp();
    QVERIFY2(error.isEmpty(), qPrintable(error));
    writeLimits(m_agent.configFile);
    const QString started = m_agent.start();
    QVERIFY2(started.isEmpty(), qPrintable(started));
    m_client.bind(m_agent);
}

void TestAgentHardening::cleanupTestCase()
{
    m_agent.stop();
    m_agent.stopDaemon();
}

void TestAgentHardening::symlinkedFolderIsRefused_data()
{
    QTest::addColumn<QString>("link");   // made under webui/
    QTest::addColumn<QString>("target");
    QTest::addColumn<QString>("path");   // asked for
    QTest::newRow("folder to /etc") << QStringLiteral("evil-dir") << QStringLiteral("/etc") << QStringLiteral("evil-dir/passwd");
    QTest::newRow("nested folder to /etc") << QStringLiteral("css/evil") << QStringLiteral("/etc") << QStringLiteral("css/evil/passwd");
    QTest::newRow("folder to the install") << QStringLiteral("up") << QStringLiteral("..") << QStringLiteral("up/flowtraq.conf");
    QTest::newRow("file to /etc/passwd") << QStringLiteral("passwd.txt") << QStringLiteral("/etc/passwd") << QStringLiteral("passwd.txt");
}

void TestAgentHardening::symlinkedFolderIsRefused()
{
    QFETCH(QString, link);
    QFETCH(QString, target);
    QFETCH(QString, path);
    const QString webui = QDir(m_agent.installDir).filePath(QStringLiteral("webui"));
    QDir(webui).mkpath(QFileInfo(QDir(webui).filePath(link)).path());
    QVERIFY(QFile::link(target, QDir(webui).filePath(link)));
    const Response r = m_client.get(QStringLiteral("/v1/webui/file?path=%1&which=current").arg(path));
    QFile::remove(QDir(webui).filePath(link));
    QCOMPARE(r.status, 404);
    QVERIFY2(!r.body.contains("root:"), r.body.constData());
    QVERIFY(!r.json.value(QStringLiteral("error")).toString().isEmpty());
    // A plain file is still served.
    QDirIterator files(webui, QDir::Files, QDirIterator::Subdirectories);
    const QString plain = QDir(webui).relativeFilePath(files.next());
    QCOMPARE(m_client.get(QStringLiteral("/v1/webui/file?path=%1").arg(plain)).status, 200);
}

void TestAgentHardening::unknownQueryParametersOnPostAreRefused_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<QByteArray>("body");
    const QByteArray stage = QJsonDocument(QJsonObject{{QStringLiteral("url"), QStringLiteral("http://127.0.0.1:9/x.ftpkg")},
                                                       {QStringLiteral("sha256"), QString(64, QLatin1Char('0'))},
                                                       {QStringLiteral("size"), 1000},
                                                       {QStringLiteral("name"), QStringLiteral("x.ftpkg")}})
                                 .toJson(QJsonDocument::Compact);
    QTest::newRow("stage?debug=1") << QStringLiteral("/v1/stage?debug=1") << stage;
    QTest::newRow("service?force=1") << QStringLiteral("/v1/service?force=1") << QByteArray(R"({"action":"stop"})");
    QTest::newRow("upgrade?dry") << QStringLiteral("/v1/upgrade?dry") << QByteArray(R"({"component":"server","package":"x.ftpkg"})");
    QTest::newRow("cancel?now=1") << QStringLiteral("/v1/jobs/20261127-080000-abcdef/cancel?now=1") << QByteArray();
}

void TestAgentHardening::unknownQueryParametersOnPostAreRefused()
{
    QFETCH(QString, path);
    QFETCH(QByteArray, body);
    // The service runs, so a stop that got through would show.
    QCOMPARE(m_client.post(QStringLiteral("/v1/service"), {{QStringLiteral("action"), QStringLiteral("start")}}).status, 200);
    const int jobsBefore = int(m_client.get(QStringLiteral("/v1/jobs")).json.value(QStringLiteral("jobs")).toArray().size());
    const Response r = m_client.request("POST", path, body, {{"Content-Type", "application/json"}});
    QCOMPARE(r.status, 400);
    QVERIFY2(r.json.value(QStringLiteral("error")).toString().contains(QStringLiteral("Unknown query parameter")),
             r.body.constData());
    QCOMPARE(int(m_client.get(QStringLiteral("/v1/jobs")).json.value(QStringLiteral("jobs")).toArray().size()), jobsBefore);
    QCOMPARE(m_client.get(QStringLiteral("/v1/node")).json.value(QStringLiteral("service")).toObject()
                 .value(QStringLiteral("state")).toString(),
             QStringLiteral("running"));
}

// Four kinds of stalled client at once; each is cut after its time-out while health
// still answers.
void TestAgentHardening::stalledConnectionsAreClosed()
{
    m_client.nam.clearConnectionCache();
    // 1. TCP only: never starts the TLS handshake.
    QTcpSocket noHandshake;
    noHandshake.connectToHost(m_agent.url.host(), quint16(m_agent.url.port()));
    QVERIFY(noHandshake.waitForConnected(5000));
    // 2. Connected, nothing sent.
    auto silent = openTls(m_agent);
    QVERIFY(silent);
    // 3. Stops in the middle of its headers.
    auto midHeaders = openTls(m_agent);
    QVERIFY(midHeaders);
    midHeaders->write("GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
    // 4. Promises a body that never comes.
    auto noBody = openTls(m_agent);
    QVERIFY(noBody);
    noBody->write("POST /v1/stage HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + m_agent.token
                  + "\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"url\":");
    // 5. Idle after a complete request and its answer (keep-alive).
    auto idle = openTls(m_agent);
    QVERIFY(idle);
    idle->write("GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    QVERIFY(idle->waitForReadyRead(5000));
    QVERIFY(idle->readAll().startsWith("HTTP/1.1 200"));
    for (QAbstractSocket *s : {static_cast<QAbstractSocket *>(&noHandshake), static_cast<QAbstractSocket *>(silent.get()),
                               static_cast<QAbstractSocket *>(midHeaders.get()), static_cast<QAbstractSocket *>(noBody.get())})
        s->flush();

    QElapsedTimer timer;
    timer.start();
    // While they stall, the agent answers others.
    const Response health = m_client.request("GET", QStringLiteral("/v1/health"), {}, {}, false);
    QCOMPARE(health.status, 200);
    QVERIFY2(timer.elapsed() < kHeaderMs, "health answered only after the time-outs");
    QCOMPARE(midHeaders->state(), QAbstractSocket::ConnectedState);
    QCOMPARE(noBody->state(), QAbstractSocket::ConnectedState);

    const int slack = 3000;
    QVERIFY2(closedWithin(noHandshake, kHandshakeMs + slack), "a connection without TLS handshake stayed open");
    QVERIFY2(closedWithin(*silent, kHeaderMs + slack), "a silent connection stayed open");
    QVERIFY2(closedWithin(*midHeaders, kHeaderMs + slack), "a connection stalled mid-headers stayed open");
    QVERIFY2(closedWithin(*noBody, kBodyMs + slack), "a connection that never sent its body stayed open");
    QVERIFY2(closedWithin(*idle, kIdleMs + slack), "an idle kept-alive connection stayed open");
    // No job came of the half request, and the agent still answers.
    QCOMPARE(m_client.request("GET", QStringLiteral("/v1/health"), {}, {}, false).status, 200);
    QString log = QString::fromUtf8(readAll(m_agent.dir.filePath(QStringLiteral("agent-stderr.txt"))));
    QVERIFY2(log.contains(QStringLiteral("did not arrive within")), qPrintable(log.right(2000)));
}

void TestAgentHardening::connectionsPerAddressAreCapped()
{
    m_client.nam.clearConnectionCache();
    QTest::qWait(300); // the cache's connections are closed on the agent's side too
    std::vector<std::unique_ptr<QSslSocket>> open;
    for (int i = 0; i < kPerAddress; ++i) {
        auto socket = openTls(m_agent);
        QVERIFY2(socket, qPrintable(QStringLiteral("connection %1 of %2 failed; the agent's log ends: %3")
                                        .arg(i + 1).arg(kPerAddress)
                                        .arg(QString::fromUtf8(readAll(m_agent.dir.filePath(QStringLiteral("agent-stderr.txt"))).right(6000)))));
        open.push_back(std::move(socket));
    }
    // One more from the same address is closed at once, before any handshake.
    QSslSocket surplus;
    surplus.setPeerVerifyMode(QSslSocket::VerifyNone);
    surplus.connectToHostEncrypted(m_agent.url.host(), quint16(m_agent.url.port()));
    QVERIFY(!surplus.waitForEncrypted(3000));
    QVERIFY(closedWithin(surplus, 1000));
    // The ones within the cap still work.
    open.front()->write("GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    QVERIFY(open.front()->waitForReadyRead(5000));
    QVERIFY(open.front()->readAll().startsWith("HTTP/1.1 200"));
    // Closing them frees the places.
    for (auto &socket : open)
        socket->abort();
    open.clear();
    QTRY_COMPARE_WITH_TIMEOUT(m_client.request("GET", QStringLiteral("/v1/health"), {}, {}, false).status, 200, 5000);
}

// The staging folder is a 24 MiB tmpfs in the agent's own mount namespace; once the
// free-space check has passed, the test fills it (through /proc/PID/root) and lets the
// rest of the download come.
void TestAgentHardening::diskFullWhileStagingNamesTheCause()
{
    if (::geteuid() != 0 || QStandardPaths::findExecutable(QStringLiteral("unshare")).isEmpty())
        QSKIP("needs root and unshare(1) to mount a small tmpfs in a private mount namespace");
    {
        QProcess probe;
        probe.start(QStringLiteral("unshare"), {QStringLiteral("-m"), QStringLiteral("true")});
        if (!probe.waitForFinished(10000) || probe.exitCode() != 0)
            QSKIP("unshare -m is not permitted here (no CAP_SYS_ADMIN)");
    }
    Agent agent;
    QVERIFY(agent.setUp().isEmpty());
    QDir().mkpath(agent.stagingDir);
    // The agent, in a private mount namespace with the staging folder on a tmpfs.
    QProcess process;
    process.setProcessChannelMode(QProcess::SeparateChannels);
    process.setStandardErrorFile(agent.dir.filePath(QStringLiteral("agent-stderr.txt")));
    process.start(QStringLiteral("unshare"),
                  {QStringLiteral("-m"), QStringLiteral("--propagation"), QStringLiteral("private"), QStringLiteral("sh"),
                   QStringLiteral("-c"), QStringLiteral("mount -t tmpfs -o size=24m ftstaging \"$1\" && exec \"$2\" run --config \"$3\""),
                   QStringLiteral("sh"), agent.stagingDir, bin(QStringLiteral("ftupgrade-agent")), agent.configFile});
    QByteArray out;
    QElapsedTimer timer;
    timer.start();
    while (!out.contains("listening: ") && timer.elapsed() < 15000 && process.state() != QProcess::NotRunning) {
        process.waitForReadyRead(200);
        out += process.readAllStandardOutput();
    }
    const qsizetype at = out.indexOf("listening: ");
    QVERIFY2(at >= 0, out.constData());
    agent.url = QUrl(QString::fromUtf8(out.mid(at + 11, out.indexOf('\n', at) - at - 11).trimmed()));
    Client client;
    client.bind(agent);
    const QString staging = QStringLiteral("/proc/%1/root%2").arg(process.processId()).arg(agent.stagingDir);

    GatedServer files;
    files.data = readAll(makePackage(agent.dir.path(), QStringLiteral("normal"), 0, 4 * 1024 * 1024));
    QVERIFY(files.data.size() > 4 * 1024 * 1024);
    files.first = 512 * 1024;
    QVERIFY(files.listen());
    Response r = client.post(QStringLiteral("/v1/stage"),
                             {{QStringLiteral("url"), files.url()},
                              {QStringLiteral("sha256"), QString::fromLatin1(sha256Hex(files.data))},
                              {QStringLiteral("size"), files.data.size()},
                              {QStringLiteral("name"), QStringLiteral("server.ftpkg")}});
    QCOMPARE(r.status, 202);
    const QString id = r.json.value(QStringLiteral("job")).toString();
    QTRY_VERIFY_WITH_TIMEOUT(files.requested(), 10000);
    // The first part is on the tmpfs before the test fills it.
    QTRY_COMPARE_WITH_TIMEOUT(client.get(QStringLiteral("/v1/jobs/%1").arg(id)).json.value(QStringLiteral("bytes_done")).toInteger(),
                              files.first, 10000);
    // Fill the tmpfs up to its last 12 KiB: the agent's next write then goes in part,
    // and only the write after it fails (ENOSPC): the case that lost the reason.
    {
        QFile filler(staging + QStringLiteral("/filler"));
        QVERIFY2(filler.open(QIODevice::WriteOnly | QIODevice::Unbuffered), qPrintable(filler.errorString()));
        const qint64 keep = 12 * 1024;
        const auto available = [&staging] {
            struct statvfs fs {};
            return ::statvfs(QFile::encodeName(staging).constData(), &fs) == 0 ? qint64(fs.f_bavail) * qint64(fs.f_frsize) : -1;
        };
        qint64 left = available() - keep;
        qInfo("free before filling: %lld bytes", available());
        const QByteArray block(64 * 1024, 'x');
        while (left > 0) {
            const qint64 n = filler.write(block.constData(), qMin<qint64>(left, block.size()));
            QVERIFY2(n > 0, qPrintable(filler.errorString()));
            left -= n;
        }
        filler.close();
        qInfo("free on the staging tmpfs: %lld bytes", available());
    }
    files.release();
    const QJsonObject job = client.waitForJob(id);
    QCOMPARE(job.value(QStringLiteral("state")).toString(), QStringLiteral("failed"));
    const QString error = job.value(QStringLiteral("error")).toString();
    qInfo("job error: %s", qPrintable(error));
    QVERIFY2(error.contains(QStringLiteral("No space left on device")), qPrintable(error));
    QVERIFY2(!error.contains(QStringLiteral("Unknown error")), qPrintable(error));
    // Nothing left behind but the test's own filler.
    QDirIterator left(staging, QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot, QDirIterator::Subdirectories);
    QStringList files_;
    while (left.hasNext())
        files_ << QFileInfo(left.next()).fileName();
    QCOMPARE(files_, QStringList{QStringLiteral("filler")});
    process.terminate();
    process.waitForFinished(10000);
}

// SIGKILL during the installer, then a restart: the job says the service is stopped and
// what each choice does; the node reports it stopped too.
void TestAgentHardening::killedMidInstallSaysTheServiceIsStopped()
{
    Agent agent;
    QVERIFY(agent.setUp().isEmpty());
    QVERIFY(agent.start().isEmpty());
    Client client;
    client.bind(agent);
    QCOMPARE(client.post(QStringLiteral("/v1/service"), {{QStringLiteral("action"), QStringLiteral("start")}}).status, 200);
    FileServer files;
    files.data = readAll(makePackage(agent.dir.path(), QStringLiteral("slow"), 30));
    QVERIFY(files.listen());
    Response r = client.post(QStringLiteral("/v1/stage"),
                             {{QStringLiteral("url"), files.url(QStringLiteral("server.ftpkg"))},
                              {QStringLiteral("sha256"), QString::fromLatin1(sha256Hex(files.data))},
                              {QStringLiteral("size"), files.data.size()},
                              {QStringLiteral("name"), QStringLiteral("server-slow.ftpkg")}});
    QCOMPARE(client.waitForJob(r.json.value(QStringLiteral("job")).toString()).value(QStringLiteral("state")).toString(),
             QStringLiteral("succeeded"));
    r = client.post(QStringLiteral("/v1/upgrade"), {{QStringLiteral("component"), QStringLiteral("server")},
                                                    {QStringLiteral("package"), QStringLiteral("server-slow.ftpkg")}});
    QCOMPARE(r.status, 202);
    const QString id = r.json.value(QStringLiteral("job")).toString();
    QTRY_COMPARE_WITH_TIMEOUT(client.get(QStringLiteral("/v1/jobs/%1").arg(id)).json.value(QStringLiteral("phase")).toString(),
                              QStringLiteral("installing"), 20000);

    ::kill(pid_t(agent.process->processId()), SIGKILL);
    agent.process->waitForFinished(5000);
    QVERIFY(agent.start().isEmpty());
    client.bind(agent);
    client.nam.clearConnectionCache();

    const QString sentence = QStringLiteral("The FlowTraq service is stopped and the installer did not finish (the agent "
                                            "was restarted). Retry runs the installer again; Start service brings up what "
                                            "is installed.");
    QTRY_COMPARE_WITH_TIMEOUT(client.get(QStringLiteral("/v1/jobs/%1").arg(id)).json.value(QStringLiteral("error")).toString(),
                              sentence, 10000);
    const QJsonObject job = client.get(QStringLiteral("/v1/jobs/%1").arg(id)).json;
    QCOMPARE(job.value(QStringLiteral("state")).toString(), QStringLiteral("interrupted"));
    QCOMPARE(job.value(QStringLiteral("service_restored")).toVariant(), QVariant(false));
    QCOMPARE(client.get(QStringLiteral("/v1/node")).json.value(QStringLiteral("service")).toObject()
                 .value(QStringLiteral("state")).toString(),
             QStringLiteral("stopped"));
    // The orphaned installer may still run: let it end before the folder goes.
    QTest::qWait(500);
    agent.stop();
    agent.stopDaemon();
}

void TestAgentHardening::oldJobFilesArePruned()
{
    Agent agent;
    QVERIFY(agent.setUp().isEmpty());
    const QString jobs = QFileInfo(agent.configFile).dir().filePath(QStringLiteral("jobs"));
    QDir().mkpath(jobs);
    // 230 finished jobs from earlier runs, a day apart.
    const QDateTime base = QDateTime::currentDateTimeUtc().addDays(-300);
    for (int i = 0; i < 230; ++i) {
        const QDateTime created = base.addDays(i);
        const QString id = created.toString(QStringLiteral("yyyyMMdd-HHmmss-")) + QStringLiteral("%1").arg(i, 6, 16, QLatin1Char('0'));
        QFile file(QDir(jobs).filePath(id + QStringLiteral(".json")));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(QJsonDocument(QJsonObject{{QStringLiteral("id"), id},
                                             {QStringLiteral("kind"), QStringLiteral("stage")},
                                             {QStringLiteral("package"), QStringLiteral("x.ftpkg")},
                                             {QStringLiteral("state"), QStringLiteral("succeeded")},
                                             {QStringLiteral("phase"), QStringLiteral("done")},
                                             {QStringLiteral("created"), created.toString(Qt::ISODateWithMs)},
                                             {QStringLiteral("started"), created.toString(Qt::ISODateWithMs)},
                                             {QStringLiteral("finished"), created.toString(Qt::ISODateWithMs)}})
                       .toJson());
        file.close();
        QFile log(QDir(jobs).filePath(id + QStringLiteral(".log")));
        QVERIFY(log.open(QIODevice::WriteOnly));
        log.write("{\"n\":0,\"t\":\"" + created.toString(Qt::ISODateWithMs).toUtf8() + "\",\"line\":\"x\",\"stream\":\"agent\"}\n");
    }
    QVERIFY(agent.start().isEmpty());
    Client client;
    client.bind(agent);
    const Response r = client.get(QStringLiteral("/v1/jobs"));
    QCOMPARE(r.status, 200);
    const QJsonArray listed = r.json.value(QStringLiteral("jobs")).toArray();
    QCOMPARE(listed.size(), qsizetype(200));
    QCOMPARE(QDir(jobs).entryList({QStringLiteral("*.json")}, QDir::Files).size(), qsizetype(200));
    QCOMPARE(QDir(jobs).entryList({QStringLiteral("*.log")}, QDir::Files).size(), qsizetype(200));
    // The newest are the ones kept.
    const auto created = [&](const QJsonValue &job) {
        return QDateTime::fromString(job.toObject().value(QStringLiteral("created")).toString(), Qt::ISODate).toSecsSinceEpoch();
    };
    QCOMPARE(created(listed.first()), base.addDays(229).toSecsSinceEpoch());
    QCOMPARE(created(listed.last()), base.addDays(30).toSecsSinceEpoch());
}

QTEST_GUILESS_MAIN(TestAgentHardening)
#include "tst_agenthardening.moc"

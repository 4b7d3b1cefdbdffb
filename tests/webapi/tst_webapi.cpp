// The wizard's side of FlowTraq's Web API v3 (app/core/webapi) against the sandbox
// daemon's Web API (app/sandbox/server/webapiserver.*), a real HTTPS server on
// 127.0.0.1 with a self-signed certificate the job must pin.

#include "../agentapi/agentharness.h"
#include "serviceports.h"

#include "agentlink/agentclient.h"
#include "discover/discovery.h"
#include "verify/verification.h"
#include "webapi/webapiinfo.h"
#include "webapi/webapiinfojob.h"
#include "webapi/webapireading.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QSignalSpy>
#include <QSslCertificate>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <memory>

using namespace ft;

namespace {

QString bin(const QString &name) { return QStringLiteral(FT_BIN_DIR "/") + name; }

QJsonObject readJson(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? QJsonDocument::fromJson(file.readAll()).object() : QJsonObject();
}

} // namespace

class TestWebApi : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void findVersion_data();
    void findVersion();
    void settingsValidation();
    void basicAuth();
    void sessionKey();
    void badCredentials();
    void configuredKey();
    void unpinnedCertificateRefused();
    void reportsRunningVersionNotRegistered();
    void documentedErrorShapes();
    void runningVersionRule_data();
    void runningVersionRule();
    void discoveryNamesWebApiAsSource();
    void verifySaysRebootNeeded();
    void cliDiscoverShowsSources();

private:
    AgentEndpoint portalEndpoint() const;
    void setVersionFile(const QByteArray &version);
    agenttest::Agent m_agent;
    std::unique_ptr<WebApiInfoJob> runJob(const WebApiSettings &settings);
    WebApiSettings settings() const;

    QTemporaryDir m_dir;
    QString m_install;
    std::unique_ptr<QProcess> m_daemon;
    quint16 m_port = 0;
    QString m_fingerprint;
    QNetworkAccessManager m_network;
};

void TestWebApi::initTestCase()
{
    // A sandbox portal with its agent (ftsandbox init, ftupgrade-agent init).
    const QString setUp = m_agent.setUp();
    QVERIFY2(setUp.isEmpty(), qPrintable(setUp));
    m_install = m_agent.installDir;
    // The FlowTraq user of the portal's Web API.
    QFile conf(QDir(m_install).filePath(QStringLiteral("flowtraq.conf")));
    QVERIFY(conf.open(QIODevice::Append));
    // Its port outside the ephemeral range, as the sandbox picks its nodes' ports: one
    // from bind(0) can be handed to another test's socket under ctest -j2.
    const quint16 webApiPort = ft::test::freeServiceTcpPort();
    QVERIFY(webApiPort != 0);
    conf.write("\n[webapi]\nport=" + QByteArray::number(webApiPort) + "\nuser=analyst\npassword_sha256="
               + QCryptographicHash::hash("s3cret pass", QCryptographicHash::Sha256).toHex() + "\n");
    conf.close();

    m_daemon = std::make_unique<QProcess>();
    m_daemon->setProcessChannelMode(QProcess::ForwardedErrorChannel);
    m_daemon->start(bin(QStringLiteral("ftsandbox-server")), {QStringLiteral("--install"), m_install});
    QVERIFY(m_daemon->waitForStarted());
    const QString status = QDir(m_install).filePath(QStringLiteral("run/status.json"));
    QTRY_VERIFY_WITH_TIMEOUT(readJson(status).value(QStringLiteral("webapi_port")).toInt() > 0, 20000);
    m_port = quint16(readJson(status).value(QStringLiteral("webapi_port")).toInt());
    QCOMPARE(m_port, webApiPort);
    QFile cert(QDir(m_install).filePath(QStringLiteral("run/webapi.crt")));
    QVERIFY(cert.open(QIODevice::ReadOnly));
    m_fingerprint = QString::fromLatin1(QSslCertificate(cert.readAll()).digest(QCryptographicHash::Sha256).toHex());
    QCOMPARE(m_fingerprint.size(), 64);
    const QString agentStarted = m_agent.start();
    QVERIFY2(agentStarted.isEmpty(), qPrintable(agentStarted));
}

AgentEndpoint TestWebApi::portalEndpoint() const
{
    AgentEndpoint endpoint;
    endpoint.nodeName = QStringLiteral("portal");
    endpoint.url = m_agent.url;
    endpoint.fingerprint = QString::fromLatin1(m_agent.fingerprint);
    endpoint.token = QString::fromLatin1(m_agent.token);
    return endpoint;
}

void TestWebApi::setVersionFile(const QByteArray &version)
{
    QFile file(QDir(m_install).filePath(QStringLiteral("VERSION")));
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(version + "\n");
}

void TestWebApi::cleanupTestCase()
{
    if (m_daemon && m_daemon->state() != QProcess::NotRunning) {
        ::kill(pid_t(m_daemon->processId()), SIGTERM);
        if (!m_daemon->waitForFinished(10000))
            m_daemon->kill();
    }
}

WebApiSettings TestWebApi::settings() const
{
    WebApiSettings s;
    s.portal = QUrl(QStringLiteral("https://127.0.0.1:%1").arg(m_port));
    s.user = QStringLiteral("analyst");
    s.password = QStringLiteral("s3cret pass");
    s.fingerprint = m_fingerprint;
    return s;
}

std::unique_ptr<WebApiInfoJob> TestWebApi::runJob(const WebApiSettings &settings)
{
    auto job = std::make_unique<WebApiInfoJob>(settings);
    QSignalSpy spy(job.get(), &WebApiInfoJob::finished);
    job->start();
    // Never synchronously inside start().
    if (!spy.isEmpty())
        return nullptr;
    if (!spy.wait(15000))
        return nullptr;
    return job;
}

void TestWebApi::findVersion_data()
{
    QTest::addColumn<QByteArray>("info");
    QTest::addColumn<QString>("configured");
    QTest::addColumn<QString>("version");
    QTest::addColumn<QString>("key");
    QTest::newRow("plain version key") << QByteArray(R"({"hostname":"p","version":"18.12.1"})") << "" << "18.12.1" << "version";
    QTest::newRow("server_version over others") << QByteArray(R"({"apiversion":"3","gui_version":"x","server_version":"6.2.1-1200"})")
                                                << "" << "6.2.1-1200" << "server_version";
    QTest::newRow("nested") << QByteArray(R"({"server":{"name":"p","serverVersion":"FlowTraq 18.12.1 build 33"}})")
                            << "" << "18.12.1-33" << "server.serverVersion";
    QTest::newRow("exact version wins") << QByteArray(R"({"webui_version":"6.0.0","version":"6.2.1"})") << "" << "6.2.1" << "version";
    QTest::newRow("configured key") << QByteArray(R"({"version":"6.2.1","running":{"release":"6.2.2-7"}})")
                                    << "running.release" << "6.2.2-7" << "running.release";
    QTest::newRow("nothing version-like") << QByteArray(R"({"hostname":"p","uptime":12})") << "" << "" << "";
    QTest::newRow("configured key without version") << QByteArray(R"({"hostname":"p","version":"6.2.1"})") << "hostname" << "" << "";
    QTest::newRow("configured key missing") << QByteArray(R"({"version":"6.2.1"})") << "build" << "" << "";
}

void TestWebApi::findVersion()
{
    QFETCH(QByteArray, info);
    QFETCH(QString, configured);
    QFETCH(QString, version);
    QFETCH(QString, key);
    const auto found = findVersionInInfo(QJsonDocument::fromJson(info).object(), configured);
    if (version.isEmpty()) {
        QVERIFY(!found);
        // The sentence names the keys, so the administrator can pick one.
        QVERIFY2(found.error().contains(QLatin1String("hostname")) || found.error().contains(QLatin1String("version")),
                 qPrintable(found.error()));
        return;
    }
    QVERIFY2(found, found ? "" : qPrintable(found.error()));
    QCOMPARE(found->version, version);
    QCOMPARE(found->key, key);
    QCOMPARE(found->keyConfigured, !configured.isEmpty());
}

void TestWebApi::settingsValidation()
{
    WebApiSettings s = settings();
    QVERIFY(s.validate());
    s.portal = QUrl(QStringLiteral("http://127.0.0.1:1"));
    QVERIFY(!s.validate());
    s = settings();
    s.password.clear();
    QVERIFY(!s.validate());
    s = settings();
    s.fingerprint = QStringLiteral("abc");
    QVERIFY(!s.validate());
    // The keychain text round-trips and is the only place the password goes.
    const auto back = WebApiSettings::parseSecretText(settings().secretText());
    QVERIFY(back);
    QCOMPARE(back->first, QStringLiteral("analyst"));
    QCOMPARE(back->second, QStringLiteral("s3cret pass"));
    QCOMPARE(settings().keychainKey(), QStringLiteral("flowtraq-webapi:127.0.0.1:%1").arg(m_port));
}

void TestWebApi::basicAuth()
{
    auto job = runJob(settings());
    QVERIFY(job);
    QCOMPARE(job->error(), WebApiInfoJob::NoError);
    QCOMPARE(job->version().version, QStringLiteral("6.2.1-1200"));
    QCOMPARE(job->version().key, QStringLiteral("server_version"));
    QVERIFY(!job->version().keyConfigured);
    QCOMPARE(job->presentedFingerprint(), m_fingerprint);
}

void TestWebApi::sessionKey()
{
    WebApiSettings s = settings();
    s.useSessionKey = true;
    auto job = runJob(s);
    QVERIFY(job);
    QCOMPARE(job->error(), WebApiInfoJob::NoError);
    QCOMPARE(job->version().version, QStringLiteral("6.2.1-1200"));
}

void TestWebApi::badCredentials()
{
    WebApiSettings s = settings();
    s.password = QStringLiteral("wrong");
    auto job = runJob(s);
    QVERIFY(job);
    QCOMPARE(job->error(), WebApiInfoJob::BadCredentials);
    QVERIFY(job->errorString().contains(QLatin1String("analyst")));
    QVERIFY(!job->errorString().contains(QLatin1String("wrong")));
    s.useSessionKey = true;
    job = runJob(s);
    QVERIFY(job);
    QCOMPARE(job->error(), WebApiInfoJob::BadCredentials);
}

void TestWebApi::configuredKey()
{
    WebApiSettings s = settings();
    s.versionKey = QStringLiteral("hostname");
    auto job = runJob(s);
    QVERIFY(job);
    QCOMPARE(job->error(), WebApiInfoJob::NoVersion);
    QVERIFY(job->errorString().contains(QLatin1String("hostname")));
    QCOMPARE(job->info().value(QStringLiteral("hostname")).toString(), QStringLiteral("portal"));
    s.versionKey = QStringLiteral("server_version");
    job = runJob(s);
    QVERIFY(job);
    QCOMPARE(job->error(), WebApiInfoJob::NoError);
    QVERIFY(job->version().keyConfigured);
}

void TestWebApi::unpinnedCertificateRefused()
{
    WebApiSettings s = settings();
    s.fingerprint.clear();
    auto job = runJob(s);
    QVERIFY(job);
    QCOMPARE(job->error(), WebApiInfoJob::CertificateProblem);
    QVERIFY(job->errorString().contains(m_fingerprint));
    s.fingerprint = QString(64, QLatin1Char('a'));
    job = runJob(s);
    QVERIFY(job);
    QCOMPARE(job->error(), WebApiInfoJob::CertificateProblem);
}

void TestWebApi::reportsRunningVersionNotRegistered()
{
    // An installer registered a new version, the daemon was not restarted: FlowTraq
    // still reports the old one (the vendor's "reboot needed" case).
    QFile version(QDir(m_install).filePath(QStringLiteral("VERSION")));
    QVERIFY(version.open(QIODevice::WriteOnly));
    version.write("6.3.0-1500\n");
    version.close();
    auto job = runJob(settings());
    QVERIFY(job);
    QCOMPARE(job->version().version, QStringLiteral("6.2.1-1200"));
    QVERIFY(version.open(QIODevice::WriteOnly));
    version.write("6.2.1-1200\n");
}

void TestWebApi::documentedErrorShapes()
{
    // 404 for something not set, with {"message"}; 403 without credentials.
    auto fetch = [this](const QString &path, bool auth) {
        QNetworkRequest request(QUrl(QStringLiteral("https://127.0.0.1:%1%2").arg(m_port).arg(path)));
        if (auth)
            request.setRawHeader("Authorization", "Basic " + QByteArray("analyst:s3cret pass").toBase64());
        QNetworkReply *reply = m_network.get(request);
        reply->ignoreSslErrors();
        QSignalSpy spy(reply, &QNetworkReply::finished);
        spy.wait(10000);
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        const QJsonObject body = QJsonDocument::fromJson(reply->readAll()).object();
        reply->deleteLater();
        return std::pair{status, body};
    };
    auto [status, body] = fetch(QStringLiteral("/flowtraq/api/v3/nosuchthing"), true);
    QCOMPARE(status, 404);
    QVERIFY(!body.value(QStringLiteral("message")).toString().isEmpty());
    std::tie(status, body) = fetch(QStringLiteral("/flowtraq/api/v3/info"), false);
    QCOMPARE(status, 403);
    QVERIFY(!body.value(QStringLiteral("message")).toString().isEmpty());
    std::tie(status, body) = fetch(QStringLiteral("/flowtraq/api/v3/info"), true);
    QCOMPARE(status, 200);
    QCOMPARE(body.keys().first(), QStringLiteral("info"));
}

void TestWebApi::runningVersionRule_data()
{
    QTest::addColumn<QString>("now");
    QTest::addColumn<QString>("reported");
    QTest::addColumn<int>("verdict");
    QTest::newRow("registered and running") << "6.3.0-1500" << "6.3.0-1500" << int(Verdict::Upgraded);
    QTest::newRow("registered, old one runs") << "6.3.0-1500" << "6.2.1-1200" << int(Verdict::RebootNeeded);
    QTest::newRow("not registered") << "6.2.1-1200" << "6.2.1-1200" << int(Verdict::Failed);
    QTest::newRow("web api not read") << "6.3.0-1500" << "" << int(Verdict::Upgraded);
}

void TestWebApi::runningVersionRule()
{
    QFETCH(QString, now);
    QFETCH(QString, reported);
    QFETCH(int, verdict);
    VerificationCell cell;
    cell.role = NodeRole::Portal;
    cell.target = QStringLiteral("6.3.0-1500");
    cell.versionNow = now;
    cell.verdict = now == cell.target ? Verdict::Upgraded : Verdict::Failed;
    applyRunningVersion(cell, reported, QStringLiteral("refused"));
    QCOMPARE(int(cell.verdict), verdict);
    if (verdict == int(Verdict::RebootNeeded))
        QVERIFY(cell.sentence.contains(reported));
}

void TestWebApi::discoveryNamesWebApiAsSource()
{
    // The installer registered 6.3.0 (VERSION), the running daemon still is 6.2.1.
    setVersionFile("6.3.0-1500");
    AgentClient client;
    ClusterDiscovery discovery(&client);
    discovery.setPortal(portalEndpoint());
    discovery.setWebApi(settings());
    QSignalSpy finished(&discovery, &ClusterDiscovery::finished);
    discovery.start();
    QVERIFY(finished.wait(20000));
    setVersionFile("6.2.1-1200");
    QVERIFY(!discovery.nodes().isEmpty());
    const ComponentState &server = discovery.nodes().first().server;
    QCOMPARE(server.version.toString(), QStringLiteral("6.3.0-1500"));
    QCOMPARE(server.source, QStringLiteral("version_file"));
    QCOMPARE(server.readings.size(), 2);
    QCOMPARE(server.readings.last().source, QStringLiteral("webapi"));
    QCOMPARE(server.readings.last().version, QStringLiteral("6.2.1-1200"));
    QVERIFY(server.readings.last().detail.contains(QLatin1String("server_version")));
    QVERIFY(server.disagreement);
    QVERIFY(server.versionText().contains(QLatin1String("webapi 6.2.1-1200")));

    // Wrong credentials: the reading says so in one sentence, nothing else changes.
    WebApiSettings wrong = settings();
    wrong.password = QStringLiteral("nope");
    ClusterDiscovery again(&client);
    again.setPortal(portalEndpoint());
    again.setWebApi(wrong);
    QSignalSpy done(&again, &ClusterDiscovery::finished);
    again.start();
    QVERIFY(done.wait(20000));
    const ComponentState &refused = again.nodes().first().server;
    QCOMPARE(refused.version.toString(), QStringLiteral("6.2.1-1200"));
    QVERIFY(!refused.disagreement);
    QVERIFY(refused.readings.last().error.contains(QLatin1String("refused the credentials")));
}

void TestWebApi::verifySaysRebootNeeded()
{
    setVersionFile("6.3.0-1500");
    AgentClient client;
    VerifyJob job(&client);
    job.setEndpoints({portalEndpoint()});
    job.setTargets({{Component::Server, *Version::parse(QStringLiteral("6.3.0-1500"))}});
    job.setWebApi(settings());
    QSignalSpy finished(&job, &VerifyJob::finished);
    job.start();
    QVERIFY(finished.wait(20000));
    setVersionFile("6.2.1-1200");
    const VerificationReport &report = job.report();
    const auto cell = std::find_if(report.cells.begin(), report.cells.end(), [](const VerificationCell &c) {
        return c.component == Component::Server;
    });
    QVERIFY(cell != report.cells.end());
    QCOMPARE(cell->versionNow, QStringLiteral("6.3.0-1500"));
    QCOMPARE(cell->runningVersion, QStringLiteral("6.2.1-1200"));
    QCOMPARE(toString(cell->verdict), toString(Verdict::RebootNeeded));
    QVERIFY(report.rebootNeeded());
}

void TestWebApi::cliDiscoverShowsSources()
{
    auto cli = [this](const QStringList &extra, const QString &password, int *code) {
        QProcess process;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("FTUPGRADE_TOKEN"), QString::fromLatin1(m_agent.token));
        env.insert(QStringLiteral("FLOWTRAQ_WEBAPI_PASSWORD"), password);
        process.setProcessEnvironment(env);
        process.start(bin(QStringLiteral("ftupgrade-cli")),
                      QStringList{QStringLiteral("discover"), QStringLiteral("--portal"),
                                  QStringLiteral("127.0.0.1:%1").arg(m_agent.url.port()),
                                  QStringLiteral("--fingerprint"), QString::fromLatin1(m_agent.fingerprint)} + extra);
        process.waitForFinished(30000);
        *code = process.exitCode();
        return std::pair{QJsonDocument::fromJson(process.readAllStandardOutput()).object(),
                         QString::fromUtf8(process.readAllStandardError())};
    };
    const QStringList webApi{QStringLiteral("--webapi"), QStringLiteral("https://127.0.0.1:%1").arg(m_port),
                             QStringLiteral("--webapi-user"), QStringLiteral("analyst"),
                             QStringLiteral("--webapi-fingerprint"), m_fingerprint};
    int code = -1;
    auto [json, err] = cli(webApi, QStringLiteral("s3cret pass"), &code);
    QCOMPARE(code, 0);
    const QJsonObject server = json.value(QStringLiteral("nodes")).toArray().first().toObject()
                                   .value(QStringLiteral("components")).toObject().value(QStringLiteral("server")).toObject();
    QCOMPARE(server.value(QStringLiteral("source")).toString(), QStringLiteral("version_file"));
    const QJsonArray sources = server.value(QStringLiteral("sources")).toArray();
    QCOMPARE(sources.size(), 2);
    QCOMPARE(sources.last().toObject().value(QStringLiteral("source")).toString(), QStringLiteral("webapi"));
    QCOMPARE(sources.last().toObject().value(QStringLiteral("version")).toString(), QStringLiteral("6.2.1-1200"));

    // Plain http is refused before anything is sent: one sentence, exit code not 0.
    QStringList plain = webApi;
    plain[1] = QStringLiteral("http://127.0.0.1:%1").arg(m_port);
    std::tie(json, err) = cli(plain, QStringLiteral("s3cret pass"), &code);
    QVERIFY(code != 0);
    QVERIFY2(err.contains(QLatin1String("https")), qPrintable(err));
    // No password in the environment: refused the same way.
    std::tie(json, err) = cli(webApi, QString(), &code);
    QVERIFY(code != 0);
    QVERIFY2(err.contains(QLatin1String("password")), qPrintable(err));
}

QTEST_GUILESS_MAIN(TestWebApi)
#include "tst_webapi.moc"

// The wizard's side of FlowTraq's Web API v3 (app/core/webapi) against the sandbox
// daemon's Web API (app/sandbox/server/webapiserver.*), a real HTTPS server on
// 127.0.0.1 with a self-signed certificate the job must pin.

#include "webapi/webapiinfo.h"
#include "webapi/webapiinfojob.h"

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

private:
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
    m_install = m_dir.filePath(QStringLiteral("portal"));
    QProcess init;
    init.setProcessChannelMode(QProcess::MergedChannels);
    init.start(bin(QStringLiteral("ftsandbox")),
               {QStringLiteral("init"), m_install, QStringLiteral("--version"), QStringLiteral("6.2.1-1200"),
                QStringLiteral("--role"), QStringLiteral("portal"), QStringLiteral("--os"), QStringLiteral("linux"),
                QStringLiteral("--name"), QStringLiteral("portal"), QStringLiteral("--webui-files"), QStringLiteral("20")});
    QVERIFY(init.waitForFinished(60000));
    QVERIFY2(init.exitCode() == 0, init.readAll().constData());
    // The FlowTraq user of the portal's Web API.
    QFile conf(QDir(m_install).filePath(QStringLiteral("flowtraq.conf")));
    QVERIFY(conf.open(QIODevice::Append));
    conf.write("\n[webapi]\nport=0\nuser=analyst\npassword_sha256="
               + QCryptographicHash::hash("s3cret pass", QCryptographicHash::Sha256).toHex() + "\n");
    conf.close();

    m_daemon = std::make_unique<QProcess>();
    m_daemon->setProcessChannelMode(QProcess::ForwardedErrorChannel);
    m_daemon->start(bin(QStringLiteral("ftsandbox-server")), {QStringLiteral("--install"), m_install});
    QVERIFY(m_daemon->waitForStarted());
    const QString status = QDir(m_install).filePath(QStringLiteral("run/status.json"));
    QTRY_VERIFY_WITH_TIMEOUT(readJson(status).value(QStringLiteral("webapi_port")).toInt() > 0, 20000);
    m_port = quint16(readJson(status).value(QStringLiteral("webapi_port")).toInt());
    QFile cert(QDir(m_install).filePath(QStringLiteral("run/webapi.crt")));
    QVERIFY(cert.open(QIODevice::ReadOnly));
    m_fingerprint = QString::fromLatin1(QSslCertificate(cert.readAll()).digest(QCryptographicHash::Sha256).toHex());
    QCOMPARE(m_fingerprint.size(), 64);
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

QTEST_GUILESS_MAIN(TestWebApi)
#include "tst_webapi.moc"

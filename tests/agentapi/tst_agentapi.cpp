// Contract tests of the agent's HTTPS API (app/agent/API.md) against the real
// ftupgrade-agent binary and a real sandbox installation: authentication, every bad
// input (and that nothing changed after it), the reports, and staging packages from
// a local file server that can send corrupt or short downloads.

#include "agentharness.h"

#include "certificate.h"
#include "serviceports.h"

#include <QDirIterator>
#include <QRegularExpression>
#include <QSettings>
#include <QUdpSocket>

using namespace agenttest;

namespace {

// The daemon's flow port, outside the ephemeral range (serviceports.h says why).
QString freeUdpPort()
{
    return QString::number(ft::test::freeServiceUdpPort());
}

QString zeros64() { return QString(64, QLatin1Char('0')); }

} // namespace

class TestAgentApi : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();

    void healthNeedsNoToken();
    void unauthenticatedRequestsAreRefused_data();
    void unauthenticatedRequestsAreRefused();
    void badInputIsRefusedAndChangesNothing_data();
    void badInputIsRefusedAndChangesNothing();

    void nodeReport();
    void serviceStartAndStop();
    void clusterListsPortalMembers();
    void flowHistoryIsHourly();
    void webUiCustomizations();

    void stageVerifiesAndKeepsPackage();
    void stageRejectsBadDownloads_data();
    void stageRejectsBadDownloads();
    void stageOverHttpsWithPinnedCertificate();
    void stageRefusesPackageThatFailsItsManifest();
    void stageCanBeCancelled();
    void stageResumeNeedsRangeSupport();
    void stageReportsHttpErrorStatus();
    void stageRedirects_data();
    void stageRedirects();
    void stageIgnoresProxyFromEnvironment();
    void secondInitKeepsCertificate();

private:
    struct Snapshot
    {
        int jobs = -1;
        QStringList staging;
        QString version;
        bool daemonRunning = false;
        QByteArray conf;
        bool operator==(const Snapshot &) const = default;
    };
    Snapshot snapshot();
    QByteArray makePackage(const QString &mode, const QString &name);
    QJsonObject stageRequest(const QString &url, const QByteArray &data, const QString &name);
    QStringList partialFiles() const;

    Agent m_agent;
    // Named as the proxy in the agent's environment: a download must never reach it.
    FileServer m_proxy;
    Client m_client;
    QTemporaryDir m_packages;
};

void TestAgentApi::initTestCase()
{
    const QString error = m_agent.setUp({QStringLiteral("--member"), QStringLiteral("w1=40125"),
                                         QStringLiteral("--member"), QStringLiteral("w2=40127"),
                                         QStringLiteral("--flow-port"), freeUdpPort()});
    QVERIFY2(error.isEmpty(), qPrintable(error));
    // The agent starts with proxy variables in its environment (this process leaves them).
    QVERIFY(m_proxy.listen());
    const QByteArray proxy = QByteArray("http://127.0.0.1:") + QByteArray::number(QUrl(m_proxy.url({})).port());
    const QList<QByteArray> proxyVariables{"http_proxy", "https_proxy", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"};
    for (const QByteArray &name : proxyVariables)
        qputenv(name.constData(), proxy);
    const QString started = m_agent.start();
    for (const QByteArray &name : proxyVariables)
        qunsetenv(name.constData());
    QVERIFY2(started.isEmpty(), qPrintable(started));
    m_client.bind(m_agent);
}

void TestAgentApi::cleanupTestCase()
{
    m_agent.stop();
    m_agent.stopDaemon();
}

TestAgentApi::Snapshot TestAgentApi::snapshot()
{
    Snapshot s;
    const Response jobs = m_client.get(QStringLiteral("/v1/jobs"));
    s.jobs = jobs.status == 200 ? int(jobs.json.value(QStringLiteral("jobs")).toArray().size()) : -1;
    QDirIterator it(m_agent.stagingDir, QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot,
                    QDirIterator::Subdirectories);
    while (it.hasNext())
        s.staging.append(it.next());
    s.staging.sort();
    s.version = m_agent.installedVersion();
    s.daemonRunning = QFileInfo::exists(QDir(m_agent.installDir).filePath(QStringLiteral("run/flowtraq.pid")));
    s.conf = readAll(QDir(m_agent.installDir).filePath(QStringLiteral("flowtraq.conf")));
    return s;
}

QByteArray TestAgentApi::makePackage(const QString &mode, const QString &name)
{
    const QString path = m_packages.filePath(name);
    if (!QFileInfo::exists(path)) {
        int code = 0;
        const QByteArray out = runTool(QStringLiteral("ftsandbox"),
                                       {QStringLiteral("make-package"), QStringLiteral("--version"),
                                        QStringLiteral("6.3.0-1500"), QStringLiteral("--component"),
                                        QStringLiteral("server"), QStringLiteral("--mode"), mode,
                                        QStringLiteral("--pad-bytes"), QStringLiteral("300000"),
                                        QStringLiteral("-o"), path},
                                       &code);
        if (code != 0)
            qWarning("make-package failed: %s", out.constData());
    }
    return readAll(path);
}

QJsonObject TestAgentApi::stageRequest(const QString &url, const QByteArray &data, const QString &name)
{
    return {{QStringLiteral("url"), url},
            {QStringLiteral("sha256"), QString::fromLatin1(sha256Hex(data))},
            {QStringLiteral("size"), data.size()},
            {QStringLiteral("name"), name}};
}

QStringList TestAgentApi::partialFiles() const
{
    return QDir(QDir(m_agent.stagingDir).filePath(QStringLiteral(".partial"))).entryList(QDir::Files);
}

void TestAgentApi::healthNeedsNoToken()
{
    const Response r = m_client.request("GET", QStringLiteral("/v1/health"), {}, {}, false);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json.value(QStringLiteral("status")).toString(), QStringLiteral("ok"));
    QCOMPARE(r.json.value(QStringLiteral("api")).toInt(), 1);
    QVERIFY(r.contentType.startsWith("application/json"));
}

void TestAgentApi::unauthenticatedRequestsAreRefused_data()
{
    QTest::addColumn<QByteArray>("verb");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QByteArray>("authorization"); // empty: no header
    const QByteArray stage = QJsonDocument(QJsonObject{{QStringLiteral("url"), QStringLiteral("http://127.0.0.1:9/x")},
                                                       {QStringLiteral("sha256"), zeros64()},
                                                       {QStringLiteral("size"), 10},
                                                       {QStringLiteral("name"), QStringLiteral("x.ftpkg")}})
                                 .toJson();
    const QByteArray upgrade = R"({"component":"server","package":"x.ftpkg"})";
    const QByteArray service = R"({"action":"start"})";
    const QList<std::tuple<QByteArray, QString, QByteArray>> endpoints = {
        {"GET", QStringLiteral("/v1/node"), {}},
        {"GET", QStringLiteral("/v1/cluster"), {}},
        {"GET", QStringLiteral("/v1/flows/history"), {}},
        {"GET", QStringLiteral("/v1/webui/customizations"), {}},
        {"GET", QStringLiteral("/v1/webui/file?path=index.html"), {}},
        {"POST", QStringLiteral("/v1/stage"), stage},
        {"GET", QStringLiteral("/v1/staged"), {}},
        {"POST", QStringLiteral("/v1/upgrade"), upgrade},
        {"GET", QStringLiteral("/v1/jobs"), {}},
        {"GET", QStringLiteral("/v1/jobs/20261127-080000-abcdef?wait=100"), {}},
        {"POST", QStringLiteral("/v1/jobs/20261127-080000-abcdef/cancel"), {}},
        {"POST", QStringLiteral("/v1/service"), service},
        {"GET", QStringLiteral("/v1/no-such-endpoint"), {}},
    };
    const QList<std::pair<const char *, QByteArray>> auths = {
        {"no header", QByteArray()},
        {"wrong token", "Bearer contract-test-token-0123456788"},
        {"token prefix", "Bearer contract-test-token"},
        {"basic scheme", "Basic Y29udHJhY3QtdGVzdC10b2tlbjo="},
        {"token without scheme", "contract-test-token-0123456789"},
    };
    for (const auto &[verb, path, body] : endpoints) {
        for (const auto &[name, auth] : auths)
            QTest::addRow("%s %s, %s", verb.constData(), qPrintable(path), name) << verb << path << body << auth;
    }
}

void TestAgentApi::unauthenticatedRequestsAreRefused()
{
    QFETCH(QByteArray, verb);
    QFETCH(QString, path);
    QFETCH(QByteArray, body);
    QFETCH(QByteArray, authorization);
    const Snapshot before = snapshot();
    QList<QPair<QByteArray, QByteArray>> headers = {{"Content-Type", "application/json"}};
    if (!authorization.isEmpty())
        headers.append({"Authorization", authorization});
    const Response r = m_client.request(verb, path, body, headers, false);
    QCOMPARE(r.status, 401);
    QVERIFY(!r.json.value(QStringLiteral("error")).toString().isEmpty());
    QCOMPARE(r.wwwAuthenticate, QByteArray("Bearer"));
    QVERIFY(before == snapshot()); // no job, no download, no service start
}

void TestAgentApi::badInputIsRefusedAndChangesNothing_data()
{
    QTest::addColumn<QByteArray>("verb");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QByteArray>("contentType");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<int>("status");

    auto stage = [](const QJsonObject &changes, const QStringList &remove = {}) {
        QJsonObject body{{QStringLiteral("url"), QStringLiteral("http://127.0.0.1:9/x.ftpkg")},
                         {QStringLiteral("sha256"), zeros64()},
                         {QStringLiteral("size"), 1000},
                         {QStringLiteral("name"), QStringLiteral("x.ftpkg")}};
        for (auto it = changes.begin(); it != changes.end(); ++it)
            body.insert(it.key(), it.value());
        for (const QString &key : remove)
            body.remove(key);
        return QJsonDocument(body).toJson(QJsonDocument::Compact);
    };
    const QByteArray json = "application/json";
    const QString s = QStringLiteral("/v1/stage");
    const QString u = QStringLiteral("/v1/upgrade");

    QTest::newRow("stage: malformed JSON") << QByteArray("POST") << s << json << QByteArray("{\"url\": ") << 400;
    QTest::newRow("stage: not an object") << QByteArray("POST") << s << json << QByteArray("[1,2]") << 400;
    QTest::newRow("stage: empty body") << QByteArray("POST") << s << json << QByteArray() << 400;
    QTest::newRow("stage: unknown field") << QByteArray("POST") << s << json << stage({{"mode", "fast"}}) << 400;
    QTest::newRow("stage: missing sha256") << QByteArray("POST") << s << json << stage({}, {"sha256"}) << 400;
    QTest::newRow("stage: ftp url") << QByteArray("POST") << s << json << stage({{"url", "ftp://127.0.0.1/x.ftpkg"}}) << 400;
    QTest::newRow("stage: file url") << QByteArray("POST") << s << json << stage({{"url", "file:///etc/passwd"}}) << 400;
    QTest::newRow("stage: url without host") << QByteArray("POST") << s << json << stage({{"url", "http:///x"}}) << 400;
    QTest::newRow("stage: name traversal") << QByteArray("POST") << s << json << stage({{"name", "../../etc/cron.d/x"}}) << 400;
    QTest::newRow("stage: name with slash") << QByteArray("POST") << s << json << stage({{"name", "sub/x.ftpkg"}}) << 400;
    QTest::newRow("stage: name with backslash") << QByteArray("POST") << s << json << stage({{"name", "..\\x.ftpkg"}}) << 400;
    QTest::newRow("stage: absolute name") << QByteArray("POST") << s << json << stage({{"name", "/tmp/x.ftpkg"}}) << 400;
    QTest::newRow("stage: hidden name") << QByteArray("POST") << s << json << stage({{"name", ".meta"}}) << 400;
    QTest::newRow("stage: sha256 not hex") << QByteArray("POST") << s << json << stage({{"sha256", QString(64, 'g')}}) << 400;
    QTest::newRow("stage: size as text") << QByteArray("POST") << s << json << stage({{"size", "1000"}}) << 400;
    QTest::newRow("stage: negative size") << QByteArray("POST") << s << json << stage({{"size", -5}}) << 400;
    QTest::newRow("stage: fractional size") << QByteArray("POST") << s << json << stage({{"size", 10.5}}) << 400;
    QTest::newRow("stage: fingerprint on http") << QByteArray("POST") << s << json << stage({{"fingerprint", zeros64()}}) << 400;
    QTest::newRow("stage: contents_checked as text") << QByteArray("POST") << s << json << stage({{"contents_checked", "yes"}}) << 400;
    QTest::newRow("stage: contents_checked as number") << QByteArray("POST") << s << json << stage({{"contents_checked", 1}}) << 400;
    QTest::newRow("stage: text/plain") << QByteArray("POST") << s << QByteArray("text/plain") << stage({}) << 415;
    QTest::newRow("stage: form") << QByteArray("POST") << s << QByteArray("application/x-www-form-urlencoded") << stage({}) << 415;
    QTest::newRow("stage: no content type") << QByteArray("POST") << s << QByteArray() << stage({}) << 415;
    QTest::newRow("stage: oversized body") << QByteArray("POST") << s << json
                                           << stage({{"pad", QString(70 * 1024, QLatin1Char('x'))}}) << 413;
    QTest::newRow("stage: not enough disk") << QByteArray("POST") << s << json << stage({{"size", double(qint64(1) << 49)}}) << 507;

    QTest::newRow("upgrade: unknown component") << QByteArray("POST") << u << json
                                                << QByteArray(R"({"component":"database","package":"x.ftpkg"})") << 400;
    QTest::newRow("upgrade: component case") << QByteArray("POST") << u << json
                                             << QByteArray(R"({"component":"Server","package":"x.ftpkg"})") << 400;
    QTest::newRow("upgrade: package traversal") << QByteArray("POST") << u << json
                                                << QByteArray(R"({"component":"server","package":"../../VERSION"})") << 400;
    QTest::newRow("upgrade: package not staged") << QByteArray("POST") << u << json
                                                 << QByteArray(R"({"component":"server","package":"nothere.ftpkg"})") << 404;
    QTest::newRow("upgrade: zero timeout") << QByteArray("POST") << u << json
                                           << QByteArray(R"({"component":"server","package":"x.ftpkg","timeout_seconds":0})") << 400;
    QTest::newRow("upgrade: unknown field") << QByteArray("POST") << u << json
                                            << QByteArray(R"({"component":"server","package":"x.ftpkg","force":true})") << 400;
    QTest::newRow("upgrade: component as number") << QByteArray("POST") << u << json
                                                  << QByteArray(R"({"component":1,"package":"x.ftpkg"})") << 400;
    QTest::newRow("service: unknown action") << QByteArray("POST") << QStringLiteral("/v1/service") << json
                                             << QByteArray(R"({"action":"restart"})") << 400;
    QTest::newRow("service: extra field") << QByteArray("POST") << QStringLiteral("/v1/service") << json
                                          << QByteArray(R"({"action":"start","now":true})") << 400;

    QTest::newRow("job id traversal") << QByteArray("GET") << QStringLiteral("/v1/jobs/..%2F..%2Fagent") << QByteArray() << QByteArray() << 400;
    QTest::newRow("unknown job") << QByteArray("GET") << QStringLiteral("/v1/jobs/20261127-080000-abcdef") << QByteArray() << QByteArray() << 404;
    QTest::newRow("wait too long") << QByteArray("GET") << QStringLiteral("/v1/jobs/20261127-080000-abcdef?wait=60000") << QByteArray() << QByteArray() << 400;
    QTest::newRow("since negative") << QByteArray("GET") << QStringLiteral("/v1/jobs/20261127-080000-abcdef?since=-1") << QByteArray() << QByteArray() << 400;
    QTest::newRow("cancel unknown job") << QByteArray("POST") << QStringLiteral("/v1/jobs/20261127-080000-abcdef/cancel") << QByteArray() << QByteArray() << 404;
    QTest::newRow("file: parent path") << QByteArray("GET") << QStringLiteral("/v1/webui/file?path=../flowtraq.conf") << QByteArray() << QByteArray() << 400;
    QTest::newRow("file: absolute path") << QByteArray("GET") << QStringLiteral("/v1/webui/file?path=/etc/passwd") << QByteArray() << QByteArray() << 400;
    QTest::newRow("file: backslash") << QByteArray("GET") << QStringLiteral("/v1/webui/file?path=..%5Cflowtraq.conf") << QByteArray() << QByteArray() << 400;
    QTest::newRow("file: inner parent") << QByteArray("GET") << QStringLiteral("/v1/webui/file?path=css/../../VERSION") << QByteArray() << QByteArray() << 400;
    QTest::newRow("file: no path") << QByteArray("GET") << QStringLiteral("/v1/webui/file") << QByteArray() << QByteArray() << 400;
    QTest::newRow("file: bad which") << QByteArray("GET") << QStringLiteral("/v1/webui/file?path=index.html&which=backup") << QByteArray() << QByteArray() << 400;
    QTest::newRow("history: zero hours") << QByteArray("GET") << QStringLiteral("/v1/flows/history?hours=0") << QByteArray() << QByteArray() << 400;
    QTest::newRow("history: too many hours") << QByteArray("GET") << QStringLiteral("/v1/flows/history?hours=745") << QByteArray() << QByteArray() << 400;
    QTest::newRow("history: not a number") << QByteArray("GET") << QStringLiteral("/v1/flows/history?hours=week") << QByteArray() << QByteArray() << 400;
    QTest::newRow("unknown query parameter") << QByteArray("GET") << QStringLiteral("/v1/node?debug=1") << QByteArray() << QByteArray() << 400;
    QTest::newRow("unknown endpoint") << QByteArray("GET") << QStringLiteral("/v1/nodes") << QByteArray() << QByteArray() << 404;
    QTest::newRow("other API version") << QByteArray("GET") << QStringLiteral("/v2/node") << QByteArray() << QByteArray() << 404;
    QTest::newRow("POST to a GET endpoint") << QByteArray("POST") << QStringLiteral("/v1/node") << json << QByteArray("{}") << 405;
    QTest::newRow("GET to a POST endpoint") << QByteArray("GET") << QStringLiteral("/v1/stage") << QByteArray() << QByteArray() << 405;
    QTest::newRow("DELETE a job") << QByteArray("DELETE") << QStringLiteral("/v1/jobs/20261127-080000-abcdef") << QByteArray() << QByteArray() << 405;
}

void TestAgentApi::badInputIsRefusedAndChangesNothing()
{
    QFETCH(QByteArray, verb);
    QFETCH(QString, path);
    QFETCH(QByteArray, contentType);
    QFETCH(QByteArray, body);
    QFETCH(int, status);
    const Snapshot before = snapshot();
    QList<QPair<QByteArray, QByteArray>> headers;
    if (!contentType.isEmpty())
        headers.append({"Content-Type", contentType});
    const Response r = m_client.request(verb, path, body, headers);
    QCOMPARE(r.status, status);
    QVERIFY2(!r.json.value(QStringLiteral("error")).toString().isEmpty(), r.body.constData());
    QVERIFY(r.contentType.startsWith("application/json"));
    QVERIFY(before == snapshot());
}

void TestAgentApi::nodeReport()
{
    const Response r = m_client.get(QStringLiteral("/v1/node"));
    QCOMPARE(r.status, 200);
    const QJsonObject node = r.json;
    QCOMPARE(node.value(QStringLiteral("name")).toString(), QStringLiteral("portal"));
    QCOMPARE(node.value(QStringLiteral("role")).toString(), QStringLiteral("portal"));
    QCOMPARE(node.value(QStringLiteral("os")).toString(), QStringLiteral("linux"));
    QCOMPARE(node.value(QStringLiteral("api")).toInt(), 1);
    QVERIFY(!node.value(QStringLiteral("hostname")).toString().isEmpty());
    QVERIFY(!node.value(QStringLiteral("agent_version")).toString().isEmpty());
    const QJsonObject components = node.value(QStringLiteral("components")).toObject();
    QCOMPARE(components.value(QStringLiteral("server")).toObject().value(QStringLiteral("version")).toString(),
             QStringLiteral("6.2.1-1200"));
    QVERIFY(components.value(QStringLiteral("webui")).toObject().value(QStringLiteral("installed")).toBool());
    QVERIFY(!components.value(QStringLiteral("nbi")).toObject().value(QStringLiteral("installed")).toBool());
    QCOMPARE(node.value(QStringLiteral("service")).toObject().value(QStringLiteral("state")).toString(),
             QStringLiteral("stopped"));
    const QJsonObject disk = node.value(QStringLiteral("disk")).toObject();
    QCOMPARE(QDir(disk.value(QStringLiteral("staging_dir")).toString()), QDir(m_agent.stagingDir));
    QVERIFY(disk.value(QStringLiteral("free_bytes")).toDouble() > 0);
    QVERIFY(node.value(QStringLiteral("flows")).toObject().value(QStringLiteral("receives_flows")).toBool());
    QCOMPARE(node.value(QStringLiteral("busy")).toBool(), false);
}

void TestAgentApi::serviceStartAndStop()
{
    Response r = m_client.post(QStringLiteral("/v1/service"), {{QStringLiteral("action"), QStringLiteral("start")}});
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json.value(QStringLiteral("state")).toString(), QStringLiteral("running"));
    r = m_client.get(QStringLiteral("/v1/node"));
    QCOMPARE(r.json.value(QStringLiteral("service")).toObject().value(QStringLiteral("state")).toString(),
             QStringLiteral("running"));
    const qint64 pid = readAll(QDir(m_agent.installDir).filePath(QStringLiteral("run/flowtraq.pid"))).trimmed().toLongLong();
    QVERIFY(pid > 0 && ::kill(pid_t(pid), 0) == 0);

    r = m_client.post(QStringLiteral("/v1/service"), {{QStringLiteral("action"), QStringLiteral("stop")}});
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json.value(QStringLiteral("state")).toString(), QStringLiteral("stopped"));
    QTRY_VERIFY(::kill(pid_t(pid), 0) != 0);
}

void TestAgentApi::clusterListsPortalMembers()
{
    const Response r = m_client.get(QStringLiteral("/v1/cluster"));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json.value(QStringLiteral("role")).toString(), QStringLiteral("portal"));
    const QJsonArray members = r.json.value(QStringLiteral("members")).toArray();
    QCOMPARE(members.size(), 2);
    QCOMPARE(members.at(0).toObject().value(QStringLiteral("name")).toString(), QStringLiteral("w1"));
    QCOMPARE(members.at(0).toObject().value(QStringLiteral("tcp_port")).toInt(), 40125);
    QCOMPARE(members.at(1).toObject().value(QStringLiteral("name")).toString(), QStringLiteral("w2"));
    QCOMPARE(members.at(1).toObject().value(QStringLiteral("tcp_port")).toInt(), 40127);
}

void TestAgentApi::flowHistoryIsHourly()
{
    const Response r = m_client.get(QStringLiteral("/v1/flows/history?hours=24"));
    QCOMPARE(r.status, 200);
    const QJsonArray hours = r.json.value(QStringLiteral("hours")).toArray();
    QCOMPARE(hours.size(), 24); // init seeds 14 days for a node that receives flows
    QDateTime previous;
    for (const QJsonValue &hour : hours) {
        const QDateTime start = QDateTime::fromString(hour.toObject().value(QStringLiteral("start")).toString(), Qt::ISODate);
        QVERIFY(start.isValid());
        QCOMPARE(start.time().minute(), 0);
        if (previous.isValid())
            QVERIFY(previous < start);
        previous = start;
    }
    const Response all = m_client.get(QStringLiteral("/v1/flows/history"));
    QCOMPARE(all.json.value(QStringLiteral("hours")).toArray().size(), 168);
}

void TestAgentApi::webUiCustomizations()
{
    const QString version = m_agent.installedVersion(QStringLiteral("webui/VERSION"));
    const QByteArray manifest = readAll(QDir(m_agent.installDir).filePath(QStringLiteral("manifests/webui-%1.sha256").arg(version)));
    QStringList paths;
    for (const QByteArray &line : manifest.split('\n')) {
        if (line.size() > 66)
            paths.append(QString::fromUtf8(line.mid(66)));
    }
    QVERIFY(paths.size() >= 3);
    QString modified;
    QString deleted;
    for (const QString &path : paths) {
        const bool text = path.endsWith(QLatin1String(".css")) || path.endsWith(QLatin1String(".js"))
                          || path.endsWith(QLatin1String(".html"));
        if (text && modified.isEmpty())
            modified = path;
        else if (text && deleted.isEmpty())
            deleted = path;
    }
    QVERIFY(!modified.isEmpty() && !deleted.isEmpty());
    const QDir webui(QDir(m_agent.installDir).filePath(QStringLiteral("webui")));
    const QByteArray pristineBytes = readAll(webui.filePath(modified));
    {
        QFile file(webui.filePath(modified));
        QVERIFY(file.open(QIODevice::Append));
        file.write("\n/* ACME branding */\n");
    }
    QVERIFY(QFile::remove(webui.filePath(deleted)));
    {
        QFile file(webui.filePath(QStringLiteral("acme-logo.png")));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(QByteArray("\x89PNG\r\n\x1a\n\0\0\0", 11));
    }

    const Response r = m_client.get(QStringLiteral("/v1/webui/customizations"));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json.value(QStringLiteral("version")).toString(), version);
    QMap<QString, QJsonObject> byPath;
    for (const QJsonValue &file : r.json.value(QStringLiteral("files")).toArray())
        byPath.insert(file.toObject().value(QStringLiteral("path")).toString(), file.toObject());
    QCOMPARE(byPath.size(), 3);
    QCOMPARE(byPath.value(modified).value(QStringLiteral("change")).toString(), QStringLiteral("modified"));
    QCOMPARE(byPath.value(modified).value(QStringLiteral("sha256")).toString(),
             QString::fromLatin1(sha256Hex(readAll(webui.filePath(modified)))));
    QCOMPARE(byPath.value(modified).value(QStringLiteral("pristine_sha256")).toString(),
             QString::fromLatin1(sha256Hex(pristineBytes)));
    QCOMPARE(byPath.value(modified).value(QStringLiteral("size")).toInteger(), QFileInfo(webui.filePath(modified)).size());
    QVERIFY(byPath.value(modified).value(QStringLiteral("text")).toBool());
    QCOMPARE(byPath.value(deleted).value(QStringLiteral("change")).toString(), QStringLiteral("deleted"));
    QVERIFY(!byPath.value(deleted).contains(QStringLiteral("sha256")));
    QCOMPARE(byPath.value(QStringLiteral("acme-logo.png")).value(QStringLiteral("change")).toString(), QStringLiteral("added"));
    QCOMPARE(byPath.value(QStringLiteral("acme-logo.png")).value(QStringLiteral("text")).toBool(), false);

    // Both sides of a diff.
    Response file = m_client.get(QStringLiteral("/v1/webui/file?path=%1").arg(modified));
    QCOMPARE(file.status, 200);
    QVERIFY(file.body.endsWith("/* ACME branding */\n"));
    file = m_client.get(QStringLiteral("/v1/webui/file?path=%1&which=pristine").arg(modified));
    QCOMPARE(file.status, 200);
    QCOMPARE(file.body, pristineBytes);
    file = m_client.get(QStringLiteral("/v1/webui/file?path=%1&which=pristine").arg(deleted));
    QCOMPARE(file.status, 200);
    QVERIFY(!file.body.isEmpty());
    file = m_client.get(QStringLiteral("/v1/webui/file?path=%1").arg(deleted));
    QCOMPARE(file.status, 404);
}

void TestAgentApi::stageVerifiesAndKeepsPackage()
{
    const QByteArray package = makePackage(QStringLiteral("normal"), QStringLiteral("server-6.3.0.ftpkg"));
    QVERIFY(package.size() > 300000);
    FileServer server;
    server.data = package;
    QVERIFY(server.listen());
    Response r = m_client.post(QStringLiteral("/v1/stage"),
                               stageRequest(server.url(QStringLiteral("server-6.3.0.ftpkg")), package,
                                            QStringLiteral("server-6.3.0.ftpkg")));
    QCOMPARE(r.status, 202);
    const QString id = r.json.value(QStringLiteral("job")).toString();
    const QJsonObject job = m_client.waitForJob(id);
    QCOMPARE(job.value(QStringLiteral("state")).toString(), QStringLiteral("succeeded"));
    QCOMPARE(job.value(QStringLiteral("kind")).toString(), QStringLiteral("stage"));
    QCOMPARE(job.value(QStringLiteral("bytes_done")).toInteger(), package.size());
    QCOMPARE(readAll(QDir(m_agent.stagingDir).filePath(QStringLiteral("server-6.3.0.ftpkg"))), package);

    r = m_client.get(QStringLiteral("/v1/staged"));
    QCOMPARE(r.status, 200);
    const QJsonArray packages = r.json.value(QStringLiteral("packages")).toArray();
    QCOMPARE(packages.size(), 1);
    const QJsonObject staged = packages.first().toObject();
    QCOMPARE(staged.value(QStringLiteral("name")).toString(), QStringLiteral("server-6.3.0.ftpkg"));
    QCOMPARE(staged.value(QStringLiteral("component")).toString(), QStringLiteral("server"));
    QCOMPARE(staged.value(QStringLiteral("version")).toString(), QStringLiteral("6.3.0-1500"));
    QCOMPARE(staged.value(QStringLiteral("sha256")).toString(), QString::fromLatin1(sha256Hex(package)));

    // A finished job cannot be cancelled.
    r = m_client.request("POST", QStringLiteral("/v1/jobs/%1/cancel").arg(id));
    QCOMPARE(r.status, 409);
}

void TestAgentApi::stageRejectsBadDownloads_data()
{
    QTest::addColumn<int>("mode");
    QTest::addColumn<qint64>("declaredSizeDelta");
    QTest::addColumn<QString>("errorPattern");
    QTest::newRow("corrupt bytes") << int(FileServer::Mode::Corrupt) << qint64(0) << QStringLiteral("corrupt");
    QTest::newRow("short download") << int(FileServer::Mode::Short) << qint64(0) << QStringLiteral("(short|failed after)");
    QTest::newRow("larger than declared") << int(FileServer::Mode::Normal) << qint64(-1000) << QStringLiteral("more than");
    QTest::newRow("smaller than declared") << int(FileServer::Mode::Normal) << qint64(1000) << QStringLiteral("short");
}

void TestAgentApi::stageRejectsBadDownloads()
{
    QFETCH(int, mode);
    QFETCH(qint64, declaredSizeDelta);
    QFETCH(QString, errorPattern);
    const QByteArray package = makePackage(QStringLiteral("normal"), QStringLiteral("server-6.3.0.ftpkg"));
    FileServer server;
    server.data = package;
    server.mode = FileServer::Mode(mode);
    QVERIFY(server.listen());
    const Snapshot before = snapshot();
    QJsonObject request = stageRequest(server.url(QStringLiteral("bad.ftpkg")), package, QStringLiteral("bad.ftpkg"));
    request.insert(QStringLiteral("size"), package.size() + declaredSizeDelta);
    const Response r = m_client.post(QStringLiteral("/v1/stage"), request);
    QCOMPARE(r.status, 202);
    const QJsonObject job = m_client.waitForJob(r.json.value(QStringLiteral("job")).toString());
    QCOMPARE(job.value(QStringLiteral("state")).toString(), QStringLiteral("failed"));
    const QString error = job.value(QStringLiteral("error")).toString();
    QVERIFY2(error.contains(QRegularExpression(errorPattern)), qPrintable(error));
    // Nothing of the bad download stays behind.
    Snapshot after = snapshot();
    QCOMPARE(after.jobs, before.jobs + 1);
    after.jobs = before.jobs;
    QCOMPARE(after.staging, before.staging);
    QVERIFY(!QFileInfo::exists(QDir(m_agent.stagingDir).filePath(QStringLiteral("bad.ftpkg"))));
}

void TestAgentApi::stageOverHttpsWithPinnedCertificate()
{
    const QByteArray package = makePackage(QStringLiteral("normal"), QStringLiteral("server-6.3.0.ftpkg"));
    QTemporaryDir certDir;
    const QString cert = certDir.filePath(QStringLiteral("s.crt"));
    const QString key = certDir.filePath(QStringLiteral("s.key"));
    QVERIFY(ft::agent::writeSelfSignedCertificate(cert, key, {}));
    const QSslCertificate certificate(readAll(cert), QSsl::Pem);
    const QSslKey sslKey(readAll(key), QSsl::Ec, QSsl::Pem);
    FileServer server(true);
    server.setCertificate(certificate, sslKey);
    server.data = package;
    QVERIFY(server.listen());

    // Without a pin a self-signed server is refused.
    QJsonObject request = stageRequest(server.url(QStringLiteral("tls.ftpkg")), package, QStringLiteral("tls.ftpkg"));
    Response r = m_client.post(QStringLiteral("/v1/stage"), request);
    QCOMPARE(r.status, 202);
    QJsonObject job = m_client.waitForJob(r.json.value(QStringLiteral("job")).toString());
    QCOMPARE(job.value(QStringLiteral("state")).toString(), QStringLiteral("failed"));

    // The wrong pin is refused too, inside the handshake: the request (with a token, the
    // token) is never sent, and the sentence names the certificate that was offered.
    request.insert(QStringLiteral("fingerprint"), zeros64());
    request.insert(QStringLiteral("token"), QStringLiteral("not-for-this-server"));
    r = m_client.post(QStringLiteral("/v1/stage"), request);
    job = m_client.waitForJob(r.json.value(QStringLiteral("job")).toString());
    QCOMPARE(job.value(QStringLiteral("state")).toString(), QStringLiteral("failed"));
    const QString offered = QString::fromLatin1(certificate.digest(QCryptographicHash::Sha256).toHex());
    QCOMPARE(job.value(QStringLiteral("error")).toString(),
             QStringLiteral("The server's certificate (SHA-256 %1) is not the pinned one.").arg(offered));
    QCOMPARE(server.requests, 0);
    QCOMPARE(partialFiles(), QStringList());
    QVERIFY(!QFileInfo::exists(QDir(m_agent.stagingDir).filePath(QStringLiteral("tls.ftpkg"))));
    request.remove(QStringLiteral("token"));

    request.insert(QStringLiteral("fingerprint"),
                   QString::fromLatin1(certificate.digest(QCryptographicHash::Sha256).toHex()));
    r = m_client.post(QStringLiteral("/v1/stage"), request);
    QCOMPARE(r.status, 202);
    job = m_client.waitForJob(r.json.value(QStringLiteral("job")).toString());
    QCOMPARE(job.value(QStringLiteral("state")).toString(), QStringLiteral("succeeded"));
    QCOMPARE(readAll(QDir(m_agent.stagingDir).filePath(QStringLiteral("tls.ftpkg"))), package);
}

void TestAgentApi::stageRefusesPackageThatFailsItsManifest()
{
    // The download is exactly what the caller said, but the package's own checksums are wrong.
    const QByteArray package = makePackage(QStringLiteral("corrupt"), QStringLiteral("server-corrupt.ftpkg"));
    QVERIFY(!package.isEmpty());
    FileServer server;
    server.data = package;
    QVERIFY(server.listen());
    const Response r = m_client.post(QStringLiteral("/v1/stage"),
                                     stageRequest(server.url(QStringLiteral("c.ftpkg")), package,
                                                  QStringLiteral("server-corrupt.ftpkg")));
    QCOMPARE(r.status, 202);
    const QJsonObject job = m_client.waitForJob(r.json.value(QStringLiteral("job")).toString());
    QCOMPARE(job.value(QStringLiteral("state")).toString(), QStringLiteral("failed"));
    QVERIFY(job.value(QStringLiteral("error")).toString().contains(QStringLiteral("manifest")));
    QVERIFY(!QFileInfo::exists(QDir(m_agent.stagingDir).filePath(QStringLiteral("server-corrupt.ftpkg"))));
}

void TestAgentApi::stageCanBeCancelled()
{
    const QByteArray package = makePackage(QStringLiteral("normal"), QStringLiteral("server-6.3.0.ftpkg"));
    FileServer server;
    server.data = package;
    server.mode = FileServer::Mode::Stall;
    QVERIFY(server.listen());
    Response r = m_client.post(QStringLiteral("/v1/stage"),
                               stageRequest(server.url(QStringLiteral("slow.ftpkg")), package, QStringLiteral("slow.ftpkg")));
    QCOMPARE(r.status, 202);
    const QString id = r.json.value(QStringLiteral("job")).toString();
    QTRY_VERIFY(server.requests == 1);
    // A second stage of the same name while the first runs is a conflict.
    r = m_client.post(QStringLiteral("/v1/stage"),
                      stageRequest(server.url(QStringLiteral("slow.ftpkg")), package, QStringLiteral("slow.ftpkg")));
    QCOMPARE(r.status, 409);
    r = m_client.request("POST", QStringLiteral("/v1/jobs/%1/cancel").arg(id));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json.value(QStringLiteral("cancelled")).toBool(), true);
    QElapsedTimer clock;
    clock.start();
    // The stalled connection is closed by the agent, not left to its time-out.
    QTRY_COMPARE(server.disconnects, 1);
    qInfo("the download's connection closed %lld ms after the cancel", clock.elapsed());
    const QJsonObject job = m_client.waitForJob(id);
    QCOMPARE(job.value(QStringLiteral("state")).toString(), QStringLiteral("cancelled"));
    QVERIFY(!QFileInfo::exists(QDir(m_agent.stagingDir).filePath(QStringLiteral("slow.ftpkg"))));
    QCOMPARE(partialFiles(), QStringList());
}

void TestAgentApi::stageResumeNeedsRangeSupport()
{
    // The connection breaks half-way; the server answers the Range request with the whole
    // file (200), which must not be appended to the half that arrived.
    const QByteArray package = makePackage(QStringLiteral("normal"), QStringLiteral("server-6.3.0.ftpkg"));
    FileServer server;
    server.data = package;
    server.mode = FileServer::Mode::Short;
    QVERIFY(server.listen());
    const Response r = m_client.post(QStringLiteral("/v1/stage"),
                                     stageRequest(server.url(QStringLiteral("cut.ftpkg")), package,
                                                  QStringLiteral("cut.ftpkg")));
    QCOMPARE(r.status, 202);
    QStringList lines;
    const QJsonObject job = m_client.waitForJob(r.json.value(QStringLiteral("job")).toString(), nullptr, &lines);
    QCOMPARE(job.value(QStringLiteral("state")).toString(), QStringLiteral("failed"));
    const qint64 half = package.size() / 2;
    const QString error = job.value(QStringLiteral("error")).toString();
    QVERIFY2(error.startsWith(QStringLiteral("The download failed after %1 of %2 bytes (").arg(half).arg(package.size())),
             qPrintable(error));
    QVERIFY2(error.endsWith(QStringLiteral("and the server did not continue it at that byte (no Range support).")),
             qPrintable(error));
    QVERIFY2(lines.join(QLatin1Char('\n')).contains(QStringLiteral("continuing from byte %1").arg(half)),
             qPrintable(lines.join(QLatin1Char('\n'))));
    QCOMPARE(server.heads.size(), 2);
    QVERIFY(!server.heads.first().contains("Range:"));
    QVERIFY2(server.heads.last().contains("Range: bytes=" + QByteArray::number(half) + "-"), server.heads.last().constData());
    QCOMPARE(partialFiles(), QStringList());
    QVERIFY(!QFileInfo::exists(QDir(m_agent.stagingDir).filePath(QStringLiteral("cut.ftpkg"))));
}

void TestAgentApi::stageReportsHttpErrorStatus()
{
    const QByteArray package = makePackage(QStringLiteral("normal"), QStringLiteral("server-6.3.0.ftpkg"));
    FileServer server;
    server.mode = FileServer::Mode::NotFound;
    QVERIFY(server.listen());
    const Response r = m_client.post(QStringLiteral("/v1/stage"),
                                     stageRequest(server.url(QStringLiteral("gone.ftpkg")), package,
                                                  QStringLiteral("gone.ftpkg")));
    QCOMPARE(r.status, 202);
    const QJsonObject job = m_client.waitForJob(r.json.value(QStringLiteral("job")).toString());
    QCOMPARE(job.value(QStringLiteral("state")).toString(), QStringLiteral("failed"));
    QCOMPARE(job.value(QStringLiteral("error")).toString(), QStringLiteral("The server answered HTTP 404 Not Found."));
    QCOMPARE(partialFiles(), QStringList());
}

void TestAgentApi::stageRedirects_data()
{
    QTest::addColumn<bool>("fromHttps");
    QTest::addColumn<bool>("token");
    QTest::addColumn<bool>("followed");
    QTest::addColumn<QString>("errorPattern");
    QTest::newRow("http to http, followed") << false << false << true << QString();
    // Never from https down to http.
    QTest::newRow("https to http, refused") << true << false << false << QStringLiteral("^The download from 127.0.0.1:");
    // A token goes to the URL the caller gave and nowhere else.
    QTest::newRow("with a token, none") << true << true << false
                                        << QStringLiteral("^The server answered HTTP 302 Found\\.$");
}

void TestAgentApi::stageRedirects()
{
    QFETCH(bool, fromHttps);
    QFETCH(bool, token);
    QFETCH(bool, followed);
    QFETCH(QString, errorPattern);
    const QByteArray package = makePackage(QStringLiteral("normal"), QStringLiteral("server-6.3.0.ftpkg"));
    FileServer target;
    target.data = package;
    QVERIFY(target.listen());
    FileServer source(fromHttps);
    QByteArray pin;
    QTemporaryDir certDir;
    if (fromHttps) {
        const QString cert = certDir.filePath(QStringLiteral("s.crt"));
        const QString key = certDir.filePath(QStringLiteral("s.key"));
        QVERIFY(ft::agent::writeSelfSignedCertificate(cert, key, {}));
        const QSslCertificate certificate(readAll(cert), QSsl::Pem);
        source.setCertificate(certificate, QSslKey(readAll(key), QSsl::Ec, QSsl::Pem));
        pin = certificate.digest(QCryptographicHash::Sha256).toHex();
    }
    source.mode = FileServer::Mode::Redirect;
    source.redirectTo = target.url(QStringLiteral("moved.ftpkg"));
    QVERIFY(source.listen());
    QJsonObject request = stageRequest(source.url(QStringLiteral("moved.ftpkg")), package, QStringLiteral("moved.ftpkg"));
    if (!pin.isEmpty())
        request.insert(QStringLiteral("fingerprint"), QString::fromLatin1(pin));
    if (token)
        request.insert(QStringLiteral("token"), QStringLiteral("for-the-source-only"));
    const Response r = m_client.post(QStringLiteral("/v1/stage"), request);
    QCOMPARE(r.status, 202);
    const QJsonObject job = m_client.waitForJob(r.json.value(QStringLiteral("job")).toString());
    QCOMPARE(source.requests, 1);
    if (token)
        QVERIFY(source.heads.first().contains("Authorization: Bearer for-the-source-only"));
    if (followed) {
        QCOMPARE(job.value(QStringLiteral("state")).toString(), QStringLiteral("succeeded"));
        QCOMPARE(target.requests, 1);
        QCOMPARE(readAll(QDir(m_agent.stagingDir).filePath(QStringLiteral("moved.ftpkg"))), package);
        QFile::remove(QDir(m_agent.stagingDir).filePath(QStringLiteral("moved.ftpkg")));
        QFile::remove(QDir(m_agent.stagingDir).filePath(QStringLiteral(".meta/moved.ftpkg.json")));
    } else {
        QCOMPARE(job.value(QStringLiteral("state")).toString(), QStringLiteral("failed"));
        const QString error = job.value(QStringLiteral("error")).toString();
        QVERIFY2(error.contains(QRegularExpression(errorPattern)), qPrintable(error));
        QCOMPARE(target.requests, 0);
    }
    QCOMPARE(partialFiles(), QStringList());
}

void TestAgentApi::stageIgnoresProxyFromEnvironment()
{
    // Every download above went straight to its source although the agent's environment
    // names a proxy (initTestCase): the caller named the source, and a proxy would see
    // the token in the clear on plain HTTP.
    QCOMPARE(m_proxy.requests, 0);
    const QByteArray package = makePackage(QStringLiteral("normal"), QStringLiteral("server-6.3.0.ftpkg"));
    FileServer server;
    server.data = package;
    QVERIFY(server.listen());
    const Response r = m_client.post(QStringLiteral("/v1/stage"),
                                     stageRequest(server.url(QStringLiteral("direct.ftpkg")), package,
                                                  QStringLiteral("direct.ftpkg")));
    QCOMPARE(r.status, 202);
    const QJsonObject job = m_client.waitForJob(r.json.value(QStringLiteral("job")).toString());
    QCOMPARE(job.value(QStringLiteral("state")).toString(), QStringLiteral("succeeded"));
    QCOMPARE(server.requests, 1);
    QCOMPARE(m_proxy.requests, 0);
}

void TestAgentApi::secondInitKeepsCertificate()
{
    const QByteArray before = m_agent.fingerprint;
    QVERIFY(m_agent.initAgent().isEmpty());
    QCOMPARE(m_agent.fingerprint, before);
    QVERIFY(m_agent.initAgent({QStringLiteral("--new-certificate")}).isEmpty());
    QVERIFY(m_agent.fingerprint != before);
    // The config holds a salted hash, never the token.
    const QByteArray config = readAll(m_agent.configFile);
    QVERIFY(!config.contains(m_agent.token));
    QVERIFY(config.contains("token_sha256"));
    QCOMPARE(QFileInfo(QFileInfo(m_agent.configFile).absolutePath() + QStringLiteral("/agent.key")).permissions()
                 & (QFile::ReadOther | QFile::ReadGroup),
             QFile::Permissions());
}

QTEST_GUILESS_MAIN(TestAgentApi)
#include "tst_agentapi.moc"

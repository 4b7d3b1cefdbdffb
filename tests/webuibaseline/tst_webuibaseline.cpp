// The Web UI baseline on a real agent (app/agent/webuibaseline.*): recorded at install
// (`ftupgrade-agent baseline`), on demand (POST /v1/webui/baseline) and after a Web UI
// upgrade the agent ran; customizations are the differences from it, and without one
// the agent says so (404) instead of guessing.

#include "../agentapi/agentharness.h"

using namespace agenttest;

class TestWebUiBaseline : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void noBaselineIsSaidHonestly();
    void baselineSubcommand();
    void customizationsAgainstTheBaseline();
    void recordOnDemandAndBadInput();
    void recordedAfterWebUiUpgrade();

private:
    QString baselineFile(const QString &version) const
    {
        return m_agent.dir.filePath(QStringLiteral("agent/state/baselines/webui-%1.sha256").arg(version));
    }
    Agent m_agent;
    Client m_client;
};

void TestWebUiBaseline::initTestCase()
{
    QVERIFY2(m_agent.setUp({QStringLiteral("--webui-files"), QStringLiteral("20")}).isEmpty(), "setUp");
    // A real node has no pristine manifests: the sandbox's are set aside.
    QDir manifests(QDir(m_agent.installDir).filePath(QStringLiteral("manifests")));
    for (const QString &name : manifests.entryList({QStringLiteral("*.sha256")}, QDir::Files))
        QVERIFY(manifests.remove(name));
    QVERIFY2(m_agent.start().isEmpty(), "agent start");
    m_client.bind(m_agent);
}

void TestWebUiBaseline::noBaselineIsSaidHonestly()
{
    const Response r = m_client.get(QStringLiteral("/v1/webui/customizations"));
    QCOMPARE(r.status, 404);
    const QString error = r.json.value(QStringLiteral("error")).toString();
    QVERIFY2(error.contains(QLatin1String("No baseline of Web UI 6.2.1-1200")), qPrintable(error));
}

void TestWebUiBaseline::baselineSubcommand()
{
    int code = -1;
    const QByteArray out = runTool(QStringLiteral("ftupgrade-agent"),
                                   {QStringLiteral("baseline"), QStringLiteral("--config"), m_agent.configFile}, &code);
    QVERIFY2(code == 0, out.constData());
    const QJsonObject meta = QJsonDocument::fromJson(out.trimmed().split('\n').last()).object();
    QCOMPARE(meta.value(QStringLiteral("version")).toString(), QStringLiteral("6.2.1-1200"));
    QVERIFY(meta.value(QStringLiteral("files")).toInteger() >= 20);
    QVERIFY(QFile::exists(baselineFile(QStringLiteral("6.2.1-1200"))));
}

void TestWebUiBaseline::customizationsAgainstTheBaseline()
{
    Response r = m_client.get(QStringLiteral("/v1/webui/customizations"));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json.value(QStringLiteral("baseline_source")).toString(), QStringLiteral("agent_baseline"));
    QVERIFY(r.json.value(QStringLiteral("files")).toArray().isEmpty());
    QVERIFY(!r.json.value(QStringLiteral("baseline_recorded")).toString().isEmpty());

    // A customization made after the baseline shows up.
    QFile css(QDir(m_agent.installDir).filePath(QStringLiteral("webui/site-custom.css")));
    QVERIFY(css.open(QIODevice::WriteOnly));
    css.write("body { color: teal; }\n");
    css.close();
    r = m_client.get(QStringLiteral("/v1/webui/customizations"));
    QCOMPARE(r.status, 200);
    const QJsonArray files = r.json.value(QStringLiteral("files")).toArray();
    QCOMPARE(files.size(), 1);
    QCOMPARE(files.first().toObject().value(QStringLiteral("path")).toString(), QStringLiteral("site-custom.css"));
    QCOMPARE(files.first().toObject().value(QStringLiteral("change")).toString(), QStringLiteral("added"));
    QVERIFY(css.remove());
}

void TestWebUiBaseline::recordOnDemandAndBadInput()
{
    const QByteArray before = readAll(baselineFile(QStringLiteral("6.2.1-1200")));
    // Unknown fields and a missing token change nothing.
    Response r = m_client.post(QStringLiteral("/v1/webui/baseline"), {{QStringLiteral("force"), true}});
    QCOMPARE(r.status, 400);
    QByteArray token = m_client.token;
    m_client.token = "wrong-token-wrong-token-wrong";
    r = m_client.post(QStringLiteral("/v1/webui/baseline"), {});
    m_client.token = token;
    QCOMPARE(r.status, 401);
    r = m_client.request("GET", QStringLiteral("/v1/webui/baseline"));
    QCOMPARE(r.status, 405);
    QCOMPARE(readAll(baselineFile(QStringLiteral("6.2.1-1200"))), before);

    // On demand: the Web UI as it is now becomes the baseline.
    QFile extra(QDir(m_agent.installDir).filePath(QStringLiteral("webui/local-note.html")));
    QVERIFY(extra.open(QIODevice::WriteOnly));
    extra.write("<p>site note</p>\n");
    extra.close();
    r = m_client.post(QStringLiteral("/v1/webui/baseline"), {});
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json.value(QStringLiteral("version")).toString(), QStringLiteral("6.2.1-1200"));
    QVERIFY(readAll(baselineFile(QStringLiteral("6.2.1-1200"))).contains("local-note.html"));
    r = m_client.get(QStringLiteral("/v1/webui/customizations"));
    QVERIFY(r.json.value(QStringLiteral("files")).toArray().isEmpty());
}

void TestWebUiBaseline::recordedAfterWebUiUpgrade()
{
    const QString package = m_agent.dir.filePath(QStringLiteral("webui.ftpkg"));
    int code = 0;
    const QByteArray out = runTool(QStringLiteral("ftsandbox"),
                                   {QStringLiteral("make-package"), QStringLiteral("--version"), QStringLiteral("6.3.0-1500"),
                                    QStringLiteral("--component"), QStringLiteral("webui"), QStringLiteral("--mode"),
                                    QStringLiteral("normal"), QStringLiteral("--webui-files"), QStringLiteral("20"),
                                    QStringLiteral("-o"), package},
                                   &code);
    QVERIFY2(code == 0, out.constData());
    FileServer files;
    files.data = readAll(package);
    QVERIFY(files.listen());
    Response r = m_client.post(QStringLiteral("/v1/stage"),
                               {{QStringLiteral("url"), files.url(QStringLiteral("webui.ftpkg"))},
                                {QStringLiteral("sha256"), QString::fromLatin1(sha256Hex(files.data))},
                                {QStringLiteral("size"), files.data.size()},
                                {QStringLiteral("name"), QStringLiteral("webui-6.3.0.ftpkg")}});
    QCOMPARE(r.status, 202);
    QCOMPARE(m_client.waitForJob(r.json.value(QStringLiteral("job")).toString()).value(QStringLiteral("state")).toString(),
             QStringLiteral("succeeded"));
    r = m_client.post(QStringLiteral("/v1/upgrade"), {{QStringLiteral("component"), QStringLiteral("webui")},
                                                       {QStringLiteral("package"), QStringLiteral("webui-6.3.0.ftpkg")}});
    QCOMPARE(r.status, 202);
    const QJsonObject job = m_client.waitForJob(r.json.value(QStringLiteral("job")).toString());
    QCOMPARE(job.value(QStringLiteral("state")).toString(), QStringLiteral("succeeded"));
    // The agent records the new version's baseline right after (on a worker thread).
    QTRY_VERIFY_WITH_TIMEOUT(QFile::exists(baselineFile(QStringLiteral("6.3.0-1500"))), 20000);
    QFile::remove(QDir(m_agent.installDir).filePath(QStringLiteral("manifests/webui-6.3.0-1500.sha256")));
    r = m_client.get(QStringLiteral("/v1/webui/customizations"));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json.value(QStringLiteral("version")).toString(), QStringLiteral("6.3.0-1500"));
    QCOMPARE(r.json.value(QStringLiteral("baseline_source")).toString(), QStringLiteral("agent_baseline"));
    QVERIFY(r.json.value(QStringLiteral("files")).toArray().isEmpty());
}

QTEST_GUILESS_MAIN(TestWebUiBaseline)
#include "tst_webuibaseline.moc"

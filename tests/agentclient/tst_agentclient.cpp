// The agent client against the real ftupgrade-agent (on a real sandbox node made by
// ftsandbox init), plus transport cases (time-out, closed port) against sockets of
// the test's own. Everything on 127.0.0.1 with ports chosen by the system.

#include "agentlink/agentclient.h"
#include "agentlink/agentjobs.h"
#include "agentlink/agentjobwatcher.h"
#include "agentlink/trustedcertificates.h"
#include "serviceports.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QSettings>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace ft;
using namespace std::chrono_literals;

namespace {

const QString binDir = QStringLiteral(FT_BIN_DIR);
const QString token = QStringLiteral("tst-agentclient-token-0123456789abcdef");
const QString nodeName = QStringLiteral("portal");

QString agentBinary() { return binDir + QStringLiteral("/ftupgrade-agent"); }
QString sandboxBinary() { return binDir + QStringLiteral("/ftsandbox"); }

// A fingerprint that is well-formed but not the agent's.
QString otherFingerprint(const QString &real)
{
    QString other = real;
    other[other.size() - 1] = other.endsWith(QLatin1Char('0')) ? QLatin1Char('1')
                                                               : QLatin1Char('0');
    return other;
}

// Runs a command to its end (tests may block; the code under test never does).
struct CommandResult
{
    bool ok = false;
    QString output;
};

CommandResult runCommand(const QString &program, const QStringList &arguments)
{
    QProcess process;
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.start(program, arguments);
    CommandResult result;
    if (!process.waitForFinished(60000)) {
        process.kill();
        process.waitForFinished();
        result.output = QStringLiteral("%1 did not finish").arg(program);
        return result;
    }
    result.output = QString::fromUtf8(process.readAll());
    result.ok = process.exitStatus() == QProcess::NormalExit && process.exitCode() == 0;
    return result;
}

} // namespace

class tst_AgentClient : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();

    // No agent needed
    void fingerprintsForPeople_data();
    void fingerprintsForPeople();
    void trustedCertificatesRoundTrip();
    void urls_data();
    void urls();
    void timeoutWhenNobodyAnswers_data();
    void timeoutWhenNobodyAnswers();
    void unreachableOnClosedPort_data();
    void unreachableOnClosedPort();
    void untrustedEndpointSendsNothing();
    void cancelFinishesOnce();
    void watcherGivesUpAfterRetryWindow();
    void watcherStopFinishesOnce();

    // Against the real agent
    void health();
    void probeReturnsPrintedFingerprint();
    void node();
    void cluster();
    void wrongToken_data();
    void wrongToken();
    void certificateMismatchStopsBeforeTheHandler_data();
    void certificateMismatchStopsBeforeTheHandler();
    void agentErrorsBecomeSentences();
    void flowHistory_data();
    void flowHistory();
    void webUiCustomizationsAndFiles();
    void stagedPackagesAndUnknownUpgrade();
    void stageAndWatchJob();
    void cancelFinishedJobIsConflict();
    void serviceStartAndStop();
    void watcherSurvivesAgentRestart();

private:
    bool startAgent(QString *why);
    void stopAgent();
    bool agentReady();
    AgentEndpoint endpoint() const;
    // Starts the job and checks finished comes once, later than start().
    void finishOnce(AgentJob *job, int timeoutMs = 20000);

    QTemporaryDir m_dir;
    AgentClient m_client;
    std::unique_ptr<QProcess> m_agent;
    QString m_agentConfig;
    QStringList m_initArguments;
    QUrl m_url;
    QString m_fingerprint;
    QString m_notReady; // why the agent tests cannot run
    QString m_lastStageJob;
};

void tst_AgentClient::initTestCase()
{
    QVERIFY(m_dir.isValid());
    if (!QFile::exists(agentBinary()) || !QFile::exists(sandboxBinary())) {
        m_notReady = QStringLiteral("%1 or %2 has not been built").arg(agentBinary(),
                                                                       sandboxBinary());
        return;
    }
    const QString nodeDir = m_dir.filePath(QStringLiteral("node"));
    const CommandResult sandbox = runCommand(
        sandboxBinary(), {QStringLiteral("init"), nodeDir, QStringLiteral("--version"),
                          QStringLiteral("6.2.1-1200"), QStringLiteral("--role"),
                          QStringLiteral("portal"), QStringLiteral("--os"),
                          QStringLiteral("linux")});
    if (!sandbox.ok) {
        m_notReady = QStringLiteral("ftsandbox init failed: %1").arg(sandbox.output);
        return;
    }
    m_agentConfig = m_dir.filePath(QStringLiteral("agent/agent.conf"));
    m_initArguments = {QStringLiteral("init"), QStringLiteral("--config"), m_agentConfig,
                       QStringLiteral("--install"), nodeDir, QStringLiteral("--backend"),
                       QStringLiteral("sandbox"), QStringLiteral("--listen"),
                       QStringLiteral("127.0.0.1"), QStringLiteral("--staging"),
                       m_dir.filePath(QStringLiteral("staging")), QStringLiteral("--token"),
                       token};
    const CommandResult init = runCommand(agentBinary(), m_initArguments
                                                             + QStringList{QStringLiteral("--port"),
                                                                           QStringLiteral("0")});
    if (!init.ok) {
        m_notReady = QStringLiteral("ftupgrade-agent init failed: %1").arg(init.output);
        return;
    }
    const auto match = QRegularExpression(QStringLiteral("fingerprint:\\s*([0-9A-Fa-f:]+)"))
                           .match(init.output);
    if (!match.hasMatch()) {
        m_notReady = QStringLiteral("ftupgrade-agent init printed no fingerprint: %1")
                         .arg(init.output);
        return;
    }
    m_fingerprint = TrustedCertificates::normalize(match.captured(1)).value_or(QString());
    QString why;
    if (!startAgent(&why))
        m_notReady = why;
}

void tst_AgentClient::cleanupTestCase()
{
    stopAgent();
    // The sandbox server the service test started, should that test have failed
    // half-way: no process outlives the test.
    QFile pidFile(m_dir.filePath(QStringLiteral("node/run/flowtraq.pid")));
    if (pidFile.open(QIODevice::ReadOnly)) {
        const qint64 pid = pidFile.readAll().trimmed().toLongLong();
        if (pid > 0)
            QProcess::execute(QStringLiteral("kill"), {QString::number(pid)});
    }
}

bool tst_AgentClient::startAgent(QString *why)
{
    m_agent = std::make_unique<QProcess>();
    m_agent->setProcessChannelMode(QProcess::ForwardedErrorChannel);
    m_agent->start(agentBinary(), {QStringLiteral("run"), QStringLiteral("--config"),
                                   m_agentConfig});
    if (!m_agent->waitForStarted(10000)) {
        *why = QStringLiteral("ftupgrade-agent run did not start: %1")
                   .arg(m_agent->errorString());
        return false;
    }
    QByteArray output;
    static const QRegularExpression listening(QStringLiteral("listening:\\s*(https://\\S+)"));
    QRegularExpressionMatch match;
    QDeadlineTimer deadline(15000);
    while (!deadline.hasExpired()) {
        if (m_agent->state() != QProcess::Running)
            break;
        m_agent->waitForReadyRead(200);
        output += m_agent->readAllStandardOutput();
        match = listening.match(QString::fromUtf8(output));
        if (match.hasMatch())
            break;
    }
    if (!match.hasMatch()) {
        *why = QStringLiteral("ftupgrade-agent run printed no \"listening:\" line: %1")
                   .arg(QString::fromUtf8(output));
        stopAgent();
        return false;
    }
    m_url = QUrl(match.captured(1));
    return true;
}

void tst_AgentClient::stopAgent()
{
    if (!m_agent)
        return;
    if (m_agent->state() != QProcess::NotRunning) {
        m_agent->terminate();
        if (!m_agent->waitForFinished(10000)) {
            m_agent->kill();
            m_agent->waitForFinished();
        }
    }
    m_agent.reset();
}

bool tst_AgentClient::agentReady()
{
    if (!m_notReady.isEmpty()) {
        QTest::qFail(qPrintable(QStringLiteral("The real agent is needed: %1").arg(m_notReady)),
                     __FILE__, __LINE__);
        return false;
    }
    return true;
}

AgentEndpoint tst_AgentClient::endpoint() const
{
    return AgentEndpoint{nodeName, m_url, m_fingerprint, token};
}

void tst_AgentClient::finishOnce(AgentJob *job, int timeoutMs)
{
    job->setAutoDelete(false);
    QSignalSpy spy(job, &AgentJob::finished);
    job->start();
    QCOMPARE(spy.count(), 0); // never inside start()
    QTRY_COMPARE_WITH_TIMEOUT(spy.count(), 1, timeoutMs);
    QCOMPARE(spy.at(0).at(0).value<AgentJob *>(), job);
    QTest::qWait(20);
    QCOMPARE(spy.count(), 1); // exactly once
    QVERIFY(job->isFinished());
}

// ---- without an agent -------------------------------------------------------------------

void tst_AgentClient::fingerprintsForPeople_data()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<QString>("forPeople");

    const QString hex = QStringLiteral("0123456789abcdef0123456789abcdef"
                                       "0123456789abcdef0123456789abcdef");
    // As 'ftupgrade-agent init' prints it: lower-case hex, no colons.
    const QString people = hex;
    const QString colons = QStringLiteral("01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:"
                                          "01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF");
    QTest::newRow("lower hex") << hex << true << people;
    QTest::newRow("upper hex") << hex.toUpper() << true << people;
    QTest::newRow("colons") << colons << true << people;
    QTest::newRow("spaces around") << QStringLiteral("  ") + hex + QStringLiteral(" ") << true
                                   << people;
    QTest::newRow("too short") << hex.left(62) << false << hex.left(62);
    QTest::newRow("not hex") << QString(64, QLatin1Char('g')) << false
                             << QString(64, QLatin1Char('g'));
    QTest::newRow("empty") << QString() << false << QString();
}

void tst_AgentClient::fingerprintsForPeople()
{
    QFETCH(QString, input);
    QFETCH(bool, valid);
    QFETCH(QString, forPeople);

    const auto normalized = TrustedCertificates::normalize(input);
    QCOMPARE(normalized.has_value(), valid);
    if (valid)
        QCOMPARE(*normalized, forPeople);
    else
        QVERIFY(!normalized.error().isEmpty());
    QCOMPARE(TrustedCertificates::formatForPeople(input), forPeople);
}

void tst_AgentClient::trustedCertificatesRoundTrip()
{
    const QString file = m_dir.filePath(QStringLiteral("trust.ini"));
    const QString a = QString(64, QLatin1Char('a'));
    const QString b = QString(64, QLatin1Char('b'));
    {
        QSettings settings(file, QSettings::IniFormat);
        TrustedCertificates trusted(&settings);
        QVERIFY(trusted.trust(QStringLiteral("10.0.0.7:9650"), a.toUpper()));
        QVERIFY(trusted.trust(QStringLiteral("W3.example:9650"),
                              TrustedCertificates::formatForPeople(b)));
        QVERIFY(!trusted.trust(QStringLiteral("10.0.0.8:9650"), QStringLiteral("nonsense")));
        QVERIFY(!trusted.trust(QString(), a));
    }
    QSettings settings(file, QSettings::IniFormat);
    TrustedCertificates trusted(&settings);
    QCOMPARE(trusted.fingerprint(QStringLiteral("10.0.0.7:9650")), a);
    QCOMPARE(trusted.fingerprint(QStringLiteral("w3.example:9650")), b);
    QCOMPARE(trusted.fingerprint(QStringLiteral("10.0.0.8:9650")), QString());
    QCOMPARE(trusted.addresses(),
             QStringList({QStringLiteral("10.0.0.7:9650"), QStringLiteral("w3.example:9650")}));
    trusted.forget(QStringLiteral("10.0.0.7:9650"));
    QCOMPARE(trusted.fingerprint(QStringLiteral("10.0.0.7:9650")), QString());
    QCOMPARE(trusted.addresses(), QStringList({QStringLiteral("w3.example:9650")}));
    QCOMPARE(TrustedCertificates::addressOf(QUrl(QStringLiteral("https://W3.example/"))),
             QStringLiteral("w3.example:9650"));
}

void tst_AgentClient::urls_data()
{
    QTest::addColumn<QString>("base");
    QTest::addColumn<QString>("expected");

    QTest::newRow("bare") << "https://127.0.0.1:9650" << "https://127.0.0.1:9650/v1/node";
    QTest::newRow("slash") << "https://127.0.0.1:9650/" << "https://127.0.0.1:9650/v1/node";
    QTest::newRow("with v1") << "https://h:1/v1/" << "https://h:1/v1/node";
    QTest::newRow("prefix") << "https://h:1/agent" << "https://h:1/agent/v1/node";
}

void tst_AgentClient::urls()
{
    QFETCH(QString, base);
    QFETCH(QString, expected);
    QCOMPARE(AgentClient::urlFor(QUrl(base), QStringLiteral("/node")).toString(), expected);
}

void tst_AgentClient::timeoutWhenNobodyAnswers_data()
{
    QTest::addColumn<int>("kind");
    QTest::addColumn<QString>("seconds");

    QTest::newRow("node") << 0 << "1";
    QTest::newRow("probe certificate") << 1 << "1";
    QTest::newRow("long poll: wait + time-out") << 2 << "1.5";
}

void tst_AgentClient::timeoutWhenNobodyAnswers()
{
    QFETCH(int, kind);
    QFETCH(QString, seconds);

    // Accepts the connection and then says nothing, not even a TLS hello.
    QTcpServer silent;
    QVERIFY(silent.listen(QHostAddress::LocalHost, 0));
    QList<QTcpSocket *> accepted;
    connect(&silent, &QTcpServer::newConnection, this, [&] {
        while (QTcpSocket *socket = silent.nextPendingConnection())
            accepted.append(socket);
    });

    AgentClient client;
    client.setTimeout(1s);
    const AgentEndpoint silentNode{QStringLiteral("w3"),
                                   QUrl(QStringLiteral("https://127.0.0.1:%1")
                                            .arg(silent.serverPort())),
                                   QString(64, QLatin1Char('c')), token};
    std::unique_ptr<AgentJob> job;
    if (kind == 0)
        job = std::make_unique<FetchNodeJob>(&client, silentNode);
    else if (kind == 1)
        job = std::make_unique<ProbeCertificateJob>(&client, silentNode);
    else
        job = std::make_unique<FetchJobStatusJob>(&client, silentNode, QStringLiteral("j1"), 0,
                                                  500ms);
    finishOnce(job.get());
    if (QTest::currentTestFailed())
        return;
    QVERIFY(!accepted.isEmpty()); // it did connect; it is the answer that never came
    QCOMPARE(job->error(), AgentJob::Timeout);
    QCOMPARE(job->errorString(), QStringLiteral("node w3: no answer after %1 s").arg(seconds));
    qDeleteAll(accepted);
}

void tst_AgentClient::unreachableOnClosedPort_data()
{
    QTest::addColumn<bool>("probe");
    QTest::newRow("node") << false;
    QTest::newRow("probe certificate") << true;
}

void tst_AgentClient::unreachableOnClosedPort()
{
    QFETCH(bool, probe);

    // A port that was free a moment ago and is closed now, outside the ephemeral range
    // so no other test's socket is given it meanwhile.
    const quint16 port = ft::test::freeServiceTcpPort();
    QVERIFY(port != 0);
    AgentClient client;
    const AgentEndpoint closed{QStringLiteral("w4"),
                               QUrl(QStringLiteral("https://127.0.0.1:%1").arg(port)),
                               QString(64, QLatin1Char('d')), token};
    std::unique_ptr<AgentJob> job;
    if (probe)
        job = std::make_unique<ProbeCertificateJob>(&client, closed);
    else
        job = std::make_unique<FetchNodeJob>(&client, closed);
    finishOnce(job.get());
    if (QTest::currentTestFailed())
        return;
    QCOMPARE(job->error(), AgentJob::Unreachable);
    QCOMPARE(job->errorString(),
             QStringLiteral("node w4: cannot connect to 127.0.0.1:%1 (connection refused)")
                 .arg(port));
    QCOMPARE(job->httpStatus(), 0);
}

void tst_AgentClient::untrustedEndpointSendsNothing()
{
    QTcpServer listener;
    QVERIFY(listener.listen(QHostAddress::LocalHost, 0));
    int connections = 0;
    connect(&listener, &QTcpServer::newConnection, this, [&] {
        while (QTcpSocket *socket = listener.nextPendingConnection()) {
            ++connections;
            socket->deleteLater();
        }
    });
    AgentClient client;
    const AgentEndpoint untrusted{QStringLiteral("w5"),
                                  QUrl(QStringLiteral("https://127.0.0.1:%1")
                                           .arg(listener.serverPort())),
                                  QString(), token};
    FetchNodeJob job(&client, untrusted);
    finishOnce(&job);
    if (QTest::currentTestFailed())
        return;
    QCOMPARE(job.error(), AgentJob::CertificateMismatch);
    QVERIFY2(job.errorString().startsWith(QLatin1String("node w5: ")),
             qPrintable(job.errorString()));
    QVERIFY2(job.errorString().contains(QLatin1String("not been trusted")),
             qPrintable(job.errorString()));
    QTest::qWait(100);
    QCOMPARE(connections, 0);
}

void tst_AgentClient::cancelFinishesOnce()
{
    QTcpServer silent;
    QVERIFY(silent.listen(QHostAddress::LocalHost, 0));
    AgentClient client;
    FetchNodeJob job(&client, AgentEndpoint{QStringLiteral("w6"),
                                            QUrl(QStringLiteral("https://127.0.0.1:%1")
                                                     .arg(silent.serverPort())),
                                            QString(64, QLatin1Char('e')), token});
    job.setAutoDelete(false);
    QSignalSpy spy(&job, &AgentJob::finished);
    job.start();
    QTest::qWait(100); // under way: connected, waiting for the handshake
    job.cancel();
    QCOMPARE(spy.count(), 0); // never inside cancel()
    job.cancel();
    QTRY_COMPARE(spy.count(), 1);
    QTest::qWait(50);
    QCOMPARE(spy.count(), 1);
    QCOMPARE(job.error(), AgentJob::Cancelled);
    QVERIFY(job.errorString().startsWith(QLatin1String("node w6: ")));
}

void tst_AgentClient::watcherGivesUpAfterRetryWindow()
{
    const quint16 port = ft::test::freeServiceTcpPort(); // closed now, outside the ephemeral range
    QVERIFY(port != 0);
    AgentClient client;
    AgentJobWatcher watcher(&client,
                            AgentEndpoint{QStringLiteral("w7"),
                                          QUrl(QStringLiteral("https://127.0.0.1:%1").arg(port)),
                                          QString(64, QLatin1Char('a')), token},
                            QStringLiteral("20261127-080000-abcdef"));
    watcher.setRetryWindow(1500ms);
    QSignalSpy finished(&watcher, &AgentJobWatcher::finished);
    QSignalSpy retrying(&watcher, &AgentJobWatcher::retrying);
    watcher.start();
    QCOMPARE(finished.count(), 0);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 15000);
    QTest::qWait(50);
    QCOMPARE(finished.count(), 1);
    QVERIFY(retrying.count() >= 2); // it did try again before giving up
    QCOMPARE(watcher.error(), AgentJob::Unreachable);
    QVERIFY2(watcher.errorString().startsWith(QLatin1String("node w7: cannot connect")),
             qPrintable(watcher.errorString()));
    QVERIFY2(watcher.errorString().contains(QLatin1String("gave up")),
             qPrintable(watcher.errorString()));
    QVERIFY(!watcher.hasStatus());
}

void tst_AgentClient::watcherStopFinishesOnce()
{
    QTcpServer silent;
    QVERIFY(silent.listen(QHostAddress::LocalHost, 0));
    AgentClient client;
    AgentJobWatcher watcher(&client,
                            AgentEndpoint{QStringLiteral("w8"),
                                          QUrl(QStringLiteral("https://127.0.0.1:%1")
                                                   .arg(silent.serverPort())),
                                          QString(64, QLatin1Char('a')), token},
                            QStringLiteral("20261127-080000-abcdef"));
    QSignalSpy finished(&watcher, &AgentJobWatcher::finished);
    watcher.start();
    QTest::qWait(100);
    watcher.stop();
    QCOMPARE(finished.count(), 0); // never inside stop()
    watcher.stop();
    QTRY_COMPARE(finished.count(), 1);
    QTest::qWait(50);
    QCOMPARE(finished.count(), 1);
    QCOMPARE(watcher.error(), AgentJob::Cancelled);
}

// ---- against the real agent -------------------------------------------------------------

void tst_AgentClient::health()
{
    if (!agentReady())
        return;
    HealthJob job(&m_client, endpoint());
    finishOnce(&job);
    if (QTest::currentTestFailed())
        return;
    QVERIFY2(job.error() == AgentJob::NoError, qPrintable(job.errorString()));
    QCOMPARE(job.httpStatus(), 200);
    QCOMPARE(job.health().status, QStringLiteral("ok"));
    QCOMPARE(job.health().api, 1);
    QVERIFY(!job.health().agentVersion.isEmpty());
}

void tst_AgentClient::probeReturnsPrintedFingerprint()
{
    if (!agentReady())
        return;
    AgentEndpoint firstContact = endpoint();
    firstContact.fingerprint.clear(); // nothing trusted yet
    firstContact.token.clear();
    ProbeCertificateJob job(&m_client, firstContact);
    finishOnce(&job);
    if (QTest::currentTestFailed())
        return;
    QVERIFY2(job.error() == AgentJob::NoError, qPrintable(job.errorString()));
    QCOMPARE(job.fingerprint(), m_fingerprint);
    QVERIFY(!job.certificate().isNull());
}

void tst_AgentClient::node()
{
    if (!agentReady())
        return;
    FetchNodeJob job(&m_client, endpoint());
    finishOnce(&job);
    if (QTest::currentTestFailed())
        return;
    QVERIFY2(job.error() == AgentJob::NoError, qPrintable(job.errorString()));
    const NodeStatus &node = job.node();
    QVERIFY(node.reachable);
    QVERIFY(!node.name.isEmpty());
    QCOMPARE(toString(node.role), toString(NodeRole::Portal));
    QCOMPARE(toString(node.os), toString(OsKind::Linux));
    QVERIFY(node.server.installed);
    QCOMPARE(node.server.version.toString(), QStringLiteral("6.2.1-1200"));
    QCOMPARE(node.agentUrl, m_url);
    QCOMPARE(node.fingerprint, m_fingerprint);
    QCOMPARE(node.apiVersion, 1);
    QVERIFY(!node.busy);
}

void tst_AgentClient::cluster()
{
    if (!agentReady())
        return;
    FetchClusterJob job(&m_client, endpoint());
    finishOnce(&job);
    if (QTest::currentTestFailed())
        return;
    QVERIFY2(job.error() == AgentJob::NoError, qPrintable(job.errorString()));
    QCOMPARE(toString(job.cluster().role), toString(NodeRole::Portal));
}

void tst_AgentClient::wrongToken_data()
{
    QTest::addColumn<QString>("badToken");
    QTest::newRow("wrong") << QStringLiteral("not-the-token");
    QTest::newRow("missing") << QString();
    QTest::newRow("one character off") << token.chopped(1) + QLatin1Char('X');
}

void tst_AgentClient::wrongToken()
{
    QFETCH(QString, badToken);
    if (!agentReady())
        return;
    AgentEndpoint wrong = endpoint();
    wrong.token = badToken;
    FetchNodeJob job(&m_client, wrong);
    finishOnce(&job);
    if (QTest::currentTestFailed())
        return;
    qInfo().noquote() << job.errorString();
    QCOMPARE(job.error(), AgentJob::Unauthorized);
    QCOMPARE(job.httpStatus(), 401);
    QVERIFY2(job.errorString().startsWith(QStringLiteral("node %1: the agent did not accept "
                                                         "the access token")
                                              .arg(nodeName)),
             qPrintable(job.errorString()));
    // The token itself never shows up in a message.
    if (!badToken.isEmpty())
        QVERIFY(!job.errorString().contains(badToken));
}

void tst_AgentClient::certificateMismatchStopsBeforeTheHandler_data()
{
    QTest::addColumn<bool>("fresh");
    // A client that has never talked to the agent, and one that has a kept-alive,
    // verified connection to it: neither may carry a request under another pin.
    QTest::newRow("new connection") << true;
    QTest::newRow("kept-alive connection") << false;
}

void tst_AgentClient::certificateMismatchStopsBeforeTheHandler()
{
    QFETCH(bool, fresh);
    if (!agentReady())
        return;

    AgentClient client;
    if (!fresh) {
        HealthJob warmUp(&client, endpoint());
        finishOnce(&warmUp);
        QCOMPARE(warmUp.error(), AgentJob::NoError);
    }

    const auto countJobs = [this]() -> int {
        ListJobsJob list(&m_client, endpoint());
        finishOnce(&list);
        if (list.error() != AgentJob::NoError)
            return -1;
        return int(list.jobs().size());
    };
    const int jobsBefore = countJobs();
    QVERIFY(jobsBefore >= 0);

    // A request that would create a stage job on the agent, under the wrong pin.
    const StageRequest stage{QUrl(QStringLiteral("http://127.0.0.1:1/server-6.3.0.ftpkg")),
                             QString(64, QLatin1Char('f')), 1024,
                             QStringLiteral("server-6.3.0.ftpkg"), {}};
    AgentEndpoint pinnedWrong = endpoint();
    pinnedWrong.fingerprint = otherFingerprint(m_fingerprint);
    StartStageJob refused(&client, pinnedWrong, stage);
    finishOnce(&refused);
    if (QTest::currentTestFailed())
        return;
    qInfo().noquote() << refused.errorString();
    QCOMPARE(refused.error(), AgentJob::CertificateMismatch);
    QCOMPARE(refused.errorString(),
             QStringLiteral("node %1: certificate changed since you trusted it "
                            "(expected %2, got %3)")
                 .arg(nodeName, TrustedCertificates::formatForPeople(pinnedWrong.fingerprint),
                      TrustedCertificates::formatForPeople(m_fingerprint)));
    QVERIFY(refused.jobId().isEmpty());
    QCOMPARE(countJobs(), jobsBefore); // the agent never handled it

    // The same request under the right pin does reach the handler.
    StartStageJob accepted(&client, endpoint(), stage);
    finishOnce(&accepted);
    if (QTest::currentTestFailed())
        return;
    QVERIFY2(accepted.error() == AgentJob::NoError, qPrintable(accepted.errorString()));
    QVERIFY(!accepted.jobId().isEmpty());
    QCOMPARE(countJobs(), jobsBefore + 1);
}

void tst_AgentClient::agentErrorsBecomeSentences()
{
    if (!agentReady())
        return;
    FetchJobStatusJob unknown(&m_client, endpoint(), QStringLiteral("no-such-job"));
    finishOnce(&unknown);
    if (QTest::currentTestFailed())
        return;
    qInfo().noquote() << unknown.errorString();
    QCOMPARE(unknown.error(), AgentJob::NotFound);
    QCOMPARE(unknown.httpStatus(), 404);
    QVERIFY2(unknown.errorString().startsWith(nodeName + QStringLiteral(": "))
                 || unknown.errorString().startsWith(QStringLiteral("node ") + nodeName),
             qPrintable(unknown.errorString()));
    QVERIFY2(unknown.errorString().size() > QStringLiteral("node portal: ").size() + 5,
             qPrintable(unknown.errorString()));

    // Traversal in a Web UI path: the agent refuses it, and says so.
    FetchWebUiFileJob traversal(&m_client, endpoint(), QStringLiteral("../flowtraq.conf"));
    finishOnce(&traversal);
    if (QTest::currentTestFailed())
        return;
    qInfo().noquote() << traversal.errorString();
    QCOMPARE(traversal.error(), AgentJob::BadRequest);
    QCOMPARE(traversal.httpStatus(), 400);
    QVERIFY(traversal.data().isEmpty());
}

void tst_AgentClient::flowHistory_data()
{
    QTest::addColumn<int>("hours");
    QTest::addColumn<bool>("valid");
    QTest::newRow("a day") << 24 << true;
    QTest::newRow("one hour") << 1 << true;
    QTest::newRow("zero") << 0 << false;
    QTest::newRow("over a month") << 745 << false;
}

void tst_AgentClient::flowHistory()
{
    QFETCH(int, hours);
    QFETCH(bool, valid);
    if (!agentReady())
        return;
    FetchFlowHistoryJob job(&m_client, endpoint(), hours);
    finishOnce(&job);
    if (QTest::currentTestFailed())
        return;
    if (!valid) {
        QCOMPARE(job.error(), AgentJob::BadRequest);
        QCOMPARE(job.httpStatus(), 400);
        QVERIFY(job.errorString().startsWith(QStringLiteral("node %1: ").arg(nodeName)));
        return;
    }
    QVERIFY2(job.error() == AgentJob::NoError, qPrintable(job.errorString()));
    QVERIFY(job.hours().size() <= hours);
    for (int i = 1; i < job.hours().size(); ++i)
        QVERIFY(job.hours().at(i - 1).start < job.hours().at(i).start);
}

void tst_AgentClient::webUiCustomizationsAndFiles()
{
    if (!agentReady())
        return;
    // An administrator's change: one pristine file edited, one file added.
    const QString nodeDir = m_dir.filePath(QStringLiteral("node"));
    QFile manifest(nodeDir + QStringLiteral("/manifests/webui-6.2.1-1200.sha256"));
    QVERIFY2(manifest.open(QIODevice::ReadOnly), qPrintable(manifest.fileName()));
    const QString firstLine = QString::fromUtf8(manifest.readLine()).trimmed();
    const QString edited = firstLine.section(QStringLiteral("  "), 1);
    QVERIFY2(!edited.isEmpty(), qPrintable(firstLine));
    QFile editedFile(nodeDir + QStringLiteral("/webui/") + edited);
    QVERIFY(editedFile.open(QIODevice::ReadWrite));
    const QByteArray pristine = editedFile.readAll();
    editedFile.write("\n/* ACME customization */\n");
    editedFile.close();
    const QString added = QStringLiteral("img/logo-acme.png");
    QVERIFY(QDir().mkpath(nodeDir + QStringLiteral("/webui/img")));
    QFile addedFile(nodeDir + QStringLiteral("/webui/") + added);
    QVERIFY(addedFile.open(QIODevice::WriteOnly));
    addedFile.write(QByteArray(300, '\x89'));
    addedFile.close();

    // Names with characters that mean something in a URL query.
    const QString oddName = QStringLiteral("css/acme theme+dark&50%.css");
    QFile oddFile(nodeDir + QStringLiteral("/webui/") + oddName);
    QVERIFY(oddFile.open(QIODevice::WriteOnly));
    oddFile.write("body { color: #123; }\n");
    oddFile.close();

    FetchCustomizationsJob list(&m_client, endpoint());
    finishOnce(&list);
    if (QTest::currentTestFailed())
        return;
    QVERIFY2(list.error() == AgentJob::NoError, qPrintable(list.errorString()));
    QCOMPARE(list.customizations().version.toString(), QStringLiteral("6.2.1-1200"));
    QHash<QString, WebUiCustomizedFile::Change> changes;
    for (const WebUiCustomizedFile &file : list.customizations().files)
        changes.insert(file.path, file.change);
    QVERIFY2(changes.contains(edited), qPrintable(edited));
    QVERIFY(changes.value(edited) == WebUiCustomizedFile::Change::Modified);
    QVERIFY(changes.contains(added));
    QVERIFY(changes.value(added) == WebUiCustomizedFile::Change::Added);
    QVERIFY(!list.customizations().raw.isEmpty());

    FetchWebUiFileJob current(&m_client, endpoint(), edited);
    finishOnce(&current);
    QVERIFY2(current.error() == AgentJob::NoError, qPrintable(current.errorString()));
    QCOMPARE(current.data(), pristine + "\n/* ACME customization */\n");

    FetchWebUiFileJob before(&m_client, endpoint(), edited, FetchWebUiFileJob::Which::Pristine);
    finishOnce(&before);
    QVERIFY2(before.error() == AgentJob::NoError, qPrintable(before.errorString()));
    QCOMPARE(before.data(), pristine);

    FetchWebUiFileJob binary(&m_client, endpoint(), added);
    finishOnce(&binary);
    QVERIFY2(binary.error() == AgentJob::NoError, qPrintable(binary.errorString()));
    QCOMPARE(binary.data(), QByteArray(300, '\x89'));

    QVERIFY(changes.contains(oddName));
    FetchWebUiFileJob odd(&m_client, endpoint(), oddName);
    finishOnce(&odd);
    QVERIFY2(odd.error() == AgentJob::NoError, qPrintable(odd.errorString()));
    QCOMPARE(odd.data(), QByteArray("body { color: #123; }\n"));
}

void tst_AgentClient::stagedPackagesAndUnknownUpgrade()
{
    if (!agentReady())
        return;
    ListStagedJob staged(&m_client, endpoint());
    finishOnce(&staged);
    if (QTest::currentTestFailed())
        return;
    QVERIFY2(staged.error() == AgentJob::NoError, qPrintable(staged.errorString()));
    QVERIFY(staged.packages().isEmpty()); // every download in this test fails

    ListJobsJob before(&m_client, endpoint());
    finishOnce(&before);
    QVERIFY2(before.error() == AgentJob::NoError, qPrintable(before.errorString()));

    StartUpgradeJob upgrade(&m_client, endpoint(),
                            UpgradeRequest{Component::Server, QStringLiteral("server-9.9.9.ftpkg"),
                                           600});
    finishOnce(&upgrade);
    if (QTest::currentTestFailed())
        return;
    qInfo().noquote() << upgrade.errorString();
    QCOMPARE(upgrade.error(), AgentJob::NotFound);
    QVERIFY(upgrade.jobId().isEmpty());
    QVERIFY(upgrade.errorString().startsWith(QStringLiteral("node %1: ").arg(nodeName)));

    ListJobsJob after(&m_client, endpoint());
    finishOnce(&after);
    QCOMPARE(after.jobs().size(), before.jobs().size()); // the refusal changed nothing
}

void tst_AgentClient::stageAndWatchJob()
{
    if (!agentReady())
        return;
    // Nothing listens on port 1, so the download fails and the job ends 'failed'.
    const StageRequest stage{QUrl(QStringLiteral("http://127.0.0.1:1/webui-6.3.0.ftpkg")),
                             QString(64, QLatin1Char('a')), 2048,
                             QStringLiteral("webui-6.3.0.ftpkg"), {}};
    StartStageJob start(&m_client, endpoint(), stage);
    finishOnce(&start);
    if (QTest::currentTestFailed())
        return;
    QVERIFY2(start.error() == AgentJob::NoError, qPrintable(start.errorString()));
    QCOMPARE(start.httpStatus(), 202);

    AgentJobWatcher watcher(&m_client, endpoint(), start.jobId());
    watcher.setPollWait(2s);
    QSignalSpy finished(&watcher, &AgentJobWatcher::finished);
    QSignalSpy changes(&watcher, &AgentJobWatcher::statusChanged);
    QList<AgentLogLine> lines;
    connect(&watcher, &AgentJobWatcher::logLines, this,
            [&](const QList<AgentLogLine> &more) { lines += more; });
    watcher.start();
    QCOMPARE(finished.count(), 0);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 30000);
    QVERIFY2(watcher.error() == AgentJob::NoError, qPrintable(watcher.errorString()));
    QVERIFY(watcher.hasStatus());
    QCOMPARE(watcher.status().id, start.jobId());
    QCOMPARE(watcher.status().kind, QStringLiteral("stage"));
    QCOMPARE(toString(watcher.status().state), toString(AgentJobState::Failed));
    QVERIFY(!watcher.status().error.isEmpty());
    QVERIFY(changes.count() >= 1);
    // Log lines arrive once each, in order.
    for (int i = 1; i < lines.size(); ++i)
        QVERIFY(lines.at(i).n > lines.at(i - 1).n);

    // One plain poll from the start gives the same lines again.
    FetchJobStatusJob poll(&m_client, endpoint(), start.jobId(), 0);
    finishOnce(&poll);
    QVERIFY2(poll.error() == AgentJob::NoError, qPrintable(poll.errorString()));
    QCOMPARE(poll.status().log.size(), lines.size());
    QCOMPARE(poll.status().next, lines.isEmpty() ? 0 : lines.constLast().n + 1);
    m_lastStageJob = start.jobId();
}

void tst_AgentClient::cancelFinishedJobIsConflict()
{
    if (!agentReady())
        return;
    QVERIFY(!m_lastStageJob.isEmpty());
    CancelJobJob cancel(&m_client, endpoint(), m_lastStageJob);
    finishOnce(&cancel);
    if (QTest::currentTestFailed())
        return;
    qInfo().noquote() << cancel.errorString();
    QCOMPARE(cancel.error(), AgentJob::Conflict);
    QCOMPARE(cancel.httpStatus(), 409);
    QVERIFY(!cancel.cancelled());
    QVERIFY(cancel.errorString().contains(m_lastStageJob));
}

void tst_AgentClient::serviceStartAndStop()
{
    if (!agentReady())
        return;
    if (!QFile::exists(binDir + QStringLiteral("/ftsandbox-server")))
        QFAIL("ftsandbox-server has not been built; the sandbox service needs it");

    ServiceActionJob start(&m_client, endpoint(), ServiceActionJob::Action::Start);
    finishOnce(&start, 60000);
    if (QTest::currentTestFailed())
        return;
    QVERIFY2(start.error() == AgentJob::NoError, qPrintable(start.errorString()));
    QCOMPARE(toString(start.state()), toString(ServiceState::Running));

    FetchNodeJob running(&m_client, endpoint());
    finishOnce(&running);
    QVERIFY2(running.error() == AgentJob::NoError, qPrintable(running.errorString()));
    QCOMPARE(toString(running.node().service), toString(ServiceState::Running));

    ServiceActionJob stop(&m_client, endpoint(), ServiceActionJob::Action::Stop);
    finishOnce(&stop, 60000);
    if (QTest::currentTestFailed())
        return;
    QVERIFY2(stop.error() == AgentJob::NoError, qPrintable(stop.errorString()));
    QCOMPARE(toString(stop.state()), toString(ServiceState::Stopped));

    FetchNodeJob stopped(&m_client, endpoint());
    finishOnce(&stopped);
    QCOMPARE(toString(stopped.node().service), toString(ServiceState::Stopped));
}

void tst_AgentClient::watcherSurvivesAgentRestart()
{
    if (!agentReady())
        return;
    const StageRequest stage{QUrl(QStringLiteral("http://127.0.0.1:1/nbi-6.3.0.ftpkg")),
                             QString(64, QLatin1Char('b')), 4096,
                             QStringLiteral("nbi-6.3.0.ftpkg"), {}};
    StartStageJob start(&m_client, endpoint(), stage);
    finishOnce(&start);
    if (QTest::currentTestFailed())
        return;
    QVERIFY2(start.error() == AgentJob::NoError, qPrintable(start.errorString()));

    // The agent goes away, and comes back on the same port a moment later.
    const int port = m_url.port();
    stopAgent();
    const CommandResult reinit = runCommand(
        agentBinary(),
        m_initArguments + QStringList{QStringLiteral("--port"), QString::number(port)});
    QVERIFY2(reinit.ok, qPrintable(reinit.output));

    AgentJobWatcher watcher(&m_client, endpoint(), start.jobId());
    watcher.setPollWait(1s);
    QSignalSpy finished(&watcher, &AgentJobWatcher::finished);
    QSignalSpy retrying(&watcher, &AgentJobWatcher::retrying);
    watcher.start();
    QTRY_VERIFY_WITH_TIMEOUT(retrying.count() >= 2, 15000);
    QCOMPARE(finished.count(), 0);

    QString why;
    QVERIFY2(startAgent(&why), qPrintable(why));
    QCOMPARE(m_url.port(), port);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 30000);
    QVERIFY2(watcher.error() == AgentJob::NoError, qPrintable(watcher.errorString()));
    QVERIFY(watcher.retries() >= 2);
    QVERIFY(watcher.status().isTerminal());
    QCOMPARE(watcher.status().id, start.jobId());
}

QTEST_GUILESS_MAIN(tst_AgentClient)
#include "tst_agentclient.moc"

// Service-control parsing on captured outputs of systemctl and sc.exe, and the sandbox
// backend's state from its pid file and status.json.

#include "servicebackend.h"
#include "serviceparsers.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QScopeGuard>

#include <optional>

using namespace ft;
using namespace ft::agent;

namespace {

QByteArray captured(const QString &name)
{
    QFile file(QStringLiteral(FT_SERVICE_DATA "/") + name);
    if (!file.open(QIODevice::ReadOnly))
        qFatal("missing test data %s", qPrintable(name));
    return file.readAll();
}

QByteArray readAll(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

void writeFile(const QString &path, const QByteArray &data)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(data);
}

} // namespace

class TestServiceBackends : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void systemctlShow_data();
    void systemctlShow();
    void systemctlShowRejectsGarbage();
    void systemctlIsActive_data();
    void systemctlIsActive();
    void scQuery_data();
    void scQuery();
    void scQueryRejectsGarbage();
    void sandboxProbe_data();
    void sandboxProbe();
    void sandboxQueryOperationFinishesLater();
    void runCommandCapturesOutputAndTimesOut();
    void processBackendsPollUntilDone_data();
    void processBackendsPollUntilDone();
};

void TestServiceBackends::systemctlShow_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<ServiceState>("state");
    QTest::addColumn<bool>("pending");
    QTest::addColumn<qint64>("pid");
    QTest::newRow("running") << "systemctl-show-running.txt" << ServiceState::Running << false << qint64(2143);
    QTest::newRow("stopped") << "systemctl-show-stopped.txt" << ServiceState::Stopped << false << qint64(0);
    QTest::newRow("failed") << "systemctl-show-failed.txt" << ServiceState::Stopped << false << qint64(0);
    QTest::newRow("stopping") << "systemctl-show-stopping.txt" << ServiceState::Running << true << qint64(2143);
    QTest::newRow("starting") << "systemctl-show-starting.txt" << ServiceState::Stopped << true << qint64(0);
    QTest::newRow("missing") << "systemctl-show-missing.txt" << ServiceState::Missing << false << qint64(0);
}

void TestServiceBackends::systemctlShow()
{
    QFETCH(QString, file);
    QFETCH(ServiceState, state);
    QFETCH(bool, pending);
    QFETCH(qint64, pid);
    auto status = parseSystemctlShow(captured(file));
    QVERIFY2(status, status ? "" : qPrintable(status.error()));
    QCOMPARE(status->mainPid, pid);
    const ServiceProbe probe = probeFromSystemd(*status);
    QCOMPARE(toString(probe.state), toString(state));
    QCOMPARE(probe.pending, pending);
}

void TestServiceBackends::systemctlShowRejectsGarbage()
{
    QVERIFY(!parseSystemctlShow("Failed to connect to bus: No such file or directory\n"));
    QVERIFY(!parseSystemctlShow(""));
}

void TestServiceBackends::systemctlIsActive_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<ServiceState>("state");
    QTest::addColumn<bool>("pending");
    QTest::newRow("active") << "systemctl-is-active-active.txt" << 0 << ServiceState::Running << false;
    QTest::newRow("inactive") << "systemctl-is-active-inactive.txt" << 3 << ServiceState::Stopped << false;
    QTest::newRow("failed") << "systemctl-is-active-failed.txt" << 3 << ServiceState::Stopped << false;
    QTest::newRow("activating") << "systemctl-is-active-activating.txt" << 3 << ServiceState::Stopped << true;
    QTest::newRow("deactivating") << "systemctl-is-active-deactivating.txt" << 3 << ServiceState::Running << true;
}

void TestServiceBackends::systemctlIsActive()
{
    QFETCH(QString, file);
    QFETCH(int, exitCode);
    QFETCH(ServiceState, state);
    QFETCH(bool, pending);
    auto probe = parseSystemctlIsActive(captured(file), exitCode);
    QVERIFY2(probe, probe ? "" : qPrintable(probe.error()));
    QCOMPARE(toString(probe->state), toString(state));
    QCOMPARE(probe->pending, pending);
    QVERIFY(!parseSystemctlIsActive("", 4));
    QVERIFY(!parseSystemctlIsActive("Failed to get unit\n", 1));
}

void TestServiceBackends::scQuery_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<bool>("exists");
    QTest::addColumn<int>("error");
    QTest::addColumn<QString>("stateName");
    QTest::addColumn<ServiceState>("state");
    QTest::addColumn<bool>("pending");
    QTest::newRow("running") << "sc-query-running.txt" << 0 << true << 0 << "RUNNING" << ServiceState::Running << false;
    QTest::newRow("stopped") << "sc-query-stopped.txt" << 0 << true << 0 << "STOPPED" << ServiceState::Stopped << false;
    QTest::newRow("stop pending") << "sc-query-stop-pending.txt" << 0 << true << 0 << "STOP_PENDING"
                                  << ServiceState::Running << true;
    QTest::newRow("start pending") << "sc-queryex-start-pending.txt" << 0 << true << 0 << "START_PENDING"
                                   << ServiceState::Stopped << true;
    QTest::newRow("1060 does not exist") << "sc-query-1060.txt" << 1060 << false << 1060 << ""
                                         << ServiceState::Missing << false;
    QTest::newRow("1062 not started") << "sc-stop-1062.txt" << 1062 << true << 1062 << ""
                                      << ServiceState::Unknown << false;
    QTest::newRow("1056 already running") << "sc-start-1056.txt" << 1056 << true << 1056 << ""
                                          << ServiceState::Unknown << false;
    QTest::newRow("5 access denied") << "sc-stop-5.txt" << 5 << true << 5 << "" << ServiceState::Unknown << false;
}

void TestServiceBackends::scQuery()
{
    QFETCH(QString, file);
    QFETCH(int, exitCode);
    QFETCH(bool, exists);
    QFETCH(int, error);
    QFETCH(QString, stateName);
    QFETCH(ServiceState, state);
    QFETCH(bool, pending);
    auto status = parseScOutput(captured(file), exitCode);
    QVERIFY2(status, status ? "" : qPrintable(status.error()));
    QCOMPARE(status->exists, exists);
    QCOMPARE(status->errorCode, error);
    QCOMPARE(status->stateName, stateName);
    if (error == 0)
        QCOMPARE(status->serviceName, QStringLiteral("ProQueSys FlowTraq Server"));
    else
        QVERIFY(!status->errorText.isEmpty());
    const ServiceProbe probe = probeFromSc(*status);
    QCOMPARE(toString(probe.state), toString(state));
    QCOMPARE(probe.pending, pending);
}

void TestServiceBackends::scQueryRejectsGarbage()
{
    QVERIFY(!parseScOutput("DESCRIPTION:\r\n        Creates a service entry\r\n", 0));
}

void TestServiceBackends::sandboxProbe_data()
{
    QTest::addColumn<bool>("installed");
    QTest::addColumn<bool>("pidFile");
    QTest::addColumn<bool>("livePid");
    QTest::addColumn<int>("statusAgeSeconds"); // -1: no status.json
    QTest::addColumn<QString>("statusState");
    QTest::addColumn<ServiceState>("state");
    QTest::addColumn<bool>("pending");
    QTest::newRow("not installed") << false << false << false << -1 << "" << ServiceState::Missing << false;
    QTest::newRow("no pid file") << true << false << false << -1 << "" << ServiceState::Stopped << false;
    QTest::newRow("dead pid") << true << true << false << 0 << "running" << ServiceState::Stopped << false;
    QTest::newRow("fresh status") << true << true << true << 0 << "running" << ServiceState::Running << false;
    QTest::newRow("stale status") << true << true << true << 30 << "running" << ServiceState::Stopped << true;
    QTest::newRow("stopping") << true << true << true << 0 << "stopping" << ServiceState::Running << true;
    QTest::newRow("no status yet") << true << true << true << -1 << "" << ServiceState::Stopped << true;
}

void TestServiceBackends::sandboxProbe()
{
    QFETCH(bool, installed);
    QFETCH(bool, pidFile);
    QFETCH(bool, livePid);
    QFETCH(int, statusAgeSeconds);
    QFETCH(QString, statusState);
    QFETCH(ServiceState, state);
    QFETCH(bool, pending);
    QTemporaryDir dir;
    if (installed)
        writeFile(dir.filePath(QStringLiteral("VERSION")), "6.2.1-1200\n");
    // Our own pid is alive; a pid far above pid_max is not.
    const qint64 pid = livePid ? QCoreApplication::applicationPid() : 99999999;
    if (pidFile)
        writeFile(dir.filePath(QStringLiteral("run/flowtraq.pid")), QByteArray::number(pid) + '\n');
    if (statusAgeSeconds >= 0) {
        const QJsonObject status{
            {QStringLiteral("pid"), pid}, {QStringLiteral("state"), statusState},
            {QStringLiteral("updated"),
             QDateTime::currentDateTimeUtc().addSecs(-statusAgeSeconds).toString(Qt::ISODate)}};
        writeFile(dir.filePath(QStringLiteral("run/status.json")), QJsonDocument(status).toJson());
    }
    const ServiceProbe probe = probeSandboxInstall(dir.path());
    QCOMPARE(toString(probe.state), toString(state));
    QCOMPARE(probe.pending, pending);
}

void TestServiceBackends::sandboxQueryOperationFinishesLater()
{
    QTemporaryDir dir;
    writeFile(dir.filePath(QStringLiteral("VERSION")), "6.2.1-1200\n");
    AgentConfig config;
    config.backend = Backend::Sandbox;
    config.installDir = dir.path();
    auto backend = ServiceBackend::create(config);
    ServiceOperation *op = backend->query(this);
    QSignalSpy spy(op, &ServiceOperation::finished);
    op->start();
    QCOMPARE(spy.count(), 0); // never inside start()
    QTRY_COMPARE(spy.count(), 1);
    QCOMPARE(toString(op->state()), toString(ServiceState::Stopped));
    QVERIFY(!op->hasError());
    delete op;
}

void TestServiceBackends::runCommandCapturesOutputAndTimesOut()
{
    std::optional<CommandResult> result;
    runCommand(this, QStringLiteral("/bin/sh"), {QStringLiteral("-c"), QStringLiteral("echo out; echo err >&2; exit 3")},
               5000, [&](const CommandResult &r) { result = r; });
    QVERIFY(!result); // never synchronous
    QTRY_VERIFY(result);
    QVERIFY(result->started);
    QCOMPARE(result->exitCode, 3);
    QCOMPARE(result->out, QByteArray("out\n"));
    QCOMPARE(result->err, QByteArray("err\n"));

    result.reset();
    runCommand(this, QStringLiteral("/bin/sleep"), {QStringLiteral("30")}, 200, [&](const CommandResult &r) { result = r; });
    QTRY_VERIFY_WITH_TIMEOUT(result, 10000);
    QVERIFY(result->timedOut);
    QVERIFY(!result->errorString.isEmpty());

    result.reset();
    runCommand(this, QStringLiteral("/nonexistent/tool"), {}, 1000, [&](const CommandResult &r) { result = r; });
    QTRY_VERIFY(result);
    QVERIFY(!result->started);
    QVERIFY(!result->errorString.isEmpty());
}

// The systemd and Windows backends run their real QProcess code against stand-ins for
// systemctl and sc.exe (tests/servicebackends/fakes) that print the captured outputs.
void TestServiceBackends::processBackendsPollUntilDone_data()
{
    QTest::addColumn<QString>("backend");
    QTest::addColumn<QString>("initial");
    QTest::addColumn<QString>("action");
    QTest::addColumn<ServiceState>("state");
    QTest::addColumn<bool>("error");
    QTest::addColumn<QString>("expectedCall");
    QTest::addColumn<int>("minimumProbes");
    QTest::newRow("systemd stop") << "systemd" << "running" << "stop" << ServiceState::Stopped << false
                                  << "stop --no-block flowtraq" << 3;
    QTest::newRow("systemd start") << "systemd" << "stopped" << "start" << ServiceState::Running << false
                                   << "start --no-block flowtraq" << 1;
    QTest::newRow("systemd query") << "systemd" << "running" << "query" << ServiceState::Running << false
                                   << "show flowtraq --property=LoadState,ActiveState,SubState,MainPID" << 1;
    QTest::newRow("systemd missing") << "systemd" << "missing" << "stop" << ServiceState::Unknown << true
                                     << "stop --no-block flowtraq" << 0;
    QTest::newRow("windows stop") << "windows" << "running" << "stop" << ServiceState::Stopped << false
                                  << "stop ProQueSys FlowTraq Server" << 2;
    QTest::newRow("windows stop when stopped") << "windows" << "stopped" << "stop" << ServiceState::Stopped << false
                                               << "stop ProQueSys FlowTraq Server" << 1;
    QTest::newRow("windows start") << "windows" << "stopped" << "start" << ServiceState::Running << false
                                   << "start ProQueSys FlowTraq Server" << 1;
    QTest::newRow("windows query missing") << "windows" << "missing" << "query" << ServiceState::Missing << false
                                           << "query ProQueSys FlowTraq Server" << 1;
}

void TestServiceBackends::processBackendsPollUntilDone()
{
    QFETCH(QString, backend);
    QFETCH(QString, initial);
    QFETCH(QString, action);
    QFETCH(ServiceState, state);
    QFETCH(bool, error);
    QFETCH(QString, expectedCall);
    QFETCH(int, minimumProbes);

    QTemporaryDir dir;
    for (const QString &tool : {QStringLiteral("systemctl"), QStringLiteral("sc.exe")}) {
        const QString target = dir.filePath(tool);
        QVERIFY(QFile::copy(QStringLiteral(FT_SERVICE_DATA "/../fakes/") + tool, target));
        QFile::setPermissions(target, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
    }
    const QString stateFile = dir.filePath(QStringLiteral("state"));
    writeFile(stateFile, initial.toUtf8() + '\n');
    const QByteArray oldPath = qgetenv("PATH");
    qputenv("PATH", dir.path().toUtf8() + ':' + oldPath);
    qputenv("FAKE_SERVICE_STATE", stateFile.toUtf8());
    qputenv("FAKE_SERVICE_DATA", FT_SERVICE_DATA);
    auto restore = qScopeGuard([&] { qputenv("PATH", oldPath); });

    AgentConfig config;
    config.backend = *parseBackend(backend);
    config.serviceName = AgentConfig::defaultServiceName(config.backend);
    auto service = ServiceBackend::create(config);
    ServiceOperation *op = action == QLatin1String("stop") ? service->stopService(this)
                           : action == QLatin1String("start") ? service->startService(this)
                                                              : service->query(this);
    QSignalSpy finished(op, &ServiceOperation::finished);
    op->start();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 20000);
    QCOMPARE(op->hasError(), error);
    if (!error)
        QCOMPARE(toString(op->state()), toString(state));
    const QStringList calls = QString::fromUtf8(readAll(stateFile + QStringLiteral(".calls")))
                                  .split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QVERIFY2(calls.contains(expectedCall), qPrintable(calls.join(QLatin1String(" | "))));
    const qsizetype probes = std::count_if(calls.begin(), calls.end(), [](const QString &call) {
        return call.startsWith(QLatin1String("show ")) || call.startsWith(QLatin1String("query "));
    });
    QVERIFY2(probes >= minimumProbes, qPrintable(calls.join(QLatin1String(" | "))));
    delete op;
}

QTEST_GUILESS_MAIN(TestServiceBackends)
#include "tst_servicebackends.moc"

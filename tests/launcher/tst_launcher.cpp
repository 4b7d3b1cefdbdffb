#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSet>
#include <QSettings>
#include <QTemporaryDir>
#include <QUrl>
#include <QtTest>

#include <csignal>

#include <unistd.h>

namespace {

QString binary(const QString &name)
{
    return QStringLiteral(FT_BIN_DIR "/") + name;
}

struct RunResult
{
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

RunResult runTool(const QStringList &arguments, int timeoutMs = 60000)
{
    QProcess process;
    process.start(binary(QStringLiteral("ftsandbox")), arguments);
    RunResult result;
    if (!process.waitForFinished(timeoutMs)) {
        process.kill();
        process.waitForFinished();
        return result;
    }
    result.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    result.out = process.readAllStandardOutput();
    result.err = process.readAllStandardError();
    return result;
}

QJsonObject readJson(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(file.readAll()).object();
}

// Alive and not a zombie waiting for init to reap it.
bool isAlive(qint64 pid)
{
    if (pid <= 0 || ::kill(pid_t(pid), 0) != 0)
        return false;
    QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
    if (stat.open(QIODevice::ReadOnly)) {
        const QByteArray text = stat.readAll();
        const qsizetype close = text.lastIndexOf(')');
        if (close > 0 && text.mid(close + 2, 1) == "Z")
            return false;
    }
    return true;
}

qint64 flowsTotal(const QString &install)
{
    return qint64(readJson(install + QStringLiteral("/run/status.json")).value(QStringLiteral("flows_total")).toDouble());
}

} // namespace

class TestLauncher : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_cluster; // a cluster that cleanup() must stop if a test failed half-way

private Q_SLOTS:
    void initTestCase()
    {
        for (const char *name : {"ftsandbox", "ftsandbox-server", "ftsandbox-exporter"}) {
            if (!QFileInfo(binary(QString::fromLatin1(name))).isExecutable())
                QSKIP(qPrintable(QStringLiteral("%1 is not built").arg(QString::fromLatin1(name))));
        }
        QVERIFY(m_dir.isValid());
    }

    void cleanup()
    {
        if (!m_cluster.isEmpty() && QFile::exists(m_cluster + QStringLiteral("/cluster.json")))
            runTool({QStringLiteral("down"), m_cluster});
        m_cluster.clear();
    }

    void upStartsTheClusterAndDownStopsEveryProcess()
    {
        m_cluster = m_dir.filePath(QStringLiteral("cluster"));
        const RunResult up = runTool({"up", m_cluster, "--workers", "3", "--windows", "1", "--nbi",
                                      "--flows", "w2=150", "--webui-files", "30"});
        QVERIFY2(up.exitCode == 0, up.err.constData());

        const QJsonObject cluster = readJson(m_cluster + "/cluster.json");
        QCOMPARE(cluster.value("format").toInt(), 1);
        QCOMPARE(cluster.value("version").toString(), QStringLiteral("6.2.1-1200"));
        const QJsonArray nodes = cluster.value("nodes").toArray();
        QCOMPARE(nodes.size(), 4);
        QStringList names;
        QSet<int> ports;
        QList<qint64> pids;
        const bool withAgents = QFileInfo(binary(QStringLiteral("ftupgrade-agent"))).isExecutable();
        for (const QJsonValue &value : nodes) {
            const QJsonObject node = value.toObject();
            const QString name = node.value("name").toString();
            names.append(name);
            const QString install = node.value("install").toString();
            QVERIFY(QFileInfo(install).isAbsolute());
            QCOMPARE(install, QDir(m_cluster).absoluteFilePath("nodes/" + name));
            QCOMPARE(node.value("role").toString(), name == "portal" ? QStringLiteral("portal") : QStringLiteral("worker"));
            QCOMPARE(node.value("os").toString(), name == "w3" ? QStringLiteral("windows") : QStringLiteral("linux"));
            const int tcpPort = node.value("tcp_port").toInt();
            QVERIFY(tcpPort > 0);
            ports.insert(tcpPort);
            QCOMPARE(node.value("flow_port").toInt() > 0, name == "w2");
            QCOMPARE(node.value("flow_rate").toDouble(), name == "w2" ? 150.0 : 0.0);

            // The daemon runs and says so, on the ports its configuration names.
            const qint64 pid = qint64(node.value("pid").toDouble());
            QVERIFY(isAlive(pid));
            pids.append(pid);
            const QJsonObject status = readJson(install + "/run/status.json");
            QCOMPARE(status.value("state").toString(), QStringLiteral("running"));
            QCOMPARE(qint64(status.value("pid").toDouble()), pid);
            QCOMPARE(status.value("tcp_port").toInt(), tcpPort);
            const QSettings config(install + "/flowtraq.conf", QSettings::IniFormat);
            QCOMPARE(config.value("node/name").toString(), name);
            QCOMPARE(config.value("server/tcp_port").toInt(), tcpPort);
            QCOMPARE(QFile::exists(install + "/nbi/VERSION"), name == "portal");
            if (name != "portal")
                QCOMPARE(config.value("cluster/portal").toString(), QStringLiteral("portal"));

            if (withAgents) {
                const QJsonObject agent = node.value("agent").toObject();
                const QUrl url(agent.value("url").toString());
                QCOMPARE(url.scheme(), QStringLiteral("https"));
                QVERIFY(url.port() > 0);
                QCOMPARE(agent.value("fingerprint").toString().size(), 64);
                QVERIFY(isAlive(qint64(agent.value("pid").toDouble())));
                pids.append(qint64(agent.value("pid").toDouble()));
            } else {
                QVERIFY(node.value("agent").isNull());
            }
        }
        QCOMPARE(names, QStringList({"portal", "w1", "w2", "w3"}));
        QCOMPARE(ports.size(), 4);

        // The portal lists its workers as a real portal's configuration does.
        const QSettings portal(m_cluster + "/nodes/portal/flowtraq.conf", QSettings::IniFormat);
        QCOMPARE(portal.value("cluster/members").toStringList(), QStringList({"w1", "w2", "w3"}));
        for (const QJsonValue &value : nodes) {
            const QJsonObject node = value.toObject();
            const QString name = node.value("name").toString();
            if (name == "portal")
                continue;
            QCOMPARE(portal.value("cluster/" + name + "/tcp_port").toInt(), node.value("tcp_port").toInt());
            if (withAgents) {
                QCOMPARE(portal.value("cluster/" + name + "/agent_port").toInt(),
                         QUrl(node.value("agent").toObject().value("url").toString()).port());
            }
        }

        // Flows arrive at w2 only, and keep arriving.
        const qint64 exporterPid = qint64(cluster.value("exporter").toObject().value("pid").toDouble());
        QVERIFY(isAlive(exporterPid));
        pids.append(exporterPid);
        const QString w2 = m_cluster + "/nodes/w2";
        QTRY_VERIFY_WITH_TIMEOUT(flowsTotal(w2) > 0, 10000);
        const qint64 first = flowsTotal(w2);
        QTRY_VERIFY_WITH_TIMEOUT(flowsTotal(w2) > first, 10000);
        QCOMPARE(flowsTotal(m_cluster + "/nodes/w1"), 0);
        QCOMPARE(flowsTotal(m_cluster + "/nodes/portal"), 0);

        // status merges each node's live state into the cluster file.
        const RunResult status = runTool({"status", m_cluster});
        QCOMPARE(status.exitCode, 0);
        const QJsonObject merged = QJsonDocument::fromJson(status.out).object();
        for (const QJsonValue &value : merged.value("nodes").toArray()) {
            QVERIFY(value.toObject().value("running").toBool());
            QCOMPARE(value.toObject().value("installed_version").toString(), QStringLiteral("6.2.1-1200"));
        }
        QVERIFY(merged.value("exporter").toObject().value("running").toBool());

        // up refuses the folder of a running cluster and starts nothing more.
        const RunResult again = runTool({"up", m_cluster, "--workers", "1"});
        QCOMPARE(again.exitCode, 1);
        QVERIFY(again.err.contains("not empty"));

        const RunResult down = runTool({"down", m_cluster});
        QVERIFY2(down.exitCode == 0, down.err.constData());
        for (qint64 pid : std::as_const(pids))
            QTRY_VERIFY_WITH_TIMEOUT(!isAlive(pid), 5000);
        // Daemons stopped cleanly: they removed their pid files.
        for (const QJsonValue &value : nodes)
            QVERIFY(!QFile::exists(value.toObject().value("install").toString() + "/run/flowtraq.pid"));
        m_cluster.clear();

        // A second down finds nothing to stop and says so.
        const RunResult downAgain = runTool({"down", m_dir.filePath("cluster")});
        QCOMPARE(downAgain.exitCode, 0);
        QVERIFY(downAgain.out.contains("was not running"));
    }

    void upRejectsBadInput_data()
    {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QString>("sentence");
        QTest::newRow("no workers") << QStringList{} << 2 << "--workers";
        QTest::newRow("too many windows") << QStringList{"--workers", "2", "--windows", "3"} << 2 << "cannot exceed";
        QTest::newRow("bad flow") << QStringList{"--workers", "1", "--flows", "w1=fast"} << 2 << "NODE=RATE";
        QTest::newRow("unknown node") << QStringList{"--workers", "1", "--flows", "w7=10"} << 1 << "w7";
        QTest::newRow("bad version") << QStringList{"--workers", "1", "--version", "latest"} << 2 << "latest";
        QTest::newRow("unknown vendor format") << QStringList{"--workers", "1", "--installed-from", "ftpkg"} << 2 << "--installed-from takes deb, rpm or msi";
    }
    void upRejectsBadInput()
    {
        QFETCH(QStringList, arguments);
        QFETCH(int, exitCode);
        QFETCH(QString, sentence);
        const QString dir = m_dir.filePath(QStringLiteral("bad-%1").arg(QTest::currentDataTag()));
        const RunResult result = runTool(QStringList{"up", dir} + arguments);
        QCOMPARE(result.exitCode, exitCode);
        QVERIFY2(result.err.contains(sentence.toUtf8()), result.err.constData());
        QVERIFY(!QFile::exists(dir + "/cluster.json"));
        QVERIFY(!QFile::exists(dir + "/nodes"));
    }

    void demoRunsUntilSigtermThenStopsEverything()
    {
        const QString dir = m_dir.filePath(QStringLiteral("demo"));
        m_cluster = dir;
        QProcess demo;
        demo.start(binary(QStringLiteral("ftsandbox")), {QStringLiteral("demo"), dir});
        QVERIFY(demo.waitForStarted());
        QByteArray out;
        // Generous: under the sanitizers, starting the six nodes takes about 30 s.
        QTRY_VERIFY_WITH_TIMEOUT((out += demo.readAllStandardOutput()).contains("Press Ctrl-C"), 120000);

        const QJsonObject cluster = readJson(dir + "/cluster.json");
        const QJsonArray nodes = cluster.value("nodes").toArray();
        QCOMPARE(nodes.size(), 6); // portal and 5 workers
        QList<qint64> pids{qint64(cluster.value("exporter").toObject().value("pid").toDouble())};
        int windows = 0;
        for (const QJsonValue &value : nodes) {
            const QJsonObject node = value.toObject();
            windows += node.value("os").toString() == QLatin1String("windows");
            pids.append(qint64(node.value("pid").toDouble()));
            if (!node.value("agent").isNull())
                pids.append(qint64(node.value("agent").toObject().value("pid").toDouble()));
        }
        QCOMPARE(windows, 1);
        QVERIFY(QFile::exists(dir + "/nodes/portal/nbi/VERSION"));
        QCOMPARE(nodes.at(1).toObject().value("flow_rate").toDouble(), 200.0);
        QCOMPARE(nodes.at(2).toObject().value("flow_rate").toDouble(), 80.0);
        for (qint64 pid : std::as_const(pids))
            QVERIFY(isAlive(pid));

        demo.terminate(); // SIGTERM, as a service manager or Ctrl-C would
        QVERIFY(demo.waitForFinished(60000));
        QCOMPARE(demo.exitCode(), 0);
        for (qint64 pid : std::as_const(pids))
            QTRY_VERIFY_WITH_TIMEOUT(!isAlive(pid), 5000);
        m_cluster.clear();
    }

    // The wizard's demo, asked to stop by a signal while it would ask "Quit the wizard?"
    // on a close (the Connect page): it leaves, and takes its sandbox cluster along.
    void wizardDemoQuitsOnSigtermWithItsCluster()
    {
        if (!QFile::exists(binary(QStringLiteral("ftupgrade"))))
            QSKIP("the wizard is not built");
        const QString temp = m_dir.filePath(QStringLiteral("wizard-temp"));
        QVERIFY(QDir().mkpath(temp));
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.insert(QStringLiteral("TMPDIR"), temp); // where the demo cluster goes
        environment.insert(QStringLiteral("XDG_CONFIG_HOME"), m_dir.filePath(QStringLiteral("wizard-config")));
        environment.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
        QProcess wizard;
        wizard.setProcessEnvironment(environment);
        wizard.setProcessChannelMode(QProcess::MergedChannels);
        wizard.start(binary(QStringLiteral("ftupgrade")), {QStringLiteral("--demo")});
        QVERIFY(wizard.waitForStarted());
        QByteArray out;
        QTRY_VERIFY_WITH_TIMEOUT((out += wizard.readAll()).contains("Demo cluster ready"), 120000);

        const QStringList demos = QDir(temp).entryList({QStringLiteral("ftupgrade-demo-*")}, QDir::Dirs);
        QCOMPARE(demos.size(), 1);
        const QString clusterFile = QDir(temp).filePath(demos.first() + QStringLiteral("/cluster/cluster.json"));
        const QJsonArray nodes = readJson(clusterFile).value("nodes").toArray();
        QVERIFY(!nodes.isEmpty());
        QList<qint64> pids;
        for (const QJsonValue &value : nodes)
            pids.append(qint64(value.toObject().value("pid").toDouble()));
        for (qint64 pid : std::as_const(pids))
            QVERIFY(isAlive(pid));

        wizard.terminate();
        const bool left = wizard.waitForFinished(60000);
        if (!left) {
            wizard.kill(); // the cluster then stays: stop it here
            wizard.waitForFinished();
            runTool({QStringLiteral("down"), QFileInfo(clusterFile).path()});
        }
        QVERIFY2(left, "the wizard was still running 60 s after SIGTERM");
        QCOMPARE(wizard.exitCode(), 128 + SIGTERM);
        for (qint64 pid : std::as_const(pids))
            QTRY_VERIFY_WITH_TIMEOUT(!isAlive(pid), 5000);
        QVERIFY(!QFile::exists(clusterFile));
    }

    // timeout(1) and a shell's job control send the signal to the wizard's whole process
    // group, a moment after the wizard itself: the "ftsandbox down" it has started by
    // then must not end with it, or the cluster keeps running with nobody to stop it.
    void wizardDemoStopsItsClusterWhenItsGroupGetsTheSignal()
    {
        if (!QFile::exists(binary(QStringLiteral("ftupgrade"))))
            QSKIP("the wizard is not built");
        const QString temp = m_dir.filePath(QStringLiteral("group-temp"));
        QVERIFY(QDir().mkpath(temp));
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.insert(QStringLiteral("TMPDIR"), temp);
        environment.insert(QStringLiteral("XDG_CONFIG_HOME"), m_dir.filePath(QStringLiteral("group-config")));
        environment.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
        QProcess wizard;
        wizard.setProcessEnvironment(environment);
        wizard.setProcessChannelMode(QProcess::MergedChannels);
        wizard.setChildProcessModifier([] { ::setpgid(0, 0); }); // a group of its own, as timeout(1) makes
        wizard.start(binary(QStringLiteral("ftupgrade")), {QStringLiteral("--demo")});
        QVERIFY(wizard.waitForStarted());
        QByteArray out;
        QTRY_VERIFY_WITH_TIMEOUT((out += wizard.readAll()).contains("Demo cluster ready"), 120000);
        const QStringList demos = QDir(temp).entryList({QStringLiteral("ftupgrade-demo-*")}, QDir::Dirs);
        QCOMPARE(demos.size(), 1);
        const QString clusterDir = QDir(temp).filePath(demos.first() + QStringLiteral("/cluster"));
        QList<qint64> pids;
        for (const QJsonValue &value : readJson(clusterDir + QStringLiteral("/cluster.json")).value("nodes").toArray())
            pids.append(qint64(value.toObject().value("pid").toDouble()));
        QVERIFY(!pids.isEmpty());

        const auto group = pid_t(wizard.processId());
        QCOMPARE(::getpgid(group), group);
        QVERIFY(::kill(group, SIGTERM) == 0);
        // Once the wizard runs "ftsandbox down", the signal reaches its group.
        const QByteArray downOfThisCluster = QByteArray("down") + '\0' + QFile::encodeName(clusterDir);
        QTRY_VERIFY_WITH_TIMEOUT(
            [&downOfThisCluster] {
                for (const QString &pid : QDir(QStringLiteral("/proc")).entryList(QDir::Dirs)) {
                    QFile cmdline(QStringLiteral("/proc/%1/cmdline").arg(pid));
                    if (cmdline.open(QIODevice::ReadOnly) && cmdline.readAll().contains(downOfThisCluster))
                        return true;
                }
                return false;
            }(),
            30000);
        QVERIFY(::kill(-group, SIGTERM) == 0);
        const bool left = wizard.waitForFinished(60000);
        out += wizard.readAll();
        if (!left) {
            wizard.kill();
            wizard.waitForFinished();
        }
        if (QFile::exists(clusterDir + QStringLiteral("/cluster.json")))
            runTool({QStringLiteral("down"), clusterDir}); // what the wizard failed to do
        QVERIFY2(left, "the wizard was still running 60 s after SIGTERM");
        QVERIFY2(!out.contains("Stopping the sandbox cluster failed"), out.constData());
        for (qint64 pid : std::as_const(pids))
            QTRY_VERIFY_WITH_TIMEOUT(!isAlive(pid), 5000);
    }

    void downAndStatusNeedACluster()
    {
        QCOMPARE(runTool({"down", m_dir.path()}).exitCode, 2);
        QCOMPARE(runTool({"status", m_dir.path()}).exitCode, 2);
    }
};

QTEST_GUILESS_MAIN(TestLauncher)
#include "tst_launcher.moc"

// ftupgrade-cli against a cluster on addresses of its own, as on a real network: the
// nodes (10.213.X.1-4, in a network namespace) cannot open a connection to the caller
// (10.213.X.254), as behind a VPN or NAT. Default delivery goes through the portal's
// agent and upgrades every node with one copy of the package over the caller's link;
// delivery from this workstation fails in staging, names the unreachable address, and
// stops no service.

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <unistd.h>

namespace {

const QString kFrom = QStringLiteral("6.2.1-1200");
const QString kTarget = QStringLiteral("6.3.0-1500");

QString tool(const QString &name)
{
    return QStringLiteral(FT_BIN_DIR "/") + name;
}

struct Result
{
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
    QJsonObject json() const { return QJsonDocument::fromJson(out).object(); }
};

QByteArray readAll(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

} // namespace

class TestNetCluster : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_cluster;
    QString m_netns;
    QJsonObject m_clusterJson;
    bool m_up = false;

    Result run(const QString &program, const QStringList &arguments, int timeoutMs = 120000) const
    {
        QProcess process;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("XDG_DATA_HOME"), m_dir.filePath(QStringLiteral("data")));
        env.insert(QStringLiteral("XDG_CONFIG_HOME"), m_dir.filePath(QStringLiteral("config")));
        env.remove(QStringLiteral("FTUPGRADE_TOKEN"));
        process.setProcessEnvironment(env);
        process.start(program, arguments);
        Result result;
        if (!process.waitForFinished(timeoutMs)) {
            process.kill();
            process.waitForFinished();
        }
        result.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
        result.out = process.readAllStandardOutput();
        result.err = process.readAllStandardError();
        return result;
    }

    QJsonArray nodes() const { return m_clusterJson.value(QStringLiteral("nodes")).toArray(); }
    QString callerAddress() const
    {
        return m_clusterJson.value(QStringLiteral("network")).toObject().value(QStringLiteral("caller_address")).toString();
    }

    QString makePackage(const QString &name, qint64 padBytes)
    {
        const QString path = m_dir.filePath(name);
        const Result made = run(tool(QStringLiteral("ftsandbox")),
                                {QStringLiteral("make-package"), QStringLiteral("--version"), kTarget,
                                 QStringLiteral("--component"), QStringLiteral("server"), QStringLiteral("--mode"),
                                 QStringLiteral("normal"), QStringLiteral("--pad-bytes"), QString::number(padBytes),
                                 QStringLiteral("-o"), path});
        return made.exitCode == 0 ? path : QString();
    }

    // Every node's daemon still runs (its status fresh and its pid alive) on version.
    void checkNodes(const QString &version)
    {
        for (const QJsonValue &value : nodes()) {
            const QString install = value.toObject().value(QStringLiteral("install")).toString();
            QCOMPARE(QString::fromUtf8(readAll(install + QStringLiteral("/VERSION"))).trimmed(), version);
            const QJsonObject status = QJsonDocument::fromJson(readAll(install + QStringLiteral("/run/status.json"))).object();
            QCOMPARE(status.value(QStringLiteral("state")).toString(), QStringLiteral("running"));
            QCOMPARE(::kill(pid_t(status.value(QStringLiteral("pid")).toInteger()), 0), 0);
        }
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        for (const QString &name : {QStringLiteral("ftupgrade-cli"), QStringLiteral("ftsandbox"),
                                    QStringLiteral("ftupgrade-agent"), QStringLiteral("ftsandbox-server")}) {
            if (!QFile::exists(tool(name)))
                QSKIP("ftupgrade-cli, ftsandbox and ftupgrade-agent are not built");
        }
        if (::geteuid() != 0)
            QSKIP("Network namespaces need root (CAP_NET_ADMIN, CAP_SYS_ADMIN); this test runs as another user, so it "
                  "is skipped.");
        m_cluster = m_dir.filePath(QStringLiteral("cluster"));
        m_netns = QStringLiteral("ftu-test-%1").arg(QCoreApplication::applicationPid());
        const Result up = run(tool(QStringLiteral("ftsandbox")),
                              {QStringLiteral("up"), m_cluster, QStringLiteral("--workers"), QStringLiteral("3"),
                               QStringLiteral("--webui-files"), QStringLiteral("40"), QStringLiteral("--netns"), m_netns});
        if (up.exitCode != 0) {
            const QString said = QString::fromUtf8(up.err + up.out);
            if (said.contains(QLatin1String("not available")) || said.contains(QLatin1String("need `ip`"))
                || said.contains(QLatin1String("Operation not permitted"))
                || said.contains(QLatin1String("Could not set up the cluster's network")))
                QSKIP(qPrintable(QStringLiteral("Network namespaces are not permitted here, so the namespaced cluster "
                                                "cannot be built: ") + said.trimmed()));
            QFAIL(qPrintable(QStringLiteral("ftsandbox up --netns failed: ") + said));
        }
        m_up = true;
        m_clusterJson = QJsonDocument::fromJson(readAll(m_cluster + QStringLiteral("/cluster.json"))).object();
        QCOMPARE(nodes().size(), 4);
    }

    void cleanupTestCase()
    {
        if (m_up) {
            const Result down = run(tool(QStringLiteral("ftsandbox")), {QStringLiteral("down"), m_cluster});
            QVERIFY2(down.exitCode == 0, down.err.constData());
            QVERIFY(!QFile::exists(QStringLiteral("/var/run/netns/") + m_netns));
        }
    }

    // Four distinct, non-loopback addresses, all reachable from here; nothing in the
    // cluster reaches the caller's address.
    void addressesAndReachability()
    {
        QSet<QString> addresses;
        for (const QJsonValue &value : nodes()) {
            const QUrl agent(value.toObject().value(QStringLiteral("agent")).toObject().value(QStringLiteral("url")).toString());
            const QHostAddress address(agent.host());
            QVERIFY2(!address.isNull() && !address.isLoopback(), qPrintable(agent.toString()));
            QVERIFY(address.isInSubnet(QHostAddress::parseSubnet(QStringLiteral("10.0.0.0/8"))));
            addresses.insert(agent.host());
            QTcpSocket socket;
            socket.connectToHost(address, quint16(agent.port()));
            QVERIFY2(socket.waitForConnected(5000), qPrintable(agent.toString()));
        }
        QCOMPARE(addresses.size(), 4);

        // A listener on the caller's address: the cluster's namespace cannot open a
        // connection to it (the drop rule), though the caller reaches every node.
        QTcpServer listener;
        QVERIFY(listener.listen(QHostAddress(callerAddress()), 0));
        const Result attempt = run(QStringLiteral("/usr/bin/timeout"),
                                   {QStringLiteral("3"), QStringLiteral("ip"), QStringLiteral("netns"), QStringLiteral("exec"),
                                    m_netns, QStringLiteral("bash"), QStringLiteral("-c"),
                                    QStringLiteral("exec 3<>/dev/tcp/%1/%2").arg(callerAddress()).arg(listener.serverPort())},
                                   10000);
        QVERIFY(attempt.exitCode != 0);
        QTest::qWait(200);
        QVERIFY(!listener.hasPendingConnections());
    }

    // Served from this workstation, the packages cannot reach the nodes: staging fails
    // with one sentence that names the address, and no service is stopped.
    void workstationDeliveryFailsInStaging()
    {
        const QString package = makePackage(QStringLiteral("server-ws.ftpkg"), 1000000);
        QVERIFY(!package.isEmpty());
        const Result result = run(tool(QStringLiteral("ftupgrade-cli")),
                                  {QStringLiteral("run"), QStringLiteral("--sandbox"), m_cluster,
                                   QStringLiteral("--server-package"), package, QStringLiteral("--delivery"),
                                   QStringLiteral("workstation"), QStringLiteral("--journal"),
                                   m_dir.filePath(QStringLiteral("ws-run.json"))},
                                  240000);
        QVERIFY2(result.exitCode != 0 && result.exitCode != -1, result.err.constData());
        const QString state = result.json().value(QStringLiteral("state")).toString();
        QCOMPARE(state, QStringLiteral("halted"));
        const QString said = QString::fromUtf8(result.out + result.err);
        // The address this machine uses towards the portal, found from the connection.
        QVERIFY2(said.contains(QStringLiteral("Serving the packages on %1").arg(callerAddress())), result.err.constData());
        const QString sentence = QStringLiteral("could not download anything from this workstation at %1:").arg(callerAddress());
        QVERIFY2(said.contains(sentence), result.err.constData());
        // The run's outcome: one sentence for the one cause, naming every node and the address.
        const QString halted = result.json().value(QStringLiteral("state_sentence")).toString();
        qInfo("%s", qPrintable(halted));
        QCOMPARE(halted.count(sentence), 1);
        for (const QJsonValue &value : nodes())
            QVERIFY2(halted.contains(value.toObject().value(QStringLiteral("name")).toString()), qPrintable(halted));
        checkNodes(kFrom);
        for (const QJsonValue &step : result.json().value(QStringLiteral("steps")).toArray())
            QVERIFY(step.toObject().value(QStringLiteral("state")).toString() != QLatin1String("succeeded"));
    }

    // Default delivery: one upload to the portal's agent, every node fetches from there.
    void portalDeliveryUpgradesEveryNode()
    {
        const qint64 pad = 3 * 1024 * 1024;
        const QString package = makePackage(QStringLiteral("server-portal.ftpkg"), pad);
        QVERIFY(!package.isEmpty());
        const qint64 size = QFileInfo(package).size();
        const Result result = run(tool(QStringLiteral("ftupgrade-cli")),
                                  {QStringLiteral("run"), QStringLiteral("--sandbox"), m_cluster,
                                   QStringLiteral("--server-package"), package, QStringLiteral("--journal"),
                                   m_dir.filePath(QStringLiteral("portal-run.json"))},
                                  240000);
        QVERIFY2(result.exitCode == 0, (result.err + result.out).constData());
        const QJsonObject json = result.json();
        QCOMPARE(json.value(QStringLiteral("state")).toString(), QStringLiteral("completed"));
        const QJsonObject delivery = json.value(QStringLiteral("delivery")).toObject();
        QCOMPARE(delivery.value(QStringLiteral("method")).toString(), QStringLiteral("portal"));
        // The caller's link carried exactly one copy of the package.
        QCOMPARE(delivery.value(QStringLiteral("bytes_sent")).toInteger(), size);
        QCOMPARE(delivery.value(QStringLiteral("package_bytes")).toInteger(), size);
        qInfo("portal delivery: %lld bytes sent for a %lld-byte package to 4 nodes",
              delivery.value(QStringLiteral("bytes_sent")).toInteger(), size);
        checkNodes(kTarget);
    }
};

QTEST_GUILESS_MAIN(TestNetCluster)
#include "tst_netcluster.moc"

// ftupgrade-cli against a cluster on addresses of its own, as on a real network: the
// nodes (10.213.X.1-4, in a network namespace) cannot open a connection to the caller
// (10.213.X.254), as behind a VPN or NAT. Default delivery goes through the portal's
// agent and upgrades every node with one copy of the package over the caller's link;
// delivery from this workstation fails in staging, names the unreachable address, and
// stops no service.

#include "netnscluster.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QScopeGuard>
#include <QStandardPaths>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QDirIterator>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <unistd.h>

using namespace fixture;

namespace {

const QString kFrom = QStringLiteral("6.2.1-1200");
const QString kTarget = QStringLiteral("6.3.0-1500");

using Result = CliResult;

} // namespace

class TestNetCluster : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_cluster;
    QString m_netns;
    QJsonObject m_clusterJson;
    CliRunner m_cli{120000};
    NetnsCluster m_netCluster{m_cli};

    Result run(const QString &program, const QStringList &arguments, int timeoutMs = 0) const
    {
        return m_cli.runProgram(program, arguments, timeoutMs);
    }

    QJsonArray nodes() const { return m_netCluster.nodes(); }
    QString callerAddress() const { return m_netCluster.callerAddress(); }

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
        QVERIFY(m_dir.isValid() && m_cli.isValid());
        m_cluster = m_dir.filePath(QStringLiteral("cluster"));
        m_netns = QStringLiteral("ftu-test-%1").arg(QCoreApplication::applicationPid());
        FT_REQUIRE_READY(m_netCluster.up(m_cluster, m_netns,
                                         {QStringLiteral("--workers"), QStringLiteral("3"),
                                          QStringLiteral("--webui-files"), QStringLiteral("40")}));
        m_clusterJson = m_netCluster.json();
        QCOMPARE(nodes().size(), 4);
    }

    void cleanupTestCase()
    {
        if (m_netCluster.json().isEmpty())
            return;
        const Result down = m_netCluster.down();
        QVERIFY2(down.exitCode == 0, down.err.constData());
        QVERIFY(!QFile::exists(QStringLiteral("/var/run/netns/") + m_netns));
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

    // The portal's FlowTraq Web API is reported where it listens, on the portal's own
    // address (not loopback), and answers a client in the caller's namespace: discovery
    // through the CLI reads the running version from it.
    void webApiOnThePortalsAddress()
    {
        const QJsonObject portal = nodes().at(0).toObject();
        QCOMPARE(portal.value(QStringLiteral("role")).toString(), QStringLiteral("portal"));
        const QUrl webApi(m_clusterJson.value(QStringLiteral("webapi")).toObject().value(QStringLiteral("url")).toString());
        QVERIFY2(webApi.isValid() && webApi.scheme() == QLatin1String("https"), qPrintable(webApi.toString()));
        QCOMPARE(webApi.host(), portal.value(QStringLiteral("address")).toString());
        QVERIFY(!QHostAddress(webApi.host()).isLoopback());

        const Result discovered = run(tool(QStringLiteral("ftupgrade-cli")),
                                      {QStringLiteral("discover"), QStringLiteral("--sandbox"), m_cluster});
        QVERIFY2(discovered.exitCode == 0, discovered.err.constData());
        QJsonObject server;
        for (const QJsonValue &node : discovered.json().value(QStringLiteral("nodes")).toArray()) {
            if (node.toObject().value(QStringLiteral("name")).toString() == QLatin1String("portal"))
                server = node.toObject().value(QStringLiteral("components")).toObject().value(QStringLiteral("server")).toObject();
        }
        QJsonObject reading;
        for (const QJsonValue &source : server.value(QStringLiteral("sources")).toArray()) {
            if (source.toObject().value(QStringLiteral("source")).toString() == QLatin1String("webapi"))
                reading = source.toObject();
        }
        QVERIFY2(reading.value(QStringLiteral("version")).toString() == kFrom,
                 qPrintable(QJsonDocument(server).toJson(QJsonDocument::Compact)));
    }

    // Served from this workstation, the packages cannot reach the nodes: staging fails
    // with one sentence that names the address, and no service is stopped.
    void workstationDeliveryFailsInStaging()
    {
        const QString package = makePackage(QStringLiteral("server-ws.ftpkg"), 1000000);
        QVERIFY(!package.isEmpty());
        QElapsedTimer clock;
        clock.start();
        const Result result = run(tool(QStringLiteral("ftupgrade-cli")),
                                  {QStringLiteral("run"), QStringLiteral("--sandbox"), m_cluster,
                                   QStringLiteral("--server-package"), package, QStringLiteral("--delivery"),
                                   QStringLiteral("workstation"), QStringLiteral("--journal"),
                                   m_dir.filePath(QStringLiteral("ws-run.json"))},
                                  240000);
        const qint64 ms = clock.elapsed();
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
        // It was the agents' connect time-out that ended it (10 s), not their transfer
        // time-out of a minute: the reason names the address nothing answered at.
        QVERIFY2(halted.contains(QStringLiteral("Nothing answered at %1:").arg(callerAddress())), qPrintable(halted));
        qInfo("workstation delivery failed after %lld ms", ms);
        QVERIFY2(ms < 60000, qPrintable(QString::number(ms)));
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

    // Behind NAT: this machine reaches the portal's agent at an address the nodes cannot
    // use (a DNAT in the cluster's namespace, reached by a host route through the veth).
    // Told only that address, the nodes cannot fetch, and staging fails naming it; told
    // where they reach the portal (--portal-address-for-nodes), every node is upgraded.
    void portalAddressForNodesBehindNat()
    {
        const QJsonObject portal = nodes().at(0).toObject();
        QCOMPARE(portal.value(QStringLiteral("role")).toString(), QStringLiteral("portal"));
        const QUrl inside(portal.value(QStringLiteral("agent")).toObject().value(QStringLiteral("url")).toString());
        const QStringList octets = callerAddress().split(QLatin1Char('.'));
        QCOMPARE(octets.size(), 4);
        const QString outside = QStringLiteral("10.214.%1.1").arg(octets.at(2)); // the portal's "public" address
        const QString ip = QStandardPaths::findExecutable(QStringLiteral("ip"), {QStringLiteral("/usr/sbin"), QStringLiteral("/sbin"), QStringLiteral("/usr/bin")});
        const QString nft = QStandardPaths::findExecutable(QStringLiteral("nft"), {QStringLiteral("/usr/sbin"), QStringLiteral("/sbin")});
        if (ip.isEmpty() || nft.isEmpty())
            QSKIP("ip and nft are needed to put NAT in front of the portal");
        const QString rules = QStringLiteral("table ip ftnat {\n"
                                             "  chain prerouting {\n"
                                             "    type nat hook prerouting priority -100; policy accept;\n"
                                             "    ip daddr %1 tcp dport %2 dnat to %3:%2\n"
                                             "  }\n"
                                             "}\n")
                                  .arg(outside).arg(inside.port()).arg(inside.host());
        QProcess nat;
        nat.start(ip, {QStringLiteral("netns"), QStringLiteral("exec"), m_netns, nft, QStringLiteral("-f"), QStringLiteral("-")});
        nat.write(rules.toUtf8());
        nat.closeWriteChannel();
        QVERIFY(nat.waitForFinished(10000));
        QVERIFY2(nat.exitCode() == 0, nat.readAllStandardError().constData());
        // Only this machine routes the outside address, through the cluster's link;
        // the route goes with the link when the cluster is taken down.
        const Result route = run(ip, {QStringLiteral("route"), QStringLiteral("add"), outside + QStringLiteral("/32"),
                                      QStringLiteral("via"), inside.host()});
        QVERIFY2(route.exitCode == 0, route.err.constData());
        auto removeRoute = qScopeGuard([&] {
            run(ip, {QStringLiteral("route"), QStringLiteral("del"), outside + QStringLiteral("/32")});
        });

        // The cluster as this machine sees it: the portal's agent at the outside address.
        const QString view = m_dir.filePath(QStringLiteral("natview"));
        QVERIFY(QDir().mkpath(view));
        QJsonObject json = m_clusterJson;
        QJsonArray list = nodes();
        QJsonObject first = list.at(0).toObject();
        QJsonObject agent = first.value(QStringLiteral("agent")).toObject();
        QUrl seen = inside;
        seen.setHost(outside);
        agent.insert(QStringLiteral("url"), seen.toString());
        first.insert(QStringLiteral("agent"), agent);
        list.replace(0, first);
        json.insert(QStringLiteral("nodes"), list);
        QFile file(view + QStringLiteral("/cluster.json"));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(QJsonDocument(json).toJson());
        file.close();
        QVERIFY(QFile::copy(m_cluster + QStringLiteral("/webapi.password"), view + QStringLiteral("/webapi.password")));

        const QString next = QStringLiteral("6.3.1-1600");
        const QString path = m_dir.filePath(QStringLiteral("server-nat.ftpkg"));
        const Result made = run(tool(QStringLiteral("ftsandbox")),
                                {QStringLiteral("make-package"), QStringLiteral("--version"), next,
                                 QStringLiteral("--component"), QStringLiteral("server"), QStringLiteral("--mode"),
                                 QStringLiteral("normal"), QStringLiteral("--pad-bytes"), QStringLiteral("1000000"),
                                 QStringLiteral("-o"), path});
        QVERIFY2(made.exitCode == 0, made.err.constData());

        // Without it: the nodes are handed the outside address and cannot fetch.
        const Result refused = run(tool(QStringLiteral("ftupgrade-cli")),
                                   {QStringLiteral("run"), QStringLiteral("--sandbox"), view,
                                    QStringLiteral("--server-package"), path, QStringLiteral("--journal"),
                                    m_dir.filePath(QStringLiteral("nat-refused.json"))},
                                   240000);
        QVERIFY2(refused.exitCode != 0 && refused.exitCode != -1, refused.err.constData());
        QCOMPARE(refused.json().value(QStringLiteral("state")).toString(), QStringLiteral("halted"));
        const QString sentence = refused.json().value(QStringLiteral("state_sentence")).toString();
        qInfo("%s", qPrintable(sentence));
        QVERIFY2(sentence.contains(outside), qPrintable(sentence));
        checkNodes(kTarget);

        // Bad input: one sentence, nothing run.
        const Result bad = run(tool(QStringLiteral("ftupgrade-cli")),
                               {QStringLiteral("run"), QStringLiteral("--sandbox"), view, QStringLiteral("--server-package"),
                                path, QStringLiteral("--portal-address-for-nodes"), QStringLiteral("https://x/y"),
                                QStringLiteral("--journal"), m_dir.filePath(QStringLiteral("nat-bad.json"))});
        QCOMPARE(bad.exitCode, 2);
        QVERIFY2(bad.err.contains("--portal-address-for-nodes"), bad.err.constData());

        // What the halted run left on the portal: its upload, with the bytes it holds.
        const QJsonArray left = QJsonDocument::fromJson(readAll(m_dir.filePath(QStringLiteral("nat-refused.json"))))
                                    .object().value(QStringLiteral("delivery")).toObject()
                                    .value(QStringLiteral("uploads")).toArray();
        qint64 held = 0;
        if (!left.isEmpty()) {
            const QString id = left.first().toString();
            QDirIterator files(m_cluster, {id + QStringLiteral(".*")}, QDir::Files | QDir::Hidden,
                               QDirIterator::Subdirectories);
            while (files.hasNext()) {
                const QString file = files.next();
                if (file.endsWith(QLatin1String(".data")))
                    held = QFileInfo(file).size();
                if (!file.endsWith(QLatin1String(".ranges")))
                    continue;
                for (const QByteArray &line : readAll(file).split('\n')) {
                    const QList<QByteArray> range = line.split(' ');
                    if (range.size() == 2)
                        held += range.at(1).toLongLong() - range.at(0).toLongLong();
                }
            }
        }

        // With it: every node fetches from the portal's inside address.
        const QString forNodes = QStringLiteral("%1:%2").arg(inside.host()).arg(inside.port());
        const Result result = run(tool(QStringLiteral("ftupgrade-cli")),
                                  {QStringLiteral("run"), QStringLiteral("--sandbox"), view,
                                   QStringLiteral("--server-package"), path, QStringLiteral("--portal-address-for-nodes"),
                                   forNodes, QStringLiteral("--journal"), m_dir.filePath(QStringLiteral("nat-run.json"))},
                                  240000);
        QVERIFY2(result.exitCode == 0, (result.err + result.out).constData());
        QCOMPARE(result.json().value(QStringLiteral("state")).toString(), QStringLiteral("completed"));
        const QJsonObject delivery = result.json().value(QStringLiteral("delivery")).toObject();
        // The halted run kept its upload on the portal; this new run over the same bytes
        // resumes it and sends exactly what it lacked (nothing when it was complete).
        const qint64 sent = delivery.value(QStringLiteral("bytes_sent")).toInteger();
        QVERIFY2(sent == QFileInfo(path).size() - held,
                 qPrintable(QStringLiteral("sent %1, held %2").arg(sent).arg(held)));
        QVERIFY(delivery.value(QStringLiteral("uploads_left")).toArray().isEmpty());
        // The journal kept the choice for a resume.
        const QJsonObject journal = QJsonDocument::fromJson(readAll(m_dir.filePath(QStringLiteral("nat-run.json")))).object();
        QCOMPARE(journal.value(QStringLiteral("delivery")).toObject().value(QStringLiteral("portal_address_for_nodes")).toString(),
                 forNodes);
        checkNodes(next);
    }
};

QTEST_GUILESS_MAIN(TestNetCluster)
#include "tst_netcluster.moc"

// Node lists as administrators paste or export them, and discovery that shows where
// every node came from (agent.conf on the portal, the administrator's list, or both).

#include "discover/discovery.h"
#include "discover/nodelist.h"
#include "sandboxfixture.h"

#include <QSignalSpy>
#include <QTest>

using namespace ft;
using namespace fixture;

namespace {

QByteArray fileBytes(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

} // namespace

class TestNodeList : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parses_data()
    {
        QTest::addColumn<QByteArray>("csv");
        QTest::addColumn<QStringList>("expected"); // name@host:port

        QTest::newRow("plain") << QByteArray("w1,10.0.0.11\nw2,10.0.0.12,9651\n")
                               << QStringList{"w1@10.0.0.11:9650", "w2@10.0.0.12:9651"};
        QTest::newRow("header, CRLF, blank rows, quotes")
            << QByteArray("name,host,agent_port\r\n\r\n\"w1\",\"ft-w1.example.net\",9650\r\nw2 , 10.0.0.12 ,\r\n")
            << QStringList{"w1@ft-w1.example.net:9650", "w2@10.0.0.12:9650"};
        QTest::newRow("IPv6") << QByteArray("w1,fd00::11\n") << QStringList{"w1@fd00::11:9650"};
    }

    void parses()
    {
        QFETCH(QByteArray, csv);
        QFETCH(QStringList, expected);
        const auto nodes = parseNodeList(csv);
        QVERIFY2(nodes, nodes ? "" : qPrintable(nodes.error()));
        QStringList got;
        for (const ListedNode &node : *nodes)
            got.append(QStringLiteral("%1@%2:%3").arg(node.name, node.host).arg(node.agentPort));
        QCOMPARE(got, expected);
    }

    void refuses_data()
    {
        QTest::addColumn<QByteArray>("csv");
        QTest::addColumn<QString>("sentence");
        QTest::newRow("empty") << QByteArray("\n\n") << "names no node";
        QTest::newRow("one cell") << QByteArray("w1\n") << "Row 1";
        QTest::newRow("four cells") << QByteArray("w1,10.0.0.1,9650,x\n") << "4 cells";
        QTest::newRow("bad name") << QByteArray("w1,10.0.0.1\n../x,10.0.0.2\n") << "Row 2";
        QTest::newRow("bad host") << QByteArray("w1,not a host\n") << "not an IP address or host name";
        QTest::newRow("bad port") << QByteArray("w1,10.0.0.1,70000\n") << "1 to 65535";
        QTest::newRow("name twice") << QByteArray("w1,10.0.0.1\nW1,10.0.0.2\n") << "listed twice";
        QTest::newRow("agent twice") << QByteArray("w1,10.0.0.1\nw2,10.0.0.1\n") << "listed twice";
        QTest::newRow("broken quote") << QByteArray("w1,\"10.0.0.1\nw2,10.0.0.2\n") << "not valid CSV";
    }

    void refuses()
    {
        QFETCH(QByteArray, csv);
        QFETCH(QString, sentence);
        const auto nodes = parseNodeList(csv);
        QVERIFY(!nodes);
        QVERIFY2(nodes.error().contains(sentence), qPrintable(nodes.error()));
    }

    // The administrator's list against the rows already there (found by a hash, not by
    // comparing every node with every other): the same agent under another spelling of
    // its host, or a name already there, is the node already there; another port is
    // another agent. The portal is not reachable here, so the list is all there is.
    void listedNodesDedupe()
    {
        AgentClient client;
        ClusterDiscovery discovery(&client);
        AgentEndpoint portal;
        portal.nodeName = QStringLiteral("portal");
        portal.url = QUrl(QStringLiteral("https://127.0.0.1:1"));
        portal.fingerprint = QString(64, QLatin1Char('a'));
        portal.token = QStringLiteral("t");
        discovery.setPortal(portal);
        discovery.setProbeTimeout(std::chrono::seconds(5));
        discovery.setListedNodes({
            {QStringLiteral("a"), QStringLiteral("LocalHost"), 1},
            {QStringLiteral("b"), QStringLiteral("localhost"), 1},      // a, in other case
            {QStringLiteral("c"), QStringLiteral("localhost"), 2},      // another port: another agent
            {QStringLiteral("again"), QStringLiteral("127.0.0.1"), 1},  // the portal
            {QStringLiteral("a"), QStringLiteral("127.0.0.2"), 3},      // a's name
            {QStringLiteral("d"), QStringLiteral("LOCALHOST"), 2},      // c, in other case
        });
        QSignalSpy finished(&discovery, &ClusterDiscovery::finished);
        discovery.start();
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 20000);
        QStringList rows;
        for (const NodeStatus &node : discovery.nodes())
            rows.append(QStringLiteral("%1@%2:%3").arg(node.name, node.agentUrl.host().toLower()).arg(node.agentUrl.port()));
        QCOMPARE(rows, (QStringList{"portal@127.0.0.1:1", "a@localhost:1", "c@localhost:2"}));
        const QStringList portalSources = discovery.listedBy(discovery.nodes().at(0));
        QVERIFY2(portalSources.contains(QStringLiteral("your list")), qPrintable(portalSources.join(',')));
        QCOMPARE(discovery.listedBy(discovery.nodes().at(1)), QStringList{QStringLiteral("your list")});
        // Starting again indexes the rows afresh: the same three, not none.
        discovery.start();
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 2, 20000);
        QCOMPARE(discovery.nodes().size(), 3);
    }

    // The portal agent's agent.conf lists w1 and w2; the administrator's list names w1
    // and a node the portal does not know. Each node says where it came from, and the
    // two that only one list names are warnings.
    void discoveryShowsSources()
    {
        Cluster cluster;
        QVERIFY(cluster.up({QStringLiteral("--workers"), QStringLiteral("2"), QStringLiteral("--webui-files"),
                            QStringLiteral("40")}));
        const SandboxNode *w1 = nullptr;
        for (const SandboxNode &node : cluster.file().nodes) {
            if (node.name == QLatin1String("w1"))
                w1 = &node;
        }
        QVERIFY(w1);
        // The launcher wrote the member list where an administrator would: agent.conf.
        const QByteArray agentConf = fileBytes(cluster.file().portal()->installDir + QStringLiteral("/agent/agent.conf"));
        QVERIFY(agentConf.contains("[cluster]"));

        UpgradeSession session;
        auto listed = parseNodeList(QStringLiteral("w1,%1,%2\nghost,127.0.0.1,1\n")
                                        .arg(w1->agentUrl.host())
                                        .arg(w1->agentUrl.port())
                                        .toUtf8());
        QVERIFY(listed);
        session.discovery()->setListedNodes(*listed);
        QVERIFY(!connectAndDiscover(session, cluster.file())); // ghost is not reachable
        QCOMPARE(session.nodes().size(), 4);
        QHash<QString, QStringList> sources;
        for (const NodeStatus &node : session.nodes())
            sources.insert(node.name, session.discovery()->listedBy(node));
        QVERIFY2(sources.value(QStringLiteral("w1")).contains(QStringLiteral("the portal agent's agent.conf")),
                 qPrintable(sources.value(QStringLiteral("w1")).join(',')));
        QVERIFY(sources.value(QStringLiteral("w1")).contains(QStringLiteral("your list")));
        QCOMPARE(sources.value(QStringLiteral("w2")), QStringList{QStringLiteral("the portal agent's agent.conf")});
        QCOMPARE(sources.value(QStringLiteral("ghost")), QStringList{QStringLiteral("your list")});
        const QStringList warnings = session.discovery()->membershipWarnings();
        QCOMPARE(warnings.size(), 2);
        QVERIFY(warnings.join('\n').contains(QStringLiteral("w2 is in the portal's member list")));
        QVERIFY(warnings.join('\n').contains(QStringLiteral("ghost is in your list but not in the portal's")));
    }
};

QTEST_GUILESS_MAIN(TestNodeList)
#include "tst_nodelist.moc"

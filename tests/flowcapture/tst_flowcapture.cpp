// The agent's packet counter (app/agent/flowcapture.*). Without root the integration
// cases skip with a message; the unit cases always run.

#include "../agentapi/agentharness.h"

#include "flowcapture.h"
#include "serviceports.h"
#include "model/nodestatus.h"
#include "netflow9encoder.h"
#include "plan/planner.h"

#include <QDataStream>
#include <QSettings>
#include <QUdpSocket>
#include <QStandardPaths>
#include <QtEndian>

#include <unistd.h>

using namespace ft::agent;
using namespace agenttest;

namespace {

void put16(QByteArray &b, int at, quint16 v) { qToBigEndian(v, b.data() + at); }
void put32(QByteArray &b, int at, quint32 v) { qToBigEndian(v, b.data() + at); }

// An IPv4 packet (no link header) carrying one UDP datagram.
QByteArray ipv4Udp(quint32 source, quint32 destination, quint16 sourcePort, quint16 destinationPort,
                   const QByteArray &payload)
{
    QByteArray packet(28, '\0');
    packet[0] = char(0x45);
    put16(packet, 2, quint16(28 + payload.size()));
    packet[8] = 64;
    packet[9] = 17;
    put32(packet, 12, source);
    put32(packet, 16, destination);
    put16(packet, 20, sourcePort);
    put16(packet, 22, destinationPort);
    put16(packet, 24, quint16(8 + payload.size()));
    return packet + payload;
}

QByteArray ipv4Tcp(quint32 source, quint32 destination, quint16 sourcePort, quint16 destinationPort, quint8 flags)
{
    QByteArray packet(40, '\0');
    packet[0] = char(0x45);
    put16(packet, 2, 40);
    packet[8] = 64;
    packet[9] = 6;
    put32(packet, 12, source);
    put32(packet, 16, destination);
    put16(packet, 20, sourcePort);
    put16(packet, 22, destinationPort);
    packet[32] = char(0x50);
    packet[33] = char(flags);
    put16(packet, 34, 65535);
    return packet;
}

QList<ft::flow::FlowRecord> records(int count)
{
    QList<ft::flow::FlowRecord> list;
    for (int i = 0; i < count; ++i) {
        ft::flow::FlowRecord r;
        r.sourceAddress = 0x0a000001 + quint32(i);
        r.destinationAddress = 0x0a000101;
        r.sourcePort = quint16(40000 + i);
        r.destinationPort = 443;
        list.append(r);
    }
    return list;
}

// A capture file of `flows` distinct TCP conversations (SYN, then FIN), for
// softflowd -r to turn into flow records. Addresses from 10.0.0.0/8: file data only.
QByteArray makePcap(int flows)
{
    QByteArray file;
    QDataStream out(&file, QIODevice::WriteOnly);
    out.setByteOrder(QDataStream::LittleEndian);
    out << quint32(0xa1b2c3d4) << quint16(2) << quint16(4) << qint32(0) << quint32(0) << quint32(65535)
        << quint32(1); // Ethernet
    const quint32 start = quint32(QDateTime::currentSecsSinceEpoch()) - 60;
    auto packet = [&out](quint32 seconds, const QByteArray &ip) {
        QByteArray frame(14, '\0');
        frame[0] = 0x02; frame[6] = 0x02; frame[11] = 0x01;
        frame[12] = 0x08; frame[13] = 0x00;
        frame += ip;
        out << seconds << quint32(0) << quint32(frame.size()) << quint32(frame.size());
        out.writeRawData(frame.constData(), int(frame.size()));
    };
    for (int i = 0; i < flows; ++i) {
        const quint32 client = 0x0a010000 + quint32(i);
        packet(start + quint32(i % 30), ipv4Tcp(client, 0x0a020001, quint16(30000 + i), 80, 0x02));
        packet(start + quint32(i % 30) + 1, ipv4Tcp(client, 0x0a020001, quint16(30000 + i), 80, 0x11));
    }
    return file;
}

bool isRoot() { return ::geteuid() == 0; }

} // namespace

class TestFlowCapture : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void countsRecordsOfWatchedPortsOnly();
    void historyKeepsHoursAndTrims();
    void notMeasuredWithoutPorts();
    void filterProgramShape();
    void planSaysLossUnknownWhenNotMeasured();
    void realExportersCountedOnceBesideTheDaemon();
    void agentServesMeasuredRateAndHistory();
    void agentWithoutPrivilegeSaysNotMeasured();

private:
    QString startDaemon(QTemporaryDir &dir, quint16 *flowPort, std::unique_ptr<QProcess> *daemon);
};

void TestFlowCapture::countsRecordsOfWatchedPortsOnly()
{
    QTemporaryDir dir;
    FlowCapture capture({2055}, dir.filePath(QStringLiteral("history.json")));
    ft::flow::NetFlow9Encoder encoder(7, QDateTime::currentMSecsSinceEpoch() - 1000);
    const QDateTime now = QDateTime::currentDateTimeUtc();
    const QByteArray first = encoder.encode(records(10), now.toMSecsSinceEpoch()); // with template
    const QByteArray second = encoder.encode(records(5), now.toMSecsSinceEpoch());
    capture.handlePacket(ipv4Udp(0x7f000001, 0x7f000001, 5000, 2055, first), now);
    capture.handlePacket(ipv4Udp(0x7f000001, 0x7f000001, 5000, 2055, second), now);
    // Another port, a truncated datagram and garbage are not flows.
    capture.handlePacket(ipv4Udp(0x7f000001, 0x7f000001, 5000, 9999, second), now);
    capture.handlePacket(ipv4Udp(0x7f000001, 0x7f000001, 5000, 2055, second).left(40), now);
    capture.handlePacket(ipv4Udp(0x7f000001, 0x7f000001, 5000, 2055, QByteArray("not netflow")), now);
    const FlowMeasurement m = capture.measurement();
    QCOMPARE(m.records, 15);
    QCOMPARE(m.datagrams, 3);
    QCOMPARE(m.rejected, 1);
    QCOMPARE(m.lastFlowAt, now);
    const QJsonArray hours = capture.history().toJson(24).value(QStringLiteral("hours")).toArray();
    QCOMPARE(hours.size(), 1);
    QCOMPARE(hours.first().toObject().value(QStringLiteral("flows")).toInteger(), 15);
}

void TestFlowCapture::historyKeepsHoursAndTrims()
{
    QTemporaryDir dir;
    const QString file = dir.filePath(QStringLiteral("state/flowhistory.json"));
    {
        FlowHistoryStore store(file);
        const QDateTime base = QDateTime(QDate(2026, 11, 1), QTime(0, 0), Qt::UTC);
        for (int hour = 0; hour < 40 * 24; ++hour)
            store.add(base.addSecs(qint64(hour) * 3600 + 120), hour);
        QVERIFY(store.save());
    }
    FlowHistoryStore again(file);
    QVERIFY(again.load()); // survives a restart of the agent
    const QJsonArray all = again.toJson(10000).value(QStringLiteral("hours")).toArray();
    QCOMPARE(all.size(), FlowHistoryStore::kMaxHours); // 31 days
    QCOMPARE(all.last().toObject().value(QStringLiteral("flows")).toInteger(), 40 * 24 - 1);
    QCOMPARE(all.last().toObject().value(QStringLiteral("start")).toString(), QStringLiteral("2026-12-10T23:00:00Z"));
    QCOMPARE(again.toJson(24).value(QStringLiteral("hours")).toArray().size(), 24);
}

void TestFlowCapture::notMeasuredWithoutPorts()
{
    QTemporaryDir dir;
    FlowCapture capture({}, dir.filePath(QStringLiteral("h.json")));
    QVERIFY(!capture.start());
    const FlowMeasurement m = capture.measurement();
    QVERIFY(!m.measured);
    QVERIFY(m.reason.contains(QLatin1String("flow_ports")));
}

void TestFlowCapture::filterProgramShape()
{
    // 14 fixed instructions, one per port, accept and drop.
    QCOMPARE(FlowCapture::filterProgram({2055}).size(), 17 * 8);
    QCOMPARE(FlowCapture::filterProgram({2055, 4739, 6343}).size(), 19 * 8);
}

void TestFlowCapture::planSaysLossUnknownWhenNotMeasured()
{
    // The agent's "not measured" reaches the plan: no made-up 0, no loss figure.
    auto json = QJsonDocument::fromJson(R"({"name":"w1","role":"worker","os":"linux",
        "flows":{"receives_flows":true,"flow_port":2055,"source":"agent_capture","measured":false,
                 "per_second_1m":null,"per_second_10s":null,
                 "not_measured_reason":"The agent may not open a packet socket (it needs CAP_NET_RAW)."}})").object();
    const auto node = ft::NodeStatus::fromAgentJson(json);
    QVERIFY2(node, node ? "" : qPrintable(node.error()));
    QVERIFY(!node->flowRateMeasured);
    QCOMPARE(node->flowRateSource, QStringLiteral("agent_capture"));
    ft::DurationEstimate estimate;
    estimate.outageMs = 120000;
    // Keeping flows off: the loss is what the sentence must talk about.
    const ft::StepImpact impact = ft::impactOf(*node, ft::Component::Server, estimate, false);
    QVERIFY2(impact.sentence.contains(QLatin1String("not measured")), qPrintable(impact.sentence));
    QVERIFY(impact.sentence.contains(QLatin1String("CAP_NET_RAW")));
    QVERIFY(node->toJson().value(QStringLiteral("flows_per_second")).isNull());
}

QString TestFlowCapture::startDaemon(QTemporaryDir &dir, quint16 *flowPort, std::unique_ptr<QProcess> *daemon)
{
    // A free UDP port for the daemon's flow socket, outside the ephemeral range: a port
    // from bind(0) can be handed to another test's socket under ctest -j2.
    *flowPort = ft::test::freeServiceUdpPort();
    const QString install = dir.filePath(QStringLiteral("node"));
    int code = 0;
    const QByteArray out = runTool(QStringLiteral("ftsandbox"),
                                   {QStringLiteral("init"), install, QStringLiteral("--version"), QStringLiteral("6.2.1-1200"),
                                    QStringLiteral("--role"), QStringLiteral("standalone"), QStringLiteral("--os"), QStringLiteral("linux"),
                                    QStringLiteral("--flow-port"), QString::number(*flowPort), QStringLiteral("--webui-files"), QStringLiteral("20")},
                                   &code);
    if (code != 0)
        return QString::fromUtf8(out);
    *daemon = std::make_unique<QProcess>();
    (*daemon)->start(bin(QStringLiteral("ftsandbox-server")), {QStringLiteral("--install"), install});
    if (!(*daemon)->waitForStarted())
        return QStringLiteral("ftsandbox-server did not start");
    QElapsedTimer clock;
    clock.start();
    while (clock.elapsed() < 20000) {
        const QJsonObject status = QJsonDocument::fromJson(readAll(QDir(install).filePath(QStringLiteral("run/status.json")))).object();
        if (status.value(QStringLiteral("state")).toString() == QLatin1String("running"))
            return {};
        QTest::qWait(100);
    }
    return QStringLiteral("ftsandbox-server did not report running");
}

void TestFlowCapture::realExportersCountedOnceBesideTheDaemon()
{
    if (!isRoot())
        QSKIP("Needs root (CAP_NET_RAW) for a packet socket; run the tests as root to cover the packet counter.");
    if (QStandardPaths::findExecutable(QStringLiteral("softflowd"), {QStringLiteral("/usr/sbin"), QStringLiteral("/usr/bin")}).isEmpty())
        QSKIP("softflowd is not installed (Debian package softflowd).");
    QTemporaryDir dir;
    quint16 port = 0;
    std::unique_ptr<QProcess> daemon;
    const QString started = startDaemon(dir, &port, &daemon);
    QVERIFY2(started.isEmpty(), qPrintable(started));
    const QString status = dir.filePath(QStringLiteral("node/run/status.json"));
    auto daemonFlows = [&status] {
        return QJsonDocument::fromJson(readAll(status)).object().value(QStringLiteral("flows_total")).toInteger();
    };

    FlowCapture capture({port}, dir.filePath(QStringLiteral("agent/state/flowhistory.json")));
    const ft::Result opened = capture.start();
    QVERIFY2(opened, opened ? "" : qPrintable(opened.error()));
    QVERIFY(capture.measurement().measured);

    // softflowd replays a capture file of 40 TCP conversations as NetFlow v9.
    QFile pcap(dir.filePath(QStringLiteral("conversations.pcap")));
    QVERIFY(pcap.open(QIODevice::WriteOnly));
    pcap.write(makePcap(40));
    pcap.close();
    QProcess softflowd;
    softflowd.setProcessChannelMode(QProcess::MergedChannels);
    softflowd.start(QStringLiteral("softflowd"),
                    {QStringLiteral("-r"), pcap.fileName(), QStringLiteral("-n"), QStringLiteral("127.0.0.1:%1").arg(port),
                     QStringLiteral("-v"), QStringLiteral("9"), QStringLiteral("-p"), dir.filePath(QStringLiteral("softflowd.pid")),
                     // No control socket: with one, softflowd 1.1.0 waits in accept() after the file's end.
                     QStringLiteral("-c"), QStringLiteral("none"), QStringLiteral("-d")});
    QVERIFY(softflowd.waitForFinished(30000));
    QVERIFY2(softflowd.exitCode() == 0, softflowd.readAll().constData());
    QTRY_VERIFY_WITH_TIMEOUT(capture.measurement().records >= 40, 10000);
    // Each datagram once: the loopback's outgoing copy is not counted again, and the
    // daemon received every record the agent counted (its socket was not disturbed).
    QTRY_COMPARE_WITH_TIMEOUT(daemonFlows(), capture.measurement().records, 10000);
    const qint64 fromSoftflowd = capture.measurement().records;
    QCOMPARE(fromSoftflowd, 40);

    // ftsandbox-exporter at 200 flows/s for about two seconds.
    QProcess exporter;
    exporter.start(bin(QStringLiteral("ftsandbox-exporter")),
                   {QStringLiteral("--target"), QStringLiteral("node=127.0.0.1:%1@200").arg(port)});
    QVERIFY(exporter.waitForStarted());
    QTRY_VERIFY_WITH_TIMEOUT(capture.measurement().records > fromSoftflowd + 200, 15000);
    exporter.terminate();
    QVERIFY(exporter.waitForFinished(10000));
    QTRY_COMPARE_WITH_TIMEOUT(daemonFlows(), capture.measurement().records, 10000);
    const FlowMeasurement m = capture.measurement();
    QVERIFY(m.perSecond1m > 0);
    QVERIFY(m.lastFlowAt.isValid());
    qInfo("agent counted %lld records in %lld datagrams; daemon %lld; %.1f flows/s over the last minute",
          m.records, m.datagrams, daemonFlows(), m.perSecond1m);

    ::kill(pid_t(daemon->processId()), SIGTERM);
    QVERIFY(daemon->waitForFinished(10000));
}

void TestFlowCapture::agentServesMeasuredRateAndHistory()
{
    if (!isRoot())
        QSKIP("Needs root (CAP_NET_RAW) for a packet socket; run the tests as root to cover the packet counter.");
    Agent agent;
    const quint16 port = ft::test::freeServiceUdpPort();
    QVERIFY2(agent.setUp({QStringLiteral("--flow-port"), QString::number(port)}).isEmpty(), "setUp");
    {
        QSettings conf(agent.configFile, QSettings::IniFormat);
        conf.setValue(QStringLiteral("agent/flow_ports"), QString::number(port));
    }
    QVERIFY2(agent.start().isEmpty(), "agent start");
    Client client;
    client.bind(agent);
    Response node = client.get(QStringLiteral("/v1/node"));
    QCOMPARE(node.status, 200);
    QJsonObject flows = node.json.value(QStringLiteral("flows")).toObject();
    QCOMPARE(flows.value(QStringLiteral("source")).toString(), QStringLiteral("agent_capture"));
    QCOMPARE(flows.value(QStringLiteral("measured")).toBool(), true);

    // No daemon runs: the agent still sees what arrives at the port.
    ft::flow::NetFlow9Encoder encoder(9, QDateTime::currentMSecsSinceEpoch() - 1000);
    QUdpSocket udp;
    for (int i = 0; i < 4; ++i)
        udp.writeDatagram(encoder.encode(records(25), QDateTime::currentMSecsSinceEpoch()), QHostAddress::LocalHost, port);
    QTRY_COMPARE_WITH_TIMEOUT(client.get(QStringLiteral("/v1/node")).json.value(QStringLiteral("flows")).toObject()
                                  .value(QStringLiteral("records")).toInteger(), 100, 10000);
    const Response history = client.get(QStringLiteral("/v1/flows/history?hours=744"));
    QCOMPARE(history.status, 200);
    QCOMPARE(history.json.value(QStringLiteral("source")).toString(), QStringLiteral("agent_capture"));
    const QJsonArray hours = history.json.value(QStringLiteral("hours")).toArray();
    // The sandbox's seeded weeks, then the hour the agent counted itself.
    QVERIFY(hours.size() > 24);
    QVERIFY(hours.last().toObject().value(QStringLiteral("flows")).toInteger() >= 100);
}

void TestFlowCapture::agentWithoutPrivilegeSaysNotMeasured()
{
    if (!isRoot())
        QSKIP("Needs root to drop CAP_NET_RAW from a child; as a user the agent cannot open it anyway.");
    if (QStandardPaths::findExecutable(QStringLiteral("setpriv")).isEmpty())
        QSKIP("setpriv (util-linux) is not installed.");
    Agent agent;
    QVERIFY2(agent.setUp({QStringLiteral("--flow-port"), QStringLiteral("2055")}).isEmpty(), "setUp");
    {
        QSettings conf(agent.configFile, QSettings::IniFormat);
        conf.setValue(QStringLiteral("agent/flow_ports"), QStringLiteral("2055"));
    }
    // The agent as a service without CAP_NET_RAW: started through setpriv.
    agent.process = std::make_unique<QProcess>();
    agent.process->start(QStringLiteral("setpriv"),
                         {QStringLiteral("--inh-caps=-net_raw"), QStringLiteral("--bounding-set=-net_raw"),
                          bin(QStringLiteral("ftupgrade-agent")), QStringLiteral("run"), QStringLiteral("--config"), agent.configFile});
    QVERIFY(agent.process->waitForStarted());
    QTRY_VERIFY_WITH_TIMEOUT(agent.process->canReadLine() || agent.process->state() != QProcess::Running, 15000);
    QByteArray line;
    while (agent.process->canReadLine() || agent.process->waitForReadyRead(5000)) {
        line = agent.process->readLine();
        if (line.startsWith("listening: "))
            break;
    }
    QVERIFY2(line.startsWith("listening: "), line.constData());
    agent.url = QUrl(QString::fromUtf8(line.mid(11).trimmed()));
    Client client;
    client.bind(agent);
    const Response node = client.get(QStringLiteral("/v1/node"));
    QCOMPARE(node.status, 200);
    const QJsonObject flows = node.json.value(QStringLiteral("flows")).toObject();
    QCOMPARE(flows.value(QStringLiteral("measured")).toBool(), false);
    QVERIFY(flows.value(QStringLiteral("per_second_1m")).isNull());
    QVERIFY2(flows.value(QStringLiteral("not_measured_reason")).toString().contains(QLatin1String("CAP_NET_RAW")),
             qPrintable(flows.value(QStringLiteral("not_measured_reason")).toString()));
}

QTEST_GUILESS_MAIN(TestFlowCapture)
#include "tst_flowcapture.moc"

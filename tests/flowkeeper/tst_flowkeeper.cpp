// No flow lost while a flow-receiving node is upgraded (issue 15), end to end:
// the test process enters a network namespace of its own before anything else runs, so
// the agent, the sandbox daemon, nft and the exporters all live in it. Each exporter
// sits in a namespace of its own behind a veth pair, at its own address in 10.77.0.0/16:
//   10.77.1.2  softflowd replaying a generated pcap as NetFlow v9 (one run after another)
//   10.77.2.2  softflowd, the same as IPFIX
//   10.77.3.2  ftsandbox-exporter at a steady rate (NetFlow v9)
// all sending to the node's flow port on 10.77.x.1. The node is upgraded with a `slow`
// package, with and without keep_flows; the counts come from the daemon's own
// by_exporter figures (summed over the old and the new daemon process).

#include "agentharness.h"
#include "flowdecoder.h"
#include "flowspool.h"
#include "rawreplay.h"

#include <QProcess>
#include <QScopeGuard>
#include <QRegularExpression>
#include <QSettings>
#include <QStandardPaths>
#include <QtEndian>

#include <sched.h>

using namespace agenttest;
using ft::agent::FlowSpoolReader;
using ft::agent::ReplayJournal;

namespace {

QString g_namespaceError; // set in main() when the namespace could not be made
constexpr int kFlowPort = 2055;
const QString kTarget = QStringLiteral("6.3.0-1500");

QByteArray run(const QString &program, const QStringList &arguments, int *code = nullptr)
{
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(program, arguments);
    p.waitForFinished(20000);
    if (code)
        *code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    return p.readAll();
}

// A pcap of `flows` TCP SYNs, each its own flow (10.1.x.y:port → 192.168.1.1:80).
QByteArray makePcap(int flows)
{
    QByteArray out;
    auto u32 = [&out](quint32 v) { out.append(reinterpret_cast<const char *>(&v), 4); };
    auto u16 = [&out](quint16 v) { out.append(reinterpret_cast<const char *>(&v), 2); };
    u32(0xa1b2c3d4); u16(2); u16(4); u32(0); u32(0); u32(65535); u32(1); // Ethernet
    for (int i = 0; i < flows; ++i) {
        QByteArray pkt(14 + 20 + 20, '\0');
        auto *b = reinterpret_cast<uchar *>(pkt.data());
        b[12] = 0x08; // IPv4
        uchar *ip = b + 14;
        ip[0] = 0x45;
        qToBigEndian<quint16>(40, ip + 2);
        ip[8] = 64;
        ip[9] = 6;
        qToBigEndian<quint32>(0x0a010000u + quint32(i), ip + 12);
        qToBigEndian<quint32>(0xc0a80101u, ip + 16);
        uchar *tcp = ip + 20;
        qToBigEndian<quint16>(quint16(1024 + i), tcp);
        qToBigEndian<quint16>(80, tcp + 2);
        tcp[12] = 0x50;
        tcp[13] = 0x02;
        u32(1700000000u + quint32(i / 1000)); u32(quint32(i % 1000) * 1000);
        u32(quint32(pkt.size())); u32(quint32(pkt.size()));
        out += pkt;
    }
    return out;
}

// One exporter's namespace: a holder process, a veth pair, 10.77.N.2 inside, 10.77.N.1 at the node.
struct ExporterNet
{
    int n = 0;
    QProcess holder;
    QString address() const { return QStringLiteral("10.77.%1.2").arg(n); }
    QString nodeAddress() const { return QStringLiteral("10.77.%1.1").arg(n); }
    // The same link in IPv6 (a unique local range; no duplicate address detection wait).
    QString address6() const { return QStringLiteral("fd77:%1::2").arg(n); }
    QString nodeAddress6() const { return QStringLiteral("fd77:%1::1").arg(n); }
    QStringList in(const QStringList &command) const
    {
        return QStringList{QStringLiteral("-t"), QString::number(holder.processId()), QStringLiteral("-n"), QStringLiteral("--")}
               + command;
    }
    QString setUp(int index)
    {
        n = index;
        holder.start(QStringLiteral("unshare"), {QStringLiteral("-n"), QStringLiteral("sleep"), QStringLiteral("3600")});
        if (!holder.waitForStarted())
            return QStringLiteral("cannot start unshare");
        QTest::qWait(100);
        const QString pid = QString::number(holder.processId());
        int code = 0;
        QByteArray out = run(QStringLiteral("ip"), {QStringLiteral("link"), QStringLiteral("add"), QStringLiteral("fkn%1").arg(n),
                                                    QStringLiteral("type"), QStringLiteral("veth"), QStringLiteral("peer"),
                                                    QStringLiteral("name"), QStringLiteral("fke%1").arg(n),
                                                    QStringLiteral("netns"), pid}, &code);
        if (code != 0)
            return QStringLiteral("ip link add: ") + QString::fromUtf8(out);
        out += run(QStringLiteral("ip"), {QStringLiteral("addr"), QStringLiteral("add"), nodeAddress() + QStringLiteral("/24"),
                                          QStringLiteral("dev"), QStringLiteral("fkn%1").arg(n)}, &code);
        out += run(QStringLiteral("ip"), {QStringLiteral("-6"), QStringLiteral("addr"), QStringLiteral("add"),
                                          nodeAddress6() + QStringLiteral("/64"), QStringLiteral("dev"),
                                          QStringLiteral("fkn%1").arg(n), QStringLiteral("nodad")}, &code);
        out += run(QStringLiteral("ip"), {QStringLiteral("link"), QStringLiteral("set"), QStringLiteral("fkn%1").arg(n),
                                          QStringLiteral("up")}, &code);
        out += run(QStringLiteral("nsenter"),
                   in({QStringLiteral("sh"), QStringLiteral("-c"),
                       QStringLiteral("ip link set lo up && ip addr add %1/24 dev fke%2 && "
                                      "ip -6 addr add %3/64 dev fke%2 nodad && ip link set fke%2 up")
                               .arg(address()).arg(n).arg(address6())}),
                   &code);
        if (code != 0)
            return QStringLiteral("veth set-up: ") + QString::fromUtf8(out);
        // Wait until the node's side answers (the veth link needs a moment to come up).
        for (const QString &address : {nodeAddress(), nodeAddress6()}) {
            for (int i = 0; i < 50; ++i) {
                run(QStringLiteral("nsenter"), in({QStringLiteral("ping"), QStringLiteral("-c1"), QStringLiteral("-W1"), address}), &code);
                if (code == 0)
                    break;
                QTest::qWait(100);
            }
        }
        return {};
    }
    ~ExporterNet()
    {
        holder.kill();
        holder.waitForFinished();
    }
};

// softflowd, run again and again on the pcap while `running`; sums "Flows exported: N".
class SoftflowdLoop : public QObject
{
public:
    SoftflowdLoop(const ExporterNet &net, QString pcap, int version, QString dir)
        : m_net(net), m_pcap(std::move(pcap)), m_version(version), m_dir(std::move(dir))
    {
    }
    void start()
    {
        m_running = true;
        round();
    }
    void stop() { m_running = false; }
    bool idle() const { return !m_process; }
    qint64 flowsSent() const { return m_flows; }
    int rounds() const { return m_rounds; }
    QString errors() const { return m_errors; }

private:
    void round()
    {
        if (!m_running) {
            return;
        }
        // softflowd misreads long paths: short names in the working folder.
        const QString ctl = QStringLiteral("sf%1.ctl").arg(m_version);
        const QString pid = QStringLiteral("sf%1.pid").arg(m_version);
        // softflowd -r reads the whole file, exports every flow at its end and exits.
        const QString script = QStringLiteral("exec softflowd -r %1 -n %2:%3 -v %4 -d -p %5 -c %6")
                                       .arg(QFileInfo(m_pcap).fileName(), m_net.nodeAddress()).arg(kFlowPort).arg(m_version).arg(pid, ctl);
        m_process = new QProcess(this);
        m_process->setProcessChannelMode(QProcess::MergedChannels);
        connect(m_process, &QProcess::finished, this, [this] {
            const QByteArray out = m_process->readAll();
            static const QRegularExpression exported(QStringLiteral("Flows exported: (\\d+) \\((\\d+) records\\)"));
            const auto match = exported.match(QString::fromUtf8(out));
            if (match.hasMatch() && match.captured(2).toLongLong() > 0) {
                m_flows += match.captured(2).toLongLong();
                ++m_rounds;
            } else {
                m_errors += QString::fromUtf8(out.right(400));
            }
            m_process->deleteLater();
            m_process = nullptr;
            QTimer::singleShot(200, this, [this] { round(); }); // about 400 flows a second
        });
        m_process->setWorkingDirectory(QFileInfo(m_pcap).absolutePath());
        m_process->start(QStringLiteral("nsenter"), m_net.in({QStringLiteral("sh"), QStringLiteral("-c"), script}));
    }

    const ExporterNet &m_net;
    QString m_pcap;
    int m_version;
    QString m_dir;
    QPointer<QProcess> m_process;
    bool m_running = false;
    qint64 m_flows = 0;
    int m_rounds = 0;
    QString m_errors;
};

// Follows the daemon's status.json; keeps each daemon process's last figures by pid, so
// the flows of the daemon before the upgrade and the one after add up.
class FlowCounter : public QObject
{
public:
    explicit FlowCounter(QString statusFile)
        : m_file(std::move(statusFile))
    {
        m_timer.setInterval(50);
        connect(&m_timer, &QTimer::timeout, this, [this] { poll(); });
        m_timer.start();
    }
    void poll()
    {
        const QJsonObject status = QJsonDocument::fromJson(readAll(m_file)).object();
        if (!status.contains(QStringLiteral("pid")))
            return;
        m_byPid[status.value(QStringLiteral("pid")).toInteger()] = status.value(QStringLiteral("by_exporter")).toObject();
    }
    QHash<QString, qint64> byExporter() const
    {
        QHash<QString, qint64> total;
        for (const QJsonObject &one : m_byPid)
            for (auto it = one.begin(); it != one.end(); ++it)
                total[it.key()] += it.value().toInteger();
        return total;
    }
    QSet<qint64> pids() const
    {
        const QList<qint64> keys = m_byPid.keys();
        return QSet<qint64>(keys.cbegin(), keys.cend());
    }
    // Flows by exporter counted by the daemons not in `except`.
    QHash<QString, qint64> byExporterOf(const QSet<qint64> &except) const
    {
        QHash<QString, qint64> total;
        for (auto pid = m_byPid.cbegin(); pid != m_byPid.cend(); ++pid) {
            if (except.contains(pid.key()))
                continue;
            for (auto it = pid.value().begin(); it != pid.value().end(); ++it)
                total[it.key()] += it.value().toInteger();
        }
        return total;
    }
    qint64 total() const
    {
        qint64 sum = 0;
        for (const qint64 n : byExporter())
            sum += n;
        return sum;
    }

private:
    QString m_file;
    QTimer m_timer;
    QHash<qint64, QJsonObject> m_byPid;
};

qint64 phaseStartMs(const QJsonObject &job, const QString &phase)
{
    for (const QJsonValue &p : job.value(QStringLiteral("phases")).toArray()) {
        if (p.toObject().value(QStringLiteral("phase")).toString() == phase)
            return QDateTime::fromString(p.toObject().value(QStringLiteral("started")).toString(), Qt::ISODateWithMs)
                    .toMSecsSinceEpoch();
    }
    return 0;
}

bool nftTableExists(const QString &table)
{
    return run(QStringLiteral("nft"), {QStringLiteral("list"), QStringLiteral("tables")})
            .contains(QStringLiteral("table inet %1").arg(table).toUtf8());
}

} // namespace

class TestFlowKeeper : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void upgradeKeepsEveryFlow_data();
    void upgradeKeepsEveryFlow();
    void withoutNftTheUpgradeGoesOnAsToday();
    void killedAgentLeavesNoRedirect_data();
    void killedAgentLeavesNoRedirect();
    void fullSpoolDiskFallsBackToToday();
    void ipv6ExportersAreKeptAndReplayed();
    void agentAnswersWhileTheRedirectIsMade();
    void flowsRedirectedBeforeTheAgentTakesNoteAreKept();
    void templatesSeenBeforeTheOutageGoFirst();
    void replayPacketsCarryACorrectChecksum_data();
    void replayPacketsCarryACorrectChecksum();

private:
    struct Node
    {
        Agent agent;
        Client client;
        FileServer files;
    };
    std::unique_ptr<Node> prepare(int slowSeconds, const QMap<QString, QString> &agentConf = {},
                                  const QString &listen = QStringLiteral("0.0.0.0"));
    QString upgrade(Node &node, bool keepFlows);

    QTemporaryDir m_dir;
    QString m_pcap;
    std::vector<std::unique_ptr<ExporterNet>> m_nets;
};

void TestFlowKeeper::initTestCase()
{
    if (!g_namespaceError.isEmpty())
        QSKIP(qPrintable(QStringLiteral("Network namespaces are not permitted here (%1); the flow keeper's "
                                        "namespace test cannot run.").arg(g_namespaceError)));
    if (QStandardPaths::findExecutable(QStringLiteral("nft"), {QStringLiteral("/usr/sbin"), QStringLiteral("/sbin")}).isEmpty()
        && QStandardPaths::findExecutable(QStringLiteral("nft")).isEmpty())
        QFAIL("nft is not installed (Debian package nftables, in .ci/packages.txt).");
    QVERIFY(!QStandardPaths::findExecutable(QStringLiteral("softflowd"), {QStringLiteral("/usr/sbin")}).isEmpty());
    int code = 0;
    const QByteArray out = run(QStringLiteral("ip"), {QStringLiteral("link"), QStringLiteral("set"), QStringLiteral("lo"), QStringLiteral("up")}, &code);
    QVERIFY2(code == 0, out.constData());
    m_pcap = m_dir.filePath(QStringLiteral("flows.pcap"));
    QFile pcap(m_pcap);
    QVERIFY(pcap.open(QIODevice::WriteOnly));
    pcap.write(makePcap(100));
    pcap.close();
    for (int i = 1; i <= 3; ++i) {
        m_nets.push_back(std::make_unique<ExporterNet>());
        const QString error = m_nets.back()->setUp(i);
        QVERIFY2(error.isEmpty(), qPrintable(error));
    }
}

std::unique_ptr<TestFlowKeeper::Node> TestFlowKeeper::prepare(int slowSeconds, const QMap<QString, QString> &agentConf,
                                                              const QString &listen)
{
    auto node = std::make_unique<Node>();
    QString error = node->agent.setUp({QStringLiteral("--listen"), listen,
                                       QStringLiteral("--flow-port"), QString::number(kFlowPort)});
    if (error.isEmpty()) {
        QSettings conf(node->agent.configFile, QSettings::IniFormat);
        for (auto it = agentConf.cbegin(); it != agentConf.cend(); ++it)
            conf.setValue(QStringLiteral("agent/") + it.key(), it.value());
        conf.sync();
        error = node->agent.start();
    }
    if (!error.isEmpty()) {
        qWarning("%s", qPrintable(error));
        return nullptr;
    }
    node->client.bind(node->agent);
    Response r = node->client.post(QStringLiteral("/v1/service"), {{QStringLiteral("action"), QStringLiteral("start")}});
    if (r.status != 200) {
        qWarning("service start: %s", r.body.constData());
        return nullptr;
    }
    const QString package = node->agent.dir.filePath(QStringLiteral("pkg.ftpkg"));
    int code = 0;
    const QByteArray out = runTool(QStringLiteral("ftsandbox"),
                                   {QStringLiteral("make-package"), QStringLiteral("--version"), kTarget,
                                    QStringLiteral("--component"), QStringLiteral("server"), QStringLiteral("--mode"),
                                    QStringLiteral("slow"), QStringLiteral("--slow-seconds"), QString::number(slowSeconds),
                                    QStringLiteral("-o"), package},
                                   &code);
    if (code != 0) {
        qWarning("make-package: %s", out.constData());
        return nullptr;
    }
    node->files.data = readAll(package);
    node->files.listen();
    r = node->client.post(QStringLiteral("/v1/stage"),
                          {{QStringLiteral("url"), node->files.url(QStringLiteral("server.ftpkg"))},
                           {QStringLiteral("sha256"), QString::fromLatin1(sha256Hex(node->files.data))},
                           {QStringLiteral("size"), node->files.data.size()},
                           {QStringLiteral("name"), QStringLiteral("server.ftpkg")}});
    const QJsonObject staged = node->client.waitForJob(r.json.value(QStringLiteral("job")).toString());
    if (staged.value(QStringLiteral("state")).toString() != QLatin1String("succeeded")) {
        qWarning("staging: %s", QJsonDocument(staged).toJson().constData());
        return nullptr;
    }
    return node;
}

QString TestFlowKeeper::upgrade(Node &node, bool keepFlows)
{
    const Response r = node.client.post(QStringLiteral("/v1/upgrade"),
                                        {{QStringLiteral("component"), QStringLiteral("server")},
                                         {QStringLiteral("package"), QStringLiteral("server.ftpkg")},
                                         {QStringLiteral("keep_flows"), keepFlows}});
    return r.status == 202 ? r.json.value(QStringLiteral("job")).toString() : QString();
}

void TestFlowKeeper::upgradeKeepsEveryFlow_data()
{
    QTest::addColumn<bool>("keepFlows");
    QTest::newRow("kept and replayed") << true;
    QTest::newRow("without the option") << false;
}

void TestFlowKeeper::upgradeKeepsEveryFlow()
{
    QFETCH(bool, keepFlows);
    auto node = prepare(4);
    QVERIFY(node);
    FlowCounter counter(QDir(node->agent.installDir).filePath(QStringLiteral("run/status.json")));

    SoftflowdLoop v9(*m_nets[0], m_pcap, 9, m_dir.path());
    SoftflowdLoop ipfix(*m_nets[1], m_pcap, 10, m_dir.path());
    QProcess exporter;
    exporter.setProcessChannelMode(QProcess::MergedChannels);
    const int rate = 400;
    exporter.start(QStringLiteral("nsenter"),
                   m_nets[2]->in({bin(QStringLiteral("ftsandbox-exporter")), QStringLiteral("--target"),
                                  QStringLiteral("node=%1:%2@%3").arg(m_nets[2]->nodeAddress()).arg(kFlowPort).arg(rate)}));
    QVERIFY(exporter.waitForStarted());
    QElapsedTimer sending;
    sending.start();
    v9.start();
    ipfix.start();
    QTest::qWait(2500);

    const QString id = upgrade(*node, keepFlows);
    QVERIFY(!id.isEmpty());
    QStringList lines;
    const QJsonObject job = node->client.waitForJob(id, nullptr, &lines, 90000);
    QCOMPARE(job.value(QStringLiteral("state")).toString(), QStringLiteral("succeeded"));
    QTest::qWait(2500);

    v9.stop();
    ipfix.stop();
    exporter.terminate();
    QVERIFY(exporter.waitForFinished(10000));
    const double sendingSeconds = double(sending.elapsed()) / 1000.0;
    QTRY_VERIFY_WITH_TIMEOUT(v9.idle() && ipfix.idle(), 20000);
    static const QRegularExpression sentLine(QStringLiteral("(\\d+) flow records in (\\d+) datagrams sent\\."));
    QRegularExpressionMatch match;
    const QString exporterOut = QString::fromUtf8(exporter.readAll());
    for (auto it = sentLine.globalMatch(exporterOut); it.hasNext();)
        match = it.next();
    QVERIFY2(match.hasMatch(), qPrintable(exporterOut));
    QHash<QString, qint64> sent{{m_nets[0]->address(), v9.flowsSent()},
                                {m_nets[1]->address(), ipfix.flowsSent()},
                                {m_nets[2]->address(), match.captured(1).toLongLong()}};
    QVERIFY2(v9.rounds() > 5 && ipfix.rounds() > 5 && v9.flowsSent() > 0 && ipfix.flowsSent() > 0,
             qPrintable(QStringLiteral("rounds %1/%2 flows %3/%4: ").arg(v9.rounds()).arg(ipfix.rounds())
                                .arg(v9.flowsSent()).arg(ipfix.flowsSent()) + v9.errors() + ipfix.errors()));
    qint64 sentTotal = 0;
    for (const qint64 n : sent)
        sentTotal += n;

    // Counting settles once the daemon's status stops changing.
    qint64 last = -1;
    for (int i = 0; i < 40 && counter.total() != last; ++i) {
        last = counter.total();
        QTest::qWait(1500);
    }
    const QHash<QString, qint64> counted = counter.byExporter();
    const qint64 outageMs = phaseStartMs(job, keepFlows ? QStringLiteral("replaying") : QStringLiteral("checking"))
                            - phaseStartMs(job, QStringLiteral("stopping"));
    const double ratePerSecond = double(sentTotal) / sendingSeconds;
    qInfo("keep_flows=%d: sent %lld flows (%.0f a second), counted %lld; outage %.1f s; by exporter: sent %s / counted %s",
          keepFlows, sentTotal, ratePerSecond, counter.total(), double(outageMs) / 1000.0,
          qPrintable(QStringLiteral("%1,%2,%3").arg(sent.value(m_nets[0]->address())).arg(sent.value(m_nets[1]->address())).arg(sent.value(m_nets[2]->address()))),
          qPrintable(QStringLiteral("%1,%2,%3").arg(counted.value(m_nets[0]->address())).arg(counted.value(m_nets[1]->address())).arg(counted.value(m_nets[2]->address()))));

    if (keepFlows) {
        // Exactly, for ftsandbox-exporter too: a steady exporter with one source port sends
        // while the redirect's transaction commits, and the datagrams the listeners read
        // before the agent's thread took note of the redirect are spooled like the rest.
        for (auto it = sent.cbegin(); it != sent.cend(); ++it)
            QVERIFY2(counted.value(it.key()) == it.value(),
                     qPrintable(QStringLiteral("%1: sent %2, counted %3").arg(it.key()).arg(it.value()).arg(counted.value(it.key()))));
        // Every flow under its exporter's own address: nothing from 127.0.0.1 or the node's side.
        QCOMPARE(counted.size(), sent.size());
        QVERIFY(lines.filter(QRegularExpression(QStringLiteral("^Keeping flows: [\\d,]+ datagrams"))).size() >= 1);
        QVERIFY(!lines.filter(QStringLiteral("Replaying: ")).isEmpty());
        const QJsonObject flows = job.value(QStringLiteral("flows")).toObject();
        QCOMPARE(flows.value(QStringLiteral("state")).toString(), QStringLiteral("replayed"));
        QVERIFY(flows.value(QStringLiteral("kept")).toInteger() > 0);
        QCOMPARE(flows.value(QStringLiteral("replayed")).toInteger(), flows.value(QStringLiteral("kept")).toInteger());
        QVERIFY(!nftTableExists(QStringLiteral("ftupgrade_keep_2055")));
    } else {
        const qint64 lost = sentTotal - counter.total();
        const double expected = ratePerSecond * double(outageMs) / 1000.0;
        qInfo("without the option: lost %lld flows; rate × outage = %.0f", lost, expected);
        QVERIFY(lost > 0);
        QVERIFY2(double(lost) >= 0.5 * expected, qPrintable(QStringLiteral("lost %1, expected about %2").arg(lost).arg(expected)));
        QVERIFY(job.value(QStringLiteral("flows")).toObject().isEmpty());
    }
}

void TestFlowKeeper::withoutNftTheUpgradeGoesOnAsToday()
{
    auto node = prepare(1, {{QStringLiteral("nft"), QStringLiteral("/nonexistent/nft")}});
    QVERIFY(node);
    const QString id = upgrade(*node, true);
    QVERIFY(!id.isEmpty());
    QStringList lines;
    const QJsonObject job = node->client.waitForJob(id, nullptr, &lines, 60000);
    QCOMPARE(job.value(QStringLiteral("state")).toString(), QStringLiteral("succeeded"));
    QCOMPARE(node->agent.installedVersion(), kTarget);
    const QStringList said = lines.filter(QStringLiteral("Flows are not kept during this outage"));
    QCOMPARE(said.size(), 1);
    QVERIFY2(said.first().contains(QStringLiteral("nftables installed")), qPrintable(said.first()));
    QVERIFY(QDir(QDir(node->agent.dir.path()).filePath(QStringLiteral("agent/flows"))).entryList({QStringLiteral("*.spool")}).isEmpty());
}

void TestFlowKeeper::killedAgentLeavesNoRedirect_data()
{
    QTest::addColumn<bool>("earlierPartialReplay");
    QTest::newRow("replayed from the start") << false;
    QTest::newRow("an earlier replay sent half") << true;
}

// The agent is SIGKILLed while its redirect is active. Restarted, it removes the redirect,
// waits for the service to listen again, and replays the spool once: the new daemon
// counts exactly the flows of the spool's datagrams not replayed before, from the
// exporter's own address. With a journal saying an earlier replay sent the first half
// (as a kill during that replay leaves it), only the second half is sent.
void TestFlowKeeper::killedAgentLeavesNoRedirect()
{
    QFETCH(bool, earlierPartialReplay);
    auto node = prepare(30);
    QVERIFY(node);
    FlowCounter counter(QDir(node->agent.installDir).filePath(QStringLiteral("run/status.json")));
    QProcess exporter;
    auto stopExporter = qScopeGuard([&exporter] {
        exporter.terminate();
        exporter.waitForFinished(5000);
    });
    exporter.start(QStringLiteral("nsenter"),
                   m_nets[2]->in({bin(QStringLiteral("ftsandbox-exporter")), QStringLiteral("--target"),
                                  QStringLiteral("node=%1:%2@200").arg(m_nets[2]->nodeAddress()).arg(kFlowPort)}));
    QVERIFY(exporter.waitForStarted());
    const QString id = upgrade(*node, true);
    QVERIFY(!id.isEmpty());
    // Kill the agent once the redirect is active and datagrams are being kept.
    QTRY_VERIFY_WITH_TIMEOUT(node->client.get(QStringLiteral("/v1/jobs/%1?since=0").arg(id)).body.contains("Keeping flows: 1") ||
                             node->client.get(QStringLiteral("/v1/jobs/%1?since=0").arg(id)).body.contains("Keeping flows: 2") ||
                             node->client.get(QStringLiteral("/v1/jobs/%1?since=0").arg(id)).body.contains("Keeping flows: 3"), 20000);
    qInfo("keeping; killing the agent");
    QVERIFY(nftTableExists(QStringLiteral("ftupgrade_keep_2055")));
    ::kill(pid_t(node->agent.process->processId()), SIGKILL);
    QVERIFY(node->agent.process->waitForFinished(5000));
    QVERIFY2(nftTableExists(QStringLiteral("ftupgrade_keep_2055")), "the killed agent's redirect is still there before the restart");
    // Only the spool's flows may reach the new daemon: the exporter stops here.
    stopExporter.dismiss();
    exporter.terminate();
    QVERIFY(exporter.waitForFinished(5000));
    const QString spoolDir = QDir(node->agent.dir.path()).filePath(QStringLiteral("agent/flows"));
    const QStringList spools = QDir(spoolDir).entryList({QStringLiteral("*.spool")});
    QCOMPARE(spools.size(), 1);
    const QString spool = QDir(spoolDir).filePath(spools.first());

    // The spool's datagrams, and the flows in those the replay is to send.
    QList<qint64> offsets;
    QList<QByteArray> datagrams;
    {
        FlowSpoolReader reader;
        QVERIFY(reader.open(spool).has_value());
        for (;;) {
            offsets.append(reader.offset());
            const auto d = reader.next();
            if (!d)
                break;
            QCOMPARE(d->source(), QHostAddress(m_nets[2]->address()));
            datagrams.append(d->data);
        }
    }
    QVERIFY2(datagrams.size() >= 4, qPrintable(QString::number(datagrams.size())));
    const qsizetype from = earlierPartialReplay ? datagrams.size() / 2 : 0;
    if (earlierPartialReplay) {
        ReplayJournal journal;
        QVERIFY(journal.open(spool, offsets.first()).has_value());
        QVERIFY(journal.record(offsets.at(from)).has_value());
    }
    ft::flow::FlowDecoder decoder;
    for (const QByteArray &d : std::as_const(datagrams)) // learn every template first, as the replay sends them first
        (void)decoder.decode(d, QHostAddress(m_nets[2]->address()));
    qint64 expectedFlows = 0;
    for (qsizetype i = from; i < datagrams.size(); ++i) {
        const auto decoded = decoder.decode(datagrams.at(i), QHostAddress(m_nets[2]->address()));
        QVERIFY(decoded.has_value());
        expectedFlows += decoded->flows;
    }

    QCOMPARE(node->agent.start(), QString());
    node->client.bind(node->agent);
    qInfo("agent restarted");
    QVERIFY(!nftTableExists(QStringLiteral("ftupgrade_keep_2055")));
    QVERIFY(!QFileInfo::exists(QDir(spoolDir).filePath(QStringLiteral("keeping.json"))));
    QVERIFY(QFileInfo::exists(QDir(spoolDir).filePath(QStringLiteral("leftover.json"))));
    QVERIFY(QFileInfo::exists(spool)); // waiting for the service
    Response log = node->client.get(QStringLiteral("/v1/jobs/%1?since=0").arg(id));
    QVERIFY2(log.body.contains("removed its redirect of the flow ports") && log.body.contains("will be replayed to the service once it"),
             log.body.constData());
    QCOMPARE(log.json.value(QStringLiteral("flows")).toObject().value(QStringLiteral("state")).toString(), QStringLiteral("kept"));

    // The service (left stopped by the killed upgrade) is started again: the agent sees it
    // listen and replays what the spool holds beyond the journal's offset, once.
    const QSet<qint64> daemonsBefore = counter.pids();
    const Response started = node->client.post(QStringLiteral("/v1/service"), {{QStringLiteral("action"), QStringLiteral("start")}});
    QCOMPARE(started.status, 200);
    QTRY_VERIFY_WITH_TIMEOUT(!QFileInfo::exists(spool), 30000);
    log = node->client.get(QStringLiteral("/v1/jobs/%1?since=0").arg(id));
    const QJsonObject flows = log.json.value(QStringLiteral("flows")).toObject();
    QCOMPARE(flows.value(QStringLiteral("state")).toString(), QStringLiteral("replayed"));
    QCOMPARE(flows.value(QStringLiteral("kept")).toInteger(), qint64(datagrams.size()));
    QCOMPARE(flows.value(QStringLiteral("replayed")).toInteger(), qint64(datagrams.size()));
    QVERIFY2(log.body.contains(QStringLiteral("%1 datagrams now").arg(QLocale(QLocale::English).toString(qint64(datagrams.size() - from))).toUtf8()),
             log.body.constData());
    QVERIFY(!QFileInfo::exists(ReplayJournal::pathFor(spool)));
    QVERIFY(!QFileInfo::exists(QDir(spoolDir).filePath(QStringLiteral("leftover.json"))));
    qint64 counted = -1;
    for (int i = 0; i < 20; ++i) { // until the new daemon's status settles
        QTest::qWait(600);
        const qint64 now = counter.byExporterOf(daemonsBefore).value(m_nets[2]->address());
        if (now == counted && now > 0)
            break;
        counted = now;
    }
    qInfo("replayed %lld datagrams (%lld sent before): the new daemon counted %lld flows from %s, expected %lld",
          qint64(datagrams.size() - from), qint64(from), counted, qPrintable(m_nets[2]->address()), expectedFlows);
    QCOMPARE(counted, expectedFlows);
    QCOMPARE(counter.byExporterOf(daemonsBefore).size(), 1); // nothing from another address
}

void TestFlowKeeper::fullSpoolDiskFallsBackToToday()
{
    auto node = prepare(4);
    QVERIFY(node);
    // The agent's spool folder on a 16 KiB file system: full after a few datagrams.
    const QString spoolDir = QDir(node->agent.dir.path()).filePath(QStringLiteral("agent/flows"));
    QVERIFY(QDir().mkpath(spoolDir));
    int code = 0;
    const QByteArray mounted = run(QStringLiteral("mount"), {QStringLiteral("-t"), QStringLiteral("tmpfs"), QStringLiteral("-o"),
                                                             QStringLiteral("size=16k"), QStringLiteral("tmpfs"), spoolDir}, &code);
    if (code != 0)
        QSKIP(qPrintable(QStringLiteral("Cannot mount a small file system here: ") + QString::fromUtf8(mounted)));
    auto unmount = qScopeGuard([spoolDir] { run(QStringLiteral("umount"), {QStringLiteral("-l"), spoolDir}); });
    QProcess exporter;
    auto stopExporter = qScopeGuard([&exporter] {
        exporter.terminate();
        exporter.waitForFinished(5000);
    });
    exporter.start(QStringLiteral("nsenter"),
                   m_nets[2]->in({bin(QStringLiteral("ftsandbox-exporter")), QStringLiteral("--target"),
                                  QStringLiteral("node=%1:%2@2000").arg(m_nets[2]->nodeAddress()).arg(kFlowPort)}));
    QVERIFY(exporter.waitForStarted());
    const QString id = upgrade(*node, true);
    QVERIFY(!id.isEmpty());
    QStringList lines;
    const QJsonObject job = node->client.waitForJob(id, nullptr, &lines, 90000);
    QCOMPARE(job.value(QStringLiteral("state")).toString(), QStringLiteral("succeeded"));
    const QStringList said = lines.filter(QStringLiteral("Flows are no longer kept: the spool cannot be written"));
    QVERIFY2(said.size() == 1, qPrintable(lines.join(QLatin1Char('\n'))));
    QVERIFY(said.first().contains(QStringLiteral("for inspection")));
    QVERIFY(!nftTableExists(QStringLiteral("ftupgrade_keep_2055")));
    QCOMPARE(QDir(spoolDir).entryList({QStringLiteral("*.spool")}).size(), 1); // kept for inspection
    QVERIFY(lines.filter(QStringLiteral("Replaying")).isEmpty());
}

// An IPv6 exporter and an IPv4 one at the same node (its daemon listening dual-stack):
// both are redirected, kept in one spool and replayed, each from its own address.
void TestFlowKeeper::ipv6ExportersAreKeptAndReplayed()
{
    auto node = prepare(4, {}, QStringLiteral("any"));
    QVERIFY(node);
    FlowCounter counter(QDir(node->agent.installDir).filePath(QStringLiteral("run/status.json")));
    struct Exporter
    {
        QString from;
        QString target;
        std::unique_ptr<QProcess> process = std::make_unique<QProcess>();
    };
    std::vector<Exporter> exporters;
    exporters.push_back({m_nets[2]->address6(), QStringLiteral("[%1]").arg(m_nets[2]->nodeAddress6())});
    exporters.push_back({m_nets[1]->address(), m_nets[1]->nodeAddress()});
    const ExporterNet *nets[] = {m_nets[2].get(), m_nets[1].get()};
    for (size_t i = 0; i < exporters.size(); ++i) {
        exporters[i].process->setProcessChannelMode(QProcess::MergedChannels);
        exporters[i].process->start(QStringLiteral("nsenter"),
                                    nets[i]->in({bin(QStringLiteral("ftsandbox-exporter")), QStringLiteral("--target"),
                                                 QStringLiteral("node=%1:%2@400").arg(exporters[i].target).arg(kFlowPort)}));
        QVERIFY(exporters[i].process->waitForStarted());
    }
    QTest::qWait(1500);
    const QString id = upgrade(*node, true);
    QVERIFY(!id.isEmpty());
    QStringList lines;
    const QJsonObject job = node->client.waitForJob(id, nullptr, &lines, 90000);
    QCOMPARE(job.value(QStringLiteral("state")).toString(), QStringLiteral("succeeded"));
    QTest::qWait(1500);
    QHash<QString, qint64> sent;
    static const QRegularExpression sentLine(QStringLiteral("(\\d+) flow records in (\\d+) datagrams sent\\."));
    for (Exporter &e : exporters) {
        e.process->terminate();
        QVERIFY(e.process->waitForFinished(10000));
        const QString out = QString::fromUtf8(e.process->readAll());
        QRegularExpressionMatch match;
        for (auto it = sentLine.globalMatch(out); it.hasNext();)
            match = it.next();
        QVERIFY2(match.hasMatch(), qPrintable(out));
        sent.insert(QHostAddress(e.from).toString(), match.captured(1).toLongLong());
    }
    qint64 last = -1;
    for (int i = 0; i < 40 && counter.total() != last; ++i) {
        last = counter.total();
        QTest::qWait(1500);
    }
    const QHash<QString, qint64> counted = counter.byExporter();
    const QJsonObject flows = job.value(QStringLiteral("flows")).toObject();
    qInfo("IPv6 + IPv4: kept %lld, replayed %lld datagrams; sent %s / counted %s",
          flows.value(QStringLiteral("kept")).toInteger(), flows.value(QStringLiteral("replayed")).toInteger(),
          qPrintable(QStringLiteral("%1 from %2, %3 from %4").arg(sent.value(exporters[0].from)).arg(exporters[0].from)
                             .arg(sent.value(exporters[1].from)).arg(exporters[1].from)),
          qPrintable(QStringLiteral("%1, %2").arg(counted.value(exporters[0].from)).arg(counted.value(exporters[1].from))));
    QCOMPARE(flows.value(QStringLiteral("state")).toString(), QStringLiteral("replayed"));
    QVERIFY(flows.value(QStringLiteral("kept")).toInteger() > 0);
    QCOMPARE(flows.value(QStringLiteral("replayed")).toInteger(), flows.value(QStringLiteral("kept")).toInteger());
    for (auto it = sent.cbegin(); it != sent.cend(); ++it)
        QVERIFY2(counted.value(it.key()) == it.value(),
                 qPrintable(QStringLiteral("%1: sent %2, counted %3; the agent said:\n").arg(it.key()).arg(it.value())
                                    .arg(counted.value(it.key())) + lines.join(QLatin1Char('\n'))));
    QCOMPARE(counted.size(), sent.size()); // every flow under its exporter's own address
    QVERIFY(!nftTableExists(QStringLiteral("ftupgrade_keep_2055")));
}

// The redirect is made off the agent's thread: with an nft that takes its time (a
// program configured in agent.conf that waits 3 s before running nft), the agent answers
// its health check while that program still runs, and the upgrade then keeps the flows.
void TestFlowKeeper::agentAnswersWhileTheRedirectIsMade()
{
    const QString nft = QStandardPaths::findExecutable(QStringLiteral("nft"), {QStringLiteral("/usr/sbin"), QStringLiteral("/sbin")});
    QVERIFY(!nft.isEmpty());
    const QString started = m_dir.filePath(QStringLiteral("slow-nft.started"));
    const QString done = m_dir.filePath(QStringLiteral("slow-nft.done"));
    const QString script = m_dir.filePath(QStringLiteral("slow-nft"));
    QFile file(script);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(QStringLiteral("#!/bin/sh\ncase \"$*\" in *-f*) touch '%1'; sleep 3;; esac\n%2 \"$@\"\nrc=$?\n"
                              "case \"$*\" in *-f*) touch '%3';; esac\nexit $rc\n").arg(started, nft, done).toUtf8());
    file.close();
    QVERIFY(file.setPermissions(QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner));
    auto node = prepare(2, {{QStringLiteral("nft"), script}});
    QVERIFY(node);
    const QString id = upgrade(*node, true);
    QVERIFY(!id.isEmpty());
    QTRY_VERIFY_WITH_TIMEOUT(QFileInfo::exists(started), 20000);
    const Response health = node->client.get(QStringLiteral("/v1/health"));
    const bool nftStillRunning = !QFileInfo::exists(done);
    QCOMPARE(health.status, 200);
    QVERIFY2(nftStillRunning, "the health check was answered only after nft had finished");
    QStringList lines;
    const QJsonObject job = node->client.waitForJob(id, nullptr, &lines, 90000);
    QCOMPARE(job.value(QStringLiteral("state")).toString(), QStringLiteral("succeeded"));
    QCOMPARE(job.value(QStringLiteral("flows")).toObject().value(QStringLiteral("state")).toString(), QStringLiteral("replayed"));
    QVERIFY(!nftTableExists(QStringLiteral("ftupgrade_keep_2055")));
}

// The redirect is live once nft commits, before the agent's thread hears that the change
// is done. An nft program that lingers 1.5 s after committing the redirect stretches that
// moment: a steady exporter sends about 30 datagrams meanwhile, and every one is kept.
void TestFlowKeeper::flowsRedirectedBeforeTheAgentTakesNoteAreKept()
{
    const QString nft = QStandardPaths::findExecutable(QStringLiteral("nft"), {QStringLiteral("/usr/sbin"), QStringLiteral("/sbin")});
    QVERIFY(!nft.isEmpty());
    const QString script = m_dir.filePath(QStringLiteral("lingering-nft"));
    QFile file(script);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(QStringLiteral("#!/bin/sh\nin=$(cat)\nprintf '%s\\n' \"$in\" | %1 \"$@\"\nrc=$?\n"
                              "case \"$in\" in *redirect*) sleep 1.5;; esac\nexit $rc\n").arg(nft).toUtf8());
    file.close();
    QVERIFY(file.setPermissions(QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner));
    auto node = prepare(2, {{QStringLiteral("nft"), script}});
    QVERIFY(node);
    FlowCounter counter(QDir(node->agent.installDir).filePath(QStringLiteral("run/status.json")));
    QProcess exporter;
    exporter.setProcessChannelMode(QProcess::MergedChannels);
    exporter.start(QStringLiteral("nsenter"),
                   m_nets[2]->in({bin(QStringLiteral("ftsandbox-exporter")), QStringLiteral("--target"),
                                  QStringLiteral("node=%1:%2@400").arg(m_nets[2]->nodeAddress()).arg(kFlowPort)}));
    QVERIFY(exporter.waitForStarted());
    QTRY_VERIFY_WITH_TIMEOUT(counter.byExporter().value(m_nets[2]->address()) > 0, 10000);
    const QString id = upgrade(*node, true);
    QVERIFY(!id.isEmpty());
    QStringList lines;
    const QJsonObject job = node->client.waitForJob(id, nullptr, &lines, 90000);
    QCOMPARE(job.value(QStringLiteral("state")).toString(), QStringLiteral("succeeded"));
    QTest::qWait(1000);
    exporter.terminate();
    QVERIFY(exporter.waitForFinished(10000));
    static const QRegularExpression sentLine(QStringLiteral("(\\d+) flow records in (\\d+) datagrams sent\\."));
    const QRegularExpressionMatch match = sentLine.match(QString::fromUtf8(exporter.readAll()));
    QVERIFY(match.hasMatch());
    const qint64 sent = match.captured(1).toLongLong();
    qint64 last = -1;
    for (int i = 0; i < 20 && counter.total() != last; ++i) {
        last = counter.total();
        QTest::qWait(1000);
    }
    const qint64 counted = counter.byExporter().value(m_nets[2]->address());
    qInfo("sent %lld flows, counted %lld; kept %lld datagrams", sent, counted,
          job.value(QStringLiteral("flows")).toObject().value(QStringLiteral("kept")).toInteger());
    QCOMPARE(job.value(QStringLiteral("flows")).toObject().value(QStringLiteral("state")).toString(), QStringLiteral("replayed"));
    QVERIFY2(counted == sent, qPrintable(QStringLiteral("sent %1, counted %2; the agent said:\n").arg(sent).arg(counted)
                                                 + lines.join(QLatin1Char('\n'))));
}

// An exporter that sent its NetFlow v9 template once, before the outage, and only data
// since (as a router does between its template refreshes): the spool has no template for
// it, and the new daemon would decode none of its data. The agent's flow counter saw the
// template before the outage; the replay sends it first, so every flow is counted.
void TestFlowKeeper::templatesSeenBeforeTheOutageGoFirst()
{
    const QString script = m_dir.filePath(QStringLiteral("template-once.py"));
    QFile file(script);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(R"(import socket, struct, sys, time
target, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
boot, seq = time.time(), 0
def header(count):
    global seq
    seq += 1
    return struct.pack('!HHIIII', 9, count, int((time.time() - boot) * 1000), int(time.time()), seq, 77)
# template 300: IN_BYTES (1) and IN_PKTS (2), 4 bytes each; sent once
s.sendto(header(1) + struct.pack('!HHHHHHHH', 0, 16, 300, 2, 1, 4, 2, 4), (target, port))
records, sent, end = 10, 0, time.time() + seconds
while time.time() < end:
    time.sleep(0.05)
    data = struct.pack('!HH', 300, 4 + 8 * records) + struct.pack('!II', 100, 1) * records
    s.sendto(header(records) + data, (target, port))
    sent += records
print(sent, flush=True)
)");
    file.close();
    auto node = prepare(3);
    QVERIFY(node);
    FlowCounter counter(QDir(node->agent.installDir).filePath(QStringLiteral("run/status.json")));
    QProcess exporter;
    exporter.start(QStringLiteral("nsenter"), m_nets[0]->in({QStringLiteral("/usr/bin/python3"), script, m_nets[0]->nodeAddress(),
                                                              QString::number(kFlowPort), QStringLiteral("12")}));
    QVERIFY(exporter.waitForStarted());
    QTRY_VERIFY_WITH_TIMEOUT(counter.byExporter().value(m_nets[0]->address()) > 0, 10000); // the old daemon has the template
    const QString id = upgrade(*node, true);
    QVERIFY(!id.isEmpty());
    QStringList lines;
    const QJsonObject job = node->client.waitForJob(id, nullptr, &lines, 90000);
    QCOMPARE(job.value(QStringLiteral("state")).toString(), QStringLiteral("succeeded"));
    QVERIFY(exporter.waitForFinished(30000));
    const qint64 sent = exporter.readAllStandardOutput().trimmed().toLongLong();
    QVERIFY2(sent > 0, exporter.readAllStandardError().constData());
    qint64 last = -1;
    for (int i = 0; i < 20 && counter.total() != last; ++i) {
        last = counter.total();
        QTest::qWait(1000);
    }
    const QStringList said = lines.filter(QStringLiteral("templates of"));
    qInfo("sent %lld flows, counted %lld; %s", sent, counter.byExporter().value(m_nets[0]->address()),
          said.isEmpty() ? "no templates sent first" : qPrintable(said.first()));
    QCOMPARE(job.value(QStringLiteral("flows")).toObject().value(QStringLiteral("state")).toString(), QStringLiteral("replayed"));
    // Without the pre-outage template the new daemon decodes none of this exporter's data
    // after the outage (more than half of it here).
    const qint64 counted = counter.byExporter().value(m_nets[0]->address());
    QVERIFY2(counted == sent, qPrintable(QStringLiteral("sent %1, counted %2; the agent said:\n").arg(sent).arg(counted)
                                                 + lines.join(QLatin1Char('\n'))));
}

void TestFlowKeeper::replayPacketsCarryACorrectChecksum_data()
{
    QTest::addColumn<QString>("from");
    QTest::addColumn<QString>("to");
    QTest::newRow("IPv4") << QStringLiteral("10.77.3.2") << QStringLiteral("10.77.3.1");
    QTest::newRow("IPv6") << QStringLiteral("fd77:3::2") << QStringLiteral("fd77:3::1");
    QTest::newRow("IPv6, odd length") << QStringLiteral("2001:db8::ff:1") << QStringLiteral("::1");
}

// The replay's packets, checked by an RFC 1071 sum written here from the RFC's pseudo
// headers (IPv4: RFC 768; IPv6: RFC 8200 8.1), not by the agent's own code.
void TestFlowKeeper::replayPacketsCarryACorrectChecksum()
{
    QFETCH(QString, from);
    QFETCH(QString, to);
    ft::agent::SpooledDatagram d;
    d.setSource(QHostAddress(from));
    d.setDestination(QHostAddress(to));
    d.sourcePort = 40001;
    d.destinationPort = kFlowPort;
    d.data = QByteArray("flow datagram, odd: ") + QByteArray(QTest::currentDataTag()).left(5);
    const QByteArray packet = ft::agent::RawReplaySocket::packet(d);
    const bool v6 = QHostAddress(from).protocol() == QAbstractSocket::IPv6Protocol;
    const int ipHeader = v6 ? 40 : 20;
    QCOMPARE(packet.size(), ipHeader + 8 + d.data.size());
    QCOMPARE(quint8(packet.at(0)) >> 4, v6 ? 6 : 4);
    const QByteArray udp = packet.mid(ipHeader);
    QByteArray pseudo;
    if (v6) {
        const Q_IPV6ADDR s = QHostAddress(from).toIPv6Address();
        const Q_IPV6ADDR t = QHostAddress(to).toIPv6Address();
        pseudo.append(reinterpret_cast<const char *>(s.c), 16).append(reinterpret_cast<const char *>(t.c), 16);
        pseudo.append(char(0)).append(char(0)).append(char(udp.size() >> 8)).append(char(udp.size() & 0xff));
        pseudo.append(3, char(0)).append(char(17));
        QCOMPARE(packet.mid(8, 16), pseudo.left(16));   // source in the header
        QCOMPARE(packet.mid(24, 16), pseudo.mid(16, 16)); // destination
    } else {
        quint32 s = qToBigEndian(QHostAddress(from).toIPv4Address());
        quint32 t = qToBigEndian(QHostAddress(to).toIPv4Address());
        pseudo.append(reinterpret_cast<const char *>(&s), 4).append(reinterpret_cast<const char *>(&t), 4);
        pseudo.append(char(0)).append(char(17)).append(char(udp.size() >> 8)).append(char(udp.size() & 0xff));
    }
    QByteArray all = pseudo + udp;
    if (all.size() % 2)
        all.append(char(0));
    quint32 sum = 0;
    for (int i = 0; i < all.size(); i += 2)
        sum += (quint32(quint8(all.at(i))) << 8) | quint8(all.at(i + 1));
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    QCOMPARE(sum, 0xffffu); // a packet with a correct checksum sums to all ones
    QVERIFY(udp.mid(6, 2) != QByteArray(2, '\0')); // never "no checksum" (forbidden in IPv6)
}

int main(int argc, char *argv[])
{
    // Before any thread exists, so every thread and child process is in the namespace.
    if (::unshare(CLONE_NEWNET) != 0)
        g_namespaceError = QString::fromLocal8Bit(std::strerror(errno));
    QCoreApplication app(argc, argv);
    TestFlowKeeper test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}

#include "tst_flowkeeper.moc"

// Discovery benchmark (BRIEF §6: 500 nodes in ≤ 2 s, ≥ 20× faster than one by one).
// Sets up N real sandbox installations with one real agent each on 127.0.0.1, lists
// them all in the portal's configuration, then discovers the cluster twice through
// the core's ClusterDiscovery: with its normal concurrency, and one probe at a time.
// Prints the figures and the ratio; asserts nothing.
//
// The client's own cost is measured apart from the agents' and the relays': the agents
// are other processes, and the relays run in a child process of their own, so the
// getrusage() of this process around one discovery is the wizard's CPU alone. Each
// discovery size is run cold (no TLS session known: full handshakes) and again with
// the tickets the first one got (resumed sessions); the relays count the round trips.
// The agents' and the relays' CPU over the same discovery (from /proc, 10 ms ticks per
// process) is printed beside it: on a shared machine that is what bounds the wall time.
//
// Loopback has no network delay, so one-by-one probing there is bounded by CPU alone.
// With --rtt-ms the probes go through a relay per node that holds every chunk for
// half the round trip in each direction, as a LAN or WAN link would; both runs are
// printed.
//
//   bench_discovery [--nodes 500] [--concurrency 64] [--rtt-ms 20] [--agents-per-process 1]
//
// --agents-per-process K starts K agents per ftupgrade-agent process (run --config …
// repeated), so 2,000 nodes fit in memory.

#include "agentlink/tlssessioncache.h"
#include "discover/discovery.h"
#include "session/sandboxcluster.h"
#include "session/upgradesession.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QProcess>
#include <QSettings>
#include <QSocketNotifier>
#include <QTcpServer>
#include <QTcpSocket>
#include <QPointer>
#include <QTemporaryDir>
#include <QTimer>

#include <sys/resource.h>
#include <unistd.h>

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define FT_CALLGRIND_START() CALLGRIND_START_INSTRUMENTATION
#define FT_CALLGRIND_STOP() CALLGRIND_STOP_INSTRUMENTATION
#else
#define FT_CALLGRIND_START() ((void)0)
#define FT_CALLGRIND_STOP() ((void)0)
#endif

#include <csignal>
#include <cstdio>

using namespace ft;

namespace {

struct Node
{
    QString name;
    QString installDir;
    QString agentConfig;
    QString fingerprint;
    QUrl url;
};

// Runs commands with a bounded number in flight; returns false on the first failure.
bool runAll(const QList<std::pair<QString, QStringList>> &commands, int parallel,
            const std::function<void(int, const QByteArray &)> &onOutput)
{
    int next = 0, running = 0, done = 0;
    bool ok = true;
    QEventLoop loop;
    std::function<void()> pump = [&] {
        while (ok && running < parallel && next < commands.size()) {
            const int index = next++;
            auto *process = new QProcess;
            ++running;
            QObject::connect(process, &QProcess::finished, [&, process, index](int code) {
                const QByteArray output = process->readAllStandardOutput();
                if (code != 0) {
                    std::fprintf(stderr, "command %d failed: %s\n", index,
                                 process->readAllStandardError().constData());
                    ok = false;
                }
                onOutput(index, output);
                process->deleteLater();
                --running;
                ++done;
                if (done == commands.size() || (!ok && running == 0))
                    loop.quit();
                else
                    pump();
            });
            process->start(commands.at(index).first, commands.at(index).second);
        }
    };
    pump();
    if (!commands.isEmpty())
        loop.exec();
    return ok;
}

// Relays connections to one agent, holding every chunk for `delayMs` each way. Counts
// connections and round trips: a round trip is the client sending and the agent
// answering (a client's last word that gets no answer, such as its close_notify, is not
// one). The TCP handshake with the relay is not delayed, so a real network adds one
// round trip per new connection to these figures.
class DelayRelay : public QTcpServer
{
public:
    DelayRelay(quint16 target, int delayMs) : m_target(target), m_delayMs(delayMs)
    {
        connect(this, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *client = nextPendingConnection()) {
                ++s_connections;
                auto *upstream = new QTcpSocket(client);
                upstream->connectToHost(QHostAddress::LocalHost, m_target);
                auto clientTurn = std::make_shared<bool>(false);
                pipe(client, upstream, clientTurn, true);
                pipe(upstream, client, clientTurn, false);
                connect(client, &QTcpSocket::disconnected, client, &QObject::deleteLater);
                connect(upstream, &QTcpSocket::disconnected, client, &QTcpSocket::disconnectFromHost);
            }
        });
    }

    static inline qint64 s_connections = 0;
    static inline qint64 s_roundTrips = 0;

private:
    void pipe(QTcpSocket *from, QTcpSocket *to, const std::shared_ptr<bool> &clientTurn, bool fromClient)
    {
        connect(from, &QTcpSocket::readyRead, to, [this, from, to, clientTurn, fromClient] {
            const QByteArray chunk = from->readAll();
            if (fromClient) {
                *clientTurn = true;
            } else if (*clientTurn) {
                ++s_roundTrips;
                *clientTurn = false;
            }
            QPointer<QTcpSocket> target(to);
            QTimer::singleShot(m_delayMs, to, [target, chunk] {
                if (target)
                    target->write(chunk);
            });
        });
    }

    quint16 m_target;
    int m_delayMs;
};

// The relays' process: `bench_discovery --relay-ports P1,P2,… --rtt-ms R` prints
// "ports: Q1 Q2 …" (where each relay listens), then answers each "stats" line on stdin
// with "stats CONNECTIONS ROUNDTRIPS" (counted since the last one), until stdin closes.
int runRelays(const QString &ports, int rttMs)
{
    QList<DelayRelay *> relays;
    QStringList listening;
    for (const QString &port : ports.split(QLatin1Char(','))) {
        auto *relay = new DelayRelay(quint16(port.toUInt()), rttMs / 2);
        relay->setMaxPendingConnections(1000);
        if (!relay->listen(QHostAddress::LocalHost, 0))
            return 1;
        relays.append(relay);
        listening << QString::number(relay->serverPort());
    }
    std::printf("ports: %s\n", qPrintable(listening.join(QLatin1Char(' '))));
    std::fflush(stdout);
    QSocketNotifier input(0, QSocketNotifier::Read);
    QObject::connect(&input, &QSocketNotifier::activated, [&input] {
        char line[64];
        const ssize_t n = ::read(0, line, sizeof line);
        if (n <= 0) {
            input.setEnabled(false);
            QCoreApplication::quit();
            return;
        }
        std::printf("stats %lld %lld\n", (long long)DelayRelay::s_connections, (long long)DelayRelay::s_roundTrips);
        std::fflush(stdout);
        DelayRelay::s_connections = 0;
        DelayRelay::s_roundTrips = 0;
    });
    return QCoreApplication::exec();
}

// This process's CPU time (every thread), in seconds: user and system (the kernel's
// work for our sockets, which on loopback includes part of the receiving side's).
std::pair<double, double> cpuSeconds()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return {double(usage.ru_utime.tv_sec) + double(usage.ru_utime.tv_usec) / 1e6,
            double(usage.ru_stime.tv_sec) + double(usage.ru_stime.tv_usec) / 1e6};
}

// CPU time (user + system) of other processes so far, in seconds, from /proc (clock
// ticks: 10 ms each per process). The agents and the relays share the machine with the
// client: their cost says what bounds the wall time.
double processesCpu(const QList<qint64> &pids)
{
    static const double tick = double(::sysconf(_SC_CLK_TCK));
    double total = 0;
    for (const qint64 pid : pids) {
        QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
        if (!stat.open(QIODevice::ReadOnly))
            continue;
        const QByteArray line = stat.readAll();
        // Fields after the command (which may hold spaces): state is field 3, utime 14, stime 15.
        const QList<QByteArray> fields = line.mid(line.lastIndexOf(')') + 2).split(' ');
        if (fields.size() > 12)
            total += (fields.at(11).toDouble() + fields.at(12).toDouble()) / tick;
    }
    return total;
}

QList<qint64> s_agentPids;
QList<qint64> s_relayPids;

struct Cluster
{
    QUrl portalUrl;
    QString portalFingerprint;
    QHash<QUrl, QString> fingerprints;
};

struct Measured
{
    double seconds = 0;
    double cpuSeconds = 0;
    double userSeconds = 0;
    double agentSeconds = 0;
    double relaySeconds = 0;
    int reachable = 0;
};

// --profile PHASE: only that discovery runs with callgrind's instrumentation on
// (valgrind --tool=callgrind --instr-atstart=no bench_discovery --profile resumed …), or
// with perf's counting on when FT_PERF_CONTROL names perf's control FIFO
// (perf record --no-inherit -D -1 --control fifo:F -- bench_discovery --profile resumed …).
QString s_profiledPhase;

void perfControl(const char *command)
{
    const QByteArray fifo = qgetenv("FT_PERF_CONTROL");
    if (fifo.isEmpty())
        return;
    QFile control(QString::fromLocal8Bit(fifo));
    if (control.open(QIODevice::WriteOnly | QIODevice::Unbuffered))
        control.write(command);
}

// With `reuse`, that session (and its kept-alive connections) discovers again.
Measured discover(const Cluster &cluster, const QString &token, int concurrency,
                  UpgradeSession *reuse = nullptr, const QString &phase = {})
{
    // A fresh session each time: a real discovery starts with no open connection.
    UpgradeSession fresh;
    UpgradeSession &session = reuse ? *reuse : fresh;
    AgentEndpoint portal;
    portal.nodeName = QStringLiteral("portal");
    portal.url = cluster.portalUrl;
    portal.fingerprint = cluster.portalFingerprint;
    portal.token = token;
    session.setPortal(portal);
    for (auto it = cluster.fingerprints.cbegin(); it != cluster.fingerprints.cend(); ++it)
        session.addKnownFingerprint(it.key(), it.value());
    ClusterDiscovery *discovery = session.discovery();
    discovery->setConcurrency(concurrency);
    discovery->setProbeTimeout(std::chrono::seconds(30));
    QEventLoop loop;
    QObject::connect(discovery, &ClusterDiscovery::finished, &loop, &QEventLoop::quit);
    Measured measured;
    QElapsedTimer clock;
    const auto cpuBefore = cpuSeconds();
    const bool profiled = !phase.isEmpty() && phase == s_profiledPhase;
    const double agentsBefore = processesCpu(s_agentPids);
    const double relaysBefore = processesCpu(s_relayPids);
    clock.start();
    if (profiled) {
        perfControl("enable\n");
        FT_CALLGRIND_START();
    }
    discovery->start();
    loop.exec();
    if (profiled) {
        FT_CALLGRIND_STOP();
        perfControl("disable\n");
    }
    measured.seconds = clock.nsecsElapsed() / 1e9;
    const auto cpuAfter = cpuSeconds();
    measured.userSeconds = cpuAfter.first - cpuBefore.first;
    measured.cpuSeconds = measured.userSeconds + cpuAfter.second - cpuBefore.second;
    measured.agentSeconds = processesCpu(s_agentPids) - agentsBefore;
    measured.relaySeconds = processesCpu(s_relayPids) - relaysBefore;
    for (const NodeStatus &node : discovery->nodes())
        measured.reachable += node.reachable ? 1 : 0;
    return measured;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addOption({QStringLiteral("nodes"), QStringLiteral("Nodes in all (portal included)."),
                      QStringLiteral("n"), QStringLiteral("500")});
    parser.addOption({QStringLiteral("concurrency"), QStringLiteral("Probes in flight."),
                      QStringLiteral("n"), QStringLiteral("64")});
    parser.addOption({QStringLiteral("rtt-ms"), QStringLiteral("Emulated network round trip."),
                      QStringLiteral("ms"), QStringLiteral("20")});
    parser.addOption({QStringLiteral("agents-per-process"),
                      QStringLiteral("Agents served by one ftupgrade-agent process (1: a process per node)."),
                      QStringLiteral("k"), QStringLiteral("1")});
    parser.addOption({QStringLiteral("skip-cold-serial"),
                      QStringLiteral("Leave out the one-by-one discovery with full handshakes (saves minutes at 2,000 nodes).")});
    parser.addOption({QStringLiteral("profile"),
                      QStringLiteral("Under callgrind (--instr-atstart=no): instrument only this discovery "
                                     "(first, resumed, same, serial)."),
                      QStringLiteral("phase")});
    parser.addOption({QStringLiteral("relay-ports"), QStringLiteral("(internal) Be the relays' process."),
                      QStringLiteral("ports")});
    parser.addOption({QStringLiteral("bin"), QStringLiteral("Folder of ftsandbox and ftupgrade-agent."),
                      QStringLiteral("dir"), QCoreApplication::applicationDirPath()});
    parser.process(app);
    if (parser.isSet(QStringLiteral("relay-ports")))
        return runRelays(parser.value(QStringLiteral("relay-ports")), parser.value(QStringLiteral("rtt-ms")).toInt());
    s_profiledPhase = parser.value(QStringLiteral("profile"));
    const bool coldSerial = !parser.isSet(QStringLiteral("skip-cold-serial"));
    const int perProcess = std::max(1, parser.value(QStringLiteral("agents-per-process")).toInt());
    const int count = parser.value(QStringLiteral("nodes")).toInt();
    const int concurrency = parser.value(QStringLiteral("concurrency")).toInt();
    const QString bin = parser.value(QStringLiteral("bin"));
    const int rttMs = parser.value(QStringLiteral("rtt-ms")).toInt();
    const QString tool = QDir(bin).filePath(QStringLiteral("ftsandbox"));
    const QString agentTool = QDir(bin).filePath(QStringLiteral("ftupgrade-agent"));

    QTemporaryDir dir;
    const QString token = QStringLiteral("bench-token-0123456789abcdef");
    QList<Node> nodes;
    for (int i = 0; i < count; ++i) {
        Node node;
        node.name = i == 0 ? QStringLiteral("portal") : QStringLiteral("w%1").arg(i);
        node.installDir = dir.filePath(QStringLiteral("nodes/") + node.name);
        node.agentConfig = dir.filePath(QStringLiteral("agents/%1/agent.conf").arg(node.name));
        nodes.append(node);
    }

    QElapsedTimer setup;
    setup.start();
    QList<std::pair<QString, QStringList>> inits;
    for (const Node &node : std::as_const(nodes))
        inits.append({tool, {QStringLiteral("init"), node.installDir, QStringLiteral("--version"),
                             QStringLiteral("6.2.1-1200"), QStringLiteral("--role"),
                             node.name == QLatin1String("portal") ? QStringLiteral("portal")
                                                                  : QStringLiteral("worker"),
                             QStringLiteral("--os"), QStringLiteral("linux"), QStringLiteral("--name"),
                             node.name, QStringLiteral("--webui-files"), QStringLiteral("20")}});
    if (!runAll(inits, 4, [](int, const QByteArray &) {}))
        return 1;
    QList<std::pair<QString, QStringList>> agentInits;
    for (const Node &node : std::as_const(nodes))
        agentInits.append({agentTool, {QStringLiteral("init"), QStringLiteral("--config"), node.agentConfig,
                                       QStringLiteral("--install"), node.installDir,
                                       QStringLiteral("--backend"), QStringLiteral("sandbox"),
                                       QStringLiteral("--listen"), QStringLiteral("127.0.0.1"),
                                       QStringLiteral("--port"), QStringLiteral("0"),
                                       QStringLiteral("--token"), token}});
    if (!runAll(agentInits, 4, [&](int index, const QByteArray &output) {
            for (const QByteArray &line : output.split('\n')) {
                if (line.startsWith("fingerprint:"))
                    nodes[index].fingerprint = QString::fromLatin1(line.mid(12).trimmed());
            }
        }))
        return 1;

    // Start every agent (perProcess of them in each process) and wait for the URL each
    // writes once it listens.
    // Detached: a QProcess per agent would keep a notifier per agent process in this
    // process's event loop, so every wake-up of the discovery measured would poll all
    // of them (hundreds of descriptors), a cost the wizard never has.
    struct Detached
    {
        QList<qint64> pids;
        // Every way out ends them (they are not this process's children); their folders
        // go with the temporary folder, so they get a moment to let go of them.
        ~Detached()
        {
            for (const qint64 pid : std::as_const(pids))
                ::kill(pid_t(pid), SIGTERM);
            QElapsedTimer ending;
            ending.start();
            for (const qint64 pid : std::as_const(pids)) {
                while (::kill(pid_t(pid), 0) == 0 && ending.elapsed() < 10000)
                    ::usleep(10000);
            }
        }
    } agentProcesses;
    for (int first = 0; first < count; first += perProcess) {
        QStringList arguments{QStringLiteral("run")};
        for (int i = first; i < std::min(count, first + perProcess); ++i)
            arguments << QStringLiteral("--config") << nodes.at(i).agentConfig;
        QProcess process;
        process.setProgram(agentTool);
        process.setArguments(arguments);
        process.setStandardOutputFile(QProcess::nullDevice());
        process.setStandardErrorFile(QProcess::nullDevice());
        qint64 pid = 0;
        if (!process.startDetached(&pid)) {
            std::fprintf(stderr, "%s did not start\n", qPrintable(agentTool));
            return 1;
        }
        agentProcesses.pids.append(pid);
        s_agentPids.append(pid);
    }
    QElapsedTimer wait;
    wait.start();
    int listening = 0;
    while (listening < count && wait.elapsed() < 120000) {
        listening = 0;
        for (Node &node : nodes) {
            if (node.url.isEmpty()) {
                QFile url(QFileInfo(node.agentConfig).dir().filePath(QStringLiteral("agent.url")));
                if (url.open(QIODevice::ReadOnly))
                    node.url = QUrl(QString::fromLatin1(url.readAll().trimmed()));
            }
            listening += node.url.isValid() && !node.url.isEmpty() ? 1 : 0;
        }
        QEventLoop pause;
        QTimer::singleShot(200, &pause, &QEventLoop::quit);
        pause.exec();
    }
    std::printf("setup: %d installations and agents (%d per process) in %.1f s (%d listening)\n", count,
                perProcess, setup.elapsed() / 1000.0, listening);

    // The portal lists every worker with its agent's port, as a real portal's
    // configuration lists its workers.
    const auto listMembers = [&](const QList<quint16> &ports) {
        QSettings conf(QDir(nodes.first().installDir).filePath(QStringLiteral("flowtraq.conf")),
                       QSettings::IniFormat);
        QStringList members;
        conf.beginGroup(QStringLiteral("cluster"));
        for (int i = 1; i < count; ++i) {
            members << nodes.at(i).name;
            conf.setValue(nodes.at(i).name + QStringLiteral("/host"), QStringLiteral("127.0.0.1"));
            conf.setValue(nodes.at(i).name + QStringLiteral("/tcp_port"), 9640);
            conf.setValue(nodes.at(i).name + QStringLiteral("/agent_port"), ports.at(i));
        }
        conf.setValue(QStringLiteral("members"), members);
        conf.endGroup();
    };
    const auto clusterVia = [&](const QList<quint16> &ports) {
        Cluster cluster;
        for (int i = 0; i < count; ++i) {
            QUrl url = nodes.at(i).url;
            url.setPort(ports.at(i));
            cluster.fingerprints.insert(url, nodes.at(i).fingerprint);
            if (i == 0) {
                cluster.portalUrl = url;
                cluster.portalFingerprint = nodes.at(i).fingerprint;
            }
        }
        return cluster;
    };
    // relayStats: connections and round trips through the relays since the last call
    // (nothing on bare loopback).
    std::function<std::pair<qint64, qint64>()> relayStats = [] { return std::pair<qint64, qint64>(0, 0); };
    const auto measure = [&](const QString &label, const Cluster &cluster) {
        const QByteArray tag = label.toUtf8();
        const auto line = [&](const char *what, const Measured &m, const std::pair<qint64, qint64> &relay) {
            std::printf("[%s] %-34s %7.3f s wall, client CPU %7.3f s = %6.3f ms/node (user %.3f + sys %.3f)",
                        tag.constData(), what, m.seconds, m.cpuSeconds, 1000.0 * m.cpuSeconds / count,
                        1000.0 * m.userSeconds / count, 1000.0 * (m.cpuSeconds - m.userSeconds) / count);
            std::printf(", agents %.3f ms/node", 1000.0 * m.agentSeconds / count);
            if (!s_relayPids.isEmpty())
                std::printf(", relays %.3f ms/node", 1000.0 * m.relaySeconds / count);
            if (relay.first > 0 || relay.second > 0)
                std::printf(", %.2f round trips and %.2f connections per node", double(relay.second) / count,
                            double(relay.first) / count);
            std::printf(" (%d reachable)\n", m.reachable);
        };
        discover(cluster, token, concurrency); // warm-up: page cache, the agents' first start
        relayStats();
        // First discovery: no TLS session known, a full handshake with every agent.
        TlsSessionCache::instance().clear();
        const Measured cold = discover(cluster, token, concurrency, nullptr, QStringLiteral("first"));
        const auto coldRelay = relayStats();
        // Second: the same wizard again (a fresh session, as a re-check or the verify
        // page would be), resuming with the tickets the first one got.
        const Measured resumed = discover(cluster, token, concurrency, nullptr, QStringLiteral("resumed"));
        const auto resumedRelay = relayStats();
        // The same wizard session discovering twice (the Discover page's re-check): the
        // second time rides on the connections the first one kept alive.
        UpgradeSession kept;
        discover(cluster, token, concurrency, &kept);
        relayStats();
        const Measured again = discover(cluster, token, concurrency, &kept, QStringLiteral("same"));
        const auto againRelay = relayStats();
        const Measured serial = discover(cluster, token, 1, nullptr, QStringLiteral("serial"));
        const auto serialRelay = relayStats();
        Measured serialCold;
        std::pair<qint64, qint64> serialColdRelay;
        if (coldSerial) {
            TlsSessionCache::instance().clear();
            serialCold = discover(cluster, token, 1);
            serialColdRelay = relayStats();
        }
        line(qPrintable(QStringLiteral("first, %1 in flight (full TLS):").arg(concurrency)), cold, coldRelay);
        line(qPrintable(QStringLiteral("second, %1 in flight (resumed):").arg(concurrency)), resumed, resumedRelay);
        line("same session again (kept alive):", again, againRelay);
        line("one by one (resumed):", serial, serialRelay);
        if (coldSerial)
            line("one by one (full TLS):", serialCold, serialColdRelay);
        std::printf("[%s] ratio one-by-one / parallel: %.1fx resumed", tag.constData(), serial.seconds / resumed.seconds);
        if (coldSerial)
            std::printf(", %.1fx full TLS", serialCold.seconds / cold.seconds);
        std::printf(" (budget: parallel <= 2 s, ratio >= 20x)\n");
        std::printf("[%s] client CPU, first / second discovery: %.1fx resumed in a new session, "
                    "%.1fx in the same session (goal >= 3x)\n", tag.constData(),
                    cold.cpuSeconds / std::max(resumed.cpuSeconds, 1e-9),
                    cold.cpuSeconds / std::max(again.cpuSeconds, 1e-9));
        std::fflush(stdout);
    };

    QList<quint16> direct;
    for (const Node &node : std::as_const(nodes))
        direct.append(quint16(node.url.port()));
    listMembers(direct);
    measure(QStringLiteral("loopback"), clusterVia(direct));

    if (rttMs > 0) {
        // The relays run in a process of their own, so their CPU is not the client's.
        QStringList targets;
        for (const Node &node : std::as_const(nodes))
            targets << QString::number(node.url.port());
        QProcess relays;
        relays.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        relays.start(QCoreApplication::applicationFilePath(),
                     {QStringLiteral("--relay-ports"), targets.join(QLatin1Char(',')),
                      QStringLiteral("--rtt-ms"), QString::number(rttMs)});
        const auto readLine = [&relays]() -> QByteArray {
            while (!relays.canReadLine() && relays.waitForReadyRead(60000)) {
            }
            return relays.readLine().trimmed();
        };
        const QByteArray portsLine = readLine();
        QList<quint16> relayed;
        for (const QByteArray &port : portsLine.mid(7).split(' '))
            relayed.append(quint16(port.toUInt()));
        if (!portsLine.startsWith("ports: ") || relayed.size() != count) {
            std::fprintf(stderr, "the relays did not start\n");
            return 1;
        }
        relayStats = [&] {
            relays.write("stats\n");
            const QList<QByteArray> fields = readLine().split(' ');
            return std::pair<qint64, qint64>(fields.value(1).toLongLong(), fields.value(2).toLongLong());
        };
        s_relayPids = {relays.processId()};
        listMembers(relayed);
        measure(QStringLiteral("rtt %1 ms").arg(rttMs), clusterVia(relayed));
        s_relayPids.clear();
        relays.closeWriteChannel();
        relays.waitForFinished(10000);
    }

    return 0;
}

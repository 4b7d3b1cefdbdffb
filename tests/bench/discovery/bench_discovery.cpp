// Discovery benchmark (BRIEF §6: 500 nodes in ≤ 2 s, ≥ 20× faster than one by one).
// Sets up N real sandbox installations with one real agent each on 127.0.0.1, lists
// them all in the portal's configuration, then discovers the cluster twice through
// the core's ClusterDiscovery: with its normal concurrency, and one probe at a time.
// Prints the figures and the ratio; asserts nothing.
//
// Loopback has no network delay, so one-by-one probing there is bounded by CPU alone.
// With --rtt-ms the probes go through a relay per node that holds every chunk for
// half the round trip in each direction, as a LAN or WAN link would; both runs are
// printed.
//
//   bench_discovery [--nodes 500] [--concurrency 64] [--rtt-ms 20]

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
#include <QTcpServer>
#include <QTcpSocket>
#include <QPointer>
#include <QTemporaryDir>
#include <QTimer>

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
    QProcess *agent = nullptr;
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

// Relays connections to one agent, holding every chunk for `delayMs` each way.
class DelayRelay : public QTcpServer
{
public:
    DelayRelay(quint16 target, int delayMs) : m_target(target), m_delayMs(delayMs)
    {
        connect(this, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *client = nextPendingConnection()) {
                auto *upstream = new QTcpSocket(client);
                upstream->connectToHost(QHostAddress::LocalHost, m_target);
                pipe(client, upstream);
                pipe(upstream, client);
                connect(client, &QTcpSocket::disconnected, client, &QObject::deleteLater);
                connect(upstream, &QTcpSocket::disconnected, client, &QTcpSocket::disconnectFromHost);
            }
        });
    }

private:
    void pipe(QTcpSocket *from, QTcpSocket *to)
    {
        connect(from, &QTcpSocket::readyRead, to, [this, from, to] {
            const QByteArray chunk = from->readAll();
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

struct Cluster
{
    QUrl portalUrl;
    QString portalFingerprint;
    QHash<QUrl, QString> fingerprints;
};

double discover(const Cluster &cluster, const QString &token, int concurrency, int *reachable)
{
    // A fresh session each time: a real discovery starts with no open connection.
    UpgradeSession session;
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
    QElapsedTimer clock;
    clock.start();
    discovery->start();
    loop.exec();
    const double seconds = clock.nsecsElapsed() / 1e9;
    *reachable = 0;
    for (const NodeStatus &node : discovery->nodes())
        *reachable += node.reachable ? 1 : 0;
    return seconds;
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
    parser.addOption({QStringLiteral("bin"), QStringLiteral("Folder of ftsandbox and ftupgrade-agent."),
                      QStringLiteral("dir"), QCoreApplication::applicationDirPath()});
    parser.process(app);
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

    // Start every agent and wait for the URL each writes once it listens.
    for (Node &node : nodes) {
        node.agent = new QProcess;
        node.agent->setStandardOutputFile(QProcess::nullDevice());
        node.agent->setStandardErrorFile(QProcess::nullDevice());
        node.agent->start(agentTool, {QStringLiteral("run"), QStringLiteral("--config"), node.agentConfig});
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
    std::printf("setup: %d installations and agents in %.1f s (%d listening)\n", count,
                setup.elapsed() / 1000.0, listening);

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
    const auto measure = [&](const QString &label, const Cluster &cluster) {
        int reachable = 0;
        discover(cluster, token, concurrency, &reachable); // warm-up: page cache, TLS set-up
        const double parallel = discover(cluster, token, concurrency, &reachable);
        const int parallelReachable = reachable;
        const double serial = discover(cluster, token, 1, &reachable);
        std::printf("[%s] %d nodes, %d probes in flight: %.3f s (%d reachable)\n", qPrintable(label),
                    count, concurrency, parallel, parallelReachable);
        std::printf("[%s] %d nodes, one by one:        %.3f s (%d reachable)\n", qPrintable(label),
                    count, serial, reachable);
        std::printf("[%s] ratio one-by-one / parallel: %.1fx (budget: parallel <= 2 s, ratio >= 20x)\n",
                    qPrintable(label), serial / parallel);
    };

    QList<quint16> direct;
    for (const Node &node : std::as_const(nodes))
        direct.append(quint16(node.url.port()));
    listMembers(direct);
    measure(QStringLiteral("loopback"), clusterVia(direct));

    if (rttMs > 0) {
        QList<quint16> relayed;
        QList<DelayRelay *> relays;
        for (const Node &node : std::as_const(nodes)) {
            auto *relay = new DelayRelay(quint16(node.url.port()), rttMs / 2);
            relay->listen(QHostAddress::LocalHost, 0);
            relays.append(relay);
            relayed.append(relay->serverPort());
        }
        listMembers(relayed);
        measure(QStringLiteral("rtt %1 ms").arg(rttMs), clusterVia(relayed));
        qDeleteAll(relays);
    }

    for (Node &node : nodes) {
        node.agent->terminate();
        node.agent->waitForFinished(5000);
        delete node.agent;
    }
    return 0;
}

// bench_flowkeeper: how fast the agent keeps and gives back flows, next to how fast the
// sandbox server takes them without loss (issue 15). Runs in a network namespace of its
// own (so the nftables redirect touches nothing else); needs root.
//   1. zero-loss ingest rate of ftsandbox-server: NetFlow v5 datagrams (30 records,
//      1464 bytes) at rising rates; the highest rate whose datagrams all arrive;
//   2. spool: the FlowKeeper takes over the flow port, a sender blasts datagrams at it;
//      datagrams kept a second, and how many the kernel or the cap dropped;
//   3. replay: the FlowKeeper gives back to the running server; datagrams replayed a
//      second (paced on the server socket's queue) and the server's count of them;
//   4. the redirect: how long adding and removing it holds the agent's thread, through
//      libnftables (the default) and through the nft program.

#include "flowkeeper.h"
#include "nftredirect.h"

#include <QStandardPaths>
#include <algorithm>

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QThread>
#include <QTimer>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <thread>

namespace {

constexpr quint16 kFlowPort = 2055;

QByteArray v5Datagram(quint32 sequence)
{
    QByteArray d(24 + 30 * 48, '\0');
    auto *b = reinterpret_cast<uchar *>(d.data());
    b[1] = 5;
    b[3] = 30;
    b[16] = uchar(sequence >> 24); b[17] = uchar(sequence >> 16); b[18] = uchar(sequence >> 8); b[19] = uchar(sequence);
    return d;
}

// Sends `count` datagrams to 127.0.0.1:port at `perSecond` (0: as fast as possible).
void send(int count, double perSecond)
{
    const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(kFlowPort);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    QElapsedTimer clock;
    clock.start();
    for (int i = 0; i < count; ++i) {
        if (perSecond > 0) {
            const qint64 due = qint64(double(i) * 1e9 / perSecond);
            while (clock.nsecsElapsed() < due)
                if (due - clock.nsecsElapsed() > 200000)
                    ::usleep(100);
        }
        const QByteArray d = v5Datagram(quint32(i));
        ::sendto(fd, d.constData(), size_t(d.size()), 0, reinterpret_cast<const sockaddr *>(&to), sizeof to);
    }
    ::close(fd);
}

qint64 serverDatagrams(quint16 tcpPort)
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, tcpPort);
    if (!socket.waitForConnected(2000))
        return -1;
    QByteArray all;
    while (socket.waitForReadyRead(2000))
        all += socket.readAll();
    return QJsonDocument::fromJson(all).object().value(QStringLiteral("datagrams")).toInteger();
}

// Waits until the server's count stops moving, and returns it.
qint64 settled(quint16 tcpPort)
{
    qint64 last = -2;
    qint64 now = serverDatagrams(tcpPort);
    while (now != last) {
        QThread::msleep(300);
        last = now;
        now = serverDatagrams(tcpPort);
    }
    return now;
}

void wait(int ms)
{
    QEventLoop loop;
    QTimer::singleShot(ms, &loop, &QEventLoop::quit);
    loop.exec();
}

} // namespace

int main(int argc, char *argv[])
{
    if (::unshare(CLONE_NEWNET) != 0) {
        std::perror("bench_flowkeeper: a network namespace of its own is needed (run as root)");
        return 1;
    }
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addOption({QStringLiteral("datagrams"), QStringLiteral("Datagrams per step (default 50000)."), QStringLiteral("N"), QStringLiteral("50000")});
    parser.addHelpOption();
    parser.process(app);
    const int n = parser.value(QStringLiteral("datagrams")).toInt();
    QProcess::execute(QStringLiteral("ip"), {QStringLiteral("link"), QStringLiteral("set"), QStringLiteral("lo"), QStringLiteral("up")});

    QTemporaryDir dir;
    const QString install = dir.filePath(QStringLiteral("node"));
    const QString bin = QStringLiteral(FT_BIN_DIR);
    if (QProcess::execute(bin + QStringLiteral("/ftsandbox"),
                          {QStringLiteral("init"), install, QStringLiteral("--version"), QStringLiteral("6.2.1-1200"),
                           QStringLiteral("--role"), QStringLiteral("standalone"), QStringLiteral("--os"), QStringLiteral("linux"),
                           QStringLiteral("--flow-port"), QString::number(kFlowPort), QStringLiteral("--webui-files"), QStringLiteral("20")}) != 0)
        return 1;
    QProcess server;
    server.start(bin + QStringLiteral("/ftsandbox-server"), {QStringLiteral("--install"), install});
    quint16 tcpPort = 0;
    for (int i = 0; i < 100 && tcpPort == 0; ++i) {
        wait(100);
        QFile status(QDir(install).filePath(QStringLiteral("run/status.json")));
        if (status.open(QIODevice::ReadOnly))
            tcpPort = quint16(QJsonDocument::fromJson(status.readAll()).object().value(QStringLiteral("tcp_port")).toInt());
    }
    if (tcpPort == 0) {
        std::fprintf(stderr, "bench_flowkeeper: the sandbox server did not start\n");
        return 1;
    }

    // 1. The server's zero-loss ingest rate.
    double zeroLoss = 0;
    for (double rate = 5000; rate <= 640000; rate *= 2) {
        const qint64 before = settled(tcpPort);
        const int count = int(qMin<double>(n, rate * 2));
        send(count, rate);
        const qint64 got = settled(tcpPort) - before;
        std::printf("server ingest at %8.0f datagrams/s: %lld of %d arrived\n", rate, got, count);
        if (got < count)
            break;
        zeroLoss = rate;
    }

    // 2. Spool intake: the keeper in place of the stopped service.
    server.terminate();
    server.waitForFinished(10000);
    ft::agent::FlowKeeper::Settings settings;
    settings.flowPorts = {kFlowPort};
    settings.stateDir = dir.filePath(QStringLiteral("flows"));
    ft::agent::FlowKeeper keeper(settings);
    QString takeOverError = QStringLiteral("(no answer)");
    {
        QEventLoop taken;
        QObject::connect(&keeper, &ft::agent::FlowKeeper::tookOver, &taken, [&](const QString &error) {
            takeOverError = error;
            taken.quit();
        });
        keeper.takeOver(QStringLiteral("bench"));
        taken.exec();
    }
    if (!takeOverError.isEmpty()) {
        std::fprintf(stderr, "bench_flowkeeper: %s\n", qPrintable(takeOverError));
        return 1;
    }
    QElapsedTimer clock;
    clock.start();
    std::atomic<bool> sent{false};
    std::thread sender([n, &sent] {
        send(n, 0);
        sent = true;
    });
    qint64 lastKept = -1;
    qint64 lastChange = 0;
    qint64 spoolEnd = 0;
    while (clock.elapsed() < 60000) {
        QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
        const qint64 k = keeper.summary().value(QStringLiteral("kept")).toInteger();
        if (k != lastKept) {
            lastKept = k;
            lastChange = clock.elapsed();
            spoolEnd = clock.nsecsElapsed();
        }
        if (k >= n || (sent && clock.elapsed() - lastChange > 500))
            break;
    }
    sender.join();
    const double spoolSeconds = double(spoolEnd) / 1e9;
    wait(300);
    const qint64 kept = keeper.summary().value(QStringLiteral("kept")).toInteger();
    std::printf("spool: %lld of %d datagrams kept in %.2f s: %.0f datagrams/s (sender flat out)\n", kept, n,
                spoolSeconds, double(kept) / spoolSeconds);

    // 3. Replay into the restarted server.
    server.start(bin + QStringLiteral("/ftsandbox-server"), {QStringLiteral("--install"), install});
    for (int i = 0; i < 100 && serverDatagrams(tcpPort) < 0; ++i)
        wait(100);
    QObject::connect(&keeper, &ft::agent::FlowKeeper::message, &app,
                     [](const QString &line) { std::printf("  agent: %s\n", qPrintable(line)); });
    QEventLoop done;
    QObject::connect(&keeper, &ft::agent::FlowKeeper::finished, &done, &QEventLoop::quit);
    clock.restart();
    keeper.giveBack(true);
    done.exec();
    const double replaySeconds = double(clock.elapsed()) / 1000.0;
    const qint64 replayed = keeper.summary().value(QStringLiteral("replayed")).toInteger();
    const qint64 received = settled(tcpPort);
    std::printf("replay: %lld datagrams in %.2f s: %.0f datagrams/s; the server counted %lld (%lld lost)\n", replayed,
                replaySeconds, double(replayed) / replaySeconds, received, replayed - received);
    std::printf("\nzero-loss ingest of the sandbox server: %.0f datagrams/s (highest rate tried with no loss)\n", zeroLoss);
    std::printf("spool intake / zero-loss ingest: %.2f; replay / zero-loss ingest: %.2f\n",
                zeroLoss > 0 ? double(kept) / spoolSeconds / zeroLoss : 0.0,
                zeroLoss > 0 ? double(replayed) / replaySeconds / zeroLoss : 0.0);
    server.terminate();
    server.waitForFinished(10000);

    // 4. The redirect's add + remove: the time the agent's thread is held.
    const QList<ft::agent::NftRedirect::Port> ports{{kFlowPort, 40000}};
    const QString nftProgram = QStandardPaths::findExecutable(QStringLiteral("nft"), {QStringLiteral("/usr/sbin"), QStringLiteral("/sbin")});
    for (const QString &program : {QString(), nftProgram}) {
        ft::agent::NftRedirect nft(program, QStringLiteral("ftupgrade_bench"));
        QList<double> addMs;
        QList<double> removeMs;
        for (int i = 0; i < 20; ++i) {
            QElapsedTimer t;
            t.start();
            if (auto added = nft.add(ports, 4242); !added) {
                std::printf("redirect via %s: %s\n", program.isEmpty() ? "libnftables" : qPrintable(program), qPrintable(added.error()));
                break;
            }
            addMs.append(double(t.nsecsElapsed()) / 1e6);
            t.restart();
            (void)nft.remove();
            removeMs.append(double(t.nsecsElapsed()) / 1e6);
        }
        if (addMs.isEmpty())
            continue;
        std::sort(addMs.begin(), addMs.end());
        std::sort(removeMs.begin(), removeMs.end());
        std::printf("redirect via %-12s: add %.2f ms, remove %.2f ms (median of %lld; max %.2f / %.2f ms)\n",
                    program.isEmpty() ? "libnftables" : "nft program", addMs.at(addMs.size() / 2),
                    removeMs.at(removeMs.size() / 2), qint64(addMs.size()), addMs.last(), removeMs.last());
        if (nftProgram.isEmpty())
            break;
    }
    return 0;
}

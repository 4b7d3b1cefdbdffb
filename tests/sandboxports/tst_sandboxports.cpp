// A node's daemon stopped for its upgrade must get its port back. The sandbox used to
// give daemons (and agents) ports the kernel had handed out by bind(0): while a daemon
// was down, any program's next bind(0) or connect() could be given the same port, the
// daemon could not listen again ("The bound address is already in use"), and the
// upgrade failed with the service stopped. That was the clirun "reboot needed" flake
// under ctest -j2. Here the other programs are played by this test: it takes every
// port the kernel hands out by bind(0) while w1's daemon is stopped, then starts the
// daemon again.

#include "sandboxfixture.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include <csignal>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace ft;
using namespace fixture;

namespace {

std::pair<int, int> ephemeralRange()
{
    const QList<QByteArray> parts = readAll(QStringLiteral("/proc/sys/net/ipv4/ip_local_port_range")).simplified().split(' ');
    if (parts.size() != 2)
        return {0, -1};
    return {parts.at(0).toInt(), parts.at(1).toInt()};
}

int tcpPortOf(const QString &installDir)
{
    const QByteArray conf = readAll(installDir + QStringLiteral("/flowtraq.conf"));
    for (const QByteArray &line : conf.split('\n')) {
        if (line.trimmed().startsWith("tcp_port="))
            return line.trimmed().mid(9).toInt();
    }
    return 0;
}

// The daemon's status file says it runs, as the process started here.
bool daemonRuns(const QString &installDir, qint64 pid)
{
    const QJsonObject status = QJsonDocument::fromJson(readAll(installDir + QStringLiteral("/run/status.json"))).object();
    return status.value(QStringLiteral("pid")).toInteger() == pid
           && status.value(QStringLiteral("state")).toString() == QLatin1String("running");
}

// Listening sockets on 127.0.0.1 that asked the kernel for any port, as other programs do.
class PortTaker
{
public:
    ~PortTaker() { release(); }

    // Takes up to count ports; true when one of them is port.
    bool take(rlim_t count, int port)
    {
        bool found = false;
        for (rlim_t i = 0; i < count; ++i) {
            const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (fd < 0)
                break;
            sockaddr_in address{};
            address.sin_family = AF_INET;
            address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            address.sin_port = 0;
            socklen_t length = sizeof address;
            if (::bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0 || ::listen(fd, 1) != 0
                || ::getsockname(fd, reinterpret_cast<sockaddr *>(&address), &length) != 0) {
                ::close(fd);
                break;
            }
            found = found || ntohs(address.sin_port) == port;
            m_fds.push_back(fd);
        }
        return found;
    }
    size_t count() const { return m_fds.size(); }
    void release()
    {
        for (int fd : m_fds)
            ::close(fd);
        m_fds.clear();
    }

private:
    std::vector<int> m_fds;
};

} // namespace

class TestSandboxPorts : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        if (!QFile::exists(tool(QStringLiteral("ftsandbox"))) || !QFile::exists(tool(QStringLiteral("ftupgrade-agent"))))
            QSKIP("ftsandbox and ftupgrade-agent are not built");
        const auto [low, high] = ephemeralRange();
        if (low <= 0 || high < low)
            QSKIP("the kernel's ephemeral port range is not readable (not Linux?)");
    }

    // Every daemon and agent port of a cluster lies outside the range bind(0) and
    // connect() draw from.
    void servicePortsAreOutsideTheEphemeralRange()
    {
        Cluster cluster;
        QVERIFY(cluster.up({QStringLiteral("--workers"), QStringLiteral("2")}));
        const auto [low, high] = ephemeralRange();
        for (const SandboxNode &node : cluster.file().nodes) {
            for (const int port : {tcpPortOf(node.installDir), node.agentUrl.port()}) {
                QVERIFY2(port > 0, qPrintable(node.name));
                QVERIFY2(port < low || port > high,
                         qPrintable(QStringLiteral("%1 has port %2, inside the kernel's ephemeral range %3-%4")
                                        .arg(node.name).arg(port).arg(low).arg(high)));
            }
        }
        // The portal's Web API too: cluster.json names it, and it must hold after a restart.
        const int webApi = cluster.file().webApi.portal.port();
        QVERIFY2(webApi > 0 && (webApi < low || webApi > high), qPrintable(QString::number(webApi)));
    }

    // w1's daemon is stopped; the test takes every port the kernel hands out by bind(0)
    // (as other programs on a busy machine would, one at a time); the daemon starts again.
    void stoppedDaemonGetsItsPortBack()
    {
        const auto [low, high] = ephemeralRange();
        // The kernel gives bind(0) the ports of one parity first, then the other: half the
        // range and a margin covers every port a daemon could have been given by bind(0).
        const rlim_t needed = rlim_t((high - low + 1) / 2 + 512);
        rlimit files{};
        getrlimit(RLIMIT_NOFILE, &files);
        if (files.rlim_cur < needed + 256) {
            files.rlim_cur = std::min<rlim_t>(files.rlim_max, needed + 256);
            setrlimit(RLIMIT_NOFILE, &files);
            getrlimit(RLIMIT_NOFILE, &files);
        }
        if (files.rlim_cur < needed + 256)
            QSKIP(qPrintable(QStringLiteral("this process may open %1 files; taking the ephemeral ports needs %2")
                                 .arg(qulonglong(files.rlim_cur)).arg(qulonglong(needed + 256))));

        Cluster cluster;
        QVERIFY(cluster.up({QStringLiteral("--workers"), QStringLiteral("1")}));
        const SandboxNode *w1 = cluster.node(QStringLiteral("w1"));
        QVERIFY(w1);
        const int port = tcpPortOf(w1->installDir);
        QVERIFY(port > 0);

        // Stopped, as the agent stops it for an upgrade: SIGTERM, and the pid file goes.
        const QString pidFile = w1->installDir + QStringLiteral("/run/flowtraq.pid");
        const qint64 pid = readAll(pidFile).trimmed().toLongLong();
        QVERIFY(pid > 0);
        QCOMPARE(::kill(pid_t(pid), SIGTERM), 0);
        QTRY_VERIFY_WITH_TIMEOUT(!QFile::exists(pidFile), 20000);

        // Other programs take ports meanwhile (plain sockets: thousands of them).
        PortTaker taken;
        const bool tookTheDaemonsPort = taken.take(needed, port);
        qInfo("took %zu ports by bind(0) while w1's daemon (port %d) was stopped%s", taken.count(), port,
              tookTheDaemonsPort ? ", its port among them" : "");

        // The daemon starts again, as the agent starts it after the installer.
        QProcess daemon;
        daemon.setProgram(tool(QStringLiteral("ftsandbox-server")));
        daemon.setArguments({QStringLiteral("--install"), w1->installDir});
        daemon.setProcessChannelMode(QProcess::MergedChannels);
        daemon.start();
        QVERIFY(daemon.waitForStarted(10000));
        const bool runs = QTest::qWaitFor(
            [&] { return daemonRuns(w1->installDir, daemon.processId()) || daemon.state() == QProcess::NotRunning; },
            20000)
                          && daemon.state() == QProcess::Running;
        taken.release();
        const QByteArray output = daemon.readAll();
        QVERIFY2(runs, qPrintable(QStringLiteral("w1's daemon did not start again on port %1%2: %3")
                                      .arg(port)
                                      .arg(tookTheDaemonsPort ? QStringLiteral(" (bind(0) had given it to another socket)")
                                                              : QString())
                                      .arg(QString::fromUtf8(output))));
        daemon.terminate();
        QVERIFY(daemon.waitForFinished(10000));
    }
};

QTEST_GUILESS_MAIN(TestSandboxPorts)
#include "tst_sandboxports.moc"

// Starts the real ftsandbox-server on an installation folder in a temporary directory
// and talks to it as exporters and probes do: UDP datagrams, TCP, SIGTERM.

#include "serviceports.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QUdpSocket>

#include <csignal>
#include <memory>

namespace {

const QString kServer = QStringLiteral(FT_BIN_DIR "/ftsandbox-server");
constexpr int kStartTimeout = 10000;

// Big-endian field writer: the datagrams are laid out by hand, as the RFCs draw them.
class Bytes
{
public:
    Bytes &u8(int v)
    {
        m_data.append(char(v & 0xFF));
        return *this;
    }
    Bytes &u16(int v) { return u8(v >> 8).u8(v); }
    Bytes &u32(quint32 v) { return u16(int(v >> 16)).u16(int(v & 0xFFFF)); }
    Bytes &bytes(const QByteArray &raw)
    {
        m_data.append(raw);
        return *this;
    }
    Bytes &zeros(int n)
    {
        m_data.append(QByteArray(n, '\0'));
        return *this;
    }
    int size() const { return int(m_data.size()); }
    void patch16(int at, int v)
    {
        m_data[at] = char(v >> 8);
        m_data[at + 1] = char(v);
    }
    operator QByteArray() const { return m_data; }

private:
    QByteArray m_data;
};

QByteArray v5(int records)
{
    Bytes b;
    b.u16(5).u16(records).u32(1000).u32(1764230400).u32(0).u32(1).u8(0).u8(0).u16(0);
    for (int i = 0; i < records; ++i)
        b.u32(0x0a000001).u32(0x0a000002).zeros(40);
    return b;
}

QByteArray v9Header(int sequence)
{
    return Bytes().u16(9).u16(1).u32(1000).u32(1764230400).u32(sequence).u32(42);
}

// Template 256: IPV4_SRC_ADDR, IPV4_DST_ADDR, L4_SRC_PORT, L4_DST_PORT (12 bytes).
QByteArray v9Template()
{
    return Bytes()
            .u16(0)
            .u16(24)
            .u16(256)
            .u16(4)
            .u16(8)
            .u16(4)
            .u16(12)
            .u16(4)
            .u16(7)
            .u16(2)
            .u16(11)
            .u16(2);
}

QByteArray v9Data(int records)
{
    Bytes b;
    b.u16(256).u16(4 + 12 * records);
    for (int i = 0; i < records; ++i)
        b.u32(0x0a000001).u32(0x0a000002).u16(40000 + i).u16(443);
    return b;
}

// IPFIX: template 300 with a variable-length field, and `records` records of it.
QByteArray ipfix(int records)
{
    Bytes b;
    b.u16(10).u16(0).u32(1764230400).u32(0).u32(7);
    b.u16(2).u16(4 + 4 + 8).u16(300).u16(2).u16(8).u16(4).u16(96).u16(0xFFFF);
    Bytes data;
    for (int i = 0; i < records; ++i)
        data.u32(0x0a000001 + quint32(i)).u8(3).bytes("web");
    b.u16(300).u16(4 + data.size()).bytes(data);
    b.patch16(2, b.size());
    return b;
}

// Outside the ephemeral range: a flow port from bind(0) once received another test's
// stray datagrams (305 counted for 7 sent) under ctest -j2.
quint16 freeTcpPort()
{
    return ft::test::freeServiceTcpPort();
}

quint16 freeUdpPort()
{
    return ft::test::freeServiceUdpPort();
}

QString isoHour(qint64 secs)
{
    return QDateTime::fromSecsSinceEpoch(secs / 3600 * 3600, Qt::UTC).toString(Qt::ISODate);
}

// One node's installation folder, as LAYOUT.md describes it.
struct Install
{
    QTemporaryDir dir;
    quint16 tcpPort = 0;
    quint16 flowPort = 0;

    QString path(const QString &relative) const { return dir.filePath(relative); }

    bool write(const QString &relative, const QByteArray &content) const
    {
        QDir().mkpath(QFileInfo(path(relative)).absolutePath());
        QFile file(path(relative));
        return file.open(QIODevice::WriteOnly) && file.write(content) == content.size();
    }

    QJsonObject status() const
    {
        QFile file(path(QStringLiteral("run/status.json")));
        if (!file.open(QIODevice::ReadOnly))
            return {};
        return QJsonDocument::fromJson(file.readAll()).object();
    }

    qint64 statusValue(const char *key) const
    {
        return status().value(QLatin1String(key)).toInteger(-1);
    }
};

std::unique_ptr<Install> makeInstall(bool receivesFlows)
{
    auto install = std::make_unique<Install>();
    install->tcpPort = freeTcpPort();
    install->flowPort = receivesFlows ? freeUdpPort() : 0;
    const QByteArray conf = QStringLiteral("; a comment that stays\n"
                                           "[node]\nname=w1                 ; unique in the "
                                           "cluster\nrole=worker\nos=linux\narch=x86_64\n\n"
                                           "[server]\nlisten=127.0.0.1\ntcp_port=%1          ; the "
                                           "client port\nflow_port=%2\n")
                                    .arg(install->tcpPort)
                                    .arg(install->flowPort)
                                    .toUtf8();
    if (!install->write(QStringLiteral("flowtraq.conf"), conf)
        || !install->write(QStringLiteral("VERSION"), "6.2.1-1200\n"))
        return nullptr;
    return install;
}

} // namespace

class tst_SandboxServer : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanup();
    void countsFlowsOfEveryProtocol();
    void refusesSecondInstance();
    void replacesStalePidFile();
    void runsWithoutFlowPort();
    void refusesBadInstallations_data();
    void refusesBadInstallations();
    void reportsBusyFlowPort();
    void countsSoftflowdExports_data();
    void countsSoftflowdExports();

private:
    QProcess *startServer(const Install &install);
    bool waitRunning(const Install &install, QProcess *process);

    QList<QProcess *> m_processes;
};

void tst_SandboxServer::initTestCase()
{
    QVERIFY2(QFileInfo(kServer).isExecutable(), qPrintable(kServer));
}

void tst_SandboxServer::cleanup()
{
    for (QProcess *process : std::as_const(m_processes)) {
        if (process->state() != QProcess::NotRunning) {
            process->kill();
            process->waitForFinished(5000);
        }
        delete process;
    }
    m_processes.clear();
}

QProcess *tst_SandboxServer::startServer(const Install &install)
{
    auto *process = new QProcess;
    m_processes.append(process);
    process->setProcessChannelMode(QProcess::MergedChannels);
    process->start(
            kServer,
            {QStringLiteral("--install"), install.dir.path(), QStringLiteral("--foreground")});
    return process;
}

bool tst_SandboxServer::waitRunning(const Install &install, QProcess *process)
{
    if (!process->waitForStarted(kStartTimeout))
        return false;
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < kStartTimeout && process->state() == QProcess::Running) {
        const QJsonObject status = install.status();
        if (status.value(QLatin1String("state")).toString() == QLatin1String("running")
            && status.value(QLatin1String("pid")).toInteger() == process->processId())
            return true;
        QTest::qWait(50);
    }
    qWarning("server did not come up: %s", process->readAll().constData());
    return false;
}

void tst_SandboxServer::countsFlowsOfEveryProtocol()
{
    auto install = makeInstall(true);
    QVERIFY(install);

    // A history from before: an hour 40 days ago (beyond the 31-day cap), one two days
    // ago, and the current hour, which this run adds to.
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    const qint64 thisHour = now / 3600 * 3600;
    const QJsonObject seeded{
            {QStringLiteral("hours"),
             QJsonArray{
                     QJsonObject{{QStringLiteral("start"), isoHour(now - 40 * 86400)},
                                 {QStringLiteral("flows"), 7}},
                     QJsonObject{{QStringLiteral("start"), isoHour(now - 2 * 86400)},
                                 {QStringLiteral("flows"), 500}},
                     QJsonObject{{QStringLiteral("start"), isoHour(now)},
                                 {QStringLiteral("flows"), 100}},
             }}};
    QVERIFY(install->write(QStringLiteral("data/flowhistory.json"),
                           QJsonDocument(seeded).toJson()));

    QProcess *server = startServer(*install);
    QVERIFY(waitRunning(*install, server));
    QCOMPARE(install->status().value(QLatin1String("version")).toString(),
             QStringLiteral("6.2.1-1200"));
    QCOMPARE(install->statusValue("tcp_port"), qint64(install->tcpPort));
    QCOMPARE(install->statusValue("flow_port"), qint64(install->flowPort));
    QCOMPARE(install->statusValue("flows_total"), qint64(0));
    QVERIFY(install->status().value(QLatin1String("last_flow_at")).isNull());
    QFile pidFile(install->path(QStringLiteral("run/flowtraq.pid")));
    QVERIFY(pidFile.open(QIODevice::ReadOnly));
    QCOMPARE(pidFile.readAll().trimmed().toLongLong(), server->processId());

    QUdpSocket exporter;
    const QHostAddress host(QHostAddress::LocalHost);
    const QList<QByteArray> datagrams = {
            v5(3),
            v9Header(1) + v9Template(), // template alone …
            v9Header(2) + v9Data(4), // … then its data
            v9Header(3) + v9Template() + v9Data(2),
            ipfix(5),
            QByteArray("not a flow datagram at all"),
            v9Header(4) + Bytes().u16(256).u16(0).zeros(12), // set length 0
    };
    for (const QByteArray &datagram : datagrams) {
        QCOMPARE(exporter.writeDatagram(datagram, host, install->flowPort),
                 qint64(datagram.size()));
        QTest::qWait(20); // keep the order: the v9 template before its data
    }

    QTRY_COMPARE_WITH_TIMEOUT(install->statusValue("datagrams"), qint64(datagrams.size()), 10000);
    const QJsonObject status = install->status();
    QCOMPARE(status.value(QLatin1String("rejected")).toInteger(), 2);
    QCOMPARE(status.value(QLatin1String("flows_total")).toInteger(), 14);
    QCOMPARE(status.value(QLatin1String("flows_last_minute")).toInteger(), 14);
    QVERIFY(status.value(QLatin1String("flows_per_second_1m")).toDouble() > 0);
    QVERIFY(status.value(QLatin1String("flows_per_second_10s")).toDouble() > 0);
    const QJsonObject byProtocol = status.value(QLatin1String("by_protocol")).toObject();
    QCOMPARE(byProtocol.value(QLatin1String("netflow5")).toInteger(), 3);
    QCOMPARE(byProtocol.value(QLatin1String("netflow9")).toInteger(), 6);
    QCOMPARE(byProtocol.value(QLatin1String("ipfix")).toInteger(), 5);
    const QDateTime lastFlow = QDateTime::fromString(
            status.value(QLatin1String("last_flow_at")).toString(), Qt::ISODate);
    QVERIFY(lastFlow.isValid());
    QVERIFY(qAbs(lastFlow.toSecsSinceEpoch() - QDateTime::currentSecsSinceEpoch()) < 120);
    const QDateTime updated
            = QDateTime::fromString(status.value(QLatin1String("updated")).toString(), Qt::ISODate);
    QVERIFY(updated.isValid() && updated.timeSpec() == Qt::UTC);

    // The TCP probe: the status as one line of JSON, then the server closes.
    QTcpSocket probe;
    probe.connectToHost(host, install->tcpPort);
    QVERIFY(probe.waitForConnected(5000));
    QByteArray answer;
    while (probe.state() == QAbstractSocket::ConnectedState && probe.waitForReadyRead(5000))
        answer += probe.readAll();
    answer += probe.readAll();
    QVERIFY2(answer.endsWith('\n') && answer.count('\n') == 1, answer.constData());
    const QJsonObject probed = QJsonDocument::fromJson(answer).object();
    QCOMPARE(probed.value(QLatin1String("pid")).toInteger(), server->processId());
    QCOMPARE(probed.value(QLatin1String("state")).toString(), QStringLiteral("running"));
    QCOMPARE(probed.value(QLatin1String("flows_total")).toInteger(), 14);

    // SIGTERM: clean exit, history saved, pid file gone.
    server->terminate();
    QVERIFY(server->waitForFinished(10000));
    QCOMPARE(server->exitStatus(), QProcess::NormalExit);
    QCOMPARE(server->exitCode(), 0);
    QVERIFY(!QFile::exists(install->path(QStringLiteral("run/flowtraq.pid"))));
    QCOMPARE(install->status().value(QLatin1String("state")).toString(),
             QStringLiteral("stopping"));

    QFile historyFile(install->path(QStringLiteral("data/flowhistory.json")));
    QVERIFY(historyFile.open(QIODevice::ReadOnly));
    const QJsonArray hours = QJsonDocument::fromJson(historyFile.readAll())
                                     .object()
                                     .value(QLatin1String("hours"))
                                     .toArray();
    qint64 before = 0;
    qint64 sinceThisHour = 0;
    qint64 previous = 0;
    for (const auto &value : hours) {
        const qint64 start
                = QDateTime::fromString(value[QLatin1String("start")].toString(), Qt::ISODate)
                          .toSecsSinceEpoch();
        QVERIFY2(start > previous, "hours are not oldest first");
        QCOMPARE(start % 3600, 0);
        previous = start;
        (start >= thisHour ? sinceThisHour : before) += value[QLatin1String("flows")].toInteger();
    }
    QCOMPARE(before, 500); // the 40-day-old hour is gone, the 2-day-old one kept
    QCOMPARE(sinceThisHour, 100 + 14); // merged, not replaced (an hour may turn meanwhile)

    const QByteArray log = [&] {
        QFile file(install->path(QStringLiteral("logs/flowtraq.log")));
        return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
    }();
    QVERIFY2(log.contains("Rejected a datagram"), log.constData());
    QVERIFY2(log.contains("Received SIGTERM"), log.constData());
}

void tst_SandboxServer::refusesSecondInstance()
{
    auto install = makeInstall(true);
    QVERIFY(install);
    QProcess *first = startServer(*install);
    QVERIFY(waitRunning(*install, first));

    QProcess *second = startServer(*install);
    QVERIFY(second->waitForFinished(kStartTimeout));
    QCOMPARE(second->exitCode(), 2);
    QVERIFY(second->readAll().contains("already running"));

    // The first one is unharmed and still owns its pid file.
    QCOMPARE(first->state(), QProcess::Running);
    QFile pidFile(install->path(QStringLiteral("run/flowtraq.pid")));
    QVERIFY(pidFile.open(QIODevice::ReadOnly));
    QCOMPARE(pidFile.readAll().trimmed().toLongLong(), first->processId());

    // SIGINT is a clean stop too.
    ::kill(pid_t(first->processId()), SIGINT);
    QVERIFY(first->waitForFinished(10000));
    QCOMPARE(first->exitCode(), 0);
    QVERIFY(!QFile::exists(install->path(QStringLiteral("run/flowtraq.pid"))));
}

void tst_SandboxServer::replacesStalePidFile()
{
    auto install = makeInstall(true);
    QVERIFY(install);
    // The pid of a process that has certainly exited.
    QProcess dead;
    dead.start(QStringLiteral("/bin/true"));
    QVERIFY(dead.waitForFinished(5000));
    const qint64 deadPid = dead.processId() > 0 ? dead.processId() : 999999;
    QVERIFY(install->write(QStringLiteral("run/flowtraq.pid"), QByteArray::number(deadPid) + '\n'));

    QProcess *server = startServer(*install);
    QVERIFY(waitRunning(*install, server));
    server->terminate();
    QVERIFY(server->waitForFinished(10000));
    QCOMPARE(server->exitCode(), 0);
}

void tst_SandboxServer::runsWithoutFlowPort()
{
    auto install = makeInstall(false);
    QVERIFY(install);
    QProcess *server = startServer(*install);
    QVERIFY(waitRunning(*install, server));
    QCOMPARE(install->statusValue("flow_port"), qint64(0));
    // `updated` moves on every second.
    const QString first = install->status().value(QLatin1String("updated")).toString();
    QTRY_VERIFY_WITH_TIMEOUT(install->status().value(QLatin1String("updated")).toString() != first,
                             5000);

    server->terminate();
    QVERIFY(server->waitForFinished(10000));
    QCOMPARE(server->exitCode(), 0);
    QVERIFY(QFile::exists(install->path(QStringLiteral("data/flowhistory.json"))));
}

void tst_SandboxServer::refusesBadInstallations_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<QByteArray>("content"); // empty: the file is removed
    QTest::addColumn<QByteArray>("message");

    QTest::newRow("no flowtraq.conf")
            << "flowtraq.conf" << QByteArray() << QByteArray("no flowtraq.conf");
    QTest::newRow("no VERSION") << "VERSION" << QByteArray() << QByteArray("VERSION");
    QTest::newRow("bad port") << "flowtraq.conf" << QByteArray("[server]\ntcp_port=http\n")
                              << QByteArray("not a port number");
    QTest::newRow("bad address") << "flowtraq.conf"
                                 << QByteArray("[server]\nlisten=localhost.example\n")
                                 << QByteArray("not an IP address");
}

void tst_SandboxServer::refusesBadInstallations()
{
    QFETCH(QString, file);
    QFETCH(QByteArray, content);
    QFETCH(QByteArray, message);

    auto install = makeInstall(true);
    QVERIFY(install);
    if (content.isEmpty())
        QVERIFY(QFile::remove(install->path(file)));
    else
        QVERIFY(install->write(file, content));

    QProcess *server = startServer(*install);
    QVERIFY(server->waitForFinished(kStartTimeout));
    QCOMPARE(server->exitCode(), 1);
    const QByteArray output = server->readAll();
    QVERIFY2(output.contains(message), output.constData());
    QVERIFY(!QFile::exists(install->path(QStringLiteral("run/flowtraq.pid"))));
}

void tst_SandboxServer::reportsBusyFlowPort()
{
    auto install = makeInstall(true);
    QVERIFY(install);
    QUdpSocket squatter;
    QVERIFY(squatter.bind(QHostAddress::LocalHost, install->flowPort));

    QProcess *server = startServer(*install);
    QVERIFY(server->waitForFinished(kStartTimeout));
    QCOMPARE(server->exitCode(), 3);
    QVERIFY(server->readAll().contains(QByteArray::number(install->flowPort)));
    QVERIFY(!QFile::exists(install->path(QStringLiteral("run/flowtraq.pid"))));
}

void tst_SandboxServer::countsSoftflowdExports_data()
{
    QTest::addColumn<QString>("version");
    QTest::addColumn<QString>("protocol");

    QTest::newRow("NetFlow v5") << "5"
                                << "netflow5";
    QTest::newRow("NetFlow v9") << "9"
                                << "netflow9";
    QTest::newRow("IPFIX") << "10"
                           << "ipfix";
}

// softflowd (a real exporter) reads a capture of 10 TCP connections and exports them.
void tst_SandboxServer::countsSoftflowdExports()
{
    QFETCH(QString, version);
    QFETCH(QString, protocol);

    const QString softflowd = QStandardPaths::findExecutable(
            QStringLiteral("softflowd"), {QStringLiteral("/usr/sbin"), QStringLiteral("/usr/bin")});
    if (softflowd.isEmpty())
        QSKIP("softflowd is not installed");

    auto install = makeInstall(true);
    QVERIFY(install);

    // A pcap file (Ethernet) with 10 TCP connections of SYN, ACK, FIN+ACK each.
    constexpr int kConnections = 10;
    QByteArray pcap;
    auto le32 = [&pcap](quint32 v) {
        for (int i = 0; i < 4; ++i)
            pcap.append(char(v >> (8 * i)));
    };
    auto le16 = [&pcap](quint16 v) {
        pcap.append(char(v)).append(char(v >> 8));
    };
    le32(0xa1b2c3d4);
    le16(2);
    le16(4);
    le32(0);
    le32(0);
    le32(65535);
    le32(1);
    for (int c = 0; c < kConnections; ++c) {
        for (const int flags : {0x02, 0x10, 0x11}) {
            Bytes packet;
            packet.u32(0x00112233).u16(0x4455).u32(0x66778899).u16(0xaabb).u16(0x0800);
            packet.u8(0x45)
                    .u8(0)
                    .u16(40)
                    .u16(1)
                    .u16(0)
                    .u8(64)
                    .u8(6)
                    .u16(0)
                    .u32(0x0a000001)
                    .u32(0x0a000100 + quint32(c) + 1);
            packet.u16(40000 + c).u16(443).u32(1).u32(0).u8(5 << 4).u8(flags).u16(1024).u16(0).u16(
                    0);
            const QByteArray bytes = packet;
            le32(1764230400 + quint32(c));
            le32(quint32(flags) * 1000);
            le32(quint32(bytes.size()));
            le32(quint32(bytes.size()));
            pcap.append(bytes);
        }
    }
    QVERIFY(install->write(QStringLiteral("capture.pcap"), pcap));

    QProcess *server = startServer(*install);
    QVERIFY(waitRunning(*install, server));

    auto *exporter = new QProcess;
    m_processes.append(exporter);
    exporter->setProcessChannelMode(QProcess::MergedChannels);
    // softflowd 1.1.0 mishandles longer names: it keeps 16 characters of the capture's
    // (an interface name's size), and with a control socket named "softflowd.ctl" it
    // waits on that socket instead of reading the capture. Short relative names work.
    exporter->setWorkingDirectory(install->dir.path());
    exporter->start(softflowd,
                    {
                            QStringLiteral("-r"),
                            QStringLiteral("capture.pcap"),
                            QStringLiteral("-n"),
                            QStringLiteral("127.0.0.1:%1").arg(install->flowPort),
                            QStringLiteral("-v"),
                            version,
                            QStringLiteral("-d"),
                            QStringLiteral("-p"),
                            QStringLiteral("sf.pid"),
                            QStringLiteral("-c"),
                            QStringLiteral("ctl"),
                    });
    QVERIFY(exporter->waitForStarted(5000));
    QVERIFY(exporter->waitForFinished(20000)); // it exits at the end of the capture
    QVERIFY2(exporter->exitCode() == 0, exporter->readAll().constData());

    QTRY_COMPARE_WITH_TIMEOUT(install->status()
                                      .value(QLatin1String("by_protocol"))
                                      .toObject()
                                      .value(protocol)
                                      .toInteger(),
                              qint64(kConnections), 15000);
    QCOMPARE(install->statusValue("flows_total"), qint64(kConnections));
    QCOMPARE(install->statusValue("rejected"), qint64(0));

    server->terminate();
    QVERIFY(server->waitForFinished(10000));
    QCOMPARE(server->exitCode(), 0);
}

QTEST_GUILESS_MAIN(tst_SandboxServer)
#include "tst_sandboxserver.moc"

// Runs the real ftsandbox-exporter against UDP sockets of the test (decoding what
// arrives) and against a real ftsandbox-server.

#include "flowdecoder.h"
#include "serviceports.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkDatagram>
#include <QProcess>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <QUdpSocket>
#include <QtEndian>

#include <csignal>

using namespace ft::flow;

namespace {

const QString kExporter = QStringLiteral(FT_BIN_DIR "/ftsandbox-exporter");
const QString kServer = QStringLiteral(FT_BIN_DIR "/ftsandbox-server");

// A collector in the test: decodes every datagram and keeps what each one held.
class Collector : public QObject
{
public:
    Collector()
    {
        // Outside the ephemeral range, so no other test's exporter has this port as an
        // old destination (serviceports.h).
        ft::test::portOutsideEphemeralRange([this](quint16 port) {
            return m_socket.bind(QHostAddress::LocalHost, port, QAbstractSocket::DontShareAddress);
        });
        connect(&m_socket, &QUdpSocket::readyRead, this, [this] {
            while (m_socket.hasPendingDatagrams()) {
                const QNetworkDatagram datagram = m_socket.receiveDatagram();
                FlowDecoder fresh; // tells whether this datagram carries its own template
                const auto alone = fresh.decode(datagram.data(), datagram.senderAddress());
                const auto result = m_decoder.decode(datagram.data(), datagram.senderAddress());
                if (!result) {
                    m_errors.append(result.error());
                    continue;
                }
                m_results.append(*result);
                m_withTemplate.append(alone && alone->templates > 0);
                m_flows += result->flows;
            }
        });
    }

    quint16 port() const { return m_socket.localPort(); }

    QUdpSocket m_socket;
    FlowDecoder m_decoder;
    QList<DecodeResult> m_results;
    QList<bool> m_withTemplate;
    QStringList m_errors;
    qint64 m_flows = 0;
};

QString target(const QString &name, quint16 port, int rate)
{
    return QStringLiteral("%1=127.0.0.1:%2@%3").arg(name).arg(port).arg(rate);
}

} // namespace

class tst_Exporter : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanup();
    void sendsNetFlow9ToEachTarget();
    void rejectsBadArguments_data();
    void rejectsBadArguments();
    void refusesHeldPidFile();
    void feedsSandboxServer();

private:
    QProcess *start(const QString &program, const QStringList &arguments);

    QList<QProcess *> m_processes;
};

void tst_Exporter::initTestCase()
{
    QVERIFY2(QFileInfo(kExporter).isExecutable(), qPrintable(kExporter));
}

void tst_Exporter::cleanup()
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

QProcess *tst_Exporter::start(const QString &program, const QStringList &arguments)
{
    auto *process = new QProcess;
    m_processes.append(process);
    process->setProcessChannelMode(QProcess::MergedChannels);
    process->start(program, arguments);
    return process;
}

void tst_Exporter::sendsNetFlow9ToEachTarget()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString pidFile = dir.filePath(QStringLiteral("exporter.pid"));
    Collector fast;
    Collector slow;
    QVERIFY(fast.port() != 0 && slow.port() != 0);

    QProcess *exporter
            = start(kExporter,
                    {QStringLiteral("--target"), target(QStringLiteral("w1"), fast.port(), 400),
                     QStringLiteral("--target"), target(QStringLiteral("w2"), slow.port(), 20),
                     QStringLiteral("--pid-file"), pidFile});
    QVERIFY(exporter->waitForStarted(5000));
    QTRY_VERIFY_WITH_TIMEOUT(QFile::exists(pidFile), 5000);
    QFile file(pidFile);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(file.readAll().trimmed().toLongLong(), exporter->processId());

    // 400/s comes as full datagrams of 25 records plus the rest of each 100 ms tick.
    QTRY_VERIFY_WITH_TIMEOUT(fast.m_results.size() >= 45, 20000);
    QTRY_VERIFY_WITH_TIMEOUT(slow.m_flows >= 20, 20000);
    QVERIFY2(fast.m_errors.isEmpty() && slow.m_errors.isEmpty(),
             qPrintable((fast.m_errors + slow.m_errors).join(QLatin1Char('\n'))));

    for (const Collector *collector : {&fast, &slow}) {
        QVERIFY(collector->m_withTemplate.constFirst()); // the first datagram can be read alone
        for (int i = 0; i < collector->m_results.size(); ++i) {
            const DecodeResult &result = collector->m_results.at(i);
            QCOMPARE(int(result.protocol), int(Protocol::NetFlow9));
            QVERIFY(result.flows >= 1 && result.flows <= 25);
            QCOMPARE(result.deferredSets, 0);
            QCOMPARE(result.sequence, quint32(i)); // one export packet after another
        }
    }
    // Every 20th datagram refreshes the template (the 10 s refresh is not reached here).
    for (int i = 0; i < 45; ++i)
        QCOMPARE(fast.m_withTemplate.at(i), i % 20 == 0);
    // Each target is its own exporter.
    QVERIFY(fast.m_results.constFirst().sourceId != slow.m_results.constFirst().sourceId);
    qInfo("w1 at 400/s: %lld flows in %lld datagrams; w2 at 20/s: %lld flows", fast.m_flows,
          qint64(fast.m_results.size()), slow.m_flows);

    exporter->terminate();
    QVERIFY(exporter->waitForFinished(10000));
    QCOMPARE(exporter->exitStatus(), QProcess::NormalExit);
    QCOMPARE(exporter->exitCode(), 0);
    QVERIFY(!QFile::exists(pidFile));
}

void tst_Exporter::rejectsBadArguments_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("message");

    const QString target = QStringLiteral("--target");
    QTest::newRow("no target") << QStringList() << "at least one";
    QTest::newRow("no rate") << QStringList{target, QStringLiteral("w1=127.0.0.1:2055")}
                             << "NAME=HOST:PORT@RATE";
    QTest::newRow("no name") << QStringList{target, QStringLiteral("127.0.0.1:2055@5")}
                             << "NAME=HOST:PORT@RATE";
    QTest::newRow("host name") << QStringList{target, QStringLiteral("w1=flows.example:2055@5")}
                               << "not an IP address";
    QTest::newRow("port 0") << QStringList{target, QStringLiteral("w1=127.0.0.1:0@5")} << "port 0";
    QTest::newRow("port too big") << QStringList{target, QStringLiteral("w1=127.0.0.1:65536@5")}
                                  << "port 65536";
    QTest::newRow("negative rate")
            << QStringList{target, QStringLiteral("w1=127.0.0.1:2055@-5")} << "NAME=HOST:PORT@RATE";
    QTest::newRow("rate in words") << QStringList{target, QStringLiteral("w1=127.0.0.1:2055@fast")}
                                   << "NAME=HOST:PORT@RATE";
    QTest::newRow("stray argument")
            << QStringList{target, QStringLiteral("w1=127.0.0.1:2055@5"), QStringLiteral("now")}
            << "Unexpected argument";
}

void tst_Exporter::rejectsBadArguments()
{
    QFETCH(QStringList, arguments);
    QFETCH(QString, message);

    QProcess *exporter = start(kExporter, arguments);
    QVERIFY(exporter->waitForFinished(10000));
    QCOMPARE(exporter->exitCode(), 1);
    const QString output = QString::fromUtf8(exporter->readAll());
    QVERIFY2(output.contains(message), qPrintable(output));
}

void tst_Exporter::refusesHeldPidFile()
{
    QTemporaryDir dir;
    const QString pidFile = dir.filePath(QStringLiteral("exporter.pid"));
    QFile file(pidFile);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(QByteArray::number(QCoreApplication::applicationPid()) + '\n'); // alive: this test
    file.close();

    Collector collector;
    QProcess *exporter
            = start(kExporter,
                    {QStringLiteral("--target"), target(QStringLiteral("w1"), collector.port(), 10),
                     QStringLiteral("--pid-file"), pidFile});
    QVERIFY(exporter->waitForFinished(10000));
    QCOMPARE(exporter->exitCode(), 2);
    QVERIFY(exporter->readAll().contains("already running"));
    QVERIFY(QFile::exists(pidFile)); // not ours to remove
}

void tst_Exporter::feedsSandboxServer()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    quint16 tcpPort = 0;
    quint16 flowPort = 0;
    tcpPort = ft::test::freeServiceTcpPort();
    flowPort = ft::test::freeServiceUdpPort();
    QVERIFY(tcpPort != 0 && flowPort != 0);
    auto write = [&dir](const QString &name, const QByteArray &content) {
        QFile file(dir.filePath(name));
        return file.open(QIODevice::WriteOnly) && file.write(content) == content.size();
    };
    QVERIFY(write(
            QStringLiteral("flowtraq.conf"),
            QStringLiteral(
                    "[node]\nname=w1\n[server]\nlisten=127.0.0.1\ntcp_port=%1\nflow_port=%2\n")
                    .arg(tcpPort)
                    .arg(flowPort)
                    .toUtf8()));
    QVERIFY(write(QStringLiteral("VERSION"), "6.2.1-1200\n"));
    auto status = [&dir] {
        QFile file(dir.filePath(QStringLiteral("run/status.json")));
        return file.open(QIODevice::ReadOnly) ? QJsonDocument::fromJson(file.readAll()).object()
                                              : QJsonObject();
    };

    QProcess *server = start(kServer, {QStringLiteral("--install"), dir.path()});
    QTRY_COMPARE_WITH_TIMEOUT(status().value(QLatin1String("state")).toString(),
                              QStringLiteral("running"), 10000);

    QProcess *exporter = start(
            kExporter, {QStringLiteral("--target"), target(QStringLiteral("w1"), flowPort, 300)});
    QTRY_VERIFY_WITH_TIMEOUT(status().value(QLatin1String("flows_total")).toInteger() >= 600,
                             20000);
    const QJsonObject seen = status();
    QCOMPARE(seen.value(QLatin1String("rejected")).toInteger(), 0);
    QCOMPARE(seen.value(QLatin1String("by_protocol"))
                     .toObject()
                     .value(QLatin1String("netflow9"))
                     .toInteger(),
             seen.value(QLatin1String("flows_total")).toInteger());
    qInfo("server at 300/s offered: flows_per_second_10s %.1f",
          seen.value(QLatin1String("flows_per_second_10s")).toDouble());

    exporter->terminate();
    server->terminate();
    QVERIFY(exporter->waitForFinished(10000));
    QVERIFY(server->waitForFinished(10000));
    QCOMPARE(exporter->exitCode(), 0);
    QCOMPARE(server->exitCode(), 0);
}

QTEST_GUILESS_MAIN(tst_Exporter)
#include "tst_exporter.moc"

#include "flowserver.h"
#include "webapiserver.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QNetworkDatagram>
#include <QSaveFile>
#include <QTcpServer>
#include <QTcpSocket>
#include <QUdpSocket>

#include <spdlog/spdlog.h>

#include <cmath>

namespace ft::sandbox {

namespace {

constexpr int kRejectionsLoggedOneByOne = 20;
constexpr int kReceiveBufferBytes = 4 * 1024 * 1024;

std::string utf8(const QString &text)
{
    return text.toStdString();
}

QString isoUtc(const QDateTime &time)
{
    return time.toUTC().toString(Qt::ISODate);
}

double rounded(double value)
{
    return std::round(value * 100.0) / 100.0;
}

} // namespace

FlowServer::FlowServer(ServerConfig config, QObject *parent)
    : QObject(parent)
    , m_config(std::move(config))
    , m_started(QDateTime::currentDateTimeUtc())
    , m_stats(m_started.toMSecsSinceEpoch())
{
    m_statusTimer.setInterval(1000);
    m_historyTimer.setInterval(60 * 1000);
    connect(&m_statusTimer, &QTimer::timeout, this, [this] { tick(); });
    connect(&m_historyTimer, &QTimer::timeout, this, [this] {
        saveHistory();
        logMinute();
    });
}

FlowServer::~FlowServer() = default;

Result FlowServer::start()
{
    const QString address = m_config.listen.toString();

    auto history = FlowHistory::load(m_config.historyFilePath());
    if (!history) {
        // Keep the unreadable file for a person to look at; start a fresh history.
        const QString aside = m_config.historyFilePath() + QStringLiteral(".unreadable");
        QFile::remove(aside);
        QFile::rename(m_config.historyFilePath(), aside);
        spdlog::warn("{} It was moved to {}.", utf8(history.error()), utf8(aside));
    } else {
        m_history = *history;
    }

    m_tcp = new QTcpServer(this);
    if (!m_tcp->listen(m_config.listen, m_config.tcpPort))
        return makeError(tr("Cannot listen on TCP %1:%2: %3")
                                 .arg(address)
                                 .arg(m_config.tcpPort)
                                 .arg(m_tcp->errorString()));
    connect(m_tcp, &QTcpServer::newConnection, this, [this] { answerProbes(); });

    if (m_config.flowPort != 0) {
        m_udp = new QUdpSocket(this);
        if (!m_udp->bind(m_config.listen, m_config.flowPort))
            return makeError(tr("Cannot receive flows on UDP %1:%2: %3")
                                     .arg(address)
                                     .arg(m_config.flowPort)
                                     .arg(m_udp->errorString()));
        // Exporters send in bursts; a larger buffer keeps the kernel from dropping them.
        m_udp->setSocketOption(QAbstractSocket::ReceiveBufferSizeSocketOption, kReceiveBufferBytes);
        connect(m_udp, &QUdpSocket::readyRead, this, [this] { readDatagrams(); });
    }

    if (m_config.webApi) {
        m_webApi = new WebApiServer(m_config, [this] {
            // The running daemon's own facts: its version is the one it started with,
            // whatever an installer has registered since (LAYOUT.md).
            return QJsonObject{
                {QStringLiteral("product"), QStringLiteral("FlowTraq")},
                {QStringLiteral("server_version"), m_config.version},
                {QStringLiteral("hostname"), m_config.nodeName},
                {QStringLiteral("uptime"), m_started.secsTo(QDateTime::currentDateTimeUtc())},
            };
        }, this);
        const auto port = m_webApi->start();
        if (!port)
            return makeError(port.error());
        m_webApiPort = *port;
    }

    m_running = true;
    m_statusTimer.start();
    m_historyTimer.start();
    tick();
    saveHistory();
    spdlog::info(
            "FlowTraq server {} ({}) started as pid {}: TCP {}:{}, {}", utf8(m_config.version),
            utf8(m_config.nodeName.isEmpty() ? QStringLiteral("unnamed node") : m_config.nodeName),
            QCoreApplication::applicationPid(), utf8(address), m_tcp->serverPort(),
            m_udp ? fmt::format("flows on UDP {}:{}", utf8(address), m_udp->localPort())
                  : std::string("no flow port"));
    return {};
}

void FlowServer::stop()
{
    if (m_stopping)
        return;
    m_stopping = true;
    spdlog::info("Stopping: {} flows in {} datagrams received, {} datagrams rejected.",
                 m_stats.flowsTotal(), m_stats.datagrams(), m_stats.rejected());
    m_statusTimer.stop();
    m_historyTimer.stop();
    if (m_webApi)
        m_webApi->setStopping(true);
    if (m_udp)
        m_udp->close();
    if (m_tcp)
        m_tcp->close();
    if (m_running)
        writeStatus();
    saveHistory();
    spdlog::info("Stopped.");
    Q_EMIT stopped();
}

void FlowServer::reloadConfiguration()
{
    const auto fresh = ServerConfig::load(m_config.installDir);
    if (!fresh) {
        spdlog::warn("Configuration not reloaded: {}", utf8(fresh.error()));
        return;
    }
    if (fresh->listen != m_config.listen || fresh->tcpPort != m_config.tcpPort
        || fresh->flowPort != m_config.flowPort)
        spdlog::warn("flowtraq.conf changed the listen address or ports; that takes a restart.");
    if (fresh->nodeName != m_config.nodeName)
        spdlog::info("Node name is now {}.", utf8(fresh->nodeName));
    m_config.nodeName = fresh->nodeName;
    spdlog::info("Configuration reloaded.");
}

void FlowServer::readDatagrams()
{
    while (m_udp->hasPendingDatagrams()) {
        const QNetworkDatagram datagram = m_udp->receiveDatagram();
        if (!datagram.isValid())
            break;
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        m_stats.addDatagram();
        const auto result = m_decoder.decode(datagram.data(), datagram.senderAddress());
        if (!result) {
            m_stats.addRejected();
            m_lastRejection = QStringLiteral("from %1:%2: %3")
                                      .arg(datagram.senderAddress().toString())
                                      .arg(datagram.senderPort())
                                      .arg(result.error());
            if (m_rejectionsLogged < kRejectionsLoggedOneByOne) {
                ++m_rejectionsLogged;
                spdlog::warn("Rejected a datagram {}{}", utf8(m_lastRejection),
                             m_rejectionsLogged == kRejectionsLoggedOneByOne
                                     ? " (further rejections are summed up every minute)"
                                     : "");
            }
            continue;
        }
        m_stats.addFlows(result->protocol, result->flows, now);
        {
            QHostAddress sender = datagram.senderAddress();
            bool isV4 = false;
            if (const quint32 v4 = sender.toIPv4Address(&isV4); isV4)
                sender = QHostAddress(v4); // "::ffff:10.0.0.1" from a dual-stack socket is 10.0.0.1
            m_stats.addExporterFlows(sender.toString(), result->flows);
        }
        if (result->deferredSets > 0) {
            m_deferredSets += result->deferredSets;
            spdlog::debug("{} data set(s) from {} (source id {}) wait for their template.",
                          result->deferredSets, utf8(datagram.senderAddress().toString()),
                          result->sourceId);
        }
    }
}

void FlowServer::answerProbes()
{
    const QByteArray answer = QJsonDocument(status()).toJson(QJsonDocument::Compact) + '\n';
    while (QTcpSocket *socket = m_tcp->nextPendingConnection()) {
        connect(socket, &QAbstractSocket::disconnected, socket, &QObject::deleteLater);
        socket->write(answer);
        socket->disconnectFromHost(); // after the answer is written
    }
}

void FlowServer::tick()
{
    if (m_udp)
        m_stats.touchHour(QDateTime::currentMSecsSinceEpoch());
    writeStatus();
}

QJsonObject FlowServer::status() const
{
    using flow::Protocol;
    const QDateTime now = QDateTime::currentDateTimeUtc();
    const qint64 nowMsecs = now.toMSecsSinceEpoch();
    const QDateTime lastFlow = m_stats.lastFlowAt();
    QJsonObject byExporter;
    for (auto it = m_stats.byExporter().cbegin(); it != m_stats.byExporter().cend(); ++it)
        byExporter.insert(it.key(), it.value());
    return QJsonObject{
            {QStringLiteral("pid"), QCoreApplication::applicationPid()},
            {QStringLiteral("version"), m_config.version},
            {QStringLiteral("state"),
             m_stopping ? QStringLiteral("stopping") : QStringLiteral("running")},
            {QStringLiteral("started"), isoUtc(m_started)},
            {QStringLiteral("updated"), isoUtc(now)},
            {QStringLiteral("tcp_port"), m_tcp ? int(m_tcp->serverPort()) : int(m_config.tcpPort)},
            {QStringLiteral("flow_port"), m_udp ? int(m_udp->localPort()) : int(m_config.flowPort)},
            {QStringLiteral("webapi_port"), int(m_webApiPort)},
            {QStringLiteral("datagrams"), m_stats.datagrams()},
            {QStringLiteral("rejected"), m_stats.rejected()},
            {QStringLiteral("flows_total"), m_stats.flowsTotal()},
            {QStringLiteral("flows_last_minute"), m_stats.flowsInLast(60, nowMsecs)},
            {QStringLiteral("flows_per_second_1m"), rounded(m_stats.flowsPerSecond(60, nowMsecs))},
            {QStringLiteral("flows_per_second_10s"), rounded(m_stats.flowsPerSecond(10, nowMsecs))},
            {QStringLiteral("last_flow_at"),
             lastFlow.isValid() ? QJsonValue(isoUtc(lastFlow)) : QJsonValue()},
            {QStringLiteral("by_protocol"),
             QJsonObject{
                     {flow::toString(Protocol::NetFlow5), m_stats.flows(Protocol::NetFlow5)},
                     {flow::toString(Protocol::NetFlow9), m_stats.flows(Protocol::NetFlow9)},
                     {flow::toString(Protocol::Ipfix), m_stats.flows(Protocol::Ipfix)},
             }},
            {QStringLiteral("by_exporter"), byExporter},
    };
}

void FlowServer::writeStatus()
{
    const QString path = m_config.statusFilePath();
    QDir().mkpath(QFileInfo(path).absolutePath());
    QSaveFile file(path);
    if (file.open(QIODevice::WriteOnly)) {
        file.write(QJsonDocument(status()).toJson(QJsonDocument::Indented));
        if (file.commit())
            return;
    }
    // Once is enough to tell; the next second tries again.
    static bool warned = false;
    if (!warned) {
        warned = true;
        spdlog::error("Cannot write {}: {}", utf8(QDir::toNativeSeparators(path)),
                      utf8(file.errorString()));
    }
}

void FlowServer::saveHistory()
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    if (m_udp)
        m_stats.touchHour(now);
    if (const Result saved = m_history.save(m_config.historyFilePath(), m_stats.hours(), now);
        !saved)
        spdlog::error("{}", utf8(saved.error()));
}

void FlowServer::logMinute()
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    const qint64 rejected = m_stats.rejected() - m_rejectedAtLastMinute;
    m_rejectedAtLastMinute = m_stats.rejected();
    spdlog::info("Last minute: {} flows ({:.1f}/s); {} flows in total, {} datagrams, {} rejected, "
                 "{} data sets waiting for templates.",
                 m_stats.flowsInLast(60, now), m_stats.flowsPerSecond(60, now),
                 m_stats.flowsTotal(), m_stats.datagrams(), m_stats.rejected(), m_deferredSets);
    if (rejected > 0 && m_rejectionsLogged >= kRejectionsLoggedOneByOne)
        spdlog::warn("{} datagrams rejected in the last minute; the last one {}", rejected,
                     utf8(m_lastRejection));
}

} // namespace ft::sandbox

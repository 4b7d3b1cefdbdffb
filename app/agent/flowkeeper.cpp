#include "flowkeeper.h"

#include "jobstore.h"
#include "rawreplay.h"
#include "support/logging.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QJsonDocument>
#include <QLocale>
#include <QNetworkDatagram>
#include <QRandomGenerator>
#include <QSaveFile>
#include <QThread>
#include <QUdpSocket>
#include <QtConcurrent>

#include <spdlog/spdlog.h>

#ifdef Q_OS_LINUX
#include <sys/socket.h>
#include <unistd.h>
#endif

namespace ft::agent {

namespace {

QString number(qint64 n) { return QLocale(QLocale::English).toString(n); }

// How often the spool is flushed (a full disk shows within this) and the count logged.
constexpr int kFlushMs = 200;
constexpr int kReportMs = 2000;
// The longest the service is given to read what reached it before the redirect.
constexpr qint64 kDrainMs = 2000;
// How long the listeners read on after the redirect is removed.
constexpr int kSettleMs = 200;

} // namespace

FlowKeeper::FlowKeeper(Settings settings, QObject *parent)
    : QObject(parent)
    , m_settings(std::move(settings))
    , m_nft(m_settings.nftProgram, m_settings.nftTable)
{
    m_flushTimer.setInterval(kFlushMs);
    connect(&m_flushTimer, &QTimer::timeout, this, &FlowKeeper::flushSpool);
    m_progressTimer.setInterval(250);
    connect(&m_progressTimer, &QTimer::timeout, this, [this] {
        if (!m_replay)
            return;
        const qint64 total = m_replay->total.load();
        const double share = total > 0 ? double(m_replay->sent.load()) / double(total) : 1.0;
        Q_EMIT progress(share);
        const qint64 percent = qint64(share * 100);
        if (m_sinceReport.elapsed() >= kReportMs && percent != m_reported) {
            m_reported = percent;
            m_sinceReport.restart();
            Q_EMIT message(tr("Replaying: %1 %").arg(percent));
        }
    });
}

FlowKeeper::~FlowKeeper()
{
    if (m_replay)
        m_replay->cancel = true;
    // An add still running would put the redirect in place after us: let it end first.
    if (m_nftChange.isRunning()) {
        m_nftChange.waitForFinished();
        m_ruleActive = true;
    }
    if (m_ruleActive)
        (void)m_nft.remove(); // never leave the redirect behind
}

QString FlowKeeper::stateFile() const
{
    return QDir(m_settings.stateDir).filePath(QStringLiteral("keeping.json"));
}

QJsonObject FlowKeeper::summary() const
{
    QJsonObject s{{QStringLiteral("state"), m_state},
                  {QStringLiteral("kept"), m_spool.written()},
                  {QStringLiteral("dropped"), m_spool.dropped()},
                  {QStringLiteral("templates"), m_templates},
                  {QStringLiteral("replayed"), m_replay ? m_replay->sent.load() : 0}};
    if (!m_spoolPath.isEmpty())
        s.insert(QStringLiteral("spool"), QDir::toNativeSeparators(m_spoolPath));
    return s;
}

void FlowKeeper::takeOver(const QString &jobId)
{
    QList<NftRedirect::Port> ports;
    if (auto prepared = prepare(jobId, &ports); !prepared) {
        QTimer::singleShot(0, this, [this, why = prepared.error()] { Q_EMIT tookOver(why); });
        return;
    }
    const quint16 zone = quint16(QRandomGenerator::global()->bounded(1000, 65000));
    auto *watcher = new QFutureWatcher<Result>(this);
    connect(watcher, &QFutureWatcher<Result>::finished, this, [this, watcher, ports] {
        watcher->deleteLater();
        redirectAdded(ports, watcher->result());
    });
    m_nftChange = QtConcurrent::run([nft = m_nft, ports, zone]() mutable -> Result {
        auto added = nft.add(ports, zone);
        if (!added)
            (void)nft.remove(); // a half-applied transaction is impossible, but be sure
        return added;
    });
    watcher->setFuture(m_nftChange);
}

Result FlowKeeper::prepare(const QString &jobId, QList<NftRedirect::Port> *ports)
{
#ifndef Q_OS_LINUX
    Q_UNUSED(jobId);
    Q_UNUSED(ports);
    return makeError(tr("Keeping flows is not available on Windows nodes."));
#else
    m_jobId = jobId;
    if (m_settings.flowPorts.isEmpty())
        return makeError(tr("the agent knows no flow port of this node (flow_ports in agent.conf)"));
    if (::geteuid() != 0)
        return makeError(tr("the agent does not run as root, so it cannot redirect the flow ports"));
    if (!QDir().mkpath(m_settings.stateDir))
        return makeError(tr("cannot create the folder %1").arg(QDir::toNativeSeparators(m_settings.stateDir)));
    m_spoolPath = QDir(m_settings.stateDir).filePath(jobId + QStringLiteral(".spool"));
    if (auto opened = m_spool.open(m_spoolPath, m_settings.spoolCapBytes); !opened)
        return makeError(opened.error());

    for (const quint16 flowPort : std::as_const(m_settings.flowPorts)) {
        auto *socket = new QUdpSocket(this);
        // Dual-stack: the redirect brings IPv4 and IPv6 exporters alike.
        if (!socket->bind(QHostAddress::Any, 0)) {
            const QString why = socket->errorString();
            delete socket;
            stopListening();
            m_spool.close();
            QFile::remove(m_spoolPath);
            return makeError(tr("cannot open a listener for flow port %1: %2").arg(flowPort).arg(why));
        }
        const int buffer = 32 * 1024 * 1024; // the service is down: we are the only reader
        (void)::setsockopt(int(socket->socketDescriptor()), SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof buffer);
        connect(socket, &QUdpSocket::readyRead, this, [this, socket, flowPort] { readDatagrams(socket, flowPort); });
        m_listeners.append({socket, flowPort});
        ports->append({flowPort, socket->localPort()});
    }

    if (m_settings.templatesBefore)
        m_templatesBefore = m_settings.templatesBefore();
    // Written before the rule, so a killed agent's successor knows what to clean up.
    QSaveFile state(stateFile());
    if (state.open(QIODevice::WriteOnly)) {
        state.write(QJsonDocument(QJsonObject{{QStringLiteral("job"), jobId},
                                              {QStringLiteral("spool"), m_spoolPath},
                                              {QStringLiteral("table"), m_settings.nftTable}})
                            .toJson(QJsonDocument::Compact));
        state.commit();
    }
    return {};
#endif
}

void FlowKeeper::redirectAdded(const QList<NftRedirect::Port> &ports, const Result &added)
{
    if (m_failed) { // the spool failed on the first datagrams: fail() removed the redirect and said why
        Q_EMIT tookOver(tr("the spool cannot be written (%1)").arg(m_spool.errorString()));
        return;
    }
    if (!added) {
        stopListening();
        m_spool.close();
        QFile::remove(m_spoolPath);
        QFile::remove(stateFile());
        Q_EMIT tookOver(added.error());
        return;
    }
    m_ruleActive = true;
    m_keeping = true;
    m_state = QStringLiteral("keeping");
    m_flushTimer.start();
    m_sinceReport.start();
    QStringList list;
    for (const auto &p : ports)
        list << QStringLiteral("%1 → %2").arg(p.flowPort).arg(p.listenerPort);
    Q_EMIT message(tr("Keeping flows: UDP %1 redirected to the agent (nftables table inet %2); datagrams go to %3.")
                           .arg(list.join(QStringLiteral(", ")), m_settings.nftTable,
                                QDir::toNativeSeparators(m_spoolPath)));
    waitForServiceQueue(QDateTime::currentMSecsSinceEpoch() + kDrainMs);
}

void FlowKeeper::waitForServiceQueue(qint64 deadline)
{
    // Datagrams that reached the service's socket before the redirect are still in its
    // queue: the service reads them while it runs, and would lose them if stopped now.
    bool queued = false;
    for (const quint16 port : std::as_const(m_settings.flowPorts))
        queued = queued || UdpSocketQueue::read(port).queuedBytes > 0;
    if (queued && QDateTime::currentMSecsSinceEpoch() < deadline) {
        QTimer::singleShot(20, this, [this, deadline] { waitForServiceQueue(deadline); });
        return;
    }
    Q_EMIT tookOver(QString());
}

void FlowKeeper::readDatagrams(QUdpSocket *socket, quint16 flowPort)
{
    // Spooled from the first one, before redirectAdded() runs: the redirect is live as soon
    // as its transaction commits on the worker thread, and only the redirect sends to these
    // ports, so what arrives meanwhile is a flow the service never gets (it was dropped
    // here until m_keeping was set: 1-3 datagrams of a steady exporter under load).
    if (m_failed)
        return;
    while (socket->hasPendingDatagrams()) {
        const QNetworkDatagram datagram = socket->receiveDatagram();
        if (!datagram.isValid())
            break;
        SpooledDatagram d;
        d.arrivalMsecs = QDateTime::currentMSecsSinceEpoch();
        d.setSource(datagram.senderAddress());
        d.sourcePort = quint16(datagram.senderPort());
        const QHostAddress to = datagram.destinationAddress();
        d.setDestination(!to.isNull() ? to
                         : d.ipv6     ? QHostAddress(QHostAddress::LocalHostIPv6)
                                      : QHostAddress(QHostAddress::LocalHost));
        d.destinationPort = flowPort;
        d.data = datagram.data();
        const auto outcome = m_spool.append(d);
        if (outcome == FlowSpoolWriter::Outcome::Failed) {
            fail(tr("the spool cannot be written (%1)").arg(m_spool.errorString()));
            return;
        }
        if (outcome == FlowSpoolWriter::Outcome::Written)
            m_templateSource.add(d);
    }
}

void FlowKeeper::flushSpool()
{
    if (!m_keeping)
        return;
    if (auto flushed = m_spool.flush(); !flushed) {
        fail(tr("the spool cannot be written (%1)").arg(m_spool.errorString()));
        return;
    }
    if (m_sinceReport.elapsed() >= kReportMs && m_spool.written() != m_reported) {
        m_reported = m_spool.written();
        m_sinceReport.restart();
        QString line = tr("Keeping flows: %1 datagrams").arg(number(m_spool.written()));
        if (m_spool.dropped() > 0)
            line += tr(" (%1 dropped: the spool reached its cap of %2 bytes)")
                            .arg(number(m_spool.dropped()), number(m_settings.spoolCapBytes));
        Q_EMIT message(line);
    }
}

void FlowKeeper::stopListening()
{
    for (const auto &listener : std::as_const(m_listeners)) {
        listener.first->close();
        listener.first->deleteLater();
    }
    m_listeners.clear();
}

void FlowKeeper::fail(const QString &why)
{
    if (m_failed)
        return;
    m_failed = true;
    m_keeping = false;
    m_flushTimer.stop();
    // Datagrams are spooled while the add still runs: let it end, so its redirect goes too.
    if (m_nftChange.isRunning()) {
        m_nftChange.waitForFinished();
        m_ruleActive = m_ruleActive || m_nftChange.result();
    }
    QString removal;
    if (m_ruleActive) {
        if (auto removed = m_nft.remove(); !removed)
            removal = QLatin1Char(' ') + removed.error();
        else
            m_ruleActive = false;
    }
    stopListening();
    m_spool.close();
    const qint64 kept = m_spool.written();
    if (kept == 0)
        QFile::remove(m_spoolPath);
    QFile::remove(stateFile());
    m_state = QStringLiteral("kept");
    QString line = tr("Flows are no longer kept: %1. The redirect was removed, so flows go to the service "
                      "directly again once it runs; flows sent while it is down are lost, as without this "
                      "option.").arg(why) + removal;
    if (kept > 0)
        line += QLatin1Char(' ') + tr("The %1 datagrams kept so far were not replayed; they stay in %2 for "
                                      "inspection.").arg(number(kept), QDir::toNativeSeparators(m_spoolPath));
    Q_EMIT message(line);
    logging::logger()->warn("{}", line.toStdString());
}

void FlowKeeper::giveBack(bool serviceRunning)
{
    if (!m_keeping) {
        QTimer::singleShot(0, this, [this] { finish(m_state); });
        return;
    }
    for (const auto &listener : std::as_const(m_listeners))
        readDatagrams(listener.first, listener.second);
    if (!m_keeping) { // the spool failed while draining
        QTimer::singleShot(0, this, [this] { finish(m_state); });
        return;
    }

    // The templates go first and still under the redirect (the replay socket's mark lets
    // them through): the service then decodes the first live datagrams after the switch too.
    RawReplaySocket socket;
    // Those seen before the outage, then the spool's, which replace them where both have one.
    SpoolTemplates merged;
    for (const SpooledDatagram &d : std::as_const(m_templatesBefore))
        merged.add(d);
    for (const SpooledDatagram &d : m_templateSource.datagrams())
        merged.add(d);
    const QList<SpooledDatagram> templates = merged.datagrams();
    m_templateExporters = merged.exporters();
    if (serviceRunning) {
        if (auto opened = socket.open(NftRedirect::kBypassMark); !opened) {
            fail(opened.error());
            QTimer::singleShot(0, this, [this] { finish(m_state); });
            return;
        }
        for (const SpooledDatagram &d : templates) {
            if (auto sent = socket.send(d); !sent) {
                fail(sent.error());
                QTimer::singleShot(0, this, [this] { finish(m_state); });
                return;
            }
            ++m_templates;
        }
    }

    // Off the agent's thread; datagrams still on their way are spooled meanwhile.
    auto *watcher = new QFutureWatcher<Result>(this);
    connect(watcher, &QFutureWatcher<Result>::finished, this, [this, watcher, serviceRunning, n = templates.size()] {
        watcher->deleteLater();
        redirectRemoved(serviceRunning, n, watcher->result());
    });
    m_nftChange = QtConcurrent::run([nft = m_nft]() mutable { return nft.remove(); });
    watcher->setFuture(m_nftChange);
}

void FlowKeeper::redirectRemoved(bool serviceRunning, qsizetype templates, const Result &removed)
{
    if (m_failed) { // the spool failed meanwhile: fail() said so and tidied up
        finish(m_state);
        return;
    }
    if (!removed) {
        fail(removed.error());
        finish(m_state);
        return;
    }
    m_ruleActive = false;
    // Datagrams redirected just before the removal may still be on their way to the
    // listeners: they read on for a moment before they close.
    QTimer::singleShot(kSettleMs, this, [this, serviceRunning, templates] { closeListeners(serviceRunning, templates); });
}

void FlowKeeper::closeListeners(bool serviceRunning, qsizetype templates)
{
    if (m_failed) {
        finish(m_state);
        return;
    }
    // What was already on its way to the listeners is still theirs.
    for (const auto &listener : std::as_const(m_listeners))
        readDatagrams(listener.first, listener.second);
    m_keeping = false;
    m_flushTimer.stop();
    stopListening();
    if (auto flushed = m_spool.flush(); !flushed) {
        m_keeping = true; // let fail() tidy up with the sentence
        fail(flushed.error());
        finish(m_state);
        return;
    }
    m_spool.close();
    Q_EMIT message(tr("Flows go to the service again (redirect removed). Kept %1 datagrams while it was down%2.")
                           .arg(number(m_spool.written()),
                                m_spool.dropped() > 0 ? tr(", dropped %1 beyond the spool's cap")
                                                                .arg(number(m_spool.dropped()))
                                                      : QString()));
    if (!serviceRunning) {
        m_state = QStringLiteral("kept");
        Q_EMIT message(tr("The service is not running, so the kept flows are not replayed; they stay in %1 for "
                          "inspection.").arg(QDir::toNativeSeparators(m_spoolPath)));
        QFile::remove(stateFile());
        finish(m_state);
        return;
    }
    if (templates > 0)
        Q_EMIT message(tr("Sent %1 templates of %2 exporters first (from the kept flows and from what the agent "
                          "saw before the outage: %3 of them).")
                               .arg(templates)
                               .arg(m_templateExporters)
                               .arg(m_templatesBefore.size()));
    startReplay();
}

void FlowKeeper::startReplay()
{
    m_state = QStringLiteral("replaying");
    m_replay = std::make_shared<SpoolReplayCounters>();
    m_replay->total = m_spool.written();
    m_reported = -1;
    m_sinceReport.start();
    m_progressTimer.start();
    Q_EMIT message(tr("Replaying: 0 % of %1 datagrams, from the exporters' own addresses.")
                           .arg(number(m_spool.written())));
    auto *watcher = new QFutureWatcher<SpoolReplayOutcome>(this);
    connect(watcher, &QFutureWatcher<SpoolReplayOutcome>::finished, this, [this, watcher] {
        watcher->deleteLater();
        m_progressTimer.stop();
        const SpoolReplayOutcome outcome = watcher->result();
        if (!outcome.error.isEmpty()) {
            m_state = QStringLiteral("kept");
            Q_EMIT message(tr("The replay stopped after %1 datagrams: %2 The spool stays in %3 for inspection.")
                                   .arg(number(outcome.sent), outcome.error,
                                        QDir::toNativeSeparators(m_spoolPath)));
            QFile::remove(stateFile());
            finish(m_state);
            return;
        }
        Q_EMIT progress(1.0);
        const double rate = outcome.seconds > 0 ? double(outcome.sent) / outcome.seconds : 0;
        Q_EMIT message(tr("Replayed %1 datagrams in %2 s (%3 a second, %4); the service's socket dropped %5 "
                          "datagrams meanwhile.")
                               .arg(number(outcome.sent))
                               .arg(outcome.seconds, 0, 'f', 2)
                               .arg(number(qint64(rate)))
                               .arg(outcome.paced ? tr("paced on the service socket's receive queue")
                                                  : tr("at a fixed %1 a second: the service's socket was not "
                                                       "visible").arg(kReplayFallbackPerSecond))
                               .arg(outcome.serviceDrops));
        m_state = QStringLiteral("replayed");
        QFile::remove(m_spoolPath);
        QFile::remove(ReplayJournal::pathFor(m_spoolPath));
        QFile::remove(stateFile());
        finish(m_state);
    });
    // keeping.json stays until the replay ends: an agent killed meanwhile goes on from the
    // replay's journal when it starts again.
    watcher->setFuture(QtConcurrent::run([path = m_spoolPath, counters = m_replay]() {
        return replaySpool(path, NftRedirect::kBypassMark, false, *counters);
    }));
}

void FlowKeeper::finish(const QString &state)
{
    m_state = state;
    Q_EMIT finished();
}

QString FlowKeeper::leftoverFile(const Settings &settings)
{
    return QDir(settings.stateDir).filePath(QStringLiteral("leftover.json"));
}

FlowKeeper::Recovery FlowKeeper::recover(const Settings &settings, JobStore *store)
{
    Recovery recovery;
    QStringList &lines = recovery.lines;
    QFile file(QDir(settings.stateDir).filePath(QStringLiteral("keeping.json")));
    QString job;
    // keeping.json is written before the redirect is added and removed after the replay,
    // so without it there is nothing to clean up (and no nft to run at every start).
    if (file.exists()) {
        NftRedirect nft(settings.nftProgram, settings.nftTable);
        bool removed = false;
        if (auto exists = nft.exists(); exists && *exists) {
            if (auto done = nft.remove(); done)
                removed = true;
            else
                lines << done.error();
        }
        if (file.open(QIODevice::ReadOnly)) {
            const QJsonObject state = QJsonDocument::fromJson(file.readAll()).object();
            file.close();
            job = state.value(QStringLiteral("job")).toString();
            const QString spool = state.value(QStringLiteral("spool")).toString();
            const auto count = FlowSpoolReader::count(spool);
            // What an earlier replay of this spool already sent (its journal).
            qint64 replayed = 0;
            FlowSpoolReader reader;
            ReplayJournal journal;
            if (count && reader.open(spool) && journal.open(spool, reader.firstRecord())) {
                while (reader.offset() < journal.offset() && reader.next())
                    ++replayed;
                journal.close();
            }
            const QString redirect
                    = removed ? tr("it removed its redirect of the flow ports (nftables table inet %1) at start-up, "
                                   "so flows go to the service directly.").arg(settings.nftTable)
                              : tr("no redirect of the flow ports was left in place.");
            if (count && *count > replayed) {
                const QString leftover = leftoverFile(settings);
                QFile earlier(leftover);
                if (earlier.open(QIODevice::ReadOnly)) {
                    const QString older = QJsonDocument::fromJson(earlier.readAll()).object()
                                                  .value(QStringLiteral("spool")).toString();
                    if (older != spool)
                        lines << tr("The flows kept in %1 by an earlier run were not replayed yet; they stay there "
                                    "for inspection.").arg(QDir::toNativeSeparators(older));
                }
                QSaveFile save(leftover);
                if (save.open(QIODevice::WriteOnly)) {
                    save.write(QJsonDocument(QJsonObject{{QStringLiteral("job"), job},
                                                         {QStringLiteral("spool"), spool}})
                                       .toJson(QJsonDocument::Compact));
                    save.commit();
                }
                lines << tr("The agent stopped while it kept or replayed the flows of job %1; %2 The %3 datagrams "
                            "it kept (%4 of them already replayed) will be replayed to the service once it "
                            "listens on its flow port again; %5 records how far that got, so none is sent twice.")
                                 .arg(job, redirect, number(*count), number(replayed),
                                      QDir::toNativeSeparators(ReplayJournal::pathFor(spool)));
                if (store && store->job(job)) {
                    JobRecord record = *store->job(job);
                    record.flows = QJsonObject{{QStringLiteral("state"), QStringLiteral("kept")},
                                               {QStringLiteral("kept"), *count},
                                               {QStringLiteral("dropped"),
                                                record.flows.value(QStringLiteral("dropped")).toInteger()},
                                               {QStringLiteral("templates"), 0},
                                               {QStringLiteral("replayed"), replayed},
                                               {QStringLiteral("spool"), QDir::toNativeSeparators(spool)}};
                    (void)store->update(record);
                }
            } else {
                lines << tr("The agent stopped while it kept the flows of job %1; %2 The %3 datagrams it kept were "
                            "not replayed and stay in %4 for inspection.")
                                 .arg(job, redirect, count ? number(*count) : tr("(unreadable)"),
                                      QDir::toNativeSeparators(spool));
            }
        } else if (removed) {
            lines << tr("Removed a redirect of the flow ports (nftables table inet %1) left by an earlier run of "
                        "the agent.").arg(settings.nftTable);
        }
        file.remove();
    }
    QFile leftover(leftoverFile(settings));
    if (leftover.open(QIODevice::ReadOnly)) {
        const QJsonObject state = QJsonDocument::fromJson(leftover.readAll()).object();
        const QString spool = state.value(QStringLiteral("spool")).toString();
        if (QFileInfo::exists(spool))
            recovery.leftover = Leftover{state.value(QStringLiteral("job")).toString(), spool};
        else
            leftover.remove();
    }
    for (const QString &line : std::as_const(lines)) {
        logging::logger()->warn("{}", line.toStdString());
        if (store && !job.isEmpty() && store->job(job))
            store->appendLog(job, line);
    }
    return recovery;
}

} // namespace ft::agent

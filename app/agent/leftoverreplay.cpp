#include "leftoverreplay.h"

#include "jobstore.h"
#include "support/logging.h"

#include <QDir>
#include <QFile>
#include <QFutureWatcher>
#include <QLocale>
#include <QtConcurrent>

#include <spdlog/spdlog.h>

namespace ft::agent {

namespace {

QString number(qint64 n) { return QLocale(QLocale::English).toString(n); }

constexpr int kPollMs = 1000;

} // namespace

LeftoverReplay::LeftoverReplay(FlowKeeper::Settings settings, FlowKeeper::Leftover leftover, JobStore *store,
                               QObject *parent)
    : QObject(parent)
    , m_settings(std::move(settings))
    , m_leftover(std::move(leftover))
    , m_store(store)
{
    m_poll.setInterval(kPollMs);
    connect(&m_poll, &QTimer::timeout, this, &LeftoverReplay::check);
}

LeftoverReplay::~LeftoverReplay()
{
    if (m_counters)
        m_counters->cancel = true; // the journal keeps the place for the next start
}

void LeftoverReplay::start()
{
    m_poll.start();
    QTimer::singleShot(0, this, &LeftoverReplay::check);
}

void LeftoverReplay::log(const QString &line)
{
    logging::logger()->info("{}", line.toStdString());
    if (m_store && m_store->job(m_leftover.job))
        m_store->appendLog(m_leftover.job, line);
}

void LeftoverReplay::check()
{
    if (m_counters)
        return;
    // Never beside a keeper: an upgrade that runs (its own redirect and replay) goes first.
    const bool upgrading = m_store && m_store->hasActive(QStringLiteral("upgrade"));
    const bool keeping = QFileInfo::exists(QDir(m_settings.stateDir).filePath(QStringLiteral("keeping.json")));
    bool listening = !m_settings.flowPorts.isEmpty();
    for (const quint16 port : std::as_const(m_settings.flowPorts))
        listening = listening && UdpSocketQueue::read(port).found;
    if (upgrading || keeping || !listening) {
        if (!m_waitingSaid && !listening) {
            m_waitingSaid = true;
            log(tr("Waiting for the service to listen on its flow port again before the kept flows are replayed."));
        }
        return;
    }
    m_poll.stop();
    replay();
}

void LeftoverReplay::replay()
{
    m_counters = std::make_shared<SpoolReplayCounters>();
    log(tr("The service listens on its flow port again: replaying the flows kept in %1, from the exporters' own "
           "addresses.").arg(QDir::toNativeSeparators(m_leftover.spool)));
    auto *watcher = new QFutureWatcher<SpoolReplayOutcome>(this);
    connect(watcher, &QFutureWatcher<SpoolReplayOutcome>::finished, this, [this, watcher] {
        watcher->deleteLater();
        const SpoolReplayOutcome outcome = watcher->result();
        const qint64 replayed = outcome.replayedBefore + outcome.sent;
        const qint64 kept = outcome.replayedBefore + m_counters->total.load();
        const bool complete = outcome.error.isEmpty() && replayed == kept;
        if (m_store && m_store->job(m_leftover.job)) {
            JobRecord record = *m_store->job(m_leftover.job);
            record.flows.insert(QStringLiteral("state"), complete ? QStringLiteral("replayed") : QStringLiteral("kept"));
            record.flows.insert(QStringLiteral("kept"), kept);
            record.flows.insert(QStringLiteral("replayed"), replayed);
            record.flows.insert(QStringLiteral("templates"), outcome.templates);
            (void)m_store->update(record);
        }
        if (!complete) {
            log(tr("The replay of the kept flows stopped after %1 of %2 datagrams: %3 The spool stays in %4; the "
                   "agent goes on from there when it starts again.")
                        .arg(number(replayed), number(kept),
                             outcome.error.isEmpty() ? tr("the agent is stopping.") : outcome.error,
                             QDir::toNativeSeparators(m_leftover.spool)));
            Q_EMIT finished();
            return;
        }
        log(tr("Replayed the flows kept before the agent was restarted: %1 datagrams now (%2 templates first), "
               "%3 before; %4 of %5 in all. The service's socket dropped %6 datagrams meanwhile.")
                    .arg(number(outcome.sent))
                    .arg(outcome.templates)
                    .arg(number(outcome.replayedBefore), number(replayed), number(kept))
                    .arg(outcome.serviceDrops));
        QFile::remove(m_leftover.spool);
        QFile::remove(ReplayJournal::pathFor(m_leftover.spool));
        QFile::remove(FlowKeeper::leftoverFile(m_settings));
        Q_EMIT finished();
    });
    watcher->setFuture(QtConcurrent::run([path = m_leftover.spool, counters = m_counters]() {
        return replaySpool(path, NftRedirect::kBypassMark, true, *counters);
    }));
}

} // namespace ft::agent

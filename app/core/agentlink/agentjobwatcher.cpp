#include "agentlink/agentjobwatcher.h"

#include <QCoreApplication>

#include <algorithm>

namespace ft {

namespace {

// Everything but the log: what a progress pane shows.
bool sameProgress(const AgentJobStatus &a, const AgentJobStatus &b)
{
    return a.state == b.state && a.phase == b.phase && a.progress == b.progress
           && a.bytesDone == b.bytesDone && a.bytesTotal == b.bytesTotal
           && a.started == b.started && a.finished == b.finished && a.exitCode == b.exitCode
           && a.rebootRequested == b.rebootRequested && a.versionBefore == b.versionBefore
           && a.versionAfter == b.versionAfter && a.serviceRestored == b.serviceRestored
           && a.error == b.error;
}

} // namespace

AgentJobWatcher::AgentJobWatcher(AgentClient *client, const AgentEndpoint &endpoint,
                                 const QString &jobId, QObject *parent)
    : QObject(parent)
    , m_client(client)
    , m_endpoint(endpoint)
    , m_jobId(jobId)
{
    m_retryTimer.setSingleShot(true);
    connect(&m_retryTimer, &QTimer::timeout, this, &AgentJobWatcher::poll);
}

AgentJobWatcher::~AgentJobWatcher()
{
    if (m_poll) {
        m_poll->disconnect(this);
        m_poll->cancel(); // deletes itself once it has finished
    }
}

void AgentJobWatcher::start()
{
    if (m_started)
        return;
    m_started = true;
    m_lastGoodAnswer.start();
    // The first poll goes out from the event loop, so nothing can finish inside start().
    m_retryTimer.start(0);
}

void AgentJobWatcher::stop()
{
    if (m_end.isDone())
        return;
    if (m_poll) {
        m_poll->disconnect(this);
        m_poll->cancel();
        m_poll = nullptr;
    }
    finish(AgentJob::Cancelled,
           AgentJob::nodeSentence(m_endpoint, tr("stopped following job %1").arg(m_jobId)));
}

void AgentJobWatcher::poll()
{
    if (m_end.isDone())
        return;
    if (!m_client) {
        finish(AgentJob::ProtocolError,
               AgentJob::nodeSentence(m_endpoint,
                                      tr("the connection to the agents was closed")));
        return;
    }
    auto *job = new FetchJobStatusJob(m_client, m_endpoint, m_jobId, m_since, m_wait, this);
    m_poll = job;
    connect(job, &AgentJob::finished, this, [this, job] { handlePoll(job); });
    job->start();
}

bool AgentJobWatcher::isTransient(AgentJob::Error error)
{
    switch (error) {
    case AgentJob::Timeout:
    case AgentJob::Unreachable:
    case AgentJob::ServerError:
    case AgentJob::ProtocolError:
        return true;
    default:
        return false;
    }
}

void AgentJobWatcher::handlePoll(FetchJobStatusJob *job)
{
    if (m_poll == job)
        m_poll = nullptr;
    if (m_end.isDone())
        return;

    if (job->error() != AgentJob::NoError) {
        if (!isTransient(job->error())) {
            finish(job->error(), job->errorString());
            return;
        }
        const auto quiet = std::chrono::milliseconds(m_lastGoodAnswer.elapsed());
        if (quiet >= m_retryWindow) {
            finish(job->error(),
                   job->errorString() + QLatin1Char(' ')
                       + tr("(gave up following job %1 after %2 s without an answer)")
                             .arg(m_jobId)
                             .arg(m_retryWindow.count() / 1000));
            return;
        }
        ++m_retries;
        ++m_consecutiveFailures;
        Q_EMIT retrying(job->errorString());
        // 250 ms, 500 ms, 1 s, 2 s, then every 2 s: quick while an agent restarts,
        // gentle on a node that is down for longer.
        const int pause = std::min(2000, 250 << std::min(m_consecutiveFailures - 1, 3));
        m_retryTimer.start(pause);
        return;
    }

    m_consecutiveFailures = 0;
    m_lastGoodAnswer.restart();
    AgentJobStatus status = job->status();

    // Only lines not seen yet: after an agent restart the numbering carries on, but a
    // repeated answer must not show a line twice.
    QList<AgentLogLine> fresh;
    for (const AgentLogLine &line : std::as_const(status.log)) {
        if (line.n >= m_since)
            fresh.append(line);
    }
    m_since = std::max(m_since, status.next);
    status.log.clear();

    const bool changed = !m_hasStatus || !sameProgress(m_status, status);
    m_status = status;
    m_hasStatus = true;
    if (!fresh.isEmpty())
        Q_EMIT logLines(fresh);
    if (changed)
        Q_EMIT statusChanged(m_status);

    if (m_status.isTerminal()) {
        finish(AgentJob::NoError, {});
        return;
    }
    m_retryTimer.start(0);
}

void AgentJobWatcher::finish(AgentJob::Error error, const QString &errorString)
{
    if (m_end.end(this, error, errorString))
        m_retryTimer.stop();
}

} // namespace ft

#pragma once

#include "agentlink/upgradejobs.h"
#include "support/jobend.h"

#include <QElapsedTimer>
#include <QObject>
#include <QPointer>
#include <QTimer>

#include <chrono>

namespace ft {

// Follows one agent job to its end: long-polls GET /v1/jobs/J again and again, hands
// on new log lines and status changes, and finishes once the job is in a terminal
// state. Network trouble (time-out, refused or dropped connection, a 5xx, a garbled
// answer) is retried with a growing pause, for up to retryWindow() without any good
// answer, so an agent that restarts mid-job is followed through. Trouble that
// retrying cannot fix (wrong token, changed certificate, unknown job) ends it at once.
// finished() comes exactly once, never inside start() or stop().
class AgentJobWatcher : public QObject
{
    Q_OBJECT

public:
    AgentJobWatcher(AgentClient *client, const AgentEndpoint &endpoint, const QString &jobId,
                    QObject *parent = nullptr);
    ~AgentJobWatcher() override;

    QString jobId() const { return m_jobId; }
    const AgentEndpoint &endpoint() const { return m_endpoint; }

    // How long the agent may hold each poll (≤ 30 s). Default 25 s.
    void setPollWait(std::chrono::milliseconds wait) { m_wait = wait; }
    // How long to keep retrying without any good answer. Default 120 s.
    void setRetryWindow(std::chrono::milliseconds window) { m_retryWindow = window; }
    std::chrono::milliseconds retryWindow() const { return m_retryWindow; }
    // First log line wanted (to resume after a restart of the wizard). Default 0.
    void setSince(qint64 since) { m_since = since; }
    qint64 since() const { return m_since; }

    void start();
    // Stops watching (the agent's job keeps running); finished(Cancelled) follows.
    void stop();

    bool isFinished() const { return m_end.isDone(); }
    AgentJob::Error error() const { return m_end.error(); }
    QString errorString() const { return m_end.errorString(); }
    // The last status received (log lines not included); valid once one arrived.
    const AgentJobStatus &status() const { return m_status; }
    bool hasStatus() const { return m_hasStatus; }
    // Failed polls retried so far (for diagnostics and tests).
    int retries() const { return m_retries; }

    bool autoDelete() const { return m_autoDelete; }
    void setAutoDelete(bool autoDelete) { m_autoDelete = autoDelete; }

Q_SIGNALS:
    void statusChanged(const ft::AgentJobStatus &status);
    void logLines(const QList<ft::AgentLogLine> &lines);
    // A poll failed and will be retried; the sentence says why.
    void retrying(const QString &reason);
    void finished(ft::AgentJobWatcher *watcher);

private:
    void poll();
    void handlePoll(FetchJobStatusJob *job);
    void finish(AgentJob::Error error, const QString &errorString);
    static bool isTransient(AgentJob::Error error);

    QPointer<AgentClient> m_client;
    AgentEndpoint m_endpoint;
    QString m_jobId;
    std::chrono::milliseconds m_wait{25000};
    std::chrono::milliseconds m_retryWindow{120000};
    qint64 m_since = 0;
    QPointer<FetchJobStatusJob> m_poll;
    QTimer m_retryTimer;
    QElapsedTimer m_lastGoodAnswer;
    AgentJobStatus m_status;
    bool m_hasStatus = false;
    int m_retries = 0;
    int m_consecutiveFailures = 0;
    JobEnd<AgentJob::Error> m_end;
    bool m_autoDelete = false;
    bool m_started = false;
};

} // namespace ft

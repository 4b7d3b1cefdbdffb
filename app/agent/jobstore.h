#pragma once

#include "model/expected.h"

#include <QDateTime>
#include <QHash>
#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QString>
#include <QTimer>

#include <optional>

namespace ft::agent {

// One line a job printed, numbered from 0 in the order it arrived.
struct JobLogLine
{
    qint64 n = 0;
    QDateTime time;
    QString line;
    QString stream; // "stdout", "stderr" or "agent"

    QJsonObject toJson() const;
};

// The persistent state of one job: what GET /v1/jobs/J reports (without the log).
struct JobRecord
{
    QString id;
    QString kind;      // "stage" | "upgrade"
    QString component; // upgrade: server | nbi | webui
    QString package;   // file name in the staging folder
    QString url;       // stage: where the package comes from
    QString state = QStringLiteral("queued"); // queued running succeeded failed cancelled interrupted
    QString phase = QStringLiteral("queued");
    double progress = 0;
    qint64 bytesDone = 0;
    qint64 bytesTotal = 0;
    QDateTime created;
    QDateTime started;
    QDateTime finished;
    std::optional<int> exitCode;
    bool rebootRequested = false;
    bool rebootNeeded = false;
    QString versionBefore;
    QString versionAfter;
    std::optional<bool> serviceRestored;
    QString error;
    qint64 logLines = 0;
    QJsonArray phases; // [{"phase": "stopping", "started": "…"}, …] in the order they ran
    QJsonObject flows; // upgrade with keep_flows: FlowKeeper::summary(); empty otherwise


    bool isActive() const;
    QJsonObject toJson() const;
    static Expected<JobRecord> fromJson(const QJsonObject &json);
};

// Keeps every job as one JSON file in a folder (written atomically with QSaveFile)
// plus an append-only <id>.log of JSON lines, so jobs outlive connections and agent
// restarts. changed(id) fires on each new log line and each state or phase change;
// long polls wait for it.
class JobStore : public QObject
{
    Q_OBJECT

public:
    explicit JobStore(const QString &directory, QObject *parent = nullptr);

    // The most jobs kept: at open(), the oldest finished jobs beyond it are removed
    // (file and log), so the folder does not grow with every run.
    static constexpr int kMaxKeptJobs = 200;

    // Loads the folder. A job found queued or running was cut off by a restart of the
    // agent: it becomes 'interrupted' with a sentence saying so.
    Result open();
    // The jobs open() found cut off, oldest first.
    QStringList interruptedAtOpen() const { return m_interruptedAtOpen; }

    QString directory() const { return m_directory; }

    // A new queued job of this kind; the caller fills it and calls update().
    JobRecord create(const QString &kind);

    const JobRecord *job(const QString &id) const;
    QList<JobRecord> jobs() const; // newest first
    bool hasActive(const QString &kind) const;

    // Replaces the stored record and writes it; wakes waiters when the state, phase
    // or log count changed.
    Result update(const JobRecord &record);
    // Progress that need not wake waiters; written at most every 500 ms.
    void setProgress(const QString &id, double progress, qint64 bytesDone, qint64 bytesTotal);
    void appendLog(const QString &id, const QString &line, const QString &stream = QStringLiteral("agent"));
    QList<JobLogLine> log(const QString &id, qint64 since) const;

    static bool isValidId(const QString &id);

Q_SIGNALS:
    void changed(const QString &id);

private:
    Result write(const JobRecord &record);
    void flushProgress();
    void prune();

    QString m_directory;
    QHash<QString, JobRecord> m_jobs;
    mutable QHash<QString, QList<JobLogLine>> m_logs; // loaded on first use
    QList<QString> m_dirty;
    QStringList m_interruptedAtOpen;
    QTimer m_progressTimer;
};

} // namespace ft::agent

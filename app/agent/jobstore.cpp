#include "jobstore.h"

#include "support/logging.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QSaveFile>

#include <spdlog/spdlog.h>

#include <algorithm>

namespace ft::agent {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::agent::JobStore", text); }

QJsonValue timeValue(const QDateTime &time)
{
    return time.isValid() ? QJsonValue(time.toUTC().toString(Qt::ISODate)) : QJsonValue(QJsonValue::Null);
}

QDateTime timeFrom(const QJsonValue &value)
{
    return value.isString() ? QDateTime::fromString(value.toString(), Qt::ISODate) : QDateTime();
}

QJsonValue stringOrNull(const QString &text)
{
    return text.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(text);
}

QDateTime nowUtc()
{
    return QDateTime::currentDateTimeUtc();
}

} // namespace

QJsonObject JobLogLine::toJson() const
{
    // Milliseconds: callers measure how fast lines reach them.
    return {{QStringLiteral("n"), n}, {QStringLiteral("t"), time.toUTC().toString(Qt::ISODateWithMs)},
            {QStringLiteral("line"), line}, {QStringLiteral("stream"), stream}};
}

bool JobRecord::isActive() const
{
    return state == QLatin1String("queued") || state == QLatin1String("running");
}

QJsonObject JobRecord::toJson() const
{
    QJsonObject json{
        {QStringLiteral("id"), id},
        {QStringLiteral("kind"), kind},
        {QStringLiteral("component"), stringOrNull(component)},
        {QStringLiteral("package"), stringOrNull(package)},
        {QStringLiteral("state"), state},
        {QStringLiteral("phase"), phase},
        {QStringLiteral("progress"), progress},
        {QStringLiteral("bytes_done"), bytesDone},
        {QStringLiteral("bytes_total"), bytesTotal},
        {QStringLiteral("created"), timeValue(created)},
        {QStringLiteral("started"), timeValue(started)},
        {QStringLiteral("finished"), timeValue(finished)},
        {QStringLiteral("exit_code"), exitCode ? QJsonValue(*exitCode) : QJsonValue(QJsonValue::Null)},
        {QStringLiteral("reboot_requested"), rebootRequested},
        {QStringLiteral("reboot_needed"), rebootNeeded},
        {QStringLiteral("version_before"), stringOrNull(versionBefore)},
        {QStringLiteral("version_after"), stringOrNull(versionAfter)},
        {QStringLiteral("service_restored"),
         serviceRestored ? QJsonValue(*serviceRestored) : QJsonValue(QJsonValue::Null)},
        {QStringLiteral("error"), stringOrNull(error)},
        {QStringLiteral("log_lines"), logLines},
        {QStringLiteral("phases"), phases},
    };
    if (!url.isEmpty())
        json.insert(QStringLiteral("url"), url);
    if (!flows.isEmpty())
        json.insert(QStringLiteral("flows"), flows);
    return json;
}

Expected<JobRecord> JobRecord::fromJson(const QJsonObject &json)
{
    JobRecord r;
    r.id = json.value(QStringLiteral("id")).toString();
    r.kind = json.value(QStringLiteral("kind")).toString();
    if (!JobStore::isValidId(r.id) || r.kind.isEmpty())
        return makeError(tr("The job file has no valid id or kind."));
    r.component = json.value(QStringLiteral("component")).toString();
    r.package = json.value(QStringLiteral("package")).toString();
    r.url = json.value(QStringLiteral("url")).toString();
    r.state = json.value(QStringLiteral("state")).toString();
    r.phase = json.value(QStringLiteral("phase")).toString();
    r.progress = json.value(QStringLiteral("progress")).toDouble();
    r.bytesDone = json.value(QStringLiteral("bytes_done")).toInteger();
    r.bytesTotal = json.value(QStringLiteral("bytes_total")).toInteger();
    r.created = timeFrom(json.value(QStringLiteral("created")));
    r.started = timeFrom(json.value(QStringLiteral("started")));
    r.finished = timeFrom(json.value(QStringLiteral("finished")));
    if (json.value(QStringLiteral("exit_code")).isDouble())
        r.exitCode = json.value(QStringLiteral("exit_code")).toInt();
    r.rebootRequested = json.value(QStringLiteral("reboot_requested")).toBool();
    r.rebootNeeded = json.value(QStringLiteral("reboot_needed")).toBool();
    r.versionBefore = json.value(QStringLiteral("version_before")).toString();
    r.versionAfter = json.value(QStringLiteral("version_after")).toString();
    if (json.value(QStringLiteral("service_restored")).isBool())
        r.serviceRestored = json.value(QStringLiteral("service_restored")).toBool();
    r.error = json.value(QStringLiteral("error")).toString();
    r.logLines = json.value(QStringLiteral("log_lines")).toInteger();
    r.phases = json.value(QStringLiteral("phases")).toArray();
    r.flows = json.value(QStringLiteral("flows")).toObject();
    return r;
}

JobStore::JobStore(const QString &directory, QObject *parent)
    : QObject(parent)
    , m_directory(directory)
{
    m_progressTimer.setInterval(500);
    m_progressTimer.setSingleShot(true);
    connect(&m_progressTimer, &QTimer::timeout, this, [this] { flushProgress(); });
}

bool JobStore::isValidId(const QString &id)
{
    static const QRegularExpression pattern(QStringLiteral("^[A-Za-z0-9][A-Za-z0-9-]{0,63}$"));
    return pattern.match(id).hasMatch();
}

Result JobStore::open()
{
    QDir dir(m_directory);
    if (!dir.mkpath(QStringLiteral(".")))
        return makeError(tr("Cannot create the jobs folder %1.").arg(QDir::toNativeSeparators(m_directory)));

    const QStringList files = dir.entryList({QStringLiteral("*.json")}, QDir::Files);
    for (const QString &name : files) {
        QFile file(dir.filePath(name));
        if (!file.open(QIODevice::ReadOnly))
            continue;
        const QJsonDocument doc = QJsonDocument::fromJson(file.readAll());
        auto record = JobRecord::fromJson(doc.object());
        if (!record) {
            logging::logger()->warn("Skipping unreadable job file {}", name.toStdString());
            continue;
        }
        // The log may hold lines written after the last state write.
        const QList<JobLogLine> lines = log(record->id, 0);
        record->logLines = lines.isEmpty() ? 0 : lines.last().n + 1;
        if (record->isActive()) {
            // The process that ran it is gone; never pretend it still runs.
            record->error = tr("The agent was restarted while this job was %1 (phase \"%2\"); "
                               "check the node's state before retrying.")
                                .arg(record->state, record->phase);
            record->state = QStringLiteral("interrupted");
            record->finished = nowUtc();
            m_jobs.insert(record->id, *record);
            appendLog(record->id, record->error);
            if (auto written = write(m_jobs.value(record->id)); !written)
                return written;
            m_interruptedAtOpen.append(record->id);
            continue;
        }
        m_jobs.insert(record->id, *record);
    }
    m_interruptedAtOpen.sort();
    prune();
    return {};
}

void JobStore::prune()
{
    const QList<JobRecord> all = jobs(); // newest first
    for (qsizetype i = kMaxKeptJobs; i < all.size(); ++i) {
        const JobRecord &old = all.at(i);
        if (old.isActive())
            continue;
        QDir dir(m_directory);
        dir.remove(old.id + QStringLiteral(".json"));
        dir.remove(old.id + QStringLiteral(".log"));
        m_jobs.remove(old.id);
        m_logs.remove(old.id);
    }
    if (all.size() > kMaxKeptJobs)
        logging::logger()->info("Removed {} old job(s); the newest {} are kept", all.size() - m_jobs.size(),
                                kMaxKeptJobs);
}

JobRecord JobStore::create(const QString &kind)
{
    JobRecord record;
    const QDateTime now = nowUtc();
    do {
        record.id = now.toString(QStringLiteral("yyyyMMdd-HHmmss-"))
                    + QString::number(QRandomGenerator::global()->generate() & 0xffffff, 16)
                          .rightJustified(6, QLatin1Char('0'));
    } while (m_jobs.contains(record.id));
    record.kind = kind;
    record.created = now;
    m_jobs.insert(record.id, record);
    m_logs.insert(record.id, {});
    return record;
}

const JobRecord *JobStore::job(const QString &id) const
{
    auto it = m_jobs.constFind(id);
    return it == m_jobs.constEnd() ? nullptr : &it.value();
}

QList<JobRecord> JobStore::jobs() const
{
    QList<JobRecord> list = m_jobs.values();
    std::sort(list.begin(), list.end(), [](const JobRecord &a, const JobRecord &b) {
        return a.created != b.created ? a.created > b.created : a.id > b.id;
    });
    return list;
}

bool JobStore::hasActive(const QString &kind) const
{
    return std::any_of(m_jobs.cbegin(), m_jobs.cend(), [&](const JobRecord &r) {
        return r.kind == kind && r.isActive();
    });
}

Result JobStore::update(const JobRecord &record)
{
    JobRecord &stored = m_jobs[record.id];
    const bool wake = stored.state != record.state || stored.phase != record.phase
                      || stored.error != record.error;
    const qint64 logLines = stored.logLines;
    stored = record;
    stored.logLines = logLines; // owned by appendLog()
    m_dirty.removeAll(record.id);
    const Result written = write(stored);
    if (!written)
        logging::logger()->error("Cannot write job {}: {}", record.id.toStdString(),
                                 written.error().toStdString());
    if (wake)
        Q_EMIT changed(record.id);
    return written;
}

void JobStore::setProgress(const QString &id, double progress, qint64 bytesDone, qint64 bytesTotal)
{
    auto it = m_jobs.find(id);
    if (it == m_jobs.end())
        return;
    it->progress = progress;
    it->bytesDone = bytesDone;
    it->bytesTotal = bytesTotal;
    if (!m_dirty.contains(id))
        m_dirty.append(id);
    if (!m_progressTimer.isActive())
        m_progressTimer.start();
}

void JobStore::flushProgress()
{
    const QList<QString> dirty = std::exchange(m_dirty, {});
    for (const QString &id : dirty) {
        if (const JobRecord *record = job(id))
            (void)write(*record);
    }
}

void JobStore::appendLog(const QString &id, const QString &line, const QString &stream)
{
    auto it = m_jobs.find(id);
    if (it == m_jobs.end())
        return;
    if (!m_logs.contains(id))
        (void)log(id, 0); // load earlier lines first, so numbering continues
    QList<JobLogLine> &lines = m_logs[id];
    JobLogLine entry{it->logLines, nowUtc(), line, stream};
    ++it->logLines;
    lines.append(entry);

    // Appended one JSON line at a time: a crash loses at most the line being written,
    // which open() skips.
    QFile file(QDir(m_directory).filePath(id + QStringLiteral(".log")));
    if (file.open(QIODevice::WriteOnly | QIODevice::Append)) {
        file.write(QJsonDocument(entry.toJson()).toJson(QJsonDocument::Compact) + '\n');
        file.close();
    }
    Q_EMIT changed(id);
}

QList<JobLogLine> JobStore::log(const QString &id, qint64 since) const
{
    auto cached = m_logs.constFind(id);
    QList<JobLogLine> lines;
    if (cached != m_logs.constEnd()) {
        lines = cached.value();
    } else {
        QFile file(QDir(m_directory).filePath(id + QStringLiteral(".log")));
        if (file.open(QIODevice::ReadOnly)) {
            while (!file.atEnd()) {
                const QJsonObject json = QJsonDocument::fromJson(file.readLine()).object();
                if (json.isEmpty())
                    continue;
                lines.append({json.value(QStringLiteral("n")).toInteger(),
                              timeFrom(json.value(QStringLiteral("t"))),
                              json.value(QStringLiteral("line")).toString(),
                              json.value(QStringLiteral("stream")).toString()});
            }
        }
        m_logs.insert(id, lines);
    }
    QList<JobLogLine> result;
    for (const JobLogLine &line : std::as_const(lines)) {
        if (line.n >= since)
            result.append(line);
    }
    return result;
}

Result JobStore::write(const JobRecord &record)
{
    QSaveFile file(QDir(m_directory).filePath(record.id + QStringLiteral(".json")));
    if (!file.open(QIODevice::WriteOnly))
        return makeError(tr("Cannot write the job file: %1").arg(file.errorString()));
    file.write(QJsonDocument(record.toJson()).toJson(QJsonDocument::Indented));
    if (!file.commit())
        return makeError(tr("Cannot write the job file: %1").arg(file.errorString()));
    return {};
}

} // namespace ft::agent

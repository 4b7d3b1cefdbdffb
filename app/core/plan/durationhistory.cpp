#include "plan/durationhistory.h"

#include <QAtomicInt>
#include <QCoreApplication>
#include <QFileInfo>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>

#include <algorithm>

namespace ft {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::DurationHistory", text); }

QString outcomeName(StepOutcome outcome)
{
    switch (outcome) {
    case StepOutcome::Succeeded: return QStringLiteral("succeeded");
    case StepOutcome::Failed: return QStringLiteral("failed");
    case StepOutcome::Cancelled: return QStringLiteral("cancelled");
    }
    return {};
}

template<typename T>
T medianOf(QList<T> values)
{
    if (values.isEmpty())
        return T{};
    std::sort(values.begin(), values.end());
    const qsizetype middle = values.size() / 2;
    if (values.size() % 2 == 1)
        return values.at(middle);
    return (values.at(middle - 1) + values.at(middle)) / 2;
}

qint64 totalOf(const MeasuredStep &step)
{
    return step.totalMs > 0 ? step.totalMs : step.phases.totalMs();
}

// A run recorded without phase figures counts as down for its whole duration.
qint64 outageOf(const MeasuredStep &step)
{
    return step.phases.isEmpty() ? totalOf(step) : step.phases.outageMs();
}

const char *const kCreateTable = R"(
CREATE TABLE IF NOT EXISTS measured_steps (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    cluster_id    TEXT    NOT NULL,
    node          TEXT    NOT NULL,
    os            TEXT    NOT NULL,
    component     TEXT    NOT NULL,
    stopping_ms   INTEGER NOT NULL,
    installing_ms INTEGER NOT NULL,
    starting_ms   INTEGER NOT NULL,
    checking_ms   INTEGER NOT NULL,
    total_ms      INTEGER NOT NULL,
    outcome       TEXT    NOT NULL,
    recorded_at   TEXT    NOT NULL
))";

const char *const kCreateIndex =
    "CREATE INDEX IF NOT EXISTS measured_steps_lookup "
    "ON measured_steps (cluster_id, component, os, outcome, recorded_at)";

const char *const kColumns =
    "cluster_id, node, os, component, stopping_ms, installing_ms, starting_ms, checking_ms, "
    "total_ms, outcome, recorded_at";

Expected<MeasuredStep> stepFromQuery(const QSqlQuery &query)
{
    MeasuredStep step;
    step.clusterId = query.value(0).toString();
    step.node = query.value(1).toString();
    const auto os = parseOsKind(query.value(2).toString());
    const auto component = parseComponent(query.value(3).toString());
    const auto outcome = parseStepOutcome(query.value(9).toString());
    if (!os || !component || !outcome)
        return makeError(tr("The duration history holds a row it cannot read."));
    step.os = *os;
    step.component = *component;
    step.phases = {query.value(4).toLongLong(), query.value(5).toLongLong(),
                   query.value(6).toLongLong(), query.value(7).toLongLong()};
    step.totalMs = query.value(8).toLongLong();
    step.outcome = *outcome;
    step.recordedAt = QDateTime::fromString(query.value(10).toString(), Qt::ISODateWithMs);
    return step;
}

} // namespace

QString toString(StepOutcome outcome) { return outcomeName(outcome); }

Expected<StepOutcome> parseStepOutcome(const QString &text)
{
    for (StepOutcome outcome : {StepOutcome::Succeeded, StepOutcome::Failed, StepOutcome::Cancelled}) {
        if (text == outcomeName(outcome))
            return outcome;
    }
    return makeError(tr("Unknown step outcome \"%1\".").arg(text.left(40)));
}

DurationHistory::DurationHistory()
{
    static QAtomicInt counter;
    m_connectionName = QStringLiteral("ft.durationhistory.%1").arg(counter.fetchAndAddRelaxed(1));
}

DurationHistory::~DurationHistory()
{
    close();
}

bool DurationHistory::isOpen() const
{
    return QSqlDatabase::contains(m_connectionName)
           && QSqlDatabase::database(m_connectionName, false).isOpen();
}

void DurationHistory::close()
{
    if (!QSqlDatabase::contains(m_connectionName))
        return;
    {
        QSqlDatabase db = QSqlDatabase::database(m_connectionName, false);
        db.close();
    }
    QSqlDatabase::removeDatabase(m_connectionName);
    m_path.clear();
}

Result DurationHistory::open(const QString &path)
{
    close();
    if (!QSqlDatabase::isDriverAvailable(QStringLiteral("QSQLITE")))
        return makeError(tr("The SQLite driver for Qt is not installed (libqt6sql6-sqlite), so "
                            "measured durations cannot be kept."));
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_connectionName);
        db.setDatabaseName(path);
        if (!db.open()) {
            const QString reason = db.lastError().text();
            db = QSqlDatabase();
            QSqlDatabase::removeDatabase(m_connectionName);
            return makeError(tr("Cannot open the duration history %1: %2").arg(path, reason));
        }
    }
    m_path = path;
    const Result migrated = migrate();
    if (!migrated) {
        close();
        return makeError(tr("Cannot use the duration history %1: %2").arg(path, migrated.error()));
    }
    return {};
}

Result DurationHistory::migrate()
{
    QSqlDatabase db = QSqlDatabase::database(m_connectionName, false);
    QSqlQuery query(db);
    if (!query.exec(QStringLiteral("PRAGMA user_version")) || !query.next())
        return makeError(query.lastError().text());
    const int version = query.value(0).toInt();
    if (version > kSchemaVersion)
        return makeError(tr("it was written by a newer version of the wizard (schema %1; this one "
                            "reads up to %2).")
                             .arg(version)
                             .arg(kSchemaVersion));
    if (version == kSchemaVersion)
        return {};

    // A fresh file: create the schema in one transaction so a crash leaves no half.
    if (!db.transaction())
        return makeError(db.lastError().text());
    const char *const statements[] = {kCreateTable, kCreateIndex};
    for (const char *statement : statements) {
        if (!query.exec(QLatin1String(statement))) {
            const QString reason = query.lastError().text();
            db.rollback();
            return makeError(reason);
        }
    }
    if (!query.exec(QStringLiteral("PRAGMA user_version = %1").arg(kSchemaVersion))) {
        const QString reason = query.lastError().text();
        db.rollback();
        return makeError(reason);
    }
    if (!db.commit())
        return makeError(db.lastError().text());
    return {};
}

Result DurationHistory::record(const MeasuredStep &step)
{
    if (!isOpen())
        return makeError(tr("The duration history is not open."));
    if (step.clusterId.isEmpty() || step.node.isEmpty())
        return makeError(tr("A measured step needs a cluster and a node."));
    const PhaseDurations &p = step.phases;
    if (p.stoppingMs < 0 || p.installingMs < 0 || p.startingMs < 0 || p.checkingMs < 0
        || step.totalMs < 0)
        return makeError(tr("A measured step cannot take a negative time."));
    if (totalOf(step) <= 0)
        return makeError(tr("A measured step needs a duration."));

    QSqlQuery query(QSqlDatabase::database(m_connectionName, false));
    query.prepare(QStringLiteral("INSERT INTO measured_steps (%1) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
                                 "?, ?, ?)")
                      .arg(QLatin1String(kColumns)));
    const QDateTime at = (step.recordedAt.isValid() ? step.recordedAt
                                                    : QDateTime::currentDateTimeUtc())
                             .toUTC();
    const QVariantList values{step.clusterId, step.node, toString(step.os),
                              toString(step.component), p.stoppingMs, p.installingMs,
                              p.startingMs, p.checkingMs, totalOf(step),
                              toString(step.outcome), at.toString(Qt::ISODateWithMs)};
    for (const QVariant &value : values)
        query.addBindValue(value);
    if (!query.exec())
        return makeError(tr("Cannot record a measured duration in %1: %2")
                             .arg(m_path, query.lastError().text()));
    return {};
}

Expected<QList<MeasuredStep>> DurationHistory::steps(const QString &clusterId) const
{
    if (!isOpen())
        return makeError(tr("The duration history is not open."));
    QSqlQuery query(QSqlDatabase::database(m_connectionName, false));
    query.prepare(QStringLiteral("SELECT %1 FROM measured_steps WHERE cluster_id = ? "
                                 "ORDER BY recorded_at, id")
                      .arg(QLatin1String(kColumns)));
    query.addBindValue(clusterId);
    if (!query.exec())
        return makeError(tr("Cannot read the duration history %1: %2")
                             .arg(m_path, query.lastError().text()));
    QList<MeasuredStep> result;
    while (query.next()) {
        auto step = stepFromQuery(query);
        if (!step)
            return makeError(step.error());
        result.append(*step);
    }
    return result;
}

QList<MeasuredStep> DurationHistory::lastSuccessful(const QString &clusterId, OsKind os,
                                                    Component component, const QString &node,
                                                    int runs) const
{
    QList<MeasuredStep> result;
    if (!isOpen() || runs <= 0)
        return result;
    QSqlQuery query(QSqlDatabase::database(m_connectionName, false));
    QString sql = QStringLiteral("SELECT %1 FROM measured_steps WHERE cluster_id = ? AND os = ? "
                                 "AND component = ? AND outcome = ?")
                      .arg(QLatin1String(kColumns));
    if (!node.isEmpty())
        sql += QStringLiteral(" AND node = ?");
    sql += QStringLiteral(" ORDER BY recorded_at DESC, id DESC LIMIT ?");
    query.prepare(sql);
    query.addBindValue(clusterId);
    query.addBindValue(toString(os));
    query.addBindValue(toString(component));
    query.addBindValue(toString(StepOutcome::Succeeded));
    if (!node.isEmpty())
        query.addBindValue(node);
    query.addBindValue(runs);
    if (!query.exec())
        return result;
    while (query.next()) {
        if (auto step = stepFromQuery(query))
            result.append(*step);
    }
    return result;
}

DurationEstimate DurationHistory::estimate(const QString &clusterId, OsKind os,
                                           Component component, const QString &node,
                                           const EstimateDefaults &defaults, int runs) const
{
    if (!node.isEmpty()) {
        const QList<MeasuredStep> own = lastSuccessful(clusterId, os, component, node, runs);
        if (!own.isEmpty()) {
            DurationEstimate estimate = medianEstimate(own);
            estimate.basis = own.size() == 1
                                 ? tr("Measured on %1 in one earlier run (%2).")
                                       .arg(node, formatDuration(estimate.totalMs))
                                 : tr("Median of the last %1 measured runs on %2 (%3).")
                                       .arg(own.size())
                                       .arg(node, formatDuration(estimate.totalMs));
            return estimate;
        }
    }
    const QList<MeasuredStep> cluster = lastSuccessful(clusterId, os, component, {}, runs);
    if (!cluster.isEmpty()) {
        DurationEstimate estimate = medianEstimate(cluster);
        estimate.basis = cluster.size() == 1
                             ? tr("Measured once before on a %1 node of this cluster (%2).")
                                   .arg(displayName(os), formatDuration(estimate.totalMs))
                             : tr("Median of the last %1 measured %2 upgrades on %3 nodes of this "
                                  "cluster (%4).")
                                   .arg(cluster.size())
                                   .arg(displayName(component), displayName(os),
                                        formatDuration(estimate.totalMs));
        return estimate;
    }
    return defaults.upgrade(component, os);
}

DurationEstimate medianEstimate(const QList<MeasuredStep> &runs)
{
    DurationEstimate estimate;
    if (runs.isEmpty())
        return estimate;
    QList<qint64> totals, outages, stopping, installing, starting, checking;
    for (const MeasuredStep &run : runs) {
        totals.append(totalOf(run));
        outages.append(outageOf(run));
        stopping.append(run.phases.stoppingMs);
        installing.append(run.phases.installingMs);
        starting.append(run.phases.startingMs);
        checking.append(run.phases.checkingMs);
    }
    estimate.totalMs = medianOf(totals);
    estimate.outageMs = std::min(medianOf(outages), estimate.totalMs);
    estimate.phases = {medianOf(stopping), medianOf(installing), medianOf(starting),
                       medianOf(checking)};
    estimate.source = EstimateSource::Measured;
    estimate.runs = int(runs.size());
    return estimate;
}

} // namespace ft

#include "flowhistory.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>

namespace ft::sandbox {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("ft::sandbox::FlowHistory", text);
}

constexpr qint64 kHour = 3600;

} // namespace

Expected<FlowHistory> FlowHistory::load(const QString &path)
{
    FlowHistory history;
    QFile file(path);
    if (!file.exists())
        return history;
    const QString native = QDir::toNativeSeparators(path);
    if (!file.open(QIODevice::ReadOnly))
        return makeError(tr("Cannot read %1: %2").arg(native, file.errorString()));
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject()
        || !doc.object().value(QLatin1String("hours")).isArray())
        return makeError(tr("%1 is not a flow history ({\"hours\": [...]}).").arg(native));

    const QJsonArray hours = doc.object().value(QLatin1String("hours")).toArray();
    for (const auto &value : hours) {
        const QJsonObject hour = value.toObject();
        const QDateTime start
                = QDateTime::fromString(hour.value(QLatin1String("start")).toString(), Qt::ISODate);
        const QJsonValue flows = hour.value(QLatin1String("flows"));
        if (!start.isValid() || !flows.isDouble() || flows.toDouble() < 0)
            return makeError(tr("%1 has an hour without a valid start or flow count.").arg(native));
        const qint64 startSecs = start.toSecsSinceEpoch() / kHour * kHour;
        history.m_baseline[startSecs] += qint64(flows.toDouble());
    }
    return history;
}

QMap<qint64, qint64> FlowHistory::merged(const QMap<qint64, qint64> &runHours,
                                         qint64 nowMsecs) const
{
    QMap<qint64, qint64> result = m_baseline;
    for (auto it = runHours.cbegin(); it != runHours.cend(); ++it)
        result[it.key()] += it.value();
    // Keep kMaxDays of whole hours, the current one included.
    const qint64 oldest = nowMsecs / 1000 / kHour * kHour - (qint64(kMaxDays) * 24 - 1) * kHour;
    result.erase(result.begin(), result.lowerBound(oldest));
    return result;
}

Result FlowHistory::save(const QString &path, const QMap<qint64, qint64> &runHours,
                         qint64 nowMsecs) const
{
    const QMap<qint64, qint64> hours = merged(runHours, nowMsecs);
    QJsonArray array;
    for (auto it = hours.cbegin(); it != hours.cend(); ++it) {
        array.append(QJsonObject{
                {QStringLiteral("start"),
                 QDateTime::fromSecsSinceEpoch(it.key(), Qt::UTC).toString(Qt::ISODate)},
                {QStringLiteral("flows"), it.value()}});
    }

    const QString native = QDir::toNativeSeparators(path);
    if (!QDir().mkpath(QFileInfo(path).absolutePath()))
        return makeError(tr("Cannot create the folder of %1.").arg(native));
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return makeError(tr("Cannot write %1: %2").arg(native, file.errorString()));
    file.write(QJsonDocument(QJsonObject{{QStringLiteral("hours"), array}})
                       .toJson(QJsonDocument::Compact));
    file.write("\n");
    if (!file.commit())
        return makeError(tr("Cannot write %1: %2").arg(native, file.errorString()));
    return {};
}

} // namespace ft::sandbox

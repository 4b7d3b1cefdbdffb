#include "plan/estimate.h"

#include <QCoreApplication>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cmath>

namespace ft {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::Estimate", text); }

constexpr qint64 kSecond = 1000;

PhaseDurations seconds(qint64 stopping, qint64 installing, qint64 starting, qint64 checking)
{
    return {stopping * kSecond, installing * kSecond, starting * kSecond, checking * kSecond};
}

const char *const kResourcePath = ":/ft/default-estimates.json";

} // namespace

QString toString(EstimateSource source)
{
    return source == EstimateSource::Measured ? QStringLiteral("measured")
                                              : QStringLiteral("default");
}

EstimateDefaults EstimateDefaults::builtIn()
{
    // Keep in step with resources/default-estimates.json (tst_estimates checks it).
    EstimateDefaults defaults;
    defaults.m_origin = tr("built-in defaults");
    defaults.setPhases(Component::Server, OsKind::Linux, seconds(20, 150, 40, 30));
    defaults.setPhases(Component::Server, OsKind::Windows, seconds(30, 240, 60, 30));
    for (OsKind os : {OsKind::Linux, OsKind::Windows}) {
        defaults.setPhases(Component::Nbi, os, seconds(10, 70, 20, 20));
        defaults.setPhases(Component::WebUi, os, seconds(0, 45, 0, 15));
    }
    defaults.m_stagingBytesPerSecond = 50LL * 1024 * 1024;
    return defaults;
}

Expected<EstimateDefaults> EstimateDefaults::fromFile(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return makeError(tr("Cannot read the estimates file %1: %2").arg(path, file.errorString()));
    if (file.size() > 1024 * 1024)
        return makeError(tr("The estimates file %1 is too large to be an estimates file.").arg(path));
    return fromJson(file.readAll(), path);
}

Expected<EstimateDefaults> EstimateDefaults::fromJson(const QByteArray &json, const QString &origin)
{
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(json, &parseError);
    if (parseError.error != QJsonParseError::NoError || !document.isObject())
        return makeError(tr("The estimates file %1 is not valid JSON: %2")
                             .arg(origin, parseError.errorString()));
    const QJsonObject root = document.object();
    if (root.value(QLatin1String("format")).toInt() != 1)
        return makeError(tr("The estimates file %1 has an unknown format (expected \"format\": 1).")
                             .arg(origin));

    // Start from the built-in figures: a file may override only some of them.
    EstimateDefaults defaults = builtIn();
    defaults.m_origin = origin;

    const QJsonValue speed = root.value(QLatin1String("staging_bytes_per_second"));
    if (!speed.isUndefined()) {
        if (!speed.isDouble() || speed.toDouble() < 1)
            return makeError(tr("The estimates file %1 has a bad \"staging_bytes_per_second\" "
                                "(expected a positive number).")
                                 .arg(origin));
        defaults.m_stagingBytesPerSecond = qint64(speed.toDouble());
    }

    const QJsonValue upgrades = root.value(QLatin1String("upgrades"));
    if (!upgrades.isUndefined() && !upgrades.isArray())
        return makeError(tr("The estimates file %1 has a bad \"upgrades\" list.").arg(origin));
    const QJsonArray entries = upgrades.toArray();
    for (qsizetype i = 0; i < entries.size(); ++i) {
        const QJsonObject entry = entries.at(i).toObject();
        const auto component = parseComponent(entry.value(QLatin1String("component")).toString());
        const auto os = parseOsKind(entry.value(QLatin1String("os")).toString());
        if (!component || !os)
            return makeError(tr("Entry %1 of the estimates file %2: %3")
                                 .arg(i + 1)
                                 .arg(origin, component ? os.error() : component.error()));
        const QJsonObject phases = entry.value(QLatin1String("phases")).toObject();
        PhaseDurations durations;
        const std::pair<const char *, qint64 *> fields[] = {
            {"stopping", &durations.stoppingMs},
            {"installing", &durations.installingMs},
            {"starting", &durations.startingMs},
            {"checking", &durations.checkingMs},
        };
        for (const auto &[name, target] : fields) {
            const QJsonValue value = phases.value(QLatin1String(name));
            if (!value.isDouble() || value.toDouble() < 0 || value.toDouble() > 24 * 3600)
                return makeError(tr("Entry %1 of the estimates file %2 has a bad \"%3\" phase "
                                    "(expected seconds from 0 to 86400).")
                                     .arg(i + 1)
                                     .arg(origin, QLatin1String(name)));
            *target = qint64(std::llround(value.toDouble() * kSecond));
        }
        if (durations.isEmpty())
            return makeError(tr("Entry %1 of the estimates file %2 takes no time at all.")
                                 .arg(i + 1)
                                 .arg(origin));
        defaults.setPhases(*component, *os, durations);
    }
    return defaults;
}

Expected<EstimateDefaults> EstimateDefaults::load(const QString &overridePath)
{
    if (!overridePath.isEmpty())
        return fromFile(overridePath);
    if (QFile::exists(QLatin1String(kResourcePath)))
        return fromFile(QLatin1String(kResourcePath));
    return builtIn();
}

int EstimateDefaults::key(Component component, OsKind os)
{
    return int(component) * 16 + int(os);
}

PhaseDurations EstimateDefaults::phases(Component component, OsKind os) const
{
    return m_phases.value(key(component, os));
}

void EstimateDefaults::setPhases(Component component, OsKind os, const PhaseDurations &phases)
{
    m_phases.insert(key(component, os), phases);
}

void EstimateDefaults::setStagingBytesPerSecond(qint64 bytesPerSecond)
{
    m_stagingBytesPerSecond = std::max<qint64>(1, bytesPerSecond);
}

qint64 EstimateDefaults::stagingMs(qint64 bytes) const
{
    if (bytes <= 0)
        return 0;
    // Round up: a started second is a second.
    return (bytes * kSecond + m_stagingBytesPerSecond - 1) / m_stagingBytesPerSecond;
}

DurationEstimate EstimateDefaults::upgrade(Component component, OsKind os) const
{
    DurationEstimate estimate;
    estimate.phases = phases(component, os);
    estimate.totalMs = estimate.phases.totalMs();
    estimate.outageMs = estimate.phases.outageMs();
    estimate.source = EstimateSource::Default;
    estimate.basis = tr("Default for a %1 upgrade on %2 (%3), from %4; no run of it has been "
                        "measured on this cluster yet.")
                         .arg(displayName(component), displayName(os),
                              formatDuration(estimate.totalMs), m_origin);
    return estimate;
}

QString formatDuration(qint64 ms)
{
    const qint64 totalSeconds = (std::max<qint64>(0, ms) + 500) / 1000;
    const qint64 hours = totalSeconds / 3600;
    const qint64 minutes = (totalSeconds % 3600) / 60;
    const qint64 seconds = totalSeconds % 60;
    if (hours > 0)
        return minutes > 0 ? tr("%1 h %2 min").arg(hours).arg(minutes) : tr("%1 h").arg(hours);
    if (minutes > 0)
        return seconds > 0 ? tr("%1 min %2 s").arg(minutes).arg(seconds)
                           : tr("%1 min").arg(minutes);
    return tr("%1 s").arg(seconds);
}

qint64 flowsLost(double flowsPerSecond, qint64 outageMs)
{
    if (flowsPerSecond <= 0 || outageMs <= 0)
        return 0;
    return qint64(std::llround(flowsPerSecond * double(outageMs) / 1000.0));
}

} // namespace ft

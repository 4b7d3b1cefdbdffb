#include "webuibaseline.h"

#include "packages/filemanifest.h"
#include "versionsources.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QSaveFile>

namespace ft::agent::webuibaseline {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::agent::WebUiBaseline", text); }

QString baselineDir(const AgentConfig &config)
{
    return QDir(config.directory()).filePath(QStringLiteral("state/baselines"));
}

bool safeVersion(const QString &version)
{
    static const QRegularExpression plain(QStringLiteral("^[0-9A-Za-z.+_-]{1,64}$"));
    return plain.match(version).hasMatch();
}

} // namespace

QString installedVersion(const AgentConfig &config)
{
    return versionsources::read(config, QStringLiteral("webui")).version;
}

Expected<QJsonObject> record(const AgentConfig &config, const QString &reason)
{
    const QString version = installedVersion(config);
    if (version.isEmpty())
        return makeError(tr("The installed Web UI version is not known, so a baseline cannot be recorded for it."));
    if (!safeVersion(version))
        return makeError(tr("The Web UI version \"%1\" cannot name a baseline file.").arg(version));
    if (!QFileInfo(config.sources.webuiDir).isDir())
        return makeError(tr("The Web UI folder %1 does not exist (webui_dir in agent.conf).")
                             .arg(QDir::toNativeSeparators(config.sources.webuiDir)));
    auto manifest = FileManifest::compute(config.sources.webuiDir, {QStringLiteral("VERSION")});
    if (!manifest)
        return makeError(manifest.error());
    const QDir dir(baselineDir(config));
    if (!QDir().mkpath(dir.path()))
        return makeError(tr("Cannot create %1.").arg(QDir::toNativeSeparators(dir.path())));
    const QString manifestPath = dir.filePath(QStringLiteral("webui-%1.sha256").arg(version));
    if (auto written = manifest->write(manifestPath); !written)
        return makeError(written.error());
    const QJsonObject meta{{QStringLiteral("version"), version},
                           {QStringLiteral("recorded"), QDateTime::currentDateTimeUtc().toString(Qt::ISODate)},
                           {QStringLiteral("files"), qint64(manifest->entries().size())},
                           {QStringLiteral("reason"), reason},
                           {QStringLiteral("webui_dir"), config.sources.webuiDir}};
    QSaveFile file(dir.filePath(QStringLiteral("webui-%1.json").arg(version)));
    if (!file.open(QIODevice::WriteOnly) || file.write(QJsonDocument(meta).toJson()) < 0 || !file.commit())
        return makeError(tr("Cannot write the baseline's record: %1").arg(file.errorString()));
    return meta;
}

Source find(const AgentConfig &config, const QString &version)
{
    if (version.isEmpty() || !safeVersion(version))
        return {};
    const QDir dir(baselineDir(config));
    const QString own = dir.filePath(QStringLiteral("webui-%1.sha256").arg(version));
    if (QFileInfo::exists(own)) {
        QFile metaFile(dir.filePath(QStringLiteral("webui-%1.json").arg(version)));
        QString recorded;
        if (metaFile.open(QIODevice::ReadOnly))
            recorded = QJsonDocument::fromJson(metaFile.readAll()).object().value(QStringLiteral("recorded")).toString();
        return {own, QStringLiteral("agent_baseline"), recorded};
    }
    const QString pristine = QDir(config.installDir).filePath(QStringLiteral("manifests/webui-%1.sha256").arg(version));
    if (QFileInfo::exists(pristine))
        return {pristine, QStringLiteral("sandbox_pristine"), {}};
    return {};
}

} // namespace ft::agent::webuibaseline

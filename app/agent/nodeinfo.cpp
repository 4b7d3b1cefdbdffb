#include "nodeinfo.h"

#include "packages/filemanifest.h"
#include "packages/package.h"
#include "versionsources.h"
#include "webuibaseline.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSettings>
#include <QStorageInfo>
#include <QSysInfo>

namespace ft::agent::nodeinfo {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::agent::NodeInfo", text); }

constexpr qint64 kMaxFileBytes = 4 * 1024 * 1024;

QString confPath(const AgentConfig &config)
{
    return QDir(config.installDir).filePath(QStringLiteral("flowtraq.conf"));
}

QJsonObject readJsonFile(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(file.readAll()).object();
}

QString versionFile(const QString &installDir, const QString &component)
{
    QDir dir(installDir);
    if (component == QLatin1String("webui"))
        return dir.filePath(QStringLiteral("webui/VERSION"));
    if (component == QLatin1String("nbi"))
        return dir.filePath(QStringLiteral("nbi/VERSION"));
    return dir.filePath(QStringLiteral("VERSION"));
}

// Text files can be shown as a diff; decided by content when we have it.
bool looksLikeText(const QString &path, const QString &fileOnDisk)
{
    static const QStringList textSuffixes = {
        QStringLiteral("html"), QStringLiteral("htm"), QStringLiteral("js"), QStringLiteral("css"),
        QStringLiteral("json"), QStringLiteral("txt"), QStringLiteral("xml"), QStringLiteral("svg"),
        QStringLiteral("md"), QStringLiteral("csv"), QStringLiteral("ini"), QStringLiteral("conf"),
        QStringLiteral("map"), QStringLiteral("mjs"), QStringLiteral("less"), QStringLiteral("scss")};
    if (!fileOnDisk.isEmpty()) {
        QFile file(fileOnDisk);
        if (file.open(QIODevice::ReadOnly)) {
            const QByteArray head = file.read(8192);
            if (head.contains('\0'))
                return false;
            if (!head.isEmpty())
                return true;
        }
    }
    return textSuffixes.contains(QFileInfo(path).suffix().toLower());
}

} // namespace

QString installedVersion(const QString &installDir, const QString &component)
{
    QFile file(versionFile(installDir, component));
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QString::fromUtf8(file.readLine(256)).trimmed();
}

qint64 freeBytes(const QString &directory)
{
    QString dir = directory;
    while (!QFileInfo::exists(dir) && QFileInfo(dir).absolutePath() != dir)
        dir = QFileInfo(dir).absolutePath();
    const QStorageInfo storage(dir);
    return storage.isValid() ? storage.bytesAvailable() : -1;
}

QJsonObject nodeReport(const AgentConfig &config, const ServiceProbe &service, bool busy,
                       const std::optional<FlowMeasurement> &measurement)
{
    QSettings conf(confPath(config), QSettings::IniFormat);
    const QString hostname = QSysInfo::machineHostName();
    const bool sandbox = config.backend == Backend::Sandbox;
    const QString os = sandbox ? conf.value(QStringLiteral("node/os"), QStringLiteral("linux")).toString()
                               : (config.backend == Backend::Windows ? QStringLiteral("windows")
                                                                      : QStringLiteral("linux"));

    // The install command templates this agent runs per vendor format (agent.conf
    // [installers], else its backend's defaults), so the Packages page shows what this
    // node will really run.
    QJsonObject installers;
    for (auto it = config.installerCommands.cbegin(); it != config.installerCommands.cend(); ++it)
        installers.insert(it.key(), it.value());

    QJsonObject components;
    for (const QString &component : {QStringLiteral("server"), QStringLiteral("nbi"), QStringLiteral("webui")})
        components.insert(component, versionsources::read(config, component).toJson());

    const int flowPort = conf.value(QStringLiteral("server/flow_port"), 0).toInt();
    const bool running = service.state == ServiceState::Running;
    QJsonObject flows;
    if (measurement) {
        // The agent's own packet counter: the rate is what it saw, or "not measured"
        // with the reason, never a 0 that looks like a quiet node.
        QJsonArray ports;
        for (quint16 port : measurement->ports)
            ports.append(int(port));
        flows = QJsonObject{
            {QStringLiteral("receives_flows"), !measurement->ports.isEmpty()},
            {QStringLiteral("flow_port"), measurement->ports.isEmpty() ? flowPort : int(measurement->ports.first())},
            {QStringLiteral("flow_ports"), ports},
            {QStringLiteral("source"), QStringLiteral("agent_capture")},
            {QStringLiteral("measured"), measurement->measured},
        };
        if (measurement->measured) {
            flows.insert(QStringLiteral("per_second_1m"), measurement->perSecond1m);
            flows.insert(QStringLiteral("per_second_10s"), measurement->perSecond10s);
            flows.insert(QStringLiteral("measured_since"), measurement->since.toString(Qt::ISODate));
            flows.insert(QStringLiteral("datagrams"), measurement->datagrams);
            flows.insert(QStringLiteral("records"), measurement->records);
            flows.insert(QStringLiteral("rejected"), measurement->rejected);
        } else {
            flows.insert(QStringLiteral("per_second_1m"), QJsonValue(QJsonValue::Null));
            flows.insert(QStringLiteral("per_second_10s"), QJsonValue(QJsonValue::Null));
            flows.insert(QStringLiteral("not_measured_reason"), measurement->reason);
        }
        flows.insert(QStringLiteral("last_flow_at"), measurement->lastFlowAt.isValid()
                                                         ? QJsonValue(measurement->lastFlowAt.toString(Qt::ISODate))
                                                         : QJsonValue(QJsonValue::Null));
    } else if (sandbox) {
        const QJsonObject status = readJsonFile(QDir(config.installDir).filePath(QStringLiteral("run/status.json")));
        flows = QJsonObject{
            {QStringLiteral("receives_flows"), flowPort != 0},
            {QStringLiteral("flow_port"), flowPort},
            {QStringLiteral("source"), QStringLiteral("sandbox_status")},
            {QStringLiteral("measured"), true},
            {QStringLiteral("per_second_1m"),
             running ? status.value(QStringLiteral("flows_per_second_1m")).toDouble() : 0.0},
            {QStringLiteral("per_second_10s"),
             running ? status.value(QStringLiteral("flows_per_second_10s")).toDouble() : 0.0},
            {QStringLiteral("last_flow_at"), status.value(QStringLiteral("last_flow_at")).isString()
                                                 ? status.value(QStringLiteral("last_flow_at"))
                                                 : QJsonValue(QJsonValue::Null)},
        };
    } else {
        flows = QJsonObject{
            {QStringLiteral("receives_flows"), flowPort != 0},
            {QStringLiteral("flow_port"), flowPort},
            {QStringLiteral("source"), QStringLiteral("none")},
            {QStringLiteral("measured"), false},
            {QStringLiteral("per_second_1m"), QJsonValue(QJsonValue::Null)},
            {QStringLiteral("per_second_10s"), QJsonValue(QJsonValue::Null)},
            {QStringLiteral("not_measured_reason"),
             config.backend == Backend::Windows
                 ? tr("The agent measures flow rates on Linux only.")
                 : tr("No flow_ports are configured in agent.conf, so the agent does not count flows.")},
            {QStringLiteral("last_flow_at"), QJsonValue(QJsonValue::Null)},
        };
    }

    return {
        {QStringLiteral("name"), conf.value(QStringLiteral("node/name"), hostname).toString()},
        {QStringLiteral("hostname"), hostname},
        {QStringLiteral("os"), os},
        {QStringLiteral("arch"), conf.value(QStringLiteral("node/arch"), QSysInfo::currentCpuArchitecture()).toString()},
        {QStringLiteral("role"), conf.value(QStringLiteral("node/role"), QStringLiteral("standalone")).toString()},
        {QStringLiteral("agent_version"), QStringLiteral(FTU_VERSION)},
        {QStringLiteral("api"), 1},
        {QStringLiteral("backend"), toString(config.backend)},
        {QStringLiteral("install_dir"), config.installDir},
        {QStringLiteral("installers"), installers},
        {QStringLiteral("components"), components},
        {QStringLiteral("service"), QJsonObject{{QStringLiteral("name"), config.serviceName},
                                                {QStringLiteral("state"), toString(service.state)},
                                                {QStringLiteral("detail"), service.detail}}},
        {QStringLiteral("flows"), flows},
        {QStringLiteral("disk"), QJsonObject{{QStringLiteral("staging_dir"), config.stagingDir},
                                             {QStringLiteral("free_bytes"), freeBytes(config.stagingDir)}}},
        {QStringLiteral("busy"), busy},
    };
}

QJsonObject clusterReport(const AgentConfig &config)
{
    QSettings conf(confPath(config), QSettings::IniFormat);
    const QString role = conf.value(QStringLiteral("node/role"), QStringLiteral("standalone")).toString();
    const QString name = conf.value(QStringLiteral("node/name"), QSysInfo::machineHostName()).toString();
    const QString portal = conf.value(QStringLiteral("cluster/portal"),
                                      role == QLatin1String("worker") ? QString() : name).toString();

    // The vendor documents no API and no file for the member list, so the administrator
    // (or the agent's installer) writes it into this agent's own configuration, read
    // afresh on every request. Only the sandbox's own flowtraq.conf (app/sandbox/LAYOUT.md)
    // is a fallback; a real node's FlowTraq configuration is never guessed at.
    const auto readMembers = [](QSettings &ini, bool withAgentPort) {
        QJsonArray members;
        ini.beginGroup(QStringLiteral("cluster"));
        for (const QString &member : ini.value(QStringLiteral("members")).toStringList()) {
            const QString trimmed = member.trimmed();
            if (trimmed.isEmpty())
                continue;
            members.append(QJsonObject{
                {QStringLiteral("name"), trimmed},
                {QStringLiteral("host"), ini.value(trimmed + QStringLiteral("/host")).toString()},
                {QStringLiteral("tcp_port"), ini.value(trimmed + QStringLiteral("/tcp_port"), 0).toInt()},
                {QStringLiteral("agent_port"), withAgentPort ? ini.value(trimmed + QStringLiteral("/agent_port"), 0).toInt() : 0},
            });
        }
        ini.endGroup();
        return members;
    };
    QSettings agentConf(config.file, QSettings::IniFormat);
    QJsonArray members = readMembers(agentConf, true);
    QString source = QStringLiteral("agent.conf");
    if (members.isEmpty()) {
        source = QStringLiteral("none");
        if (config.backend == Backend::Sandbox && role != QLatin1String("worker")) {
            members = readMembers(conf, true);
            if (!members.isEmpty())
                source = QStringLiteral("sandbox flowtraq.conf");
        }
    }
    return {{QStringLiteral("role"), role}, {QStringLiteral("portal"), portal},
            {QStringLiteral("members"), members}, {QStringLiteral("source"), source}};
}

QJsonObject flowHistory(const AgentConfig &config, int hours)
{
    const QJsonObject history = readJsonFile(QDir(config.installDir).filePath(QStringLiteral("data/flowhistory.json")));
    const QJsonArray all = history.value(QStringLiteral("hours")).toArray();
    QJsonArray result;
    for (qsizetype i = qMax<qsizetype>(0, all.size() - hours); i < all.size(); ++i)
        result.append(all.at(i));
    return {{QStringLiteral("hours"), result},
            {QStringLiteral("source"), config.backend == Backend::Sandbox ? QStringLiteral("sandbox_file")
                                                                          : QStringLiteral("none")}};
}

Expected<QJsonObject> webUiCustomizations(const AgentConfig &config)
{
    const QString version = webuibaseline::installedVersion(config);
    if (version.isEmpty())
        return makeError(tr("No Web UI is installed on this node."));
    // The baseline of the installed version: the agent's own recording, else the
    // sandbox's pristine manifest. Without one, say so: never guess what is custom.
    const webuibaseline::Source source = webuibaseline::find(config, version);
    if (source.manifestPath.isEmpty())
        return makeError(tr("No baseline of Web UI %1 was recorded on this node, so its customizations cannot be "
                            "told apart from the vendor's files. Record one (POST /v1/webui/baseline, or "
                            "\"ftupgrade-agent baseline\") while the Web UI is as the vendor shipped it.").arg(version));
    auto pristine = FileManifest::read(source.manifestPath);
    if (!pristine)
        return makeError(tr("The baseline of Web UI %1 cannot be read: %2").arg(version, pristine.error()));
    const QString webui = config.sources.webuiDir;
    auto actual = FileManifest::compute(webui, {QStringLiteral("VERSION")});
    if (!actual)
        return makeError(actual.error());
    const QString manifestRel = QDir(config.installDir).relativeFilePath(source.manifestPath);

    QJsonArray files;
    for (const FileManifest::Change &change : pristine->compare(*actual)) {
        QJsonObject entry{{QStringLiteral("path"), change.path}};
        const QString onDisk = QDir(webui).filePath(change.path);
        const auto before = pristine->find(change.path);
        const auto now = actual->find(change.path);
        switch (change.kind) {
        case FileManifest::Change::Modified: entry.insert(QStringLiteral("change"), QStringLiteral("modified")); break;
        case FileManifest::Change::Added: entry.insert(QStringLiteral("change"), QStringLiteral("added")); break;
        case FileManifest::Change::Deleted: entry.insert(QStringLiteral("change"), QStringLiteral("deleted")); break;
        }
        if (now) {
            const QFileInfo info(onDisk);
            entry.insert(QStringLiteral("size"), info.size());
            entry.insert(QStringLiteral("modified"), info.lastModified().toUTC().toString(Qt::ISODate));
            entry.insert(QStringLiteral("sha256"), QString::fromLatin1(now->sha256));
        }
        if (before)
            entry.insert(QStringLiteral("pristine_sha256"), QString::fromLatin1(before->sha256));
        entry.insert(QStringLiteral("text"), looksLikeText(change.path, now ? onDisk : QString()));
        files.append(entry);
    }
    QJsonObject result{{QStringLiteral("version"), version},
                       {QStringLiteral("manifest"), source.kind == QLatin1String("sandbox_pristine")
                                                        ? manifestRel : QDir::toNativeSeparators(source.manifestPath)},
                       {QStringLiteral("baseline_source"), source.kind},
                       {QStringLiteral("files"), files}};
    if (!source.recorded.isEmpty())
        result.insert(QStringLiteral("baseline_recorded"), source.recorded);
    return result;
}

Expected<QByteArray> webUiFile(const AgentConfig &config, const QString &path, bool pristine,
                               int *errorStatus)
{
    *errorStatus = 404;
    const QDir install(config.installDir);
    if (pristine) {
        const QString version = installedVersion(config.installDir, QStringLiteral("webui"));
        const QString package = install.filePath(QStringLiteral("manifests/webui-%1.ftpkg").arg(version));
        if (version.isEmpty() || !QFileInfo::exists(package))
            return makeError(tr("The Web UI package of the installed version is not kept on this node."));
        auto data = readPackageFile(package, QStringLiteral("webui/") + path, kMaxFileBytes);
        if (!data)
            return makeError(tr("%1 is not part of the pristine Web UI %2.").arg(path, version));
        return data;
    }
    const QString root = config.sources.webuiDir;
    const QString onDisk = root + QLatin1Char('/') + path;
    const QFileInfo info(onDisk);
    // Never follow a link: every component on the way is checked, because a linked
    // folder (webui/x -> /etc) leads out of the Web UI as surely as a linked file.
    // The canonical form must still lie inside the canonical Web UI folder.
    const QString canonicalRoot = QFileInfo(root).canonicalFilePath();
    const QString canonical = info.canonicalFilePath();
    bool linked = info.isSymLink();
    QString walked = root;
    const QStringList parts = path.split(QLatin1Char('/'));
    for (qsizetype i = 0; i + 1 < parts.size() && !linked; ++i) {
        walked += QLatin1Char('/') + parts.at(i);
        linked = QFileInfo(walked).isSymLink();
    }
    if (!info.exists() || !info.isFile() || linked || canonicalRoot.isEmpty()
        || !canonical.startsWith(canonicalRoot + QLatin1Char('/')))
        return makeError(tr("%1 does not exist in the installed Web UI.").arg(path));
    if (info.size() > kMaxFileBytes) {
        *errorStatus = 413;
        return makeError(tr("%1 is larger than 4 MiB.").arg(path));
    }
    QFile file(onDisk);
    if (!file.open(QIODevice::ReadOnly)) {
        *errorStatus = 500;
        return makeError(tr("Cannot read %1: %2").arg(path, file.errorString()));
    }
    return file.readAll();
}

} // namespace ft::agent::nodeinfo

#include "agentconfig.h"

#include "packages/installcommand.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QRegularExpression>
#include <QSettings>

#include <optional>

namespace ft::agent {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::agent::AgentConfig", text); }

} // namespace

QString toString(Backend backend)
{
    switch (backend) {
    case Backend::Sandbox: return QStringLiteral("sandbox");
    case Backend::Systemd: return QStringLiteral("systemd");
    case Backend::Windows: return QStringLiteral("windows");
    }
    return {};
}

Expected<Backend> parseBackend(const QString &text)
{
    for (Backend b : {Backend::Sandbox, Backend::Systemd, Backend::Windows}) {
        if (text == toString(b))
            return b;
    }
    return makeError(tr("Unknown backend \"%1\" (use sandbox, systemd or windows).").arg(text));
}

QString AgentConfig::directory() const { return QFileInfo(file).absolutePath(); }
QString AgentConfig::certificateFile() const { return QDir(directory()).filePath(QStringLiteral("agent.crt")); }
QString AgentConfig::keyFile() const { return QDir(directory()).filePath(QStringLiteral("agent.key")); }
QString AgentConfig::jobsDir() const { return QDir(directory()).filePath(QStringLiteral("jobs")); }
QString AgentConfig::urlFile() const { return QDir(directory()).filePath(QStringLiteral("agent.url")); }

QString AgentConfig::flowsDir() const { return QDir(directory()).filePath(QStringLiteral("flows")); }

namespace {

// "1073741824", "512M", "1G": bytes with an optional K, M or G (binary) suffix.
std::optional<qint64> parseSize(QString text)
{
    text = text.trimmed().toUpper();
    qint64 unit = 1;
    if (text.endsWith(QLatin1Char('K')) || text.endsWith(QLatin1Char('M')) || text.endsWith(QLatin1Char('G'))) {
        unit = text.endsWith(QLatin1Char('K')) ? 1024 : text.endsWith(QLatin1Char('M')) ? 1024 * 1024 : 1024 * 1024 * 1024;
        text.chop(1);
    }
    bool ok = false;
    const qint64 value = text.toLongLong(&ok);
    if (!ok || value < 0 || value > (qint64(1) << 50) / unit)
        return std::nullopt;
    return value * unit;
}

} // namespace

QString AgentConfig::defaultServiceName(Backend backend)
{
    switch (backend) {
    case Backend::Sandbox: return QStringLiteral("ftsandbox-server");
    case Backend::Systemd: return QStringLiteral("flowtraq");
    case Backend::Windows: return QStringLiteral("ProQueSys FlowTraq Server");
    }
    return {};
}

QString AgentConfig::defaultInstallerCommand(Backend backend)
{
    switch (backend) {
    case Backend::Sandbox: return QStringLiteral("ftsandbox apply {package} --install {install} --component {component}");
    case Backend::Systemd: return QStringLiteral("/bin/sh {package} --silent");
    case Backend::Windows: return QStringLiteral("msiexec.exe /i {package} /qn /norestart");
    }
    return {};
}

QString AgentConfig::defaultInstallDir(Backend backend)
{
    switch (backend) {
    case Backend::Windows: return QStringLiteral("C:/Program Files/ProQueSys/FlowTraq Server");
    default: return QStringLiteral("/opt/flowtraq");
    }
}

QString AgentConfig::defaultRebootRequiredFile(Backend backend)
{
    switch (backend) {
    case Backend::Sandbox: return QStringLiteral("{install}/run/reboot-required");
    case Backend::Systemd: return QStringLiteral("/var/run/reboot-required");
    case Backend::Windows: return {};
    }
    return {};
}

QString AgentConfig::installerCommandFor(const QString &packageName) const
{
    const std::optional<PackageFormat> format = packageFormatOf(packageName);
    if (!format || *format == PackageFormat::FtPkg)
        return installerCommand;
    return installerCommands.value(toString(*format));
}

namespace {

const PackageFormat kVendorFormats[] = {PackageFormat::Msi, PackageFormat::Exe, PackageFormat::Rpm,
                                        PackageFormat::Deb, PackageFormat::SelfExtracting};

} // namespace

Expected<AgentConfig> AgentConfig::load(const QString &file)
{
    if (!QFileInfo::exists(file))
        return makeError(tr("The configuration file %1 does not exist; run \"ftupgrade-agent init\" first.")
                             .arg(QDir::toNativeSeparators(file)));
    QSettings ini(file, QSettings::IniFormat);
    if (ini.status() != QSettings::NoError)
        return makeError(tr("Cannot read the configuration file %1.").arg(QDir::toNativeSeparators(file)));

    AgentConfig config;
    config.file = QFileInfo(file).absoluteFilePath();
    auto backend = parseBackend(ini.value(QStringLiteral("agent/backend"), QStringLiteral("sandbox")).toString());
    if (!backend)
        return makeError(backend.error());
    config.backend = *backend;
    config.installDir = ini.value(QStringLiteral("agent/install_dir"), defaultInstallDir(config.backend)).toString();
    config.listen = ini.value(QStringLiteral("agent/listen"), config.listen).toString();
    bool ok = false;
    config.port = ini.value(QStringLiteral("agent/port"), config.port).toInt(&ok);
    if (!ok || config.port < 0 || config.port > 65535)
        return makeError(tr("The port in %1 is not a number between 0 and 65535.").arg(QDir::toNativeSeparators(file)));
    config.stagingDir = ini.value(QStringLiteral("agent/staging_dir"),
                                  QDir(config.directory()).filePath(QStringLiteral("staging"))).toString();
    config.serviceName = ini.value(QStringLiteral("agent/service_name"), defaultServiceName(config.backend)).toString();
    config.installerCommand = ini.value(QStringLiteral("agent/installer_command"),
                                        defaultInstallerCommand(config.backend)).toString();
    for (PackageFormat format : kVendorFormats) {
        const QString key = QStringLiteral("installers/") + toString(format);
        config.installerCommands.insert(
            toString(format),
            ini.value(key, defaultInstallCommand(format, config.backend == Backend::Sandbox)).toString());
    }
    config.rebootRequiredFile = ini.value(QStringLiteral("agent/reboot_required_file"),
                                          defaultRebootRequiredFile(config.backend)).toString();
    if (ini.contains(QStringLiteral("agent/spool_cap"))) {
        const auto cap = parseSize(ini.value(QStringLiteral("agent/spool_cap")).toString());
        if (!cap)
            return makeError(tr("spool_cap in %1 must be a size in bytes, optionally with K, M or G.")
                                 .arg(QDir::toNativeSeparators(file)));
        config.spoolCapBytes = *cap;
    }
    config.nftProgram = ini.value(QStringLiteral("agent/nft"), config.nftProgram).toString();
    // The connection time-outs (API.md, "Connections"): whole milliseconds / a count ≥ 1.
    const struct { const char *key; int *value; } limits[] = {
        {"connections/handshake_timeout_ms", &config.connections.handshakeMs},
        {"connections/header_timeout_ms", &config.connections.headerMs},
        {"connections/body_timeout_ms", &config.connections.bodyMs},
        {"connections/idle_timeout_ms", &config.connections.idleMs},
        {"connections/per_address", &config.connections.perAddress},
    };
    for (const auto &limit : limits) {
        const QString key = QString::fromLatin1(limit.key);
        if (!ini.contains(key))
            continue;
        bool valid = false;
        const int value = ini.value(key).toInt(&valid);
        if (!valid || value < 1)
            return makeError(tr("%1 in %2 must be a whole number of at least 1.").arg(key, QDir::toNativeSeparators(file)));
        *limit.value = value;
    }
    config.token.salt = ini.value(QStringLiteral("auth/token_salt")).toByteArray();
    config.token.hash = ini.value(QStringLiteral("auth/token_sha256")).toByteArray();
    if (config.token.isNull())
        return makeError(tr("The configuration file %1 holds no token hash; run \"ftupgrade-agent init\" again.")
                             .arg(QDir::toNativeSeparators(file)));
    auto sources = NodeSourcesConfig::load(ini, config.installDir);
    if (!sources)
        return makeError(tr("%1: %2").arg(QDir::toNativeSeparators(file), sources.error()));
    config.sources = *sources;
    if (!ini.contains(QStringLiteral("agent/flow_ports")) && config.backend == Backend::Sandbox) {
        // An older sandbox node without flow_ports: its daemon's own flow port.
        QSettings node(QDir(config.installDir).filePath(QStringLiteral("flowtraq.conf")), QSettings::IniFormat);
        const int port = node.value(QStringLiteral("server/flow_port"), 0).toInt();
        if (port > 0 && port <= 65535)
            config.sources.flowPorts.append(quint16(port));
    }
    // Sandbox agents share one host: each needs a table of its own, or two parallel
    // upgrades would replace each other's redirect.
    if (config.backend == Backend::Sandbox && !config.sources.flowPorts.isEmpty())
        config.nftTable += QStringLiteral("_%1").arg(config.sources.flowPorts.first());
    config.nftTable = ini.value(QStringLiteral("agent/nft_table"), config.nftTable).toString();
    static const QRegularExpression tableName(QStringLiteral("^[A-Za-z][A-Za-z0-9_]{0,63}$"));
    if (!tableName.match(config.nftTable).hasMatch())
        return makeError(tr("nft_table in %1 must be a name of letters, digits and underscores.")
                             .arg(QDir::toNativeSeparators(file)));
    return config;
}

Result AgentConfig::save() const
{
    QSettings ini(file, QSettings::IniFormat);
    ini.setValue(QStringLiteral("agent/backend"), toString(backend));
    ini.setValue(QStringLiteral("agent/install_dir"), installDir);
    ini.setValue(QStringLiteral("agent/listen"), listen);
    ini.setValue(QStringLiteral("agent/port"), port);
    ini.setValue(QStringLiteral("agent/staging_dir"), stagingDir);
    ini.setValue(QStringLiteral("agent/service_name"), serviceName);
    ini.setValue(QStringLiteral("agent/installer_command"), installerCommand);
    for (auto it = installerCommands.cbegin(); it != installerCommands.cend(); ++it)
        ini.setValue(QStringLiteral("installers/") + it.key(), it.value());
    if (!rebootRequiredFile.isEmpty())
        ini.setValue(QStringLiteral("agent/reboot_required_file"), rebootRequiredFile);
    ini.setValue(QStringLiteral("auth/token_salt"), QString::fromLatin1(token.salt));
    ini.setValue(QStringLiteral("auth/token_sha256"), QString::fromLatin1(token.hash));
    ini.sync();
    if (ini.status() != QSettings::NoError)
        return makeError(tr("Cannot write the configuration file %1.").arg(QDir::toNativeSeparators(file)));
    return {};
}

} // namespace ft::agent

#include "agentconfig.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QSettings>

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
    ini.setValue(QStringLiteral("auth/token_salt"), QString::fromLatin1(token.salt));
    ini.setValue(QStringLiteral("auth/token_sha256"), QString::fromLatin1(token.hash));
    ini.sync();
    if (ini.status() != QSettings::NoError)
        return makeError(tr("Cannot write the configuration file %1.").arg(QDir::toNativeSeparators(file)));
    return {};
}

} // namespace ft::agent

#pragma once

#include "connectionguard.h"
#include "model/expected.h"
#include "nodesources.h"
#include "tokenauth.h"

#include <QHash>
#include <QString>
#include <QStringList>

namespace ft::agent {

// How the agent controls the FlowTraq service and runs installers on this node.
enum class Backend { Sandbox, Systemd, Windows };

QString toString(Backend backend);
Expected<Backend> parseBackend(const QString &text);

// The agent's configuration file (INI). Paths in it are absolute; the certificate,
// key, jobs folder and agent.url live beside the file.
struct AgentConfig
{
    QString file;            // absolute path of the INI file
    QString installDir;      // FlowTraq installation folder
    Backend backend = Backend::Sandbox;
    QString listen = QStringLiteral("127.0.0.1");
    int port = 9650;         // 0: any free port
    QString stagingDir;
    QString serviceName;     // systemd unit or Windows service name
    QString installerCommand; // a .ftpkg's installer: command template (see API.md)
    // [installers] msi=…, exe=…, rpm=…, deb=…, sh=…: one command template per vendor
    // format (installcommand.h: placeholders and defaults per backend).
    QHash<QString, QString> installerCommands;
    // A file an installer creates to ask for a reboot (Debian's convention on Linux;
    // the sandbox: {install}/run/reboot-required). Empty: not watched.
    QString rebootRequiredFile;
    TokenHash token;
    NodeSourcesConfig sources; // versions, flow ports, Web UI folder (nodesources.h)
    // Keeping flows while the service is down (FlowKeeper) on sources.flowPorts: the
    // spool's cap, and nftables.
    qint64 spoolCapBytes = qint64(1) << 30;
    QString nftProgram; // empty: libnftables; or an nft program run as `nft -f -`
    QString nftTable = QStringLiteral("ftupgrade_keep");
    ConnectionLimits connections; // [connections] (API.md); read, never written by save()

    QString directory() const;
    QString certificateFile() const;
    QString keyFile() const;
    QString jobsDir() const;
    QString urlFile() const;
    QString flowsDir() const; // spool files of kept flows

    static QString defaultServiceName(Backend backend);
    static QString defaultInstallerCommand(Backend backend);
    static QString defaultInstallDir(Backend backend);
    static QString defaultRebootRequiredFile(Backend backend);
    // The template for a package file, by its format (.ftpkg: installerCommand).
    QString installerCommandFor(const QString &packageName) const;

    static Expected<AgentConfig> load(const QString &file);
    Result save() const;
};

} // namespace ft::agent

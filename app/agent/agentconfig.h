#pragma once

#include "connectionguard.h"
#include "model/expected.h"
#include "tokenauth.h"

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
    QString installerCommand; // systemd/windows: command template (see API.md)
    TokenHash token;
    ConnectionLimits connections; // [connections] (API.md); read, never written by save()

    QString directory() const;
    QString certificateFile() const;
    QString keyFile() const;
    QString jobsDir() const;
    QString urlFile() const;

    static QString defaultServiceName(Backend backend);
    static QString defaultInstallerCommand(Backend backend);
    static QString defaultInstallDir(Backend backend);

    static Expected<AgentConfig> load(const QString &file);
    Result save() const;
};

} // namespace ft::agent

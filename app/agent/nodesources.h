#pragma once

#include "model/expected.h"

#include <QHash>
#include <QList>
#include <QSettings>
#include <QString>
#include <QStringList>

namespace ft::agent {

// Where the agent finds what the vendor does not put in one documented place: the
// package names and databases that hold the installed versions, a site's own version
// command, the UDP flow ports to count and the Web UI folder. All optional keys of the
// [agent] section of agent.conf (API.md, "Node facts"); nothing here is guessed.
struct NodeSourcesConfig
{
    // Package names per component ("server", "nbi", "webui"): keys package_names,
    // nbi_package_names, webui_package_names (comma separated).
    QHash<QString, QStringList> packageNames;
    QString packageManager = QStringLiteral("auto"); // auto | dpkg | rpm | none
    QString dpkgAdmindir;  // dpkg-query --admindir (a per-node database in the sandbox)
    QString rpmDbpath;     // rpm --dbpath
    QString versionCommand; // {component} is substituted; the first version in its output counts
    QString registryDisplayName = QStringLiteral("FlowTraq"); // Windows Uninstall keys
    // The program (and leading arguments) that answers `query KEY /s` as reg.exe does:
    // "reg.exe" on Windows; empty elsewhere (no registry), except on the sandbox's
    // Windows-like nodes, whose stand-in (`ftsandbox reg --hive FILE`) prints the same.
    QString registryCommand = defaultRegistryCommand();
    QList<quint16> flowPorts; // UDP ports the packet counter watches
    QString webuiDir;         // the Web UI folder (default: INSTALL/webui)

    // Reads the keys from an open agent.conf. A bad value is an error naming the key.
    // (They are written by hand or by the sandbox launcher; `init` leaves them alone.)
    static Expected<NodeSourcesConfig> load(QSettings &ini, const QString &installDir);
    static QString defaultRegistryCommand();
};

} // namespace ft::agent

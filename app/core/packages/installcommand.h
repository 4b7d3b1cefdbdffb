#pragma once

#include "model/expected.h"
#include "packages/vendorpackage.h"

#include <QHash>
#include <QString>
#include <QStringList>

class QSettings;

namespace ft {

// The command line an agent runs for a package, per format. Placeholders, replaced
// after the template is split into arguments (so no value can add an argument):
//   {package}  the staged file      {install}  the installation folder
//   {component} server|nbi|webui    {log}      a log file the agent streams to the step's pane
//   {switches} the silent-install arguments typed on the Packages page (one argument
//              each when it stands alone)
// Real nodes: what an administrator expects of each format. The sandbox: the same
// tools pointed at the node's folder (dpkg --admindir/--instdir) or stand-ins that
// take the same arguments (ftsandbox msiexec).
QString defaultInstallCommand(PackageFormat format, bool sandbox);

// True when a template asks for typed switches.
bool commandNeedsSwitches(const QString &commandTemplate);

struct InstallCommandValues
{
    QString package;
    QString install;
    QString component;
    QString log;
    QStringList switches;
};

// Splits a template and fills in its placeholders: the program first, then its arguments.
Expected<QStringList> expandInstallCommand(const QString &commandTemplate, const InstallCommandValues &values);

// Exit codes of the Windows Installer an agent understands (msiexec's documented ones).
QString msiexecExitMeaning(int exitCode);

// Remembers the silent-install arguments typed for a vendor installer, per file-name
// pattern ("flowtraq-server-*.*.*-*.sh": digits become *), so the next version's file
// gets them again. They are not secret: plain QSettings.
class InstallerSwitchMemory
{
public:
    explicit InstallerSwitchMemory(QSettings *settings) : m_settings(settings) {}

    static QString patternOf(const QString &fileName);
    QString recall(const QString &fileName) const;
    void remember(const QString &fileName, const QString &switches);

private:
    QSettings *m_settings;
};

} // namespace ft

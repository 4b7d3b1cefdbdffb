#include "packages/installcommand.h"

#include <QCoreApplication>
#include <QProcess>
#include <QRegularExpression>
#include <QSettings>

namespace ft {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::InstallCommand", text); }

const QString kSwitches = QStringLiteral("{switches}");

} // namespace

QString defaultInstallCommand(PackageFormat format, bool sandbox)
{
    switch (format) {
    case PackageFormat::FtPkg:
        return QStringLiteral("ftsandbox apply {package} --install {install} --component {component}");
    case PackageFormat::Msi:
        // On a Windows-like sandbox node, a stand-in that takes msiexec's own arguments
        // plus the INSTALLDIR property (which a real MSI reads from its own tables).
        return sandbox ? QStringLiteral("ftsandbox msiexec /i {package} /qn /norestart /l*v {log} INSTALLDIR={install}")
                       : QStringLiteral("msiexec /i {package} /qn /norestart /l*v {log}");
    case PackageFormat::Rpm:
        return sandbox ? QStringLiteral("rpm --root={install} --dbpath=/rpmdb --nodeps -U {package}")
                       : QStringLiteral("rpm -U {package}");
    case PackageFormat::Deb:
        // The node's own dpkg database and installation root; maintainer scripts run
        // outside a chroot, with DPKG_ROOT set to the node's folder.
        return sandbox ? QStringLiteral("dpkg --force-not-root --force-script-chrootless --admindir={install}/dpkg "
                                        "--instdir={install} --log={log} -i {package}")
                       : QStringLiteral("dpkg --log={log} -i {package}");
    case PackageFormat::Exe:
        // On a Windows-like sandbox node (Linux underneath) a stand-in plays what the
        // program does when Windows runs it, with the same typed switches.
        return sandbox ? QStringLiteral("ftsandbox exe {package} {switches}") : QStringLiteral("{package} {switches}");
    case PackageFormat::SelfExtracting:
        return QStringLiteral("/bin/sh {package} {switches}");
    }
    return {};
}

bool commandNeedsSwitches(const QString &commandTemplate)
{
    return commandTemplate.contains(kSwitches);
}

Expected<QStringList> expandInstallCommand(const QString &commandTemplate, const InstallCommandValues &values)
{
    const QStringList parts = QProcess::splitCommand(commandTemplate);
    if (parts.isEmpty())
        return makeError(tr("The installer command is empty."));
    QStringList command;
    for (QString part : parts) {
        if (part == kSwitches) {
            command += values.switches;
            continue;
        }
        part.replace(QLatin1String("{package}"), values.package);
        part.replace(QLatin1String("{install}"), values.install);
        part.replace(QLatin1String("{component}"), values.component);
        part.replace(QLatin1String("{log}"), values.log);
        part.replace(kSwitches, values.switches.join(QLatin1Char(' ')));
        command.append(part);
    }
    return command;
}

QString msiexecExitMeaning(int exitCode)
{
    switch (exitCode) {
    case 0: return tr("success");
    case 1603: return tr("fatal error during installation");
    case 1641: return tr("success; the installer started a restart");
    case 3010: return tr("success; a restart is required to finish");
    default: return {};
    }
}

QString InstallerSwitchMemory::patternOf(const QString &fileName)
{
    static const QRegularExpression digits(QStringLiteral("\\d+"));
    QString pattern = fileName;
    pattern.replace(digits, QStringLiteral("*"));
    return pattern;
}

QString InstallerSwitchMemory::recall(const QString &fileName) const
{
    return m_settings->value(QStringLiteral("installer_switches/") + patternOf(fileName)).toString();
}

void InstallerSwitchMemory::remember(const QString &fileName, const QString &switches)
{
    const QString key = QStringLiteral("installer_switches/") + patternOf(fileName);
    if (switches.trimmed().isEmpty())
        m_settings->remove(key);
    else
        m_settings->setValue(key, switches.trimmed());
}

} // namespace ft

#include "installer.h"

#include "packages/filemanifest.h"
#include "sandboxfiles.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSettings>
#include <QTimer>

#include <cstdio>

namespace ft::sandbox {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("ftsandbox", text);
}

const QString stagingName = QStringLiteral(".install-staging");
const QString journalName = QStringLiteral("switch.json");

void printLine(FILE *stream, const QString &line)
{
    const QByteArray bytes = line.toUtf8() + '\n';
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stream);
    std::fflush(stream);
}

// The switch: swap the component's folder for the staged one with two renames, then
// write the server's VERSION. Each step can run again, so a killed switch rolls forward.
Result rollForward(const QString &installDir, const QJsonObject &journal)
{
    const QDir install(installDir);
    const QDir staging(install.filePath(stagingName));
    const QString folder = journal.value(QStringLiteral("folder")).toString();
    if (!isSafeRelativePath(folder) || folder.contains(QLatin1Char('/')))
        return makeError(tr("The install journal in %1 is damaged.").arg(staging.path()));
    const QString staged = staging.filePath(QStringLiteral("payload/") + folder);
    const QString old = staging.filePath(QStringLiteral("old-") + folder);
    const QString live = install.filePath(folder);
    if (QFileInfo::exists(staged)) {
        if (QFileInfo::exists(live) && !QDir().rename(live, old))
            return makeError(tr("Could not move %1 aside.").arg(live));
        if (!QDir().rename(staged, live))
            return makeError(tr("Could not move the new %1 into place.").arg(folder));
    }
    const QString versionFile = journal.value(QStringLiteral("version_file")).toString();
    const QString version = journal.value(QStringLiteral("version")).toString();
    if (!versionFile.isEmpty()) {
        if (Result written = writeFileAtomically(install.filePath(versionFile), version.toUtf8() + '\n'); !written)
            return written;
    }
    QDir(staging).removeRecursively();
    return {};
}

} // namespace

Installer::Installer(QString packagePath, const QString &installDir, std::optional<Component> expectedComponent,
                     QObject *parent)
    : QObject(parent)
    , m_packagePath(std::move(packagePath))
    , m_installDir(QDir(installDir).absolutePath())
    , m_expected(expectedComponent)
{}

void Installer::start()
{
    QTimer::singleShot(0, this, [this] { run(); });
}

QString Installer::stagingDir() const
{
    return QDir(m_installDir).filePath(stagingName);
}

Result Installer::recoverInterrupted(const QString &installDir)
{
    const QDir staging(QDir(installDir).filePath(stagingName));
    if (!staging.exists())
        return {};
    QFile journalFile(staging.filePath(journalName));
    if (journalFile.open(QIODevice::ReadOnly)) {
        const QJsonObject journal = QJsonDocument::fromJson(journalFile.readAll()).object();
        journalFile.close();
        if (!journal.isEmpty())
            return rollForward(installDir, journal);
    }
    // Killed before the switch began: the installation is still the old one.
    if (!QDir(staging).removeRecursively())
        return makeError(tr("Could not remove the leftover staging folder %1.").arg(staging.path()));
    return {};
}

void Installer::say(int percent, const QString &text)
{
    printLine(stdout, QStringLiteral("[%1%] %2").arg(percent, 3).arg(text));
}

void Installer::fail(int exitCode, const QString &message)
{
    printLine(stderr, QStringLiteral("error: ") + message);
    QDir(stagingDir()).removeRecursively();
    finish(exitCode);
}

void Installer::finish(int exitCode)
{
    if (m_finished)
        return;
    m_finished = true;
    Q_EMIT finished(exitCode);
}

void Installer::run()
{
    const QDir install(m_installDir);
    if (!QFileInfo::exists(install.filePath(QStringLiteral("flowtraq.conf")))) {
        printLine(stderr, QStringLiteral("error: ")
                              + tr("%1 is not a FlowTraq installation (it has no flowtraq.conf).").arg(m_installDir));
        finish(2);
        return;
    }
    if (!QFileInfo(m_packagePath).isFile()) {
        printLine(stderr, QStringLiteral("error: ") + tr("The package %1 does not exist.").arg(m_packagePath));
        finish(2);
        return;
    }
    Expected<PackageManifest> manifest = readPackageManifest(m_packagePath);
    if (!manifest) {
        printLine(stderr, QStringLiteral("error: ") + manifest.error());
        finish(InstallerExit::PackageInvalid);
        return;
    }
    m_manifest = *manifest;
    const QSettings config(install.filePath(QStringLiteral("flowtraq.conf")), QSettings::IniFormat);
    m_nodeOs = parseOsKind(config.value(QStringLiteral("node/os")).toString()).value_or(OsKind::Linux);
    const QString what = displayName(m_manifest.component);

    // A running daemon holds its files; with it stopped, an earlier installer that was
    // killed mid-switch is finished first, so the checks below see the real state.
    if (const qint64 pid = liveDaemonPid(m_installDir)) {
        fail(InstallerExit::ServiceRunning,
             tr("The FlowTraq service is running (pid %1); stop the FlowTraq service first.").arg(pid));
        return;
    }
    if (Result recovered = recoverInterrupted(m_installDir); !recovered) {
        fail(InstallerExit::Failed, recovered.error());
        return;
    }

    if (m_expected && *m_expected != m_manifest.component) {
        fail(InstallerExit::OtherVersion,
             tr("This is a %1 package, not a %2 package; nothing was changed.")
                 .arg(what, displayName(*m_expected)));
        return;
    }
    if (!m_manifest.fitsOs(m_nodeOs)) {
        fail(InstallerExit::OtherVersion,
             tr("This package is for %1 and this node runs %2; nothing was changed.")
                 .arg(m_manifest.os, displayName(m_nodeOs)));
        return;
    }
    const Expected<Version> installed = readVersionFile(install.filePath(componentVersionFile(m_manifest.component)));
    if (!installed) {
        fail(InstallerExit::Failed, installed.error());
        return;
    }
    if (!installed->isNull() && m_manifest.version < *installed) {
        fail(InstallerExit::OtherVersion,
             tr("%1 %2 is installed, which is newer than this package's %3; nothing was changed.")
                 .arg(what, installed->toString(), m_manifest.version.toString()));
        return;
    }

    say(0, tr("Installing %1 %2 (%3 package) into %4")
               .arg(what, m_manifest.version.toString(), m_manifest.mode, m_installDir));
    if (m_manifest.mode == QLatin1String("hang"))
        return; // Never finishes: the agent's time-out and kill are what this mode tests.

    say(2, tr("Verifying the package"));
    if (Result verified = verifyPackage(m_packagePath); !verified) {
        fail(InstallerExit::PackageInvalid, verified.error() + QLatin1Char(' ') + tr("Nothing was changed."));
        return;
    }
    stageAndContinue();
}

void Installer::stageAndContinue()
{
    const QDir staging(stagingDir());
    const QString payload = staging.filePath(QStringLiteral("payload"));
    const int fileCount = int(m_manifest.files.size());
    int done = 0;
    int lastPercent = -1;
    const Result extracted = extractPackagePayload(m_packagePath, payload,
                                                   [&](const QString &path, qint64 bytesDone, qint64 bytesTotal) {
        ++done;
        const int percent = 5 + int(60.0 * double(bytesDone) / double(std::max<qint64>(bytesTotal, 1)));
        if (fileCount <= 400 || percent != lastPercent)
            say(percent, tr("Copying %1").arg(path));
        lastPercent = percent;
    });
    if (!extracted) {
        fail(InstallerExit::Failed, extracted.error() + QLatin1Char(' ') + tr("Nothing was changed."));
        return;
    }
    if (done != fileCount) {
        fail(InstallerExit::PackageInvalid, tr("The package is incomplete. Nothing was changed."));
        return;
    }
    // A package for any OS carries both sets of binaries; keep this node's.
    const OsKind other = m_nodeOs == OsKind::Linux ? OsKind::Windows : OsKind::Linux;
    for (const QString &binary : binaryPaths(m_manifest.component, other))
        QFile::remove(QDir(payload).filePath(binary));
    const QString folder = componentFolder(m_manifest.component);
    if (!QFileInfo::exists(QDir(payload).filePath(folder)) && !QDir().mkpath(QDir(payload).filePath(folder))) {
        fail(InstallerExit::Failed, tr("Could not prepare the new %1 folder.").arg(folder));
        return;
    }

    if (m_manifest.mode == QLatin1String("fail")) {
        say(70, tr("Registering the FlowTraq service"));
        fail(InstallerExit::Failed,
             tr("The installer could not register the FlowTraq service (simulated failure, "
                "code 1603). The installation was left as it was."));
        return;
    }
    if (m_manifest.mode == QLatin1String("reboot-needed")) {
        say(90, tr("Some files are in use; they will be replaced when the computer restarts"));
        QDir(stagingDir()).removeRecursively();
        printLine(stdout, tr("A reboot is required to complete the installation."));
        finish(InstallerExit::RebootRequired);
        return;
    }
    if (m_manifest.mode == QLatin1String("slow") && m_manifest.slowSeconds > 0) {
        m_slowTimer = new QTimer(this);
        m_slowTimer->setInterval(1000);
        connect(m_slowTimer, &QTimer::timeout, this, [this] { tickSlow(); });
        m_slowTimer->start();
        return;
    }
    switchIn();
}

void Installer::tickSlow()
{
    ++m_slowElapsed;
    const int total = m_manifest.slowSeconds;
    say(65 + 30 * m_slowElapsed / total,
        tr("Updating the session database indexes (%1 of %2 s)").arg(m_slowElapsed).arg(total));
    if (m_slowElapsed >= total) {
        m_slowTimer->stop();
        switchIn();
    }
}

void Installer::switchIn()
{
    const QDir install(m_installDir);
    const QDir staging(stagingDir());
    const QString folder = componentFolder(m_manifest.component);
    const QString version = m_manifest.version.toString();
    const QString versionFile = componentVersionFile(m_manifest.component);

    // Folder-local version files travel inside the staged folder, so they switch with it.
    const bool versionInside = versionFile.startsWith(folder + QLatin1Char('/'));
    if (versionInside) {
        const QString staged = staging.filePath(QStringLiteral("payload/") + versionFile);
        if (Result written = writeFileAtomically(staged, version.toUtf8() + '\n'); !written) {
            fail(InstallerExit::Failed, written.error());
            return;
        }
    }
    if (m_manifest.component == Component::WebUi) {
        say(96, tr("Recording the pristine Web UI manifest"));
        QList<ManifestEntry> entries;
        for (const PackageFile &file : m_manifest.files) {
            if (file.path.startsWith(QLatin1String("webui/")))
                entries.append({file.path.mid(6), file.sha256, file.size});
        }
        Result recorded = FileManifest::fromEntries(entries).write(webUiManifestPath(m_installDir, m_manifest.version));
        const QString keptPackage = webUiPackagePath(m_installDir, m_manifest.version);
        if (recorded && QFileInfo(keptPackage).canonicalFilePath() != QFileInfo(m_packagePath).canonicalFilePath()) {
            QFile::remove(keptPackage + QStringLiteral(".part"));
            if (!QFile::copy(m_packagePath, keptPackage + QStringLiteral(".part"))) {
                recorded = makeError(tr("Could not keep a copy of the package in %1.").arg(keptPackage));
            } else {
                QFile::remove(keptPackage);
                QFile::rename(keptPackage + QStringLiteral(".part"), keptPackage);
            }
        }
        if (!recorded) {
            fail(InstallerExit::Failed, recorded.error());
            return;
        }
    }

    say(98, tr("Switching to the new %1 files").arg(folder));
    const QJsonObject journal{{QStringLiteral("folder"), folder},
                              {QStringLiteral("version"), version},
                              {QStringLiteral("version_file"), versionInside ? QString() : versionFile}};
    if (Result written = writeFileAtomically(staging.filePath(journalName), QJsonDocument(journal).toJson()); !written) {
        fail(InstallerExit::Failed, written.error());
        return;
    }
    if (Result switched = rollForward(m_installDir, journal); !switched) {
        printLine(stderr, QStringLiteral("error: ") + switched.error()
                              + QLatin1Char(' ') + tr("Run the installer again to finish the switch."));
        finish(InstallerExit::Failed);
        return;
    }
    say(100, tr("%1 %2 is installed").arg(displayName(m_manifest.component), version));
    if (m_manifest.mode == QLatin1String("reboot")) {
        printLine(stdout, tr("A reboot is required to complete the installation."));
        finish(InstallerExit::RebootRequired);
        return;
    }
    finish(InstallerExit::Success);
}

} // namespace ft::sandbox

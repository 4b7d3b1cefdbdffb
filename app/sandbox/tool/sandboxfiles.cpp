#include "sandboxfiles.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>

#include <cmath>
#include <random>

#ifdef Q_OS_UNIX
#include <cerrno>
#include <csignal>
#endif

namespace ft::sandbox {

namespace {
QString tr(const char *text)
{
    return QCoreApplication::translate("ftsandbox", text);
}
} // namespace

QStringList binaryPaths(Component component, OsKind os)
{
    const bool windows = os == OsKind::Windows;
    switch (component) {
    case Component::Server:
        return windows ? QStringList{QStringLiteral("bin/FlowTraqServer.exe"), QStringLiteral("bin/ftcli.exe")}
                       : QStringList{QStringLiteral("bin/flowtraq-server"), QStringLiteral("bin/ftcli")};
    case Component::Nbi:
        return windows ? QStringList{QStringLiteral("nbi/bin/FlowTraqNBI.exe")}
                       : QStringList{QStringLiteral("nbi/bin/flowtraq-nbi")};
    case Component::WebUi:
        break;
    }
    return {};
}

QByteArray standInBinary(const QString &path, const Version &version)
{
    const QByteArray name = QFileInfo(path).fileName().toUtf8();
    const QByteArray text = "FlowTraq sandbox stand-in for " + name + "\nversion " + version.toString().toUtf8()
                            + "\nThis file takes the place of the real binary; it is never run.\n";
    if (path.endsWith(QLatin1String(".exe")))
        return "MZ\n" + text;
    return "#!/bin/sh\n# " + text.trimmed().replace('\n', "\n# ") + "\necho '" + name + " "
           + version.toString().toUtf8() + "'\n";
}

QString componentFolder(Component component)
{
    switch (component) {
    case Component::Server: return QStringLiteral("bin");
    case Component::Nbi: return QStringLiteral("nbi");
    case Component::WebUi: return QStringLiteral("webui");
    }
    return {};
}

QString componentVersionFile(Component component)
{
    switch (component) {
    case Component::Server: return QStringLiteral("VERSION");
    case Component::Nbi: return QStringLiteral("nbi/VERSION");
    case Component::WebUi: return QStringLiteral("webui/VERSION");
    }
    return {};
}

QString webUiManifestPath(const QString &installDir, const Version &version)
{
    return QDir(installDir).filePath(QStringLiteral("manifests/webui-%1.sha256").arg(version.toString()));
}

QString webUiPackagePath(const QString &installDir, const Version &version)
{
    return QDir(installDir).filePath(QStringLiteral("manifests/webui-%1.ftpkg").arg(version.toString()));
}

Expected<Version> readVersionFile(const QString &path)
{
    QFile file(path);
    if (!file.exists())
        return Version();
    if (!file.open(QIODevice::ReadOnly))
        return makeError(tr("Could not read %1: %2.").arg(path, file.errorString()));
    const Expected<Version> version = Version::parse(QString::fromUtf8(file.read(200)).trimmed());
    if (!version)
        return makeError(tr("%1 does not hold a version: %2").arg(path, version.error()));
    return version;
}

Result writeFileAtomically(const QString &path, const QByteArray &data, bool ownerOnly)
{
    if (!QDir().mkpath(QFileInfo(path).absolutePath()))
        return makeError(tr("Could not create the folder for %1.").arg(path));
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return makeError(tr("Could not write %1: %2.").arg(path, file.errorString()));
    // Set on the temporary file, before a byte is in it: the secret is never readable
    // by others, not even for a moment.
    if (ownerOnly && !file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner))
        return makeError(tr("Could not make %1 private: %2.").arg(path, file.errorString()));
    file.write(data);
    if (!file.commit())
        return makeError(tr("Could not write %1: %2.").arg(path, file.errorString()));
    return {};
}

bool isProcessAlive(qint64 pid)
{
    if (pid <= 0)
        return false;
#ifdef Q_OS_UNIX
    if (::kill(pid_t(pid), 0) == 0)
        return true;
    return errno == EPERM;
#else
    return false;
#endif
}

qint64 liveDaemonPid(const QString &installDir)
{
    QFile file(QDir(installDir).filePath(QStringLiteral("run/flowtraq.pid")));
    if (!file.open(QIODevice::ReadOnly))
        return 0;
    const qint64 pid = file.read(64).trimmed().toLongLong();
    return isProcessAlive(pid) ? pid : 0;
}

QByteArray seededFlowHistory(const QString &nodeName, const QDateTime &now)
{
    QDateTime end = now.toUTC();
    end.setTime(QTime(end.time().hour(), 0));
    std::mt19937_64 random(std::hash<std::string>{}(nodeName.toStdString()) ^ 0x5eedULL);
    std::uniform_real_distribution<double> noise(0.85, 1.15);
    // A node's peak: somewhere between 40 and 400 flows per second.
    const double peakPerHour = (40 + double(random() % 360)) * 3600;
    QJsonArray hours;
    for (int i = 14 * 24; i >= 1; --i) {
        const QDateTime start = end.addSecs(-3600LL * i);
        const int hour = start.time().hour();
        const bool weekend = start.date().dayOfWeek() >= 6;
        double factor;
        if (hour >= 8 && hour < 18)
            factor = 0.75 + 0.25 * std::sin((hour - 8) / 10.0 * M_PI);
        else if (hour >= 6 && hour < 22)
            factor = 0.35;
        else
            factor = 0.08;
        if (weekend)
            factor *= 0.3;
        hours.append(QJsonObject{{QStringLiteral("start"), start.toString(Qt::ISODate)},
                                 {QStringLiteral("flows"), qint64(peakPerHour * factor * noise(random))}});
    }
    return QJsonDocument(QJsonObject{{QStringLiteral("hours"), hours}}).toJson(QJsonDocument::Compact) + '\n';
}

QByteArray setIniValue(const QByteArray &ini, const QString &section, const QString &key,
                       const QString &value)
{
    const QByteArray wantedSection = '[' + section.toUtf8() + ']';
    const QByteArray keyBytes = key.toUtf8();
    const QByteArray newLine = keyBytes + '=' + value.toUtf8();
    QList<QByteArray> lines = ini.split('\n');
    const bool endsWithNewline = ini.endsWith('\n');
    if (endsWithNewline)
        lines.removeLast();
    qsizetype sectionStart = -1;
    qsizetype sectionEnd = lines.size(); // index after the last line of the section
    for (qsizetype i = 0; i < lines.size(); ++i) {
        const QByteArray trimmed = lines.at(i).trimmed();
        if (trimmed.startsWith('[')) {
            if (sectionStart >= 0) {
                sectionEnd = i;
                break;
            }
            if (trimmed == wantedSection)
                sectionStart = i;
            continue;
        }
        if (sectionStart < 0)
            continue;
        const qsizetype equals = trimmed.indexOf('=');
        if (equals > 0 && trimmed.left(equals).trimmed() == keyBytes) {
            lines[i] = newLine;
            return lines.join('\n') + (endsWithNewline ? "\n" : "");
        }
    }
    if (sectionStart < 0) {
        if (!lines.isEmpty() && !lines.last().trimmed().isEmpty())
            lines.append(QByteArray());
        lines.append(wantedSection);
        lines.append(newLine);
    } else {
        // After the section's last non-blank line, so blank separators stay where they are.
        qsizetype insertAt = sectionEnd;
        while (insertAt - 1 > sectionStart && lines.at(insertAt - 1).trimmed().isEmpty())
            --insertAt;
        lines.insert(insertAt, newLine);
    }
    return lines.join('\n') + '\n';
}

} // namespace ft::sandbox

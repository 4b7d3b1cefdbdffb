#include "versionsources.h"

#include "model/version.h"
#include "packages/vendorpackage.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QStandardPaths>

namespace ft::agent::versionsources {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::agent::VersionSources", text); }

constexpr int kCommandTimeoutMs = 15000;

struct CommandOutput
{
    int exitCode = -1;
    QString out;
    QString err;
    QString failure; // could not run at all
};

// The agent's worker thread waits here; never on its event loop.
CommandOutput runCommand(const QString &program, const QStringList &arguments)
{
    CommandOutput result;
    QProcess process;
    process.setProgram(program);
    process.setArguments(arguments);
    // Package tools print translated messages otherwise; the parsers read English.
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("LC_ALL"), QStringLiteral("C"));
    process.setProcessEnvironment(env);
    process.start();
    if (!process.waitForStarted(kCommandTimeoutMs)) {
        result.failure = tr("%1 could not be started: %2").arg(program, process.errorString());
        return result;
    }
    process.closeWriteChannel();
    if (!process.waitForFinished(kCommandTimeoutMs)) {
        process.kill();
        process.waitForFinished(1000);
        result.failure = tr("%1 did not finish within %2 s.").arg(program).arg(kCommandTimeoutMs / 1000);
        return result;
    }
    result.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    result.out = QString::fromLocal8Bit(process.readAllStandardOutput());
    result.err = QString::fromLocal8Bit(process.readAllStandardError()).trimmed();
    if (process.exitStatus() != QProcess::NormalExit)
        result.failure = tr("%1 crashed.").arg(program);
    return result;
}

QString firstLine(const QString &text)
{
    return text.section(QLatin1Char('\n'), 0, 0).trimmed().left(200);
}

QString canonical(const QString &version)
{
    const auto parsed = Version::parse(version);
    return parsed ? parsed->toString() : version;
}

QString packageManagerFor(const NodeSourcesConfig &sources)
{
    if (sources.packageManager != QLatin1String("auto"))
        return sources.packageManager;
    if (!sources.dpkgAdmindir.isEmpty())
        return QStringLiteral("dpkg");
    if (!sources.rpmDbpath.isEmpty())
        return QStringLiteral("rpm");
    if (!QStandardPaths::findExecutable(QStringLiteral("dpkg-query")).isEmpty())
        return QStringLiteral("dpkg");
    if (!QStandardPaths::findExecutable(QStringLiteral("rpm")).isEmpty())
        return QStringLiteral("rpm");
    return QStringLiteral("none");
}

QList<Reading> packageReadings(const NodeSourcesConfig &sources, const QString &component)
{
    const QStringList names = sources.packageNames.value(component);
    if (names.isEmpty())
        return {};
    const QString manager = packageManagerFor(sources);
    if (manager == QLatin1String("dpkg")) {
        QStringList args;
        if (!sources.dpkgAdmindir.isEmpty())
            args << QStringLiteral("--admindir=%1").arg(sources.dpkgAdmindir);
        args << QStringLiteral("-W") << QStringLiteral("-f=${Package}\\t${Version}\\t${db:Status-Abbrev}\\n");
        args << names;
        const QString detail = QStringLiteral("dpkg-query -W %1").arg(names.join(QLatin1Char(' ')));
        const CommandOutput out = runCommand(QStringLiteral("dpkg-query"), args);
        if (!out.failure.isEmpty())
            return {Reading{QStringLiteral("dpkg"), detail, {}, out.failure}};
        // Exit 1 also means "some name is not in the database": the lines still count.
        if (out.exitCode != 0 && out.exitCode != 1)
            return {Reading{QStringLiteral("dpkg"), detail, {},
                            tr("dpkg-query failed (exit %1): %2").arg(out.exitCode).arg(firstLine(out.err))}};
        return parseDpkgQuery(out.out, names, detail);
    }
    if (manager == QLatin1String("rpm")) {
        QStringList args{QStringLiteral("-q")};
        if (!sources.rpmDbpath.isEmpty())
            args << QStringLiteral("--dbpath") << sources.rpmDbpath;
        args << QStringLiteral("--qf") << QStringLiteral("%{NAME}\\t%{VERSION}-%{RELEASE}\\n") << names;
        const QString detail = QStringLiteral("rpm -q %1").arg(names.join(QLatin1Char(' ')));
        const CommandOutput out = runCommand(QStringLiteral("rpm"), args);
        if (!out.failure.isEmpty())
            return {Reading{QStringLiteral("rpm"), detail, {}, out.failure}};
        if (out.exitCode != 0 && out.out.trimmed().isEmpty())
            return {Reading{QStringLiteral("rpm"), detail, {},
                            tr("rpm -q failed (exit %1): %2").arg(out.exitCode).arg(firstLine(out.err))}};
        return parseRpmQuery(out.out, names, detail);
    }
    return {Reading{QStringLiteral("package"), names.join(QLatin1Char(' ')), {},
                    tr("Package names are configured, but neither dpkg-query nor rpm is available.")}};
}

std::optional<Reading> commandReading(const NodeSourcesConfig &sources, const QString &component)
{
    if (sources.versionCommand.trimmed().isEmpty())
        return std::nullopt;
    QStringList command = QProcess::splitCommand(sources.versionCommand);
    for (QString &argument : command)
        argument.replace(QLatin1String("{component}"), component);
    Reading reading{QStringLiteral("version_command"), command.join(QLatin1Char(' ')), {}, {}};
    if (command.isEmpty()) {
        reading.error = tr("version_command is empty.");
        return reading;
    }
    const QString program = command.takeFirst();
    const CommandOutput out = runCommand(program, command);
    if (!out.failure.isEmpty()) {
        reading.error = out.failure;
    } else if (out.exitCode != 0) {
        reading.error = tr("version_command failed (exit %1): %2")
                            .arg(out.exitCode).arg(firstLine(out.err.isEmpty() ? out.out : out.err));
    } else {
        reading.version = findVersion(out.out);
        if (reading.version.isEmpty())
            reading.error = tr("version_command printed no version: \"%1\"").arg(firstLine(out.out));
    }
    return reading;
}

std::optional<Reading> fileReading(const AgentConfig &config, const QString &component)
{
    QDir dir(config.installDir);
    const QString path = component == QLatin1String("webui") ? dir.filePath(QStringLiteral("webui/VERSION"))
                       : component == QLatin1String("nbi")   ? dir.filePath(QStringLiteral("nbi/VERSION"))
                                                             : dir.filePath(QStringLiteral("VERSION"));
    QFile file(path);
    // Real installations need not have one: only a file that is there is a source.
    if (!file.open(QIODevice::ReadOnly))
        return std::nullopt;
    Reading reading{QStringLiteral("version_file"), QDir::toNativeSeparators(path), {}, {}};
    const QString text = QString::fromUtf8(file.readLine(256)).trimmed();
    reading.version = findVersion(text);
    if (reading.version.isEmpty())
        reading.error = tr("%1 holds no version.").arg(QDir::toNativeSeparators(path));
    return reading;
}

// The Uninstall keys through reg.exe (or the sandbox's stand-in with its arguments):
// `reg query KEY /s` prints every entry with its values.
QList<Reading> registryCommandReadings(const NodeSourcesConfig &sources, const QString &component)
{
    QStringList command = QProcess::splitCommand(sources.registryCommand);
    if (command.isEmpty())
        return {};
    const QString program = command.takeFirst();
    QList<RegistryEntry> entries;
    QStringList failures;
    // 64-bit and 32-bit installers register in different views.
    for (const QString &key : {QStringLiteral("HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall"),
                               QStringLiteral("HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall")}) {
        const CommandOutput out = runCommand(program, command + QStringList{QStringLiteral("query"), key, QStringLiteral("/s")});
        if (!out.failure.isEmpty() || out.exitCode != 0) {
            failures.append(out.failure.isEmpty() ? firstLine(out.err.isEmpty() ? out.out : out.err) : out.failure);
            continue;
        }
        entries.append(parseRegQuery(out.out));
    }
    QList<Reading> readings = registryReadings(entries, sources.registryDisplayName, component);
    if (readings.isEmpty() && failures.size() == 2)
        readings.append(Reading{QStringLiteral("registry"), QStringLiteral("reg query …\\Uninstall"), {},
                                tr("The registry could not be read: %1").arg(failures.first())});
    return readings;
}

} // namespace

QJsonObject Reading::toJson() const
{
    QJsonObject object{{QStringLiteral("source"), source}, {QStringLiteral("detail"), detail}};
    object.insert(QStringLiteral("version"), version.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(version));
    if (!error.isEmpty())
        object.insert(QStringLiteral("error"), error);
    return object;
}

QJsonObject ComponentVersion::toJson() const
{
    QJsonObject object{{QStringLiteral("installed"), !version.isEmpty()}};
    if (!version.isEmpty()) {
        object.insert(QStringLiteral("version"), version);
        object.insert(QStringLiteral("source"), source);
    }
    QJsonArray list;
    QStringList errors;
    for (const Reading &reading : readings) {
        list.append(reading.toJson());
        if (!reading.error.isEmpty())
            errors.append(reading.error);
    }
    if (!list.isEmpty())
        object.insert(QStringLiteral("sources"), list);
    object.insert(QStringLiteral("disagreement"), disagreement);
    if (version.isEmpty() && !errors.isEmpty())
        object.insert(QStringLiteral("error"), errors.join(QLatin1Char(' ')));
    return object;
}

ComponentVersion combine(const QList<Reading> &readings)
{
    ComponentVersion result;
    result.readings = readings;
    QSet<QString> seen;
    for (const Reading &reading : readings) {
        if (reading.version.isEmpty())
            continue;
        if (result.version.isEmpty()) {
            result.version = reading.version;
            result.source = reading.source;
        }
        seen.insert(canonical(reading.version));
    }
    result.disagreement = seen.size() > 1;
    return result;
}

ComponentVersion read(const AgentConfig &config, const QString &component)
{
    QList<Reading> readings;
    if (!config.sources.registryDisplayName.isEmpty())
        readings.append(registryCommandReadings(config.sources, component));
    readings.append(packageReadings(config.sources, component));
    if (auto reading = commandReading(config.sources, component))
        readings.append(*reading);
    if (auto reading = fileReading(config, component))
        readings.append(*reading);
    return combine(readings);
}

QList<RegistryEntry> parseRegQuery(const QString &output)
{
    // reg.exe prints a key path at column 0, then its values indented by four spaces:
    // "    DisplayName    REG_SZ    FlowTraq Server". Names may hold single spaces.
    static const QRegularExpression value(QStringLiteral("^\\s{4}(.+?)\\s{4}(REG_[A-Z_]+)(?:\\s{4}(.*))?$"));
    QList<RegistryEntry> entries;
    RegistryEntry current;
    auto flush = [&] {
        if (!current.displayName.isEmpty())
            entries.append(current);
        current = {};
    };
    for (QString line : output.split(QLatin1Char('\n'))) {
        if (line.endsWith(QLatin1Char('\r')))
            line.chop(1);
        if (line.startsWith(QLatin1String("HKEY_"))) {
            flush();
            current.key = line.trimmed();
            continue;
        }
        const auto match = value.match(line);
        if (!match.hasMatch())
            continue;
        const QString name = match.captured(1).trimmed();
        if (name.compare(QLatin1String("DisplayName"), Qt::CaseInsensitive) == 0)
            current.displayName = match.captured(3).trimmed();
        else if (name.compare(QLatin1String("DisplayVersion"), Qt::CaseInsensitive) == 0)
            current.displayVersion = match.captured(3).trimmed();
    }
    flush();
    return entries;
}

QList<Reading> registryReadings(const QList<RegistryEntry> &entries, const QString &match, const QString &component)
{
    QList<Reading> readings;
    for (const RegistryEntry &entry : entries) {
        if (!entry.displayName.contains(match, Qt::CaseInsensitive))
            continue;
        // The server's entry is the one that names neither the NBI nor the Web UI.
        const bool nbi = entry.displayName.contains(QLatin1String("NBI"), Qt::CaseInsensitive);
        const bool webui = entry.displayName.contains(QLatin1String("Web UI"), Qt::CaseInsensitive);
        if ((component == QLatin1String("nbi")) != nbi || (component == QLatin1String("webui")) != webui)
            continue;
        Reading reading{QStringLiteral("registry"),
                        QStringLiteral("%1 (%2)").arg(entry.key, entry.displayName), {}, {}};
        // An MSI writes its ProductVersion, four numbers ("6.3.0.1500" is 6.3.0 build
        // 1500, as the package reader reads the same property).
        const auto vendor = versionFromVendor(entry.displayVersion);
        reading.version = vendor ? vendor->toString() : findVersion(entry.displayVersion);
        if (reading.version.isEmpty())
            reading.error = tr("The Uninstall entry \"%1\" has no usable DisplayVersion (\"%2\").")
                                .arg(entry.displayName, entry.displayVersion);
        readings.append(reading);
    }
    return readings;
}

QList<Reading> parseDpkgQuery(const QString &output, const QStringList &names, const QString &detail)
{
    QHash<QString, std::pair<QString, QString>> found; // name -> (version, status)
    for (const QString &line : output.split(QLatin1Char('\n'), Qt::SkipEmptyParts)) {
        const QStringList fields = line.split(QLatin1Char('\t'));
        if (fields.size() < 3)
            continue;
        found.insert(fields.at(0).trimmed(), {fields.at(1).trimmed(), fields.at(2).trimmed()});
    }
    QList<Reading> readings;
    for (const QString &name : names) {
        Reading reading{QStringLiteral("dpkg"), QStringLiteral("dpkg-query -W %1").arg(name), {}, {}};
        Q_UNUSED(detail);
        const auto it = found.constFind(name);
        // db:Status-Abbrev: want, status, error. Status "n" (not installed) and "c"
        // (configuration files only) mean there is no installed version.
        const QString status = it == found.cend() ? QString() : it->second;
        if (status.size() < 2 || status.at(1) == QLatin1Char('n') || status.at(1) == QLatin1Char('c'))
            continue;
        reading.version = findVersion(it->first);
        if (reading.version.isEmpty())
            reading.error = tr("dpkg lists %1 at \"%2\", which is not a FlowTraq version.").arg(name, it->first);
        else if (status.at(1) != QLatin1Char('i') && status.at(1) != QLatin1Char('W') && status.at(1) != QLatin1Char('t'))
            reading.error = tr("dpkg lists %1 %2 as not fully installed (status \"%3\").").arg(name, it->first, status.trimmed());
        readings.append(reading);
    }
    return readings;
}

QList<Reading> parseRpmQuery(const QString &output, const QStringList &names, const QString &detail)
{
    Q_UNUSED(detail);
    QHash<QString, QString> found;
    for (const QString &line : output.split(QLatin1Char('\n'), Qt::SkipEmptyParts)) {
        // "package flowtraq is not installed" has no tab.
        const QStringList fields = line.split(QLatin1Char('\t'));
        if (fields.size() == 2)
            found.insert(fields.at(0).trimmed(), fields.at(1).trimmed());
    }
    QList<Reading> readings;
    for (const QString &name : names) {
        if (!found.contains(name))
            continue;
        Reading reading{QStringLiteral("rpm"), QStringLiteral("rpm -q %1").arg(name), {}, {}};
        reading.version = findVersion(found.value(name));
        if (reading.version.isEmpty())
            reading.error = tr("rpm lists %1 at \"%2\", which is not a FlowTraq version.").arg(name, found.value(name));
        readings.append(reading);
    }
    return readings;
}

QString findVersion(const QString &text)
{
    return findVersionText(text);
}

} // namespace ft::agent::versionsources

// ftsandbox: lays out sandbox FlowTraq installations, writes install packages, runs
// their installer, and starts/stops a sandbox cluster (see app/sandbox/LAYOUT.md).

#include "installation.h"
#include "exebuilder.h"
#include "installer.h"
#include "clusternetwork.h"
#include "launcher.h"
#include "packagebuilder.h"
#include "registrystandin.h"
#include "vendorbuilder.h"
#include "support/signalwatcher.h"

#include "model/domain.h"
#include "packages/package.h"
#include "model/version.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QTimer>

#include <csignal>
#include <cstdio>
#include <functional>
#include <memory>

using namespace ft;
using namespace ft::sandbox;

namespace {

constexpr int exitUsage = 2;

QString tr(const char *text)
{
    return QCoreApplication::translate("ftsandbox", text);
}

void out(const QString &line)
{
    const QByteArray bytes = line.toUtf8() + '\n';
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stdout);
    std::fflush(stdout);
}

void err(const QString &line)
{
    const QByteArray bytes = line.toUtf8() + '\n';
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stderr);
    std::fflush(stderr);
}

int usageError(const QString &message)
{
    err(QStringLiteral("ftsandbox: ") + message);
    err(tr("Run `ftsandbox help` for the commands and `ftsandbox <command> --help` for their options."));
    return exitUsage;
}

const char *const overview =
    "Usage: ftsandbox <command> [options]\n"
    "\n"
    "Commands:\n"
    "  init DIR          lay out one sandbox FlowTraq installation\n"
    "  make-package      write an install package (*.ftpkg)\n"
    "  apply PACKAGE     run a package's installer on an installation\n"
    "  msiexec /i PKG /qn [/norestart] [/l*v LOG] INSTALLDIR=DIR\n"
    "                    the Windows Installer stand-in for .msi packages\n"
    "  exe PKG /S /D=DIR the Windows-like nodes' runner of .exe installers (NSIS's switches)\n"
    "  reg --hive FILE query KEY [/s]\n"
    "                    reg.exe's query on a Windows-like node's registry stand-in\n"
    "  up DIR            create and start a sandbox cluster\n"
    "  down DIR          stop a sandbox cluster\n"
    "  status DIR        print a cluster with each node's live status\n"
    "  demo [DIR]        start a demo cluster and keep it running until Ctrl-C\n"
    "\n"
    "See app/sandbox/LAYOUT.md for the files, packages and processes.\n";

// Parses a subcommand's arguments; false on a usage error (already reported).
bool parse(QCommandLineParser &parser, const QStringList &arguments, const QString &command,
           const QString &description, int minPositional, int maxPositional, int *exitCode)
{
    parser.setApplicationDescription(description);
    parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    const QCommandLineOption help({QStringLiteral("h"), QStringLiteral("help")}, tr("Shows this help."));
    parser.addOption(help);
    if (!parser.parse(arguments)) {
        *exitCode = usageError(parser.errorText());
        return false;
    }
    if (parser.isSet(help)) {
        out(parser.helpText().replace(QStringLiteral("[options]"), command + QStringLiteral(" [options]")));
        *exitCode = 0;
        return false;
    }
    const qsizetype count = parser.positionalArguments().size();
    if (count < minPositional || (maxPositional >= 0 && count > maxPositional)) {
        *exitCode = usageError(count < minPositional ? tr("`%1` is missing an argument.").arg(command)
                                                     : tr("`%1` got unexpected arguments: %2.")
                                                           .arg(command, parser.positionalArguments().join(QLatin1Char(' '))));
        return false;
    }
    return true;
}

bool parseInt(const QString &text, const QString &what, int minimum, int maximum, int *value, int *exitCode)
{
    bool ok = false;
    const int parsed = text.toInt(&ok);
    if (!ok || parsed < minimum || parsed > maximum) {
        *exitCode = usageError(tr("%1 must be a whole number from %2 to %3, not \"%4\".")
                                   .arg(what)
                                   .arg(minimum)
                                   .arg(maximum)
                                   .arg(text));
        return false;
    }
    *value = parsed;
    return true;
}

int runInit(const QStringList &arguments)
{
    QCommandLineParser parser;
    const QCommandLineOption version(QStringLiteral("version"), tr("Server version to install."), tr("V"));
    const QCommandLineOption role(QStringLiteral("role"), tr("portal, worker or standalone."), tr("ROLE"));
    const QCommandLineOption os(QStringLiteral("os"), tr("linux or windows."), tr("OS"));
    const QCommandLineOption name(QStringLiteral("name"), tr("Node name (default: the folder's name)."), tr("N"));
    const QCommandLineOption nbi(QStringLiteral("nbi"), tr("Install the NBI service too."));
    const QCommandLineOption webUi(QStringLiteral("webui-files"), tr("Number of Web UI files (default 300)."), tr("N"), QStringLiteral("300"));
    const QCommandLineOption flowPort(QStringLiteral("flow-port"), tr("UDP flow port (0: receives no flows)."), tr("P"), QStringLiteral("0"));
    const QCommandLineOption tcpPort(QStringLiteral("tcp-port"), tr("TCP client port (default: a free one)."), tr("P"), QStringLiteral("0"));
    const QCommandLineOption listen(QStringLiteral("listen"), tr("Address to listen on."), tr("ADDR"), QStringLiteral("127.0.0.1"));
    const QCommandLineOption portal(QStringLiteral("portal"), tr("On a worker: the portal's name."), tr("NAME"), QStringLiteral("portal"));
    const QCommandLineOption member(QStringLiteral("member"), tr("On a portal: a worker NAME=TCP_PORT (repeatable)."), tr("NAME=PORT"));
    parser.addOptions({version, role, os, name, nbi, webUi, flowPort, tcpPort, listen, portal, member});
    parser.addPositionalArgument(QStringLiteral("DIR"), tr("The installation folder (new or empty)."));
    int exitCode = 0;
    if (!parse(parser, arguments, QStringLiteral("init"), tr("Lays out one sandbox FlowTraq installation."), 1, 1, &exitCode))
        return exitCode;
    InstallationSpec spec;
    spec.dir = parser.positionalArguments().first();
    for (const auto &required : {version, role, os}) {
        if (!parser.isSet(required))
            return usageError(tr("`init` needs --%1.").arg(required.names().first()));
    }
    const Expected<Version> parsedVersion = Version::parse(parser.value(version));
    if (!parsedVersion)
        return usageError(parsedVersion.error());
    spec.version = *parsedVersion;
    const Expected<NodeRole> parsedRole = parseNodeRole(parser.value(role));
    if (!parsedRole)
        return usageError(parsedRole.error());
    spec.role = *parsedRole;
    const Expected<OsKind> parsedOs = parseOsKind(parser.value(os));
    if (!parsedOs)
        return usageError(parsedOs.error());
    spec.os = *parsedOs;
    spec.name = parser.value(name);
    spec.nbi = parser.isSet(nbi);
    spec.listen = parser.value(listen);
    spec.portal = parser.value(portal);
    if (!parseInt(parser.value(webUi), QStringLiteral("--webui-files"), 20, 200000, &spec.webUiFiles, &exitCode)
        || !parseInt(parser.value(flowPort), QStringLiteral("--flow-port"), 0, 65535, &spec.flowPort, &exitCode)
        || !parseInt(parser.value(tcpPort), QStringLiteral("--tcp-port"), 0, 65535, &spec.tcpPort, &exitCode)) {
        return exitCode;
    }
    for (const QString &text : parser.values(member)) {
        const QStringList parts = text.split(QLatin1Char('='));
        int port = 0;
        if (parts.size() != 2 || parts.first().isEmpty()
            || !parseInt(parts.last(), QStringLiteral("--member's port"), 1, 65535, &port, &exitCode)) {
            return exitCode ? exitCode : usageError(tr("--member takes NAME=TCP_PORT, not \"%1\".").arg(text));
        }
        spec.members.append({parts.first(), port});
    }
    if (Result created = createInstallation(spec); !created) {
        err(QStringLiteral("error: ") + created.error());
        return 1;
    }
    out(tr("Created %1 %2 (%3, %4) in %5")
            .arg(displayName(spec.role), spec.version.toString(), toString(spec.os), spec.name.isEmpty() ? QFileInfo(spec.dir).fileName() : spec.name,
                 QDir(spec.dir).absolutePath()));
    return 0;
}

int runMakePackage(const QStringList &arguments)
{
    QCommandLineParser parser;
    const QCommandLineOption version(QStringLiteral("version"), tr("Version of the package."), tr("V"));
    const QCommandLineOption component(QStringLiteral("component"), tr("server, nbi or webui."), tr("C"));
    const QCommandLineOption mode(QStringLiteral("mode"), tr("Installer behaviour: %1.").arg(packageModes().join(QStringLiteral(", "))), tr("MODE"), QStringLiteral("normal"));
    const QCommandLineOption os(QStringLiteral("os"), tr("any, linux or windows."), tr("OS"), QStringLiteral("any"));
    const QCommandLineOption slow(QStringLiteral("slow-seconds"), tr("How long a slow installer takes."), tr("S"), QStringLiteral("20"));
    const QCommandLineOption pad(QStringLiteral("pad-bytes"), tr("Add a payload file of N bytes."), tr("N"), QStringLiteral("0"));
    const QCommandLineOption webUi(QStringLiteral("webui-files"), tr("Number of Web UI files (default 300)."), tr("N"), QStringLiteral("300"));
    const QCommandLineOption output({QStringLiteral("o"), QStringLiteral("output")}, tr("The package file to write."), tr("FILE"));
    const QCommandLineOption format(QStringLiteral("format"), tr("ftpkg (default), deb, rpm, msi, exe or sh: the vendor's formats are made with dpkg-deb, rpmbuild, wixl and MinGW's binutils."), tr("F"), QStringLiteral("ftpkg"));
    parser.addOptions({version, component, mode, os, slow, pad, webUi, output, format});
    int exitCode = 0;
    if (!parse(parser, arguments, QStringLiteral("make-package"), tr("Writes a sandbox install package."), 0, 0, &exitCode))
        return exitCode;
    for (const auto &required : {version, component, output}) {
        if (!parser.isSet(required))
            return usageError(tr("`make-package` needs --%1.").arg(required.names().last()));
    }
    PackageSpec spec;
    const Expected<Version> parsedVersion = Version::parse(parser.value(version));
    if (!parsedVersion)
        return usageError(parsedVersion.error());
    spec.version = *parsedVersion;
    const Expected<Component> parsedComponent = parseComponent(parser.value(component));
    if (!parsedComponent)
        return usageError(parsedComponent.error());
    spec.component = *parsedComponent;
    spec.mode = parser.value(mode);
    if (!packageModes().contains(spec.mode))
        return usageError(tr("Unknown mode \"%1\" (expected one of: %2).").arg(spec.mode, packageModes().join(QStringLiteral(", "))));
    spec.os = parser.value(os);
    if (spec.os != QLatin1String("any") && !parseOsKind(spec.os))
        return usageError(tr("Unknown --os \"%1\" (expected any, linux or windows).").arg(spec.os));
    if (!parseInt(parser.value(slow), QStringLiteral("--slow-seconds"), 0, 86400, &spec.slowSeconds, &exitCode)
        || !parseInt(parser.value(webUi), QStringLiteral("--webui-files"), 20, 200000, &spec.webUiFiles, &exitCode)) {
        return exitCode;
    }
    bool ok = false;
    spec.padBytes = parser.value(pad).toLongLong(&ok);
    if (!ok || spec.padBytes < 0)
        return usageError(tr("--pad-bytes must be a number of bytes, not \"%1\".").arg(parser.value(pad)));
    spec.output = parser.value(output);
    const Expected<PackageFormat> parsedFormat = parsePackageFormat(parser.value(format));
    if (!parsedFormat)
        return usageError(tr("Unknown --format \"%1\" (expected ftpkg, deb, rpm, msi, exe or sh).").arg(parser.value(format)));
    if (*parsedFormat != PackageFormat::FtPkg)
        spec.os = osOf(*parsedFormat);
    if (Result built = buildVendorPackage(spec, *parsedFormat); !built) {
        err(QStringLiteral("error: ") + built.error());
        return 1;
    }
    out(tr("Wrote %1 (%2 %3, mode %4, os %5, format %6)")
            .arg(QFileInfo(spec.output).absoluteFilePath(), toString(spec.component), spec.version.toString(), spec.mode, spec.os,
                 toString(*parsedFormat)));
    return 0;
}

int runApply(QCoreApplication &app, const QStringList &arguments)
{
    QCommandLineParser parser;
    const QCommandLineOption install(QStringLiteral("install"), tr("The installation folder."), tr("DIR"));
    const QCommandLineOption component(QStringLiteral("component"), tr("Refuse a package for another component."), tr("C"));
    parser.addOptions({install, component});
    parser.addPositionalArgument(QStringLiteral("PACKAGE"), tr("The package to install."));
    int exitCode = 0;
    if (!parse(parser, arguments, QStringLiteral("apply"), tr("Runs a package's installer."), 1, 1, &exitCode))
        return exitCode;
    if (!parser.isSet(install))
        return usageError(tr("`apply` needs --install DIR."));
    std::optional<Component> expected;
    if (parser.isSet(component)) {
        const Expected<Component> parsed = parseComponent(parser.value(component));
        if (!parsed)
            return usageError(parsed.error());
        expected = *parsed;
    }
    Installer installer(parser.positionalArguments().first(), parser.value(install), expected);
    QObject::connect(&installer, &Installer::finished, &app, [&app](int code) { app.exit(code); });
    installer.start();
    return app.exec();
}

int runMsiexec(QCoreApplication &app, const QStringList &arguments)
{
    MsiexecStandIn msiexec(arguments);
    QObject::connect(&msiexec, &MsiexecStandIn::finished, &app, [&app](int code) { app.exit(code); });
    msiexec.start();
    return app.exec();
}

QMap<QString, double> parseFlows(const QStringList &texts, QString *error)
{
    QMap<QString, double> flows;
    for (const QString &text : texts) {
        for (const QString &item : text.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
            const QStringList parts = item.split(QLatin1Char('='));
            bool ok = false;
            const double rate = parts.value(1).toDouble(&ok);
            if (parts.size() != 2 || parts.first().isEmpty() || !ok || rate <= 0) {
                *error = tr("--flows takes NODE=RATE (flows per second), not \"%1\".").arg(item);
                return {};
            }
            flows.insert(parts.first(), rate);
        }
    }
    return flows;
}

// Runs `up`; then(ok) is called from the event loop.
void launch(const ClusterSpec &spec, QObject *owner, const std::function<void(bool, const QJsonObject &)> &then)
{
    auto *launcher = new ClusterLauncher(spec, owner);
    QObject::connect(launcher, &ClusterLauncher::progress, owner, [](const QString &line) { out(line); });
    QObject::connect(launcher, &ClusterLauncher::finished, owner, [launcher, then](bool ok) {
        if (!ok)
            err(QStringLiteral("error: ") + launcher->error());
        then(ok, launcher->cluster());
        launcher->deleteLater();
    });
    launcher->start();
}

void stopCluster(const QString &dir, QObject *owner, const std::function<void(int)> &then)
{
    const Expected<QList<LaunchedProcess>> processes = clusterProcesses(dir);
    if (!processes) {
        err(QStringLiteral("error: ") + processes.error());
        QTimer::singleShot(0, owner, [then] { then(1); });
        return;
    }
    auto *stopper = new ProcessStopper(*processes, 10000, owner);
    QObject::connect(stopper, &ProcessStopper::finished, owner, [stopper, then, dir](bool allGone) {
        for (const QString &line : stopper->report())
            out(line);
        if (!allGone)
            err(QStringLiteral("error: ") + tr("Some processes are still running after SIGKILL."));
        // A namespaced cluster: its namespace (and link) goes once nothing runs in it.
        QFile clusterFile(QDir(dir).filePath(QStringLiteral("cluster.json")));
        const QJsonObject network = clusterFile.open(QIODevice::ReadOnly)
                                        ? QJsonDocument::fromJson(clusterFile.readAll()).object()
                                              .value(QStringLiteral("network")).toObject()
                                        : QJsonObject();
        if (allGone && !network.isEmpty()) {
            const ClusterNetwork net = ClusterNetwork::fromJson(network);
            if (Result removed = ClusterNetwork::destroy(net.name); !removed)
                err(QStringLiteral("error: ") + removed.error());
            else
                out(tr("Removed the network namespace %1").arg(net.name));
        }
        stopper->deleteLater();
        then(allGone ? 0 : 1);
    });
    stopper->start();
}

int runUp(QCoreApplication &app, const QStringList &arguments)
{
    QCommandLineParser parser;
    const QCommandLineOption workers(QStringLiteral("workers"), tr("Number of workers."), tr("N"));
    const QCommandLineOption windows(QStringLiteral("windows"), tr("How many of the workers (the last ones) run Windows."), tr("K"), QStringLiteral("0"));
    const QCommandLineOption nbi(QStringLiteral("nbi"), tr("Install the NBI service on the portal."));
    const QCommandLineOption flows(QStringLiteral("flows"), tr("Send flows to a node: NODE=RATE (flows/s); repeatable."), tr("NODE=RATE"));
    const QCommandLineOption version(QStringLiteral("version"), tr("Installed version (default 6.2.1-1200)."), tr("V"), QStringLiteral("6.2.1-1200"));
    const QCommandLineOption webUi(QStringLiteral("webui-files"), tr("Number of Web UI files per node (default 300)."), tr("N"), QStringLiteral("300"));
    const QCommandLineOption windowsPortal(QStringLiteral("windows-portal"), tr("The portal runs Windows too (an all-Windows cluster with --windows N)."));
    const QCommandLineOption netns(QStringLiteral("netns"),
                                   tr("Put the cluster in a new network namespace NAME: each node on its own address "
                                      "(10.213.X.N), reached from here over a veth pair; the nodes cannot connect back "
                                      "(needs root, ip and nft)."),
                                   tr("NAME"));
    const QCommandLineOption installedFrom(QStringLiteral("installed-from"),
                                           tr("Install every node's server from the vendor format F (deb: the Linux-like "
                                              "nodes, with dpkg into their own database; rpm: with rpm; msi: the "
                                              "Windows-like nodes, with the msiexec stand-in), and point the agents' "
                                              "version sources there."),
                                           tr("F"));
    parser.addOptions({workers, windows, nbi, flows, version, webUi, windowsPortal, netns, installedFrom});
    parser.addPositionalArgument(QStringLiteral("DIR"), tr("The cluster folder (new or empty)."));
    int exitCode = 0;
    if (!parse(parser, arguments, QStringLiteral("up"), tr("Creates and starts a sandbox cluster."), 1, -1, &exitCode))
        return exitCode;
    ClusterSpec spec;
    spec.windowsPortal = parser.isSet(windowsPortal);
    QStringList positional = parser.positionalArguments();
    spec.dir = positional.takeFirst();
    // `--flows w1=200 w2=80`: the extra NODE=RATE words belong to --flows.
    QStringList flowTexts = parser.values(flows);
    for (const QString &extra : positional) {
        if (!extra.contains(QLatin1Char('=')))
            return usageError(tr("`up` got an unexpected argument: %1.").arg(extra));
        flowTexts.append(extra);
    }
    if (!parser.isSet(workers))
        return usageError(tr("`up` needs --workers N."));
    if (!parseInt(parser.value(workers), QStringLiteral("--workers"), 0, 500, &spec.workers, &exitCode)
        || !parseInt(parser.value(windows), QStringLiteral("--windows"), 0, 500, &spec.windowsWorkers, &exitCode)
        || !parseInt(parser.value(webUi), QStringLiteral("--webui-files"), 20, 200000, &spec.webUiFiles, &exitCode)) {
        return exitCode;
    }
    if (spec.windowsWorkers > spec.workers)
        return usageError(tr("--windows (%1) cannot exceed --workers (%2).").arg(spec.windowsWorkers).arg(spec.workers));
    const Expected<Version> parsedVersion = Version::parse(parser.value(version));
    if (!parsedVersion)
        return usageError(parsedVersion.error());
    spec.version = *parsedVersion;
    spec.nbi = parser.isSet(nbi);
    spec.netns = parser.value(netns);
    spec.installedFrom = parser.value(installedFrom);
    if (parser.isSet(installedFrom) && !QStringList{QStringLiteral("deb"), QStringLiteral("rpm"), QStringLiteral("msi")}
                                            .contains(spec.installedFrom))
        return usageError(tr("--installed-from takes deb, rpm or msi, not \"%1\".").arg(spec.installedFrom));
    if (parser.isSet(netns) && !ClusterNetwork::isValidName(spec.netns))
        return usageError(tr("--netns needs a name of lower-case letters, digits and -, at most 32 characters."));
    QString error;
    spec.flows = parseFlows(flowTexts, &error);
    if (!error.isEmpty())
        return usageError(error);

    launch(spec, &app, [&app](bool ok, const QJsonObject &) {
        out(ok ? tr("Cluster is up; stop it with `ftsandbox down DIR`.") : tr("The cluster was not started."));
        app.exit(ok ? 0 : 1);
    });
    return app.exec();
}

int runDown(QCoreApplication &app, const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.addPositionalArgument(QStringLiteral("DIR"), tr("The cluster folder."));
    int exitCode = 0;
    if (!parse(parser, arguments, QStringLiteral("down"), tr("Stops a sandbox cluster."), 1, 1, &exitCode))
        return exitCode;
    const QString dir = parser.positionalArguments().first();
    if (!QFileInfo::exists(QDir(dir).filePath(QStringLiteral("cluster.json"))))
        return usageError(tr("%1 holds no sandbox cluster (no cluster.json).").arg(dir));
    stopCluster(dir, &app, [&app](int code) { app.exit(code); });
    return app.exec();
}

int runStatus(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.addPositionalArgument(QStringLiteral("DIR"), tr("The cluster folder."));
    int exitCode = 0;
    if (!parse(parser, arguments, QStringLiteral("status"), tr("Prints a cluster with each node's live status."), 1, 1, &exitCode))
        return exitCode;
    const QString dir = parser.positionalArguments().first();
    if (!QFileInfo::exists(QDir(dir).filePath(QStringLiteral("cluster.json"))))
        return usageError(tr("%1 holds no sandbox cluster (no cluster.json).").arg(dir));
    const Expected<QJsonObject> status = clusterStatus(dir);
    if (!status) {
        err(QStringLiteral("error: ") + status.error());
        return 1;
    }
    std::fputs(QJsonDocument(*status).toJson(QJsonDocument::Indented).constData(), stdout);
    return 0;
}

int runDemo(QCoreApplication &app, const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.addPositionalArgument(QStringLiteral("DIR"), tr("The cluster folder (default: flowtraq-sandbox-demo in the temporary folder)."));
    int exitCode = 0;
    if (!parse(parser, arguments, QStringLiteral("demo"), tr("Starts a demo cluster until Ctrl-C."), 0, 1, &exitCode))
        return exitCode;
    const bool ownFolder = parser.positionalArguments().isEmpty();
    const QString dir = ownFolder ? QDir::temp().filePath(QStringLiteral("flowtraq-sandbox-demo"))
                                  : parser.positionalArguments().first();
    ClusterSpec spec;
    spec.dir = dir;
    spec.workers = 5;
    spec.windowsWorkers = 1;
    spec.nbi = true;
    spec.flows = {{QStringLiteral("w1"), 200}, {QStringLiteral("w2"), 80}};
    spec.version = Version::parse(QStringLiteral("6.2.1-1200")).value();

    auto *signals_ = new SignalWatcher({SIGINT, SIGTERM}, &app);
    bool launching = true;
    bool stopWanted = false;
    bool stopping = false;
    const auto shutDown = [&app, dir, &stopping] {
        if (stopping)
            return;
        stopping = true;
        out(tr("Stopping the sandbox cluster…"));
        stopCluster(dir, &app, [&app](int code) { app.exit(code); });
    };
    // Ctrl-C while the cluster is still coming up stops it as soon as it is up (a
    // failed start has already cleaned up after itself).
    QObject::connect(signals_, &SignalWatcher::received, &app, [&] {
        if (launching)
            stopWanted = true;
        else
            shutDown();
    });
    const auto bringUp = [&, spec] {
        launch(spec, &app, [&, dir](bool ok, const QJsonObject &) {
            launching = false;
            if (!ok) {
                app.exit(1);
                return;
            }
            if (stopWanted) {
                shutDown();
                return;
            }
            const Expected<QJsonObject> status = clusterStatus(dir);
            if (status)
                std::fputs(QJsonDocument(*status).toJson(QJsonDocument::Indented).constData(), stdout);
            out(tr("The sandbox cluster runs in %1. Press Ctrl-C to stop it.").arg(QDir(dir).absolutePath()));
        });
    };
    // The default folder is ours: stop and clear a previous demo there first.
    if (ownFolder && QFileInfo::exists(dir)) {
        const auto wipeAndStart = [dir, bringUp](int) {
            QDir(dir).removeRecursively();
            bringUp();
        };
        if (QFileInfo::exists(QDir(dir).filePath(QStringLiteral("cluster.json"))))
            stopCluster(dir, &app, wipeAndStart);
        else
            QTimer::singleShot(0, &app, [wipeAndStart] { wipeAndStart(0); });
    } else {
        QTimer::singleShot(0, &app, bringUp);
    }
    return app.exec();
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("ftsandbox"));
    QCoreApplication::setApplicationVersion(QStringLiteral(FTU_VERSION));

    QStringList arguments = app.arguments();
    const QString command = arguments.value(1);
    if (command.isEmpty() || command == QLatin1String("help") || command == QLatin1String("--help")
        || command == QLatin1String("-h")) {
        std::fputs(overview, command.isEmpty() ? stderr : stdout);
        return command.isEmpty() ? exitUsage : 0;
    }
    if (command == QLatin1String("--version")) {
        out(QStringLiteral("ftsandbox ") + QCoreApplication::applicationVersion());
        return 0;
    }
    // The subcommand's parser sees "ftsandbox <options…>".
    arguments.removeAt(1);
    if (command == QLatin1String("init"))
        return runInit(arguments);
    if (command == QLatin1String("make-package"))
        return runMakePackage(arguments);
    if (command == QLatin1String("msiexec"))
        return runMsiexec(app, arguments.mid(1));
    if (command == QLatin1String("apply"))
        return runApply(app, arguments);
    if (command == QLatin1String("exe")) {
        ExeStandIn exe(arguments.mid(1));
        QObject::connect(&exe, &ExeStandIn::finished, &app, [&app](int code) { app.exit(code); });
        exe.start();
        return app.exec();
    }
    if (command == QLatin1String("reg")) {
        QString output;
        QString errors;
        const int code = registry::runReg(arguments.mid(1), &output, &errors);
        std::fputs(output.toUtf8().constData(), stdout);
        std::fputs(errors.toUtf8().constData(), stderr);
        return code;
    }
    if (command == QLatin1String("up"))
        return runUp(app, arguments);
    if (command == QLatin1String("down"))
        return runDown(app, arguments);
    if (command == QLatin1String("status"))
        return runStatus(arguments);
    if (command == QLatin1String("demo"))
        return runDemo(app, arguments);
    return usageError(tr("Unknown command \"%1\".").arg(command));
}

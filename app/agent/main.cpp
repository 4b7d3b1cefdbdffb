// ftupgrade-agent: the node agent (API.md). `init` writes the configuration, the token's
// hash and the certificate; `run` serves the HTTPS API until SIGTERM/SIGINT.

#include "agentconfig.h"
#include "packages/installcommand.h"
#include "agentserver.h"
#include "webuibaseline.h"
#include "certificate.h"
#include "packagedownload.h"
#include "support/logging.h"
#include "support/signalwatcher.h"
#include "tokenauth.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QSettings>
#include <QRegularExpression>
#include <QJsonDocument>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>
#include <QSysInfo>

#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>
#include <vector>

#ifdef Q_OS_WIN
#include "windowsservice.h"
#endif

#include <csignal>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

using namespace ft;
using namespace ft::agent;

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ftupgrade-agent", text); }

void printLine(const QString &line)
{
    std::fputs(qPrintable(line + QLatin1Char('\n')), stdout);
    std::fflush(stdout);
}

int fail(const QString &message)
{
    std::fputs(qPrintable(tr("ftupgrade-agent: %1").arg(message) + QLatin1Char('\n')), stderr);
    return 1;
}

Result writePrivateFile(const QString &path, const QByteArray &data)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return makeError(tr("Cannot write %1: %2").arg(path, file.errorString()));
    file.setPermissions(QFile::ReadOwner | QFile::WriteOwner);
    file.write(data);
    if (!file.commit())
        return makeError(tr("Cannot write %1: %2").arg(path, file.errorString()));
    return {};
}

// Makes the certificate when there is none (first start) and returns its fingerprint.
Expected<QByteArray> ensureCertificate(const AgentConfig &config, bool renew)
{
    if (renew || !QFileInfo::exists(config.certificateFile()) || !QFileInfo::exists(config.keyFile())) {
        if (auto written = writeSelfSignedCertificate(config.certificateFile(), config.keyFile(),
                                                      {QSysInfo::machineHostName()});
            !written) {
            return makeError(written.error());
        }
    }
    return certificateFingerprintOfFile(config.certificateFile());
}

// Quits the event loop on SIGTERM/SIGINT so jobs and files are closed properly.
void quitOnSignals(QCoreApplication &app)
{
    auto *watcher = new SignalWatcher({SIGTERM, SIGINT}, &app);
    QObject::connect(watcher, &SignalWatcher::received, &app, [&app] {
        logging::logger()->info("Stopping on a signal");
        app.quit();
    });
}

int runInit(const QCommandLineParser &parser)
{
    const QString file = QFileInfo(parser.value(QStringLiteral("config"))).absoluteFilePath();
    AgentConfig config;
    const bool existing = QFileInfo::exists(file);
    if (existing) {
        auto loaded = AgentConfig::load(file);
        if (loaded)
            config = *loaded;
    }
    config.file = file;
    if (!QDir().mkpath(config.directory()))
        return fail(tr("Cannot create the folder %1.").arg(config.directory()));

    if (parser.isSet(QStringLiteral("backend"))) {
        auto backend = parseBackend(parser.value(QStringLiteral("backend")));
        if (!backend)
            return fail(backend.error());
        if (*backend != config.backend || !existing) {
            config.serviceName = AgentConfig::defaultServiceName(*backend);
            config.installerCommand = AgentConfig::defaultInstallerCommand(*backend);
            config.installerCommands.clear();
            config.rebootRequiredFile = AgentConfig::defaultRebootRequiredFile(*backend);
        }
        config.backend = *backend;
    }
    if (config.serviceName.isEmpty())
        config.serviceName = AgentConfig::defaultServiceName(config.backend);
    if (config.installerCommand.isEmpty())
        config.installerCommand = AgentConfig::defaultInstallerCommand(config.backend);
    for (PackageFormat format : {PackageFormat::Msi, PackageFormat::Exe, PackageFormat::Rpm, PackageFormat::Deb,
                                 PackageFormat::SelfExtracting}) {
        if (!config.installerCommands.contains(toString(format)))
            config.installerCommands.insert(toString(format),
                                            defaultInstallCommand(format, config.backend == Backend::Sandbox));
    }
    if (!existing && config.rebootRequiredFile.isEmpty())
        config.rebootRequiredFile = AgentConfig::defaultRebootRequiredFile(config.backend);
    if (parser.isSet(QStringLiteral("install")))
        config.installDir = QFileInfo(parser.value(QStringLiteral("install"))).absoluteFilePath();
    if (config.installDir.isEmpty())
        config.installDir = AgentConfig::defaultInstallDir(config.backend);
    if (parser.isSet(QStringLiteral("listen")))
        config.listen = parser.value(QStringLiteral("listen"));
    if (parser.isSet(QStringLiteral("port"))) {
        bool ok = false;
        config.port = parser.value(QStringLiteral("port")).toInt(&ok);
        if (!ok || config.port < 0 || config.port > 65535)
            return fail(tr("The port must be a number from 0 to 65535."));
    }
    if (parser.isSet(QStringLiteral("staging")))
        config.stagingDir = QFileInfo(parser.value(QStringLiteral("staging"))).absoluteFilePath();
    if (config.stagingDir.isEmpty())
        config.stagingDir = QDir(config.directory()).filePath(QStringLiteral("staging"));
    if (parser.isSet(QStringLiteral("service-name")))
        config.serviceName = parser.value(QStringLiteral("service-name"));
    if (parser.isSet(QStringLiteral("installer-command")))
        config.installerCommand = parser.value(QStringLiteral("installer-command"));

    QString tokenWhere;
    if (parser.isSet(QStringLiteral("token")) && parser.isSet(QStringLiteral("token-file")))
        return fail(tr("Give either --token or --token-file, not both."));
    if (parser.isSet(QStringLiteral("token"))) {
        const QByteArray token = parser.value(QStringLiteral("token")).toUtf8();
        if (token.size() < 16)
            return fail(tr("The token must be at least 16 characters long."));
        config.token = TokenHash::make(token);
        tokenWhere = tr("as given with --token");
    } else if (parser.isSet(QStringLiteral("token-file"))) {
        QFile tokenFile(parser.value(QStringLiteral("token-file")));
        if (!tokenFile.open(QIODevice::ReadOnly))
            return fail(tr("Cannot read the token file: %1").arg(tokenFile.errorString()));
        const QByteArray token = tokenFile.readLine().trimmed();
        if (token.size() < 16)
            return fail(tr("The token in %1 must be at least 16 characters long.").arg(tokenFile.fileName()));
        config.token = TokenHash::make(token);
        tokenWhere = QFileInfo(tokenFile).absoluteFilePath();
    } else if (config.token.isNull()) {
        const QString path = QDir(config.directory()).filePath(QStringLiteral("token"));
        const QByteArray token = generateToken();
        if (auto written = writePrivateFile(path, token + '\n'); !written)
            return fail(written.error());
        config.token = TokenHash::make(token);
        tokenWhere = path;
    } else {
        tokenWhere = tr("unchanged (only its hash is kept)");
    }

    // The cluster's member list: the vendor documents no API for it, so it lives here.
    QStringList names;
    QList<std::tuple<QString, QString, int>> members;
    for (const QString &text : parser.values(QStringLiteral("member"))) {
        static const QRegularExpression pattern(
            QStringLiteral("^([A-Za-z0-9][A-Za-z0-9._-]{0,62})=([^:\\s]+|\\[[0-9A-Fa-f:.]+\\])(?::(\\d{1,5}))?$"));
        const auto match = pattern.match(text);
        const int port = match.captured(3).isEmpty() ? 9650 : match.captured(3).toInt();
        if (!match.hasMatch() || port < 1 || port > 65535 || names.contains(match.captured(1)))
            return fail(tr("--member takes NAME=HOST or NAME=HOST:PORT, each name once (got \"%1\").").arg(text));
        names.append(match.captured(1));
        members.append({match.captured(1), match.captured(2), port});
    }
    if (auto saved = config.save(); !saved)
        return fail(saved.error());
    if (parser.isSet(QStringLiteral("member"))) {
        QSettings ini(config.file, QSettings::IniFormat);
        ini.remove(QStringLiteral("cluster"));
        ini.beginGroup(QStringLiteral("cluster"));
        ini.setValue(QStringLiteral("members"), names);
        for (const auto &[name, host, port] : members) {
            ini.setValue(name + QStringLiteral("/host"), host);
            ini.setValue(name + QStringLiteral("/agent_port"), port);
        }
        ini.endGroup();
        ini.sync();
        if (ini.status() != QSettings::NoError)
            return fail(tr("Cannot write the member list into %1.").arg(config.file));
    }
    auto fingerprint = ensureCertificate(config, parser.isSet(QStringLiteral("new-certificate")));
    if (!fingerprint)
        return fail(fingerprint.error());
    printLine(QStringLiteral("fingerprint: ") + QString::fromLatin1(*fingerprint));
    printLine(QStringLiteral("token: ") + tokenWhere);
    return 0;
}

int runServe(QCoreApplication &app, const QCommandLineParser &parser)
{
    // Several --config: one process serves several agents (the sandbox's large clusters
    // and benchmarks, where a process per node would not fit in memory). A node's agent
    // has exactly one.
    QList<AgentConfig> configs;
    for (const QString &file : parser.values(QStringLiteral("config"))) {
        auto config = AgentConfig::load(file);
        if (!config)
            return fail(config.error());
        configs.append(*config);
    }

    auto options = logging::optionsFromCommandLine(parser, QStringLiteral("ftupgrade-agent"));
    if (!options)
        return fail(options.error());
    if (options->directory.isEmpty())
        options->directory = QDir(configs.first().directory()).filePath(QStringLiteral("logs"));
    if (auto logFile = logging::setup(*options); !logFile)
        return fail(logFile.error());

    quitOnSignals(app);
    std::vector<std::unique_ptr<AgentServer>> servers;
    for (const AgentConfig &config : std::as_const(configs)) {
        const bool firstStart = !QFileInfo::exists(config.certificateFile());
        auto fingerprint = ensureCertificate(config, false);
        if (!fingerprint)
            return fail(fingerprint.error());
        if (firstStart)
            printLine(QStringLiteral("fingerprint: ") + QString::fromLatin1(*fingerprint));

        auto server = std::make_unique<AgentServer>(config);
        auto url = server->start();
        if (!url)
            return fail(url.error());
        const QString urlText = url->toString();
        QSaveFile urlFile(config.urlFile());
        if (urlFile.open(QIODevice::WriteOnly)) {
            urlFile.write(urlText.toUtf8() + '\n');
            urlFile.commit();
        }
        logging::logger()->info("ftupgrade-agent {} serving {} (backend {}, install {}, certificate {})",
                                FTU_VERSION, urlText.toStdString(), toString(config.backend).toStdString(),
                                config.installDir.toStdString(), fingerprint->toStdString());
        printLine(QStringLiteral("listening: ") + urlText);
        servers.push_back(std::move(server));
    }
#ifdef Q_OS_WIN
    // Started by the Service Control Manager: report "running", quit on its stop request.
    WindowsService service;
    service.start();
    const int exitCode = app.exec();
    service.setExitCode(exitCode);
    return exitCode;
#else
    return app.exec();
#endif
}

// `baseline`: records the Web UI baseline of the installed version (at install time,
// while the Web UI is as the vendor shipped it). Prints one JSON line.
int runBaseline(const QCommandLineParser &parser)
{
    auto config = AgentConfig::load(parser.value(QStringLiteral("config")));
    if (!config)
        return fail(config.error());
    auto recorded = webuibaseline::record(*config, QStringLiteral("ftupgrade-agent baseline"));
    if (!recorded)
        return fail(recorded.error());
    printLine(QString::fromUtf8(QJsonDocument(*recorded).toJson(QJsonDocument::Compact)));
    return 0;
}

} // namespace

int main(int argc, char *argv[])
{
#if defined(__GLIBC__)
    // The agent's large buffers (upload chunks of up to 8 MiB, a stream's 1 MiB queue,
    // a download's read buffer) come and go. glibc raises its mmap threshold after each
    // such free, after which they are carved from the heap and stay there: a portal
    // agent serving eight downloads while an upload arrives grew by ~90 MiB that way.
    // A fixed threshold stops that. At 256 KiB every socket buffer of a stream was a
    // fresh mapping, faulted in and zeroed page by page (a fifth of the portal's event
    // loop); just above 1 MiB a stream's buffers (128 KiB blocks, at most 1 MiB queued)
    // are reused from the heap, while an upload's 2 MiB chunk bodies stay mapped and go
    // back when freed. At 3 MiB the bodies were reused too, but the portal's growth in
    // the 8-node benchmark rose from ~45 to ~55-59 MiB of the 64 MiB allowed. A trim
    // threshold of 4 MiB still gives a freed top of the heap back.
    mallopt(M_MMAP_THRESHOLD, 1024 * 1024 + 4096);
    mallopt(M_TRIM_THRESHOLD, 4 * 1024 * 1024);
#endif
    // libcurl's global set-up (package downloads) before any other thread exists.
    ft::agent::PackageDownload::globalInit();
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("ftupgrade-agent"));
    QCoreApplication::setApplicationVersion(QStringLiteral(FTU_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(tr("FlowTraq upgrade agent: serves the node's upgrade API over HTTPS."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("command"), tr("init, run or baseline"));
    parser.addOptions({
        {QStringLiteral("config"), tr("Configuration file (INI); run: repeat it to serve several agents in one process."), QStringLiteral("file")},
        {QStringLiteral("install"), tr("FlowTraq installation folder."), QStringLiteral("dir")},
        {QStringLiteral("backend"), tr("sandbox, systemd or windows."), QStringLiteral("name")},
        {QStringLiteral("listen"), tr("Address to listen on (default 127.0.0.1)."), QStringLiteral("addr")},
        {QStringLiteral("port"), tr("Port (default 9650; 0: any free port)."), QStringLiteral("n")},
        {QStringLiteral("staging"), tr("Staging folder for packages."), QStringLiteral("dir")},
        {QStringLiteral("token"), tr("Bearer token to accept (only its hash is stored)."), QStringLiteral("token")},
        {QStringLiteral("token-file"), tr("File whose first line is the bearer token."), QStringLiteral("file")},
        {QStringLiteral("service-name"), tr("systemd unit or Windows service name."), QStringLiteral("name")},
        {QStringLiteral("installer-command"), tr("Installer command template (see API.md)."), QStringLiteral("cmd")},
        {QStringLiteral("new-certificate"), tr("init: replace the certificate.")},
        {QStringLiteral("member"), tr("init, on the portal: a cluster member NAME=HOST[:AGENT_PORT] (repeatable); "
                                      "replaces the member list in the configuration."),
         QStringLiteral("member")},
    });
    logging::addCommandLineOptions(parser);
    parser.process(app);

    const QStringList positional = parser.positionalArguments();
    if (positional.size() != 1 || !parser.isSet(QStringLiteral("config")))
        return fail(tr("usage: ftupgrade-agent init|run|baseline --config FILE [options]; see --help."));
    if (positional.first() == QLatin1String("init"))
        return runInit(parser);
    if (positional.first() == QLatin1String("run"))
        return runServe(app, parser);
    if (positional.first() == QLatin1String("baseline"))
        return runBaseline(parser);
    return fail(tr("Unknown command \"%1\" (use init, run or baseline).").arg(positional.first()));
}

// ftsandbox-server --install DIR [--foreground]
// The sandbox's stand-in FlowTraq server daemon; see app/sandbox/LAYOUT.md.
// Exit codes: 0 clean stop (SIGTERM/SIGINT), 1 bad installation or arguments,
// 2 another instance holds the pid file, 3 a port could not be bound.

#include "flowserver.h"
#include "pidfile.h"
#include "serverconfig.h"
#include "support/signalwatcher.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>

#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("ftsandbox-server", text);
}

enum ExitCode { Success = 0, BadInstall = 1, AlreadyRunning = 2, CannotBind = 3 };

int fail(const QString &message, ExitCode code)
{
    std::fprintf(stderr, "ftsandbox-server: error: %s\n", qPrintable(message));
    if (spdlog::default_logger())
        spdlog::error("{}", message.toStdString());
    spdlog::shutdown();
    return code;
}

// The daemon's own log, DIR/logs/flowtraq.log (rotated at 5 MiB, 3 kept), as a real
// FlowTraq server keeps one in its folder; in the foreground also on stderr.
ft::Result setupLogging(const QString &logDir, bool foreground)
{
    if (!QDir().mkpath(logDir))
        return ft::makeError(
                tr("Cannot create the log folder %1.").arg(QDir::toNativeSeparators(logDir)));
    std::vector<spdlog::sink_ptr> sinks;
    try {
        sinks.push_back(std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
                QDir(logDir).filePath(QStringLiteral("flowtraq.log")).toStdString(),
                5 * 1024 * 1024, 3));
    } catch (const spdlog::spdlog_ex &error) {
        return ft::makeError(
                tr("Cannot open the log file: %1").arg(QString::fromUtf8(error.what())));
    }
    if (foreground)
        sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    auto logger = std::make_shared<spdlog::logger>("flowtraq", sinks.begin(), sinks.end());
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %z [%l] %v");
    logger->set_level(spdlog::level::info);
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(logger);
    return {};
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("ftsandbox-server"));
    QCoreApplication::setApplicationVersion(QStringLiteral(FTU_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(
            tr("The sandbox's stand-in FlowTraq server: counts NetFlow v5/v9 and IPFIX flows on "
               "its UDP flow port and reports its status (see app/sandbox/LAYOUT.md)."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addOption({QStringLiteral("install"), tr("The node's installation folder."),
                      QStringLiteral("DIR")});
    parser.addOption({QStringLiteral("foreground"), tr("Also log to stderr.")});
    parser.process(app);

    if (!parser.isSet(QStringLiteral("install")) || !parser.positionalArguments().isEmpty())
        return fail(tr("Usage: ftsandbox-server --install DIR [--foreground]"), BadInstall);

    const auto config = ft::sandbox::ServerConfig::load(parser.value(QStringLiteral("install")));
    if (!config)
        return fail(config.error(), BadInstall);
    if (const ft::Result logging
        = setupLogging(config->logDir(), parser.isSet(QStringLiteral("foreground")));
        !logging)
        return fail(logging.error(), BadInstall);

    ft::flow::PidFile pidFile(config->pidFilePath());
    if (const ft::Result held = pidFile.acquire(); !held)
        return fail(held.error(), AlreadyRunning);

    // Watch the signals before anything can take long, so a SIGTERM is never lost.
    ft::SignalWatcher signalWatcher({SIGTERM, SIGINT, SIGHUP});
    ft::sandbox::FlowServer server(*config);
    QObject::connect(&signalWatcher, &ft::SignalWatcher::received, &server,
                     [&server](int signal) {
                         if (signal == SIGHUP) {
                             server.reloadConfiguration();
                             return;
                         }
                         spdlog::info("Received {}.", signal == SIGTERM ? "SIGTERM" : "SIGINT");
                         server.stop();
                     });
    QObject::connect(&server, &ft::sandbox::FlowServer::stopped, &app,
                     [] { QCoreApplication::exit(0); });

    if (const ft::Result started = server.start(); !started) {
        pidFile.release();
        return fail(started.error(), CannotBind);
    }

    const int code = app.exec();
    pidFile.release();
    spdlog::info("Pid file removed; exiting with {}.", code);
    spdlog::shutdown();
    return code;
}

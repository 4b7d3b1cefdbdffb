#include "support/logging.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QStandardPaths>

#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace ft::logging {

namespace {

const char kLoggerName[] = "ft";

QString tr(const char *text) { return QCoreApplication::translate("ft::logging", text); }

} // namespace

void addCommandLineOptions(QCommandLineParser &parser)
{
    parser.addOption({QStringLiteral("log-level"),
                      tr("Log level: trace, debug, info, warn, error or off (default info)."),
                      QStringLiteral("level"), QStringLiteral("info")});
    parser.addOption({QStringLiteral("log-dir"),
                      tr("Folder for log files (default: the application data folder)."),
                      QStringLiteral("folder")});
}

Expected<Options> optionsFromCommandLine(const QCommandLineParser &parser, const QString &appName)
{
    Options options;
    options.appName = appName;
    if (parser.isSet(QStringLiteral("log-level")))
        options.level = parser.value(QStringLiteral("log-level")).toLower();
    options.directory = parser.value(QStringLiteral("log-dir"));
    const auto level = spdlog::level::from_str(options.level.toStdString());
    if (level == spdlog::level::off && options.level != QLatin1String("off"))
        return makeError(tr("Unknown log level \"%1\" (use trace, debug, info, warn, error or off).")
                             .arg(options.level));
    return options;
}

QString defaultDirectory()
{
    const QString base = QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation);
    return QDir(base.isEmpty() ? QDir::tempPath() : base).filePath(QStringLiteral("logs"));
}

Expected<QString> setup(const Options &options)
{
    const QString directory = options.directory.isEmpty() ? defaultDirectory() : options.directory;
    if (!QDir().mkpath(directory))
        return makeError(tr("Cannot create the log folder %1.").arg(QDir::toNativeSeparators(directory)));

    // One file per run: the start time and the process id keep parallel runs apart.
    const QString stamp = QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss"));
    const QString fileName = QStringLiteral("%1-%2-%3.log")
                                 .arg(options.appName.isEmpty() ? QStringLiteral("ftupgrade")
                                                                : options.appName,
                                      stamp)
                                 .arg(QCoreApplication::applicationPid());
    const QString path = QDir(directory).filePath(fileName);

    std::vector<spdlog::sink_ptr> sinks;
    try {
        sinks.push_back(std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
            path.toStdString(), 5 * 1024 * 1024, 3));
    } catch (const spdlog::spdlog_ex &error) {
        return makeError(tr("Cannot open the log file %1: %2")
                             .arg(QDir::toNativeSeparators(path), QString::fromUtf8(error.what())));
    }
    if (options.toStderr)
        sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());

    auto logger = std::make_shared<spdlog::logger>(kLoggerName, sinks.begin(), sinks.end());
    logger->set_level(spdlog::level::from_str(options.level.toStdString()));
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %z [%l] %v");
    logger->flush_on(spdlog::level::info);
    spdlog::drop(kLoggerName);
    spdlog::register_logger(logger);
    spdlog::set_default_logger(logger);
    return path;
}

std::shared_ptr<spdlog::logger> logger()
{
    return spdlog::default_logger();
}

} // namespace ft::logging

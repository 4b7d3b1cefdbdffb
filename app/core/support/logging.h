#pragma once

#include "model/expected.h"

#include <QString>

#include <memory>

class QCommandLineParser;

namespace spdlog {
class logger;
}

namespace ft::logging {

struct Options
{
    QString appName;   // file name stem, e.g. "ftupgrade"
    QString level = QStringLiteral("info"); // trace, debug, info, warn, error, off
    QString directory; // empty: <app-data>/logs
    bool toStderr = true;
};

// Adds --log-level and --log-dir to a command-line parser.
void addCommandLineOptions(QCommandLineParser &parser);
// Reads them back (defaults where not given). Bad levels are an error.
Expected<Options> optionsFromCommandLine(const QCommandLineParser &parser, const QString &appName);

// Sets up the process-wide logger: a rotating file per run (5 MiB × 3) plus stderr.
// Returns the log file's path. Safe to call again (the previous set-up is replaced).
Expected<QString> setup(const Options &options);

// The process-wide logger; before setup(), a stderr-only logger.
std::shared_ptr<spdlog::logger> logger();

// Folder where log files go by default (<app-data>/logs).
QString defaultDirectory();

} // namespace ft::logging

#pragma once

#include "model/expected.h"
#include "session/upgradesession.h"

#include <QCommandLineParser>
#include <QHash>
#include <QJsonObject>

#include <functional>

namespace ft::cli {

// Exit codes, as the README documents them.
enum ExitCode {
    ExitOk = 0,
    ExitFailed = 1,       // could not do it, or checks block it, or a step failed
    ExitBadInput = 2,     // bad arguments or files; nothing was done
    ExitRebootNeeded = 3, // done, but a node needs a reboot
};

// What every command shares: how to reach the cluster, and the session built from it.
class CliContext
{
public:
    // Adds --sandbox, --portal, --fingerprint, --token-file.
    static void addConnectionOptions(QCommandLineParser &parser);
    // Adds --server-package, --nbi-package, --webui-package.
    static void addPackageOptions(QCommandLineParser &parser);

    // Configures the session's portal from the options. The token comes from
    // --token-file, then $FTUPGRADE_TOKEN, then (for --sandbox) the cluster file;
    // never from the command line, where other users could read it.
    static Result configure(const QCommandLineParser &parser, UpgradeSession &session);
};

// Parses a subcommand's arguments; positional arguments are an error.
Result parseArguments(QCommandLineParser &parser, const QStringList &arguments);

// The package files named by --server-package, --nbi-package and --webui-package.
QHash<Component, QString> packagePaths(const QCommandLineParser &parser);

// Reads each package (manifest, integrity, SHA-256) off the main thread: `accept` gets
// each good one, then `done` gets the errors (sentences) once all are read. Never
// calls back inside this call.
// What was typed for each slot's vendor installer: --server-version/--server-switches, …
struct PackageTyping
{
    QString version;
    QString switches;
};
QHash<Component, PackageTyping> packageTyping(const QCommandLineParser &parser);

void inspectPackages(QObject *owner, const QHash<Component, QString> &paths,
                     const QHash<Component, PackageTyping> &typing,
                     const std::function<void(Component, const PackageChoice &)> &accept,
                     const std::function<void(const QStringList &)> &done);

// Prints a JSON document on stdout.
void printJson(const QJsonObject &object);
// Prints a sentence on stderr.
void printError(const QString &sentence);

} // namespace ft::cli

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
    // Adds --server-package, --nbi-package, --webui-package (each up to twice: one
    // package per system in a cluster of Linux and Windows nodes).
    static void addPackageOptions(QCommandLineParser &parser);

    // Configures the session's portal from the options. The token comes from
    // --token-file, then $FTUPGRADE_TOKEN, then (for --sandbox) the cluster file;
    // never from the command line, where other users could read it.
    static Result configure(const QCommandLineParser &parser, UpgradeSession &session);
    // Configures FlowTraq's Web API (--webapi…) on the session's discovery. The password
    // comes from $FLOWTRAQ_WEBAPI_PASSWORD, else from the OS keychain entry the wizard
    // saved (same service and key). `done` gets the outcome once, never inside this call.
    static void configureWebApi(QObject *owner, const QCommandLineParser &parser, UpgradeSession &session,
                                const std::function<void(const Result &)> &done);
};

// Parses a subcommand's arguments; positional arguments are an error.
Result parseArguments(QCommandLineParser &parser, const QStringList &arguments);

// What was typed for a vendor installer: --server-version/--server-switches, …
struct PackageTyping
{
    QString version;
    QString switches;
};

// One package file named on the command line. --server-package (and --nbi-package,
// --webui-package) may be given twice for a cluster that mixes Linux and Windows nodes,
// one package per system; the second one goes to the component's second slot (index 1).
struct PackageArgument
{
    Component slot = Component::Server;
    int index = 0;
    QString path;
    PackageTyping typed; // --<slot>-version/-switches: once for all, or once per package in order
};

// The package files named by --server-package, --nbi-package and --webui-package, or a
// sentence when one is named too often.
Expected<QList<PackageArgument>> packagePaths(const QCommandLineParser &parser);

// Whether a vendor installer without documented switches (.exe, Linux install binaries)
// must be given them: a command that installs needs them; one that only reads the
// package's version (verify) does not.
enum class InstallerSwitches { Required, NotNeeded };

// Reads each package (manifest, integrity, SHA-256) off the main thread: `accept` gets
// each good one, then `done` gets the errors (sentences) once all are read. Never
// calls back inside this call.
void inspectPackages(QObject *owner, const QList<PackageArgument> &packages,
                     const std::function<void(const PackageArgument &, const PackageChoice &)> &accept,
                     const std::function<void(const QStringList &)> &done,
                     InstallerSwitches switches = InstallerSwitches::Required);

// Prints a JSON document on stdout.
void printJson(const QJsonObject &object);
// Prints a sentence on stderr.
void printError(const QString &sentence);

} // namespace ft::cli

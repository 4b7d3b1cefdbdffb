#include "commands.h"
#include "support/logging.h"

#include <QGuiApplication>

#include <cstdio>
#include <memory>

using namespace ft::cli;

namespace {

QString usage()
{
    return QCoreApplication::translate(
               "ftupgrade-cli",
               "Usage: ftupgrade-cli COMMAND [options]\n"
               "Commands: %1\n"
               "'ftupgrade-cli COMMAND --help' lists a command's options.\n"
               "Exit codes: 0 ok, 1 failed or blocked, 2 bad input, 3 reboot needed\n"
               "(customizations: 0 none, 1 some, 4 could not check).")
        .arg(commandNames().join(QStringLiteral(", ")));
}

} // namespace

int main(int argc, char *argv[])
{
    // A QGuiApplication on the offscreen platform: no window ever opens, but the run
    // report's PDF writer (QPdfWriter, QTextDocument) needs one.
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QGuiApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("ftupgrade"));
    QCoreApplication::setOrganizationName(QStringLiteral("FlowTraq Upgrade"));
    QCoreApplication::setApplicationVersion(QStringLiteral(FTU_VERSION));

    QStringList arguments = QCoreApplication::arguments();
    arguments.removeFirst();
    if (arguments.isEmpty() || arguments.first() == QLatin1String("--help")
        || arguments.first() == QLatin1String("-h")) {
        printError(usage());
        return arguments.isEmpty() ? ExitBadInput : ExitOk;
    }
    if (arguments.first() == QLatin1String("--version")) {
        std::printf("ftupgrade-cli %s\n", FTU_VERSION);
        return ExitOk;
    }

    const QString name = arguments.first();
    // Owned here, not by the application: it must go while the application still
    // exists. As app's child it was deleted after qApp was gone, and closing its
    // sockets then made Qt's TLS backend print "QObject::connect(QObject, Unknown):
    // invalid nullptr parameter" at the end of every run and verify.
    const std::unique_ptr<Command> command(createCommand(name, nullptr));
    if (!command) {
        printError(QCoreApplication::translate("ftupgrade-cli", "Unknown command \"%1\".").arg(name));
        printError(usage());
        return ExitBadInput;
    }
    if (arguments.contains(QLatin1String("--help"))) {
        (void)command->parse({QStringLiteral("ftupgrade-cli ") + name});
        std::fputs(qPrintable(command->helpText()), stdout);
        return ExitOk;
    }
    // The parser wants the program's name first.
    arguments.first() = QStringLiteral("ftupgrade-cli ") + name;
    if (ft::Result parsed = command->parse(arguments); !parsed) {
        printError(parsed.error());
        return ExitBadInput;
    }

    // Logs go to a file only: stdout carries the JSON, stderr the sentences.
    ft::logging::Options logOptions;
    logOptions.appName = QStringLiteral("ftupgrade-cli");
    logOptions.toStderr = false;
    (void)ft::logging::setup(logOptions);

    QObject::connect(command.get(), &Command::finished, &app, &QCoreApplication::exit);
    command->start();
    return app.exec();
}

#include "democluster.h"
#include "support/logging.h"
#include "support/signalwatcher.h"
#include "session/upgradesession.h"
#include "pages/upgradewizard.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QMessageBox>

#include <spdlog/spdlog.h>

#include <csignal>

int main(int argc, char *argv[])
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("ftupgrade"));
    QApplication::setApplicationDisplayName(QObject::tr("FlowTraq Upgrade Wizard"));
    QApplication::setOrganizationName(QStringLiteral("FlowTraq Upgrade"));
    QApplication::setApplicationVersion(QStringLiteral(FTU_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(QObject::tr("Upgrades a FlowTraq cluster step by step."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption demo(QStringLiteral("demo"),
                                  QObject::tr("Start a sandbox cluster and connect to it."));
    parser.addOption(demo);
    ft::logging::addCommandLineOptions(parser);
    parser.process(app);

    const auto logOptions = ft::logging::optionsFromCommandLine(parser, QStringLiteral("ftupgrade"));
    if (!logOptions) {
        QMessageBox::critical(nullptr, QApplication::applicationDisplayName(), logOptions.error());
        return 2;
    }
    if (const auto logFile = ft::logging::setup(*logOptions); !logFile)
        QMessageBox::warning(nullptr, QApplication::applicationDisplayName(), logFile.error());

    ft::UpgradeSession session;
    if (ft::Result opened = session.openHistory(); !opened)
        spdlog::warn("Measured durations are not available: {}", opened.error().toStdString());

    ft::ui::UpgradeWizard wizard(&session);
    wizard.setDemo(parser.isSet(demo));
    std::unique_ptr<ft::DemoCluster> demoCluster;
    if (parser.isSet(demo)) {
        demoCluster = std::make_unique<ft::DemoCluster>(&session, &wizard);
        QObject::connect(demoCluster.get(), &ft::DemoCluster::failed, &wizard,
                         [&wizard](const QString &error) {
                             QMessageBox::critical(&wizard, QObject::tr("Demo cluster"), error);
                         });
        demoCluster->start();
    }
    // Asked to stop (logout, kill, Ctrl-C in a terminal): leave through the normal
    // exit, so the demo cluster is torn down. A run in progress stays resumable.
    // exit(), not quit(): quit() first closes the windows, and the wizard's close asks
    // "Quit the wizard?", which would leave the process running after the signal.
    ft::SignalWatcher stopSignals({SIGINT, SIGTERM, SIGHUP});
    QObject::connect(&stopSignals, &ft::SignalWatcher::received, &app, [](int signalNumber) {
        spdlog::info("Quitting on signal {}", signalNumber);
        QCoreApplication::exit(128 + signalNumber);
    });
    wizard.show();
    const int exitCode = app.exec();
    if (demoCluster)
        demoCluster->stop();
    return exitCode;
}

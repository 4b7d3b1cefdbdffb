// ftsandbox-exporter --target NAME=HOST:PORT@RATE [--target ...] [--pid-file F]
// Sends NetFlow v9 flow records at RATE a second to each target until SIGTERM/SIGINT.
// Exit codes: 0 clean stop, 1 bad arguments, 2 the pid file is held by a live process.

#include "exporttarget.h"
#include "flowsender.h"
#include "pidfile.h"
#include "support/signalwatcher.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QTimer>

#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <memory>
#include <vector>

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("ftsandbox-exporter", text);
}

int fail(const QString &message, int code)
{
    std::fprintf(stderr, "ftsandbox-exporter: error: %s\n", qPrintable(message));
    return code;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("ftsandbox-exporter"));
    QCoreApplication::setApplicationVersion(QStringLiteral(FTU_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(
            tr("Sends NetFlow v9 flow records to the sandbox's FlowTraq servers at a set rate."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addOption({QStringLiteral("target"),
                      tr("Where to send and how many flow records a second, e.g. "
                         "w1=127.0.0.1:40124@100. Repeat for more targets."),
                      QStringLiteral("NAME=HOST:PORT@RATE")});
    parser.addOption({QStringLiteral("pid-file"), tr("Write the process id to this file."),
                      QStringLiteral("F")});
    parser.process(app);

    if (!parser.positionalArguments().isEmpty())
        return fail(
                tr("Unexpected argument \"%1\".").arg(parser.positionalArguments().constFirst()),
                1);
    const QStringList specs = parser.values(QStringLiteral("target"));
    if (specs.isEmpty())
        return fail(tr("Give at least one --target NAME=HOST:PORT@RATE."), 1);

    spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %z [%l] %v");
    std::vector<std::unique_ptr<ft::sandbox::FlowSender>> senders;
    for (const QString &spec : specs) {
        const auto target = ft::sandbox::ExportTarget::parse(spec);
        if (!target)
            return fail(target.error(), 1);
        // Each target is its own exporter (source id) so templates never mix.
        senders.push_back(
                std::make_unique<ft::sandbox::FlowSender>(*target, quint32(senders.size() + 1)));
    }

    std::unique_ptr<ft::flow::PidFile> pidFile;
    if (parser.isSet(QStringLiteral("pid-file"))) {
        pidFile = std::make_unique<ft::flow::PidFile>(parser.value(QStringLiteral("pid-file")));
        if (const ft::Result held = pidFile->acquire(); !held)
            return fail(held.error(), 2);
    }

    ft::SignalWatcher signalWatcher({SIGTERM, SIGINT});
    QObject::connect(&signalWatcher, &ft::SignalWatcher::received, &app, [](int signal) {
        spdlog::info("Received {}; stopping.", signal == SIGTERM ? "SIGTERM" : "SIGINT");
        QCoreApplication::exit(0);
    });

    // A line a minute per target, for the sandbox's log.
    QTimer summary;
    summary.setInterval(60 * 1000);
    QObject::connect(&summary, &QTimer::timeout, &app, [&senders] {
        for (const auto &sender : senders)
            spdlog::info("{}: {} flow records in {} datagrams sent so far ({} send errors).",
                         sender->target().name.toStdString(), sender->recordsSent(),
                         sender->datagramsSent(), sender->sendErrors());
    });
    summary.start();

    for (const auto &sender : senders) {
        spdlog::info("{}: {:.1f} flow records a second to {}:{} (NetFlow v9).",
                     sender->target().name.toStdString(), sender->target().rate,
                     sender->target().host.toString().toStdString(), sender->target().port);
        sender->start();
    }

    const int code = app.exec();
    for (const auto &sender : senders)
        spdlog::info("{}: {} flow records in {} datagrams sent.",
                     sender->target().name.toStdString(), sender->recordsSent(),
                     sender->datagramsSent());
    return code;
}

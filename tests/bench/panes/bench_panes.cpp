// Responsiveness benchmark of the Run page's live panes (BRIEF §6: 200 panes streaming
// logs, no event-loop stall over 100 ms, log panes capped so memory stays bounded).
//
// 200 real ProgressPanes in a scroll area, in a shown window; every pane gets log lines
// and progress updates at the rate an agent's long poll delivers them (a batch every
// 200 ms), and the panes are flushed every 100 ms as the Run page does. A 5 ms timer
// measures how late the event loop serves it. Prints figures; asserts nothing.
//
//   bench_panes [--panes 200] [--seconds 10] [--lines-per-second 50]

#include "widgets/progresspane.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QFile>
#include <QScrollArea>
#include <QScrollBar>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>
#include <cstdio>

using namespace ft;

namespace {

qint64 residentKiB()
{
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').value(0).toLongLong();
    }
    return -1;
}

} // namespace

int main(int argc, char *argv[])
{
    QApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addOption({QStringLiteral("panes"), QStringLiteral("Panes."), QStringLiteral("n"), QStringLiteral("200")});
    parser.addOption({QStringLiteral("seconds"), QStringLiteral("Duration."), QStringLiteral("s"), QStringLiteral("10")});
    parser.addOption({QStringLiteral("lines-per-second"), QStringLiteral("Log lines per pane per second."),
                      QStringLiteral("n"), QStringLiteral("50")});
    parser.process(app);
    const int paneCount = parser.value(QStringLiteral("panes")).toInt();
    const int seconds = parser.value(QStringLiteral("seconds")).toInt();
    const int linesPerSecond = parser.value(QStringLiteral("lines-per-second")).toInt();

    QWidget window;
    window.resize(1100, 760);
    auto *host = new QWidget;
    auto *layout = new QVBoxLayout(host);
    QList<ui::ProgressPane *> panes;
    for (int i = 0; i < paneCount; ++i) {
        RunStepRecord record;
        record.step.node = QStringLiteral("w%1").arg(i + 1);
        record.step.estimate.totalMs = 240000;
        auto *pane = new ui::ProgressPane(record);
        pane->setLogExpanded(i % 4 == 0); // some logs open, as an administrator would have
        panes.append(pane);
        layout->addWidget(pane);
    }
    auto *scroll = new QScrollArea;
    scroll->setWidget(host);
    scroll->setWidgetResizable(true);
    auto *outer = new QVBoxLayout(&window);
    outer->addWidget(scroll);
    window.show();

    const qint64 rssStart = residentKiB();
    QElapsedTimer clock;
    clock.start();

    // The engine's side: each pane's agent answers a long poll every 200 ms with the
    // lines that came meanwhile, plus a progress update.
    qint64 linesSent = 0;
    QTimer feed;
    feed.setInterval(200);
    QObject::connect(&feed, &QTimer::timeout, [&] {
        const int batch = std::max(1, linesPerSecond / 5);
        for (int i = 0; i < panes.size(); ++i) {
            QStringList lines;
            for (int n = 0; n < batch; ++n)
                lines << QStringLiteral("[%1%] Copying payload/bin/file-%2 (%3 bytes)")
                             .arg((linesSent / panes.size()) % 100, 3)
                             .arg(linesSent + n)
                             .arg(4096 + n);
            panes[i]->queueLog(lines);
            RunStepProgress progress;
            progress.state = RunStepState::Running;
            progress.phase = QStringLiteral("installing");
            progress.progress = double(clock.elapsed() % 60000) / 60000.0;
            progress.elapsedMs = clock.elapsed();
            progress.estimateMs = 240000;
            panes[i]->setProgress(progress);
        }
        linesSent += qint64(batch) * panes.size();
    });
    QTimer flush; // as the Run page does
    flush.setInterval(100);
    QObject::connect(&flush, &QTimer::timeout, [&] {
        for (ui::ProgressPane *pane : std::as_const(panes))
            pane->flush();
    });
    // The probe: how late is a 5 ms timer served?
    QList<qint64> gaps;
    QElapsedTimer since;
    since.start();
    QTimer probe;
    probe.setInterval(5);
    probe.setTimerType(Qt::PreciseTimer);
    QObject::connect(&probe, &QTimer::timeout, [&] { gaps.append(since.restart()); });
    // Scroll now and then, so painting is part of it too.
    QTimer scroller;
    scroller.setInterval(500);
    QObject::connect(&scroller, &QTimer::timeout, [&] {
        scroll->verticalScrollBar()->setValue((scroll->verticalScrollBar()->value() + 700)
                                              % std::max(1, scroll->verticalScrollBar()->maximum()));
    });

    feed.start();
    flush.start();
    probe.start();
    scroller.start();
    QTimer::singleShot(seconds * 1000, &app, &QApplication::quit);
    app.exec();

    std::sort(gaps.begin(), gaps.end());
    const qint64 worst = gaps.isEmpty() ? 0 : gaps.last();
    const qint64 p99 = gaps.isEmpty() ? 0 : gaps.at(qsizetype(gaps.size() * 0.99));
    int maxLines = 0;
    for (const ui::ProgressPane *pane : std::as_const(panes))
        maxLines = std::max(maxLines, pane->logLineCount());
    std::printf("%d panes, %d s, %lld log lines streamed (%.0f lines/s)\n", paneCount, seconds,
                linesSent, linesSent / double(seconds));
    std::printf("event loop: longest stall %lld ms, 99th percentile %lld ms (5 ms probe; budget: no stall over 100 ms)\n",
                worst - 5, p99 - 5);
    std::printf("log panes: at most %d lines kept per pane (cap %d)\n", maxLines, ui::ProgressPane::kMaxLogLines);
    std::printf("memory: %lld KiB resident at start, %lld KiB at the end\n", rssStart, residentKiB());
    return 0;
}

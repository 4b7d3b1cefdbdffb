#pragma once

#include <QDateTime>
#include <QObject>
#include <QPointer>
#include <QTimer>

namespace ft {

class RunEngine;

// Keeps a run to its announced window. The run stages at once (nothing is stopped
// while staging) and then holds at that safe point until the window opens; only then
// may the first service stop. The wizard's countdown and the CLI's --at both use it.
// startNow() lets the run go early (the caller asks the administrator first);
// cancel() aborts it before anything was stopped.
class ScheduledStart : public QObject
{
    Q_OBJECT

public:
    ScheduledStart(RunEngine *engine, const QDateTime &windowStart, QObject *parent = nullptr);

    // Call before engine->start(): asks the engine to hold after staging.
    void arm();
    QDateTime windowStart() const { return m_window; }
    // Milliseconds until the window opens (0 once open).
    qint64 msToWindow() const;
    // True while the run is held for the window (staging, or staged and waiting).
    bool isHolding() const { return m_holding; }

    void startNow();
    void cancel();

Q_SIGNALS:
    // Once a second while holding.
    void countdown(qint64 msLeft);
    // The window opened (or startNow()): the engine goes on with the first wave.
    void released(bool early);

private:
    void check();
    void release(bool early);

    QPointer<RunEngine> m_engine;
    QDateTime m_window;
    QTimer m_timer;
    bool m_holding = false;
};

} // namespace ft

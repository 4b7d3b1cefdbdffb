#pragma once

#include <QDateTime>
#include <QObject>
#include <QPointer>
#include <QTimer>

namespace ft {

class RunEngine;

// The countdown to a run's announced window, for the wizard and the CLI. The engine
// itself keeps to the window (it stages at once and holds before the first service
// stops, also after a resume); this says how long is left, and passes on "start now"
// (after the caller asked the administrator) and "cancel".
class ScheduledStart : public QObject
{
    Q_OBJECT

public:
    explicit ScheduledStart(RunEngine *engine, QObject *parent = nullptr);

    QDateTime windowStart() const;
    // Milliseconds until the window opens (0 once open).
    qint64 msToWindow() const;
    // True until the run passes its window (or is let go early, or ends).
    bool isHolding() const;

    void startNow();
    void cancel();

Q_SIGNALS:
    // Once a second while holding.
    void countdown(qint64 msLeft);
    // The engine went on with the first wave: at the window, or early when asked.
    void released(bool early);

private:
    void check();

    QPointer<RunEngine> m_engine;
    QTimer m_timer;
    bool m_released = false;
};

} // namespace ft

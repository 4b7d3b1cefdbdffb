#pragma once

#include <QList>
#include <QObject>

#include <initializer_list>

class QSocketNotifier;

namespace ft {

// Turns POSIX signals (SIGTERM, SIGINT, …) into a Qt signal on the event loop. The
// handler itself only writes the signal number into a socketpair; everything else
// happens in `received`, where any work is safe. One watcher per process.
class SignalWatcher : public QObject
{
    Q_OBJECT

public:
    explicit SignalWatcher(std::initializer_list<int> signalNumbers, QObject *parent = nullptr);
    ~SignalWatcher() override;

    // False when the socketpair or a handler could not be installed.
    bool isValid() const { return m_notifier != nullptr; }

Q_SIGNALS:
    void received(int signalNumber);

private:
    void readSignals();

    QSocketNotifier *m_notifier = nullptr;
    QList<int> m_signals;
};

} // namespace ft

#pragma once

#include <QObject>

class QSocketNotifier;

namespace ft::sandbox {

// Turns SIGINT/SIGTERM into a Qt signal (self-pipe), so `demo` shuts down from its
// event loop rather than from a signal handler.
class SignalListener : public QObject
{
    Q_OBJECT

public:
    explicit SignalListener(QObject *parent = nullptr);

Q_SIGNALS:
    void stopRequested();

private:
    QSocketNotifier *m_notifier = nullptr;
};

} // namespace ft::sandbox

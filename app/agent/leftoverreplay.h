#pragma once

#include "flowkeeper.h"

#include <QObject>
#include <QTimer>

namespace ft::agent {

class JobStore;

// Gives the service the flows a killed agent kept (FlowKeeper::recover found them):
// it waits until no upgrade runs, no redirect is active and the service listens on every
// flow port again (/proc/net/udp), then replays the spool from where its journal says
// an earlier replay stopped, templates first, each datagram from its exporter's own
// address. The job's log and its "flows" say what happened; the spool, its journal and
// flows/leftover.json go once everything is replayed. finished() once, when it ends.
class LeftoverReplay : public QObject
{
    Q_OBJECT

public:
    LeftoverReplay(FlowKeeper::Settings settings, FlowKeeper::Leftover leftover, JobStore *store,
                   QObject *parent = nullptr);
    ~LeftoverReplay() override;

    void start();

Q_SIGNALS:
    void finished();

private:
    void check();
    void replay();
    void log(const QString &line);

    FlowKeeper::Settings m_settings;
    FlowKeeper::Leftover m_leftover;
    JobStore *m_store;
    QTimer m_poll;
    bool m_waitingSaid = false;
    std::shared_ptr<SpoolReplayCounters> m_counters;
};

} // namespace ft::agent

#pragma once

#include "flowspool.h"
#include "model/expected.h"
#include "nftredirect.h"
#include "rawreplay.h"

#include <QElapsedTimer>
#include <QFuture>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QTimer>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>

class QUdpSocket;

namespace ft::agent {

class JobStore;

// Keeps the flows a node receives while its service is replaced (Linux, as root):
//   takeOver(): a listener per flow port, an nftables redirect of the flow ports to them,
//               every datagram into a spool file (arrival time, exporter address/port);
//   giveBack(): the exporters' templates first, the redirect removed in one transaction,
//               then the spool replayed through a raw socket from the exporters' own
//               addresses, paced on the service socket's receive queue.
// Any failure puts things back as they would be without it (no redirect; the spool kept
// for inspection) and says so in a sentence. finished() comes once after giveBack().
class FlowKeeper : public QObject
{
    Q_OBJECT

public:
    struct Settings
    {
        QList<quint16> flowPorts;
        qint64 spoolCapBytes = qint64(1) << 30;
        QString stateDir;                               // spool files and keeping.json
        QString nftProgram; // empty: libnftables (NftRedirect)
        QString nftTable = QStringLiteral("ftupgrade_keep");
        // The templates each exporter sent before the outage (the agent's flow counter),
        // asked for when keeping starts; they go first in the replay where the spool has
        // none of its own. Unset: only the spool's.
        std::function<QList<SpooledDatagram>()> templatesBefore;
    };

    explicit FlowKeeper(Settings settings, QObject *parent = nullptr);
    ~FlowKeeper() override;

    // Starts keeping: the listeners and the spool at once, the redirect off the agent's
    // thread (its health and job polls answer meanwhile). tookOver() follows once, never
    // inside this call: an empty error means flows are kept; otherwise a sentence for the
    // job's log, and nothing is left behind.
    void takeOver(const QString &jobId);
    bool isKeeping() const { return m_keeping; }
    // The service is up again (or could not be started: then nothing is replayed).
    void giveBack(bool serviceRunning);

    // Counters for the job's record: {"kept", "dropped", "replayed", "templates", "state"}.
    QJsonObject summary() const;

    // A spool a killed agent left, to be replayed once the service listens again.
    struct Leftover
    {
        QString job;
        QString spool;
    };
    struct Recovery
    {
        QStringList lines; // the sentences logged, empty if none
        std::optional<Leftover> leftover;
    };
    // At agent start-up: removes a redirect left by a killed agent, and hands its spool
    // (what is not replayed yet) to a LeftoverReplay; flows/leftover.json remembers it
    // until it is replayed, across further restarts.
    static Recovery recover(const Settings &settings, JobStore *store);
    static QString leftoverFile(const Settings &settings);

Q_SIGNALS:
    void tookOver(const QString &error);
    void message(const QString &line);
    void progress(double share); // of the replay, 0..1
    void finished();

private:
    void readDatagrams(QUdpSocket *socket, quint16 flowPort);
    void flushSpool();
    void fail(const QString &why);
    void stopListening();
    Result prepare(const QString &jobId, QList<NftRedirect::Port> *ports);
    void redirectAdded(const QList<NftRedirect::Port> &ports, const Result &added);
    void redirectRemoved(bool serviceRunning, qsizetype templates, const Result &removed);
    void waitForServiceQueue(qint64 deadline);
    void closeListeners(bool serviceRunning, qsizetype templates);
    void startReplay();
    void finish(const QString &state);
    QString stateFile() const;

    Settings m_settings;
    NftRedirect m_nft;
    QString m_jobId;
    QString m_spoolPath;
    FlowSpoolWriter m_spool;
    QList<QPair<QUdpSocket *, quint16>> m_listeners;
    QTimer m_flushTimer;
    QTimer m_progressTimer;
    QElapsedTimer m_sinceReport;
    qint64 m_reported = -1;
    bool m_keeping = false;
    bool m_ruleActive = false;
    bool m_failed = false;
    QString m_state = QStringLiteral("off");
    qint64 m_templates = 0;
    SpoolTemplates m_templateSource;
    QList<SpooledDatagram> m_templatesBefore;
    int m_templateExporters = 0;

    std::shared_ptr<SpoolReplayCounters> m_replay;
    QFuture<Result> m_nftChange; // an add or remove running on a worker thread
};

} // namespace ft::agent

#pragma once

#include "model/expected.h"
#include "run/runcontext.h"

#include <QHash>
#include <QObject>
#include <QStringList>
#include <QUrl>

#include <memory>

namespace ft {

class PackageServer;

// Puts every package of a run on every node that still has a step to carry out, before
// any service is stopped: serves the packages from this workstation (a PackageServer,
// HTTPS when the options carry a certificate), asks each node's agent to download and
// verify them (a few nodes at a time), and skips what a node has staged already (same
// name and SHA-256). Works on the stage records of the context's journal and says when
// they changed (journalChanged), so the owner saves them.
class Stager : public QObject
{
    Q_OBJECT

public:
    explicit Stager(RunContext &context, QObject *parent = nullptr);
    ~Stager() override;

    // Listens and publishes the journal's packages. An error sentence when the server
    // cannot listen or a package cannot be read.
    Result serve();
    // Null before serve().
    PackageServer *server() const { return m_server; }
    void close();

    // Stages on every node with a pending step; finished() follows, never inside
    // start(). `recheck`: ask the agents again even about what the journal calls staged
    // (a resumed run cannot trust what happened while it was away).
    void start(bool recheck);
    // Stops asking for more and cancels the downloads under way (finished() follows
    // when staging was under way; before start(), start() stages nothing).
    void cancel();
    bool isStaging() const { return !m_staging.isEmpty(); }
    bool isCancelled() const { return m_cancelled; }
    // One sentence per node that failed; empty when everything is staged.
    QStringList errors() const { return m_errors; }

Q_SIGNALS:
    // Bytes verified so far on all nodes together.
    void progress(qint64 bytesDone, qint64 bytesTotal);
    void finished();
    void activity(const QString &sentence, bool warning);
    void journalChanged();

private:
    struct NodeRuntime;

    void pump();
    void stageNode(const QString &node);
    void stageNext(const QString &node);
    void stageFinished(const QString &node);
    void watchStageJob(const QString &node, int index, const QString &jobId);
    void note(const QString &sentence, bool warning = false) { Q_EMIT activity(sentence, warning); }

    RunContext &m_context;
    PackageServer *m_server = nullptr;
    bool m_cancelled = false;
    bool m_done = false;
    QStringList m_queue;
    QHash<QString, std::shared_ptr<NodeRuntime>> m_staging;
    QStringList m_errors;
    qint64 m_bytesTotal = 0;
    QHash<QString, qint64> m_bytesDone; // node/file → bytes
    QHash<QString, QUrl> m_urls;        // file name → URL
};

} // namespace ft

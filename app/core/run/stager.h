#pragma once

#include "agentlink/agentclient.h"
#include "agentlink/stagingjobs.h"
#include "model/expected.h"
#include "run/runcontext.h"

#include <QHash>
#include <QSet>
#include <QObject>
#include <QPointer>
#include <QStringList>
#include <QUrl>

#include <memory>

namespace ft {

class PackageContentsCheckJob;
class PackageServer;
class PackageUploadJob;

// Puts every package of a run on every node that still has a step to carry out, before
// any service is stopped. How the packages travel is the options' delivery: uploaded
// once to the portal's agent (chunked, resumable; the default), served from this
// workstation (a PackageServer, HTTPS when the options carry a certificate), or taken
// from a URL the administrator gives. Then each node's agent is asked to download and
// verify them (a few nodes at a time), skipping what a node has staged already (same
// name and SHA-256). Works on the stage records of the context's journal and says when
// they changed (journalChanged), so the owner saves them.
class Stager : public QObject
{
    Q_OBJECT

public:
    explicit Stager(RunContext &context, QObject *parent = nullptr);
    ~Stager() override;

    // Workstation delivery: listens and publishes the journal's packages; portal and URL
    // delivery: checks what they need. An error sentence when the server cannot listen,
    // a package cannot be read, or the nodes could not reach the address.
    Result serve();
    // Package bytes this workstation sent for the run (uploads to the portal, or the
    // package server's bodies).
    qint64 bytesSent() const;
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
    QStringList errors() const;
    // Removes the run's uploads (the journal's delivery.uploads) from the portal's agent,
    // each id leaving the journal once the agent no longer has it; uploadsRemoved()
    // follows, never inside this call. False (and no signal) when there is none to remove.
    bool removeUploads();

Q_SIGNALS:
    // Bytes verified so far on all nodes together.
    void progress(qint64 bytesDone, qint64 bytesTotal);
    void finished();
    void uploadsRemoved();
    void activity(const QString &sentence, bool warning);
    void journalChanged();

private:
    struct NodeRuntime;

    void checkContents();
    void onContentsChecked(PackageContentsCheckJob *job);
    void checkStaged();
    bool markStaged(const QString &node, const QList<StagedPackage> &staged);
    void uploadNext();
    void onUploadCreated(PackageUploadJob *job);
    void onUploadFinished(PackageUploadJob *job);
    void resumeParked();
    QUrl urlForNodes(const QUrl &url) const;
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
    // The packages' own integrity, checked here once per staging while the upload (or
    // the package server) starts; the nodes wait for it, then skip that second read.
    enum class ContentsCheck { NotNeeded, Running, Passed };
    ContentsCheck m_contentsCheck = ContentsCheck::NotNeeded;
    // Portal delivery
    AgentEndpoint m_portal;
    QStringList m_uploadQueue;          // file names still to upload
    QPointer<PackageUploadJob> m_upload;
    qint64 m_uploadedBytes = 0;
    int m_listing = 0;                  // nodes still asked what they hold before uploading
    QSet<QString> m_listed;             // nodes asked already in this staging
    QSet<QString> m_parked;             // nodes waiting for the upload of their next package
    int m_removing = 0;                 // DELETEs of uploads under way
    // Workstation delivery: nodes that got no byte from this workstation, and why.
    QStringList m_unreachable;
    QString m_unreachableAddress;
    QString m_unreachableReason;
};

} // namespace ft

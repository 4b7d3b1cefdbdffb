#include "run/stager.h"

#include "agentlink/agentjobs.h"
#include "agentlink/agentjobwatcher.h"
#include "agentlink/uploadjobs.h"
#include "packages/contentscheck.h"
#include "packages/packageserver.h"

#include <QDateTime>
#include <QFileInfo>
#include <QHostAddress>

#include <QPointer>
#include <QSet>

#include <algorithm>

namespace ft {

struct Stager::NodeRuntime
{
    AgentEndpoint endpoint;
    QPointer<AgentJobWatcher> watcher;
    int record = -1;
};

Stager::Stager(RunContext &context, QObject *parent)
    : QObject(parent)
    , m_context(context)
{
}

Stager::~Stager()
{
    for (const auto &stage : std::as_const(m_staging)) {
        if (stage->watcher)
            stage->watcher->disconnect(this);
    }
}

Result Stager::serve()
{
    const RunOptions &options = m_context.options;
    m_urls.clear();
    if (options.delivery == PackageDelivery::Url) {
        const QUrl base = options.deliveryUrl;
        const QString scheme = base.scheme().toLower();
        if (!base.isValid() || base.host().isEmpty()
            || (scheme != QLatin1String("http") && scheme != QLatin1String("https")))
            return makeError(tr("The package URL \"%1\" must be an http or https URL with a host.")
                                 .arg(base.toString()));
        for (const RunPackage &package : std::as_const(m_context.journal.packages)) {
            QUrl url = base;
            QString path = url.path();
            if (!path.endsWith(QLatin1Char('/')))
                path += QLatin1Char('/');
            url.setPath(path + package.fileName);
            m_urls.insert(package.fileName, url);
        }
        note(tr("The nodes fetch the packages from %1.").arg(base.toDisplayString()));
        return {};
    }
    if (options.delivery == PackageDelivery::Portal) {
        m_portal = options.portal;
        if (m_portal.url.isEmpty()) {
            for (const RunStepRecord &record : std::as_const(m_context.journal.steps)) {
                if (record.step.role != NodeRole::Portal)
                    continue;
                auto endpoint = m_context.endpoint(record.step.node);
                if (endpoint) {
                    m_portal = *endpoint;
                    break;
                }
            }
        }
        if (m_portal.url.isEmpty())
            return makeError(tr("Delivery through the portal's agent needs the portal's agent; none is known."));
        note(tr("The packages go once to the portal's agent (%1); every node fetches them from there.")
                 .arg(m_portal.url.toDisplayString()));
        return {};
    }

    if (!m_server)
        m_server = new PackageServer(this);
    m_server->setAdvertisedHost(options.advertisedHost);
    m_server->setTlsConfiguration(options.tls);
    // A loopback address is the node itself on any other machine: never hand it out.
    const QHostAddress advertised(options.advertisedHost.isEmpty() ? options.serveAddress.toString()
                                                                   : options.advertisedHost);
    if (advertised.isLoopback()) {
        for (const RunStageRecord &record : std::as_const(m_context.journal.stage)) {
            const auto endpoint = m_context.endpoint(record.node);
            const QHostAddress nodeAddress(endpoint ? endpoint->url.host() : QString());
            if (endpoint && !nodeAddress.isNull() && !nodeAddress.isLoopback())
                return makeError(tr("The packages would be served on %1, which is %2 itself to %2 (%3); choose the "
                                    "address that faces the nodes, or deliver through the portal's agent.")
                                     .arg(advertised.toString(), record.node, nodeAddress.toString()));
        }
    }
    if (Result listening = m_server->listen(options.serveAddress, options.servePort); !listening)
        return listening;
    for (const RunPackage &package : std::as_const(m_context.journal.packages)) {
        const auto url = m_server->addFile(package.path);
        if (!url)
            return makeError(url.error());
        m_urls.insert(package.fileName, *url);
    }
    note(tr("Serving %1 packages over %2 on %3 port %4.")
             .arg(m_context.journal.packages.size())
             .arg(m_server->isTls() ? QStringLiteral("HTTPS") : QStringLiteral("HTTP"))
             .arg(m_server->address().toString())
             .arg(m_server->port()));
    return {};
}

QStringList Stager::errors() const
{
    QStringList all;
    if (!m_unreachable.isEmpty()) {
        // One sentence for what is one cause: this workstation is out of the nodes' reach.
        QStringList nodes = m_unreachable;
        nodes.sort();
        all.append(tr("%1 could not download anything from this workstation at %2 (%3), so the nodes cannot reach "
                      "that address; deliver the packages through the portal's agent instead.")
                       .arg(nodes.join(QStringLiteral(", ")), m_unreachableAddress, m_unreachableReason));
    }
    return all + m_errors;
}

qint64 Stager::bytesSent() const
{
    return m_uploadedBytes + (m_upload ? m_upload->bytesSent() : 0) + (m_server ? m_server->bytesSent() : 0);
}

void Stager::close()
{
    if (m_server)
        m_server->close();
}

void Stager::start(bool recheck)
{
    RunJournal &journal = m_context.journal;
    QSet<QString> nodesWithWork;
    for (const RunStepRecord &record : std::as_const(journal.steps)) {
        if (record.wave >= 0 && record.state == RunStepState::Pending)
            nodesWithWork.insert(record.step.node);
    }
    m_done = false;
    m_queue.clear();
    m_errors.clear();
    m_unreachable.clear();
    m_unreachableReason.clear();
    m_bytesTotal = 0;
    m_bytesDone.clear();
    m_listed.clear();
    m_parked.clear();
    for (RunStageRecord &record : journal.stage) {
        if (!nodesWithWork.contains(record.node))
            continue;
        if (record.state != QLatin1String("staged") || recheck)
            record.state = QStringLiteral("pending");
        if (const RunPackage *package = journal.package(record.packageFile))
            m_bytesTotal += package->size;
        if (!m_queue.contains(record.node))
            m_queue.append(record.node);
    }
    Q_EMIT journalChanged();
    m_contentsCheck = ContentsCheck::NotNeeded;
    if (m_context.options.delivery == PackageDelivery::Portal && !m_queue.isEmpty()) {
        // Each package crosses the workstation's link once, to the portal's agent, and
        // only when some node lacks it: every node is asked first.
        m_uploadQueue.clear();
        QMetaObject::invokeMethod(this, &Stager::checkStaged, Qt::QueuedConnection);
        return;
    }
    checkContents();
    // Queued, so finished() never comes from inside start() (nothing to stage).
    QMetaObject::invokeMethod(this, &Stager::pump, Qt::QueuedConnection);
}

void Stager::checkContents()
{
    m_contentsCheck = ContentsCheck::NotNeeded;
    // What every node has staged already is not checked again. From a URL the nodes get
    // bytes this workstation never saw: they check them fully.
    if (m_context.options.delivery == PackageDelivery::Url || m_queue.isEmpty())
        return;
    const RunJournal &journal = m_context.journal;
    QList<ContentsToCheck> packages;
    for (const RunPackage &package : std::as_const(journal.packages)) {
        const bool needed = std::any_of(journal.stage.cbegin(), journal.stage.cend(), [&](const RunStageRecord &r) {
            return r.packageFile == package.fileName && r.state == QLatin1String("pending") && m_queue.contains(r.node);
        });
        if (!needed)
            continue;
        // Checked when chosen and not touched since: no second read (the job looks again).
        const bool unchanged = package.contentsChecked
                               && QFileInfo(package.path).lastModified().toMSecsSinceEpoch() == package.modifiedMs;
        packages.append({package.path, package.fileName, package.sha256, package.size, unchanged, package.modifiedMs});
    }
    if (packages.isEmpty())
        return;
    m_contentsCheck = ContentsCheck::Running;
    QStringList toRead;
    QStringList checkedWhenChosen;
    for (const ContentsToCheck &package : std::as_const(packages))
        (package.checkedWhenChosen ? checkedWhenChosen : toRead).append(package.fileName);
    if (checkedWhenChosen.size() == 1)
        note(tr("%1 passed its own manifest check when it was chosen, in the same read that gave its SHA-256, so it is "
                "not read again here; the nodes compare only size and SHA-256.")
                 .arg(checkedWhenChosen.constFirst()));
    else if (!checkedWhenChosen.isEmpty())
        note(tr("%1 passed their own manifest checks when they were chosen, each in the same read that gave its "
                "SHA-256, so they are not read again here; the nodes compare only size and SHA-256.")
                 .arg(checkedWhenChosen.join(QStringLiteral(", "))));
    if (toRead.size() == 1)
        note(tr("Checking %1 on this workstation against its own manifest or digests; the nodes then compare only size "
                "and SHA-256 and need not read it twice.")
                 .arg(toRead.constFirst()));
    else if (!toRead.isEmpty())
        note(tr("Checking %1 on this workstation against their own manifests or digests; the nodes then compare only "
                "size and SHA-256 and need not read them twice.")
                 .arg(toRead.join(QStringLiteral(", "))));
    auto *job = new PackageContentsCheckJob(packages, this);
    connect(job, &PackageContentsCheckJob::finished, this, [this](PackageContentsCheckJob *done) {
        onContentsChecked(done);
    });
    job->start();
}

void Stager::onContentsChecked(PackageContentsCheckJob *job)
{
    job->deleteLater();
    if (m_contentsCheck != ContentsCheck::Running)
        return;
    if (!job->hasError()) {
        m_contentsCheck = ContentsCheck::Passed;
        resumeParked();
        return;
    }
    m_contentsCheck = ContentsCheck::NotNeeded;
    if (!m_cancelled && m_errors.isEmpty())
        m_errors.append(job->errorString());
    // Nobody fetches it: the nodes waiting for it end, then the upload is cancelled.
    resumeParked();
    pump();
}

void Stager::checkStaged()
{
    m_listing = int(m_queue.size());
    const QStringList nodes = m_queue;
    auto listed = [this] {
        if (--m_listing > 0)
            return;
        RunJournal &journal = m_context.journal;
        for (const RunPackage &package : std::as_const(journal.packages)) {
            const bool needed = std::any_of(journal.stage.cbegin(), journal.stage.cend(), [&](const RunStageRecord &r) {
                return r.packageFile == package.fileName && r.state == QLatin1String("pending")
                       && m_queue.contains(r.node);
            });
            if (needed)
                m_uploadQueue.append(package.fileName);
        }
        if (m_uploadQueue.isEmpty())
            note(tr("Every node has the packages staged already; nothing is uploaded."));
        else
            checkContents(); // what is uploaded; the nodes wait for it, the upload does not
        Q_EMIT journalChanged();
        uploadNext();
        // Nodes start now and wait for the first bytes of their package (resumeParked).
        pump();
    };
    for (const QString &node : nodes) {
        const auto endpoint = m_context.endpoint(node);
        if (!endpoint) {
            QMetaObject::invokeMethod(this, listed, Qt::QueuedConnection); // stageNode reports it
            continue;
        }
        auto *list = new ListStagedJob(m_context.client, *endpoint, this);
        connect(list, &AgentJob::finished, this, [this, list, node, listed] {
            if (list->error() == AgentJob::NoError) {
                markStaged(node, list->packages());
                m_listed.insert(node);
            }
            listed();
        });
        list->start();
    }
}

bool Stager::markStaged(const QString &node, const QList<StagedPackage> &staged)
{
    bool any = false;
    RunJournal &journal = m_context.journal;
    for (RunStageRecord &record : journal.stage) {
        if (record.node != node || record.state == QLatin1String("staged"))
            continue;
        const RunPackage *package = journal.package(record.packageFile);
        for (const StagedPackage &entry : staged) {
            if (package && entry.name == package->fileName
                && entry.sha256.compare(package->sha256, Qt::CaseInsensitive) == 0) {
                record.state = QStringLiteral("staged");
                record.bytes = package->size;
                m_bytesDone.insert(node + QLatin1Char('/') + record.packageFile, package->size);
                note(tr("%1 is staged on %2 already.").arg(record.packageFile, node));
                any = true;
            }
        }
    }
    return any;
}

void Stager::uploadNext()
{
    if (m_cancelled || !m_errors.isEmpty())
        m_uploadQueue.clear();
    if (m_uploadQueue.isEmpty()) {
        resumeParked();
        pump();
        return;
    }
    const RunPackage *package = m_context.journal.package(m_uploadQueue.takeFirst());
    if (!package) {
        uploadNext();
        return;
    }
    note(tr("Uploading %1 (%2 bytes) to the portal's agent.").arg(package->fileName).arg(package->size));
    auto *job = new PackageUploadJob(m_context.client, m_portal, package->path, package->fileName, package->size,
                                     package->sha256, this);
    m_upload = job;
    connect(job, &PackageUploadJob::created, this, [this](PackageUploadJob *created) { onUploadCreated(created); });
    connect(job, &PackageUploadJob::finished, this, [this](PackageUploadJob *done) { onUploadFinished(done); });
    job->start();
}

void Stager::onUploadCreated(PackageUploadJob *job)
{
    // The journal knows it, so whoever ends the run (this process or a resumed one)
    // removes it from the portal's disk.
    QStringList &uploads = m_context.journal.delivery.uploads;
    if (!uploads.contains(job->uploadId())) {
        uploads.append(job->uploadId());
        Q_EMIT journalChanged();
    }
    // The nodes fetch while it arrives: the upload and the downloads overlap.
    m_urls.insert(job->name(), urlForNodes(job->fileUrl()));
    resumeParked();
}

QUrl Stager::urlForNodes(const QUrl &url) const
{
    const QString address = m_context.options.portalAddressForNodes.trimmed();
    if (address.isEmpty())
        return url;
    // Behind NAT the nodes reach the portal's agent elsewhere; the pin stays the same.
    QUrl forNodes = url;
    QUrl authority;
    authority.setAuthority(address);
    forNodes.setHost(authority.host());
    if (authority.port() > 0)
        forNodes.setPort(authority.port());
    return forNodes;
}

bool Stager::removeUploads()
{
    const QStringList uploads = m_context.journal.delivery.uploads;
    if (uploads.isEmpty() || m_removing > 0)
        return false;
    AgentEndpoint portal = m_portal;
    if (portal.url.isEmpty()) {
        for (const RunStepRecord &record : std::as_const(m_context.journal.steps)) {
            if (record.step.role != NodeRole::Portal)
                continue;
            if (auto endpoint = m_context.endpoint(record.step.node)) {
                portal = *endpoint;
                break;
            }
        }
    }
    if (portal.url.isEmpty())
        return false;
    m_removing = int(uploads.size());
    for (const QString &id : uploads) {
        auto *job = new DeleteUploadJob(m_context.client, portal, id, this);
        connect(job, &AgentJob::finished, this, [this, job] {
            const QString id = job->uploadId();
            // 404: gone already (removed by hand, or by an earlier attempt that lost its answer).
            if (job->error() == AgentJob::NoError || job->httpStatus() == 404) {
                m_context.journal.delivery.uploads.removeAll(id);
                note(tr("Removed the upload %1 from the portal's agent.").arg(id));
            } else {
                note(tr("Could not remove the upload %1 from the portal's agent: %2").arg(id, job->errorString()),
                     true);
            }
            Q_EMIT journalChanged();
            if (--m_removing == 0)
                Q_EMIT uploadsRemoved();
        });
        job->start();
    }
    return true;
}

void Stager::onUploadFinished(PackageUploadJob *job)
{
    job->deleteLater();
    m_upload = nullptr;
    m_uploadedBytes += job->bytesSent();
    if (job->hasError()) {
        m_urls.remove(job->name());
        // When staging stopped for another reason, that reason is the one to tell.
        if (!m_cancelled && m_errors.isEmpty() && m_unreachable.isEmpty())
            m_errors.append(tr("Uploading %1 to the portal's agent failed: %2").arg(job->name(), job->errorString()));
        m_queue.clear();
        m_uploadQueue.clear();
        // Downloads of its bytes would wait for the rest in vain.
        for (const auto &stage : std::as_const(m_staging)) {
            if (stage->watcher)
                (new CancelJobJob(m_context.client, stage->endpoint, stage->watcher->jobId(), this))->start();
        }
        resumeParked();
        pump();
        return;
    }
    note(tr("%1 is on the portal's agent (%2 bytes sent%3).")
             .arg(job->name())
             .arg(job->bytesSent())
             .arg(job->resumedAt().isEmpty() ? QString()
                                             : tr(", continued %1 times after an interruption")
                                                   .arg(job->resumedAt().size())));
    uploadNext();
}

void Stager::resumeParked()
{
    const QSet<QString> parked = std::exchange(m_parked, {});
    for (const QString &node : parked)
        stageNext(node);
}

void Stager::cancel()
{
    m_cancelled = true;
    if (m_upload)
        m_upload->cancel();
    for (const auto &stage : std::as_const(m_staging)) {
        if (!stage->watcher)
            continue;
        auto *cancel = new CancelJobJob(m_context.client, stage->endpoint, stage->watcher->jobId(), this);
        cancel->start();
    }
}

void Stager::pump()
{
    if (m_cancelled || !m_errors.isEmpty() || !m_unreachable.isEmpty())
        m_queue.clear();
    while (!m_queue.isEmpty() && m_staging.size() < std::max(1, m_context.options.stageConcurrency))
        stageNode(m_queue.takeFirst());
    if (m_queue.isEmpty() && m_staging.isEmpty() && m_upload) {
        // Staging stopped: nobody waits for the rest. Otherwise the nodes may have read
        // the last bytes before its answer came back. Its end pumps again.
        if (m_cancelled || !m_errors.isEmpty() || !m_unreachable.isEmpty())
            m_upload->cancel();
        return;
    }
    if (m_queue.isEmpty() && m_staging.isEmpty() && !m_done) {
        m_done = true;
        const bool allStaged = !m_cancelled && m_errors.isEmpty() && m_unreachable.isEmpty();
        // Every node has every package: the uploads have done their job (a resumed run
        // finds the packages staged). After a failure they stay, for the retry.
        if (allStaged && removeUploads()) {
            connect(this, &Stager::uploadsRemoved, this, &Stager::finished, Qt::SingleShotConnection);
            return;
        }
        Q_EMIT finished();
    }
}

void Stager::stageNode(const QString &node)
{
    auto runtime = std::make_shared<NodeRuntime>();
    m_staging.insert(node, runtime);
    const auto endpoint = m_context.endpoint(node);
    if (!endpoint) {
        m_errors.append(tr("%1: %2").arg(node, endpoint.error()));
        QMetaObject::invokeMethod(this, [this, node] { stageFinished(node); }, Qt::QueuedConnection);
        return;
    }
    runtime->endpoint = *endpoint;
    note(tr("Staging on %1.").arg(node));
    if (m_listed.contains(node)) { // asked before the upload already
        stageNext(node);
        return;
    }
    // What the node has staged already (same name and SHA-256) is not fetched again.
    auto *list = new ListStagedJob(m_context.client, *endpoint, this);
    connect(list, &AgentJob::finished, this, [this, list, node] {
        if (list->error() == AgentJob::NoError)
            markStaged(node, list->packages());
        stageNext(node);
    });
    list->start();
}

void Stager::stageNext(const QString &node)
{
    auto runtime = m_staging.value(node);
    if (!runtime)
        return;
    if (m_contentsCheck == ContentsCheck::Running && !m_cancelled && m_errors.isEmpty() && m_unreachable.isEmpty()) {
        m_parked.insert(node); // until the packages passed their check here
        return;
    }
    RunJournal &journal = m_context.journal;
    int index = -1;
    bool waiting = false; // a pending package whose upload has not begun yet
    for (int i = 0; i < journal.stage.size(); ++i) {
        const RunStageRecord &record = journal.stage.at(i);
        if (record.node != node || record.state != QLatin1String("pending"))
            continue;
        if (m_context.options.delivery == PackageDelivery::Portal && !m_urls.contains(record.packageFile)) {
            waiting = true;
            continue;
        }
        index = i;
        break;
    }
    const bool stopped = m_cancelled || !m_errors.isEmpty() || !m_unreachable.isEmpty();
    if (index < 0 && waiting && !stopped && (m_upload || !m_uploadQueue.isEmpty())) {
        m_parked.insert(node);
        return;
    }
    if (index < 0 || stopped) {
        stageFinished(node);
        return;
    }
    RunStageRecord &record = journal.stage[index];
    const RunPackage *package = journal.package(record.packageFile);
    if (!package) {
        record.state = QStringLiteral("failed");
        record.error = tr("No package %1 in this run.").arg(record.packageFile);
        m_errors.append(tr("%1: %2").arg(node, record.error));
        stageFinished(node);
        return;
    }
    runtime->record = index;
    StageRequest request;
    request.url = m_urls.value(package->fileName);
    request.sha256 = package->sha256;
    request.size = package->size;
    request.name = package->fileName;
    request.contentsChecked = m_contentsCheck == ContentsCheck::Passed;
    switch (m_context.options.delivery) {
    case PackageDelivery::Portal:
        request.fingerprint = m_portal.fingerprint;
        request.token = m_portal.token;
        break;
    case PackageDelivery::Workstation:
        request.fingerprint = m_server ? m_server->fingerprint() : QString();
        break;
    case PackageDelivery::Url:
        request.fingerprint = m_context.options.deliveryFingerprint;
        break;
    }
    auto *job = new StartStageJob(m_context.client, runtime->endpoint, request, this);
    connect(job, &AgentJob::finished, this, [this, job, node, index] {
        RunStageRecord &record = m_context.journal.stage[index];
        if (job->error() != AgentJob::NoError) {
            record.state = QStringLiteral("failed");
            record.error = job->errorString();
            m_errors.append(job->errorString());
            Q_EMIT journalChanged();
            stageFinished(node);
            return;
        }
        record.state = QStringLiteral("running");
        record.agentJobId = job->jobId();
        Q_EMIT journalChanged();
        watchStageJob(node, index, job->jobId());
    });
    job->start();
}

void Stager::watchStageJob(const QString &node, int index, const QString &jobId)
{
    auto runtime = m_staging.value(node);
    auto *watcher = new AgentJobWatcher(m_context.client, runtime->endpoint, jobId, this);
    watcher->setAutoDelete(true);
    watcher->setPollWait(std::chrono::milliseconds(m_context.options.pollWaitMs));
    runtime->watcher = watcher;
    const QString key = node + QLatin1Char('/') + m_context.journal.stage.at(index).packageFile;
    connect(watcher, &AgentJobWatcher::statusChanged, this, [this, key](const AgentJobStatus &status) {
        m_bytesDone.insert(key, status.bytesDone);
        qint64 done = 0;
        for (qint64 bytes : std::as_const(m_bytesDone))
            done += bytes;
        Q_EMIT progress(done, m_bytesTotal);
    });
    connect(watcher, &AgentJobWatcher::finished, this, [this, node, index](AgentJobWatcher *done) {
        RunStageRecord &record = m_context.journal.stage[index];
        const bool ok = done->error() == AgentJob::NoError && done->hasStatus()
                        && done->status().state == AgentJobState::Succeeded;
        if (ok) {
            record.state = QStringLiteral("staged");
            record.bytes = done->status().bytesTotal;
            note(tr("%1 staged and verified on %2.").arg(record.packageFile, node));
            stageNext(node);
            return;
        }
        record.state = QStringLiteral("failed");
        record.error = done->error() != AgentJob::NoError
                           ? done->errorString()
                           : (done->status().error.isEmpty()
                                  ? tr("the staging job ended as %1").arg(toString(done->status().state))
                                  : done->status().error);
        const QUrl source = m_urls.value(record.packageFile);
        if (done->error() == AgentJob::NoError && done->hasStatus() && done->status().bytesDone == 0
            && m_context.options.delivery == PackageDelivery::Workstation) {
            // Nothing arrived at all: the node cannot reach this workstation (VPN, NAT, firewall).
            m_unreachable.append(node);
            m_unreachableAddress = QStringLiteral("%1:%2").arg(source.host()).arg(source.port());
            if (m_unreachableReason.isEmpty())
                m_unreachableReason = record.error;
        } else {
            m_errors.append(tr("%1: %2").arg(node, record.error));
        }
        note(tr("Staging %1 on %2 failed: %3").arg(record.packageFile, node, record.error), true);
        Q_EMIT journalChanged();
        stageFinished(node);
    });
    watcher->start();
}

void Stager::stageFinished(const QString &node)
{
    m_staging.remove(node);
    Q_EMIT journalChanged();
    pump();
}

} // namespace ft

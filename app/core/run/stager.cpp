#include "run/stager.h"

#include "agentlink/agentjobs.h"
#include "agentlink/agentjobwatcher.h"
#include "packages/packageserver.h"

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
    if (!m_server)
        m_server = new PackageServer(this);
    m_server->setAdvertisedHost(options.advertisedHost);
    m_server->setTlsConfiguration(options.tls);
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
    m_bytesTotal = 0;
    m_bytesDone.clear();
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
    // Queued, so finished() never comes from inside start() (nothing to stage).
    QMetaObject::invokeMethod(this, &Stager::pump, Qt::QueuedConnection);
}

void Stager::cancel()
{
    m_cancelled = true;
    for (const auto &stage : std::as_const(m_staging)) {
        if (!stage->watcher)
            continue;
        auto *cancel = new CancelJobJob(m_context.client, stage->endpoint, stage->watcher->jobId(), this);
        cancel->start();
    }
}

void Stager::pump()
{
    if (m_cancelled || !m_errors.isEmpty())
        m_queue.clear();
    while (!m_queue.isEmpty() && m_staging.size() < std::max(1, m_context.options.stageConcurrency))
        stageNode(m_queue.takeFirst());
    if (m_queue.isEmpty() && m_staging.isEmpty() && !m_done) {
        m_done = true;
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
    // What the node has staged already (same name and SHA-256) is not fetched again.
    auto *list = new ListStagedJob(m_context.client, *endpoint, this);
    connect(list, &AgentJob::finished, this, [this, list, node] {
        if (list->error() == AgentJob::NoError) {
            RunJournal &journal = m_context.journal;
            for (RunStageRecord &record : journal.stage) {
                if (record.node != node || record.state == QLatin1String("staged"))
                    continue;
                const RunPackage *package = journal.package(record.packageFile);
                for (const StagedPackage &staged : list->packages()) {
                    if (package && staged.name == package->fileName
                        && staged.sha256.compare(package->sha256, Qt::CaseInsensitive) == 0) {
                        record.state = QStringLiteral("staged");
                        record.bytes = package->size;
                        m_bytesDone.insert(node + QLatin1Char('/') + record.packageFile, package->size);
                        note(tr("%1 is staged on %2 already.").arg(record.packageFile, node));
                    }
                }
            }
        }
        stageNext(node);
    });
    list->start();
}

void Stager::stageNext(const QString &node)
{
    auto runtime = m_staging.value(node);
    if (!runtime)
        return;
    RunJournal &journal = m_context.journal;
    int index = -1;
    for (int i = 0; i < journal.stage.size(); ++i) {
        const RunStageRecord &record = journal.stage.at(i);
        if (record.node == node && record.state == QLatin1String("pending")) {
            index = i;
            break;
        }
    }
    if (index < 0 || m_cancelled || !m_errors.isEmpty()) {
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
    request.fingerprint = m_server ? m_server->fingerprint() : QString();
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
        m_errors.append(tr("%1: %2").arg(node, record.error));
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

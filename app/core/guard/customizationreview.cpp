#include "guard/customizationreview.h"

#include "guard/textdiff.h"

#include <QCoreApplication>
#include <QTimer>

namespace ft {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::CustomizationReview", text); }

} // namespace

QString toString(WebUiCustomizedFile::Change change)
{
    switch (change) {
    case WebUiCustomizedFile::Change::Modified: return QStringLiteral("modified");
    case WebUiCustomizedFile::Change::Added: return QStringLiteral("added");
    case WebUiCustomizedFile::Change::Deleted: return QStringLiteral("deleted");
    }
    return {};
}

QString displayName(WebUiCustomizedFile::Change change)
{
    switch (change) {
    case WebUiCustomizedFile::Change::Modified: return tr("Modified");
    case WebUiCustomizedFile::Change::Added: return tr("Added");
    case WebUiCustomizedFile::Change::Deleted: return tr("Deleted");
    }
    return {};
}

FileManifest::Change::Kind toManifestKind(WebUiCustomizedFile::Change change)
{
    switch (change) {
    case WebUiCustomizedFile::Change::Modified: return FileManifest::Change::Modified;
    case WebUiCustomizedFile::Change::Added: return FileManifest::Change::Added;
    case WebUiCustomizedFile::Change::Deleted: return FileManifest::Change::Deleted;
    }
    return FileManifest::Change::Modified;
}

QJsonObject toJson(const WebUiCustomizedFile &file)
{
    QJsonObject json{{QStringLiteral("path"), file.path},
                     {QStringLiteral("change"), toString(file.change)},
                     {QStringLiteral("text"), file.text}};
    if (file.change != WebUiCustomizedFile::Change::Deleted) {
        json.insert(QStringLiteral("size"), file.size);
        json.insert(QStringLiteral("modified"),
                    file.modified.isValid() ? file.modified.toUTC().toString(Qt::ISODate) : QString());
        json.insert(QStringLiteral("sha256"), file.sha256);
    }
    if (file.change != WebUiCustomizedFile::Change::Added)
        json.insert(QStringLiteral("pristine_sha256"), file.pristineSha256);
    return json;
}

std::optional<PlanStep> webUiUpgradeStep(const UpgradePlan &plan)
{
    for (const PlanWave &wave : plan.waves) {
        for (const PlanStep &step : wave.steps) {
            if (step.component == Component::WebUi && !step.skipped)
                return step;
        }
    }
    return std::nullopt;
}

// ---- CustomizationDiffJob ---------------------------------------------------------------

CustomizationDiffJob::CustomizationDiffJob(AgentClient *client, AgentEndpoint endpoint,
                                           WebUiCustomizedFile file, QObject *parent)
    : QObject(parent)
    , m_client(client)
    , m_endpoint(std::move(endpoint))
    , m_file(std::move(file))
{}

void CustomizationDiffJob::start()
{
    if (m_started)
        return;
    m_started = true;
    // Both fetches are started from the event loop, so finished() never comes from here.
    QTimer::singleShot(0, this, [this] {
        if (!m_client)
            return finish(tr("The connection to the node is gone."));
        if (!m_file.text)
            return finish({});
        if (m_file.change != WebUiCustomizedFile::Change::Added)
            fetch(FetchWebUiFileJob::Which::Pristine);
        if (m_file.change != WebUiCustomizedFile::Change::Deleted)
            fetch(FetchWebUiFileJob::Which::Current);
        if (m_pending == 0)
            finish({});
    });
}

void CustomizationDiffJob::fetch(FetchWebUiFileJob::Which which)
{
    auto *job = new FetchWebUiFileJob(m_client, m_endpoint, m_file.path, which, this);
    job->setProperty("pristine", which == FetchWebUiFileJob::Which::Pristine);
    connect(job, &AgentJob::finished, this, [this, job] { fetched(job); });
    ++m_pending;
    job->start();
}

void CustomizationDiffJob::fetched(FetchWebUiFileJob *job)
{
    --m_pending;
    if (m_done)
        return;
    const bool pristine = job->property("pristine").toBool();
    if (job->error() != AgentJob::NoError) {
        const QString which = pristine ? tr("pristine") : tr("current");
        return finish(job->httpStatus() == 413
                          ? tr("The %1 copy of %2 is too large to show (over 4 MiB).").arg(which, m_file.path)
                          : job->errorString());
    }
    (pristine ? m_pristine : m_current) = job->data();
    if (m_pending > 0)
        return;
    const bool added = m_file.change == WebUiCustomizedFile::Change::Added;
    const bool deleted = m_file.change == WebUiCustomizedFile::Change::Deleted;
    m_diff = unifiedDiff(QString::fromUtf8(m_pristine), QString::fromUtf8(m_current),
                         added ? QStringLiteral("/dev/null") : QStringLiteral("pristine/") + m_file.path,
                         deleted ? QStringLiteral("/dev/null") : QStringLiteral("current/") + m_file.path);
    finish({});
}

void CustomizationDiffJob::finish(const QString &error)
{
    if (m_done)
        return;
    m_done = true;
    m_errorString = error;
    Q_EMIT finished(this);
}

// ---- CustomizationBackupJob ----------------------------------------------------------------

CustomizationBackupJob::CustomizationBackupJob(AgentClient *client, AgentEndpoint endpoint,
                                               WebUiCustomizations customizations,
                                               QString archivePath, BackupInfo info,
                                               QObject *parent)
    : QObject(parent)
    , m_client(client)
    , m_endpoint(std::move(endpoint))
    , m_customizations(std::move(customizations))
    , m_archivePath(std::move(archivePath))
    , m_info(std::move(info))
{}

void CustomizationBackupJob::start()
{
    if (m_started)
        return;
    m_started = true;
    for (int i = 0; i < m_customizations.files.size(); ++i) {
        const WebUiCustomizedFile &file = m_customizations.files.at(i);
        BackupFile backup;
        backup.path = file.path;
        backup.kind = toManifestKind(file.change);
        m_files.append(backup);
        if (file.change != WebUiCustomizedFile::Change::Deleted)
            m_toFetch.append(i);
    }
    if (m_info.webUiVersion.isEmpty())
        m_info.webUiVersion = m_customizations.version.toString();
    if (m_info.node.isEmpty())
        m_info.node = m_endpoint.displayName();
    QTimer::singleShot(0, this, &CustomizationBackupJob::fetchNext);
}

void CustomizationBackupJob::fetchNext()
{
    if (!m_client)
        return finish(tr("The connection to the node is gone."));
    if (m_fetched == m_toFetch.size()) {
        auto *writer = new ReferenceBackupJob(m_archivePath, m_files, m_info, this);
        connect(writer, &ReferenceBackupJob::finished, this, [this](ReferenceBackupJob *done) {
            done->deleteLater();
            finish(done->error());
        });
        writer->start();
        return;
    }
    const int index = m_toFetch.at(m_fetched);
    const QString path = m_customizations.files.at(index).path;
    auto *job = new FetchWebUiFileJob(m_client, m_endpoint, path, FetchWebUiFileJob::Which::Current, this);
    connect(job, &AgentJob::finished, this, [this, job, index, path] {
        if (job->error() != AgentJob::NoError) {
            return finish(job->httpStatus() == 413
                              ? tr("%1 is over 4 MiB, more than the agent hands out; copy it from "
                                   "the node by hand before the upgrade.").arg(path)
                              : job->errorString());
        }
        m_files[index].content = job->data();
        ++m_fetched;
        Q_EMIT progress(m_fetched, int(m_toFetch.size()));
        fetchNext();
    });
    job->start();
}

void CustomizationBackupJob::finish(const QString &error)
{
    if (m_done)
        return;
    m_done = true;
    m_errorString = error;
    // The fetched bytes are no longer needed once the archive is written (or not).
    m_files.clear();
    Q_EMIT finished(this);
}

} // namespace ft

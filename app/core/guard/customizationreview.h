#pragma once

#include "agentlink/agentjobs.h"
#include "packages/filemanifest.h"
#include "model/plan.h"
#include "guard/referencebackup.h"

#include <QJsonObject>
#include <QObject>
#include <QPointer>
#include <QString>

#include <optional>

namespace ft {

// "modified" | "added" | "deleted", as the agent spells them.
QString toString(WebUiCustomizedFile::Change change);
// The same change in the words a person reads ("Modified", …), translated.
QString displayName(WebUiCustomizedFile::Change change);
FileManifest::Change::Kind toManifestKind(WebUiCustomizedFile::Change change);
// The file as the agent reported it (API.md), for JSON output.
QJsonObject toJson(const WebUiCustomizedFile &file);

// The plan's Web UI step (on the portal, or the standalone server), or nullopt when
// the plan does not replace the Web UI (no Web UI package chosen, or already current).
std::optional<PlanStep> webUiUpgradeStep(const UpgradePlan &plan);

// Both versions of one customized Web UI file and, for a text file, their unified
// diff (pristine → current). A deleted file has no current copy, an added one no
// pristine one; a binary file is not fetched at all (there is nothing to read in a
// byte diff). Job pattern: start(), finished() once, never inside start().
class CustomizationDiffJob : public QObject
{
    Q_OBJECT

public:
    CustomizationDiffJob(AgentClient *client, AgentEndpoint endpoint, WebUiCustomizedFile file,
                         QObject *parent = nullptr);

    void start();

    const WebUiCustomizedFile &file() const { return m_file; }
    bool hasError() const { return !m_errorString.isEmpty(); }
    QString errorString() const { return m_errorString; }
    const QByteArray &pristine() const { return m_pristine; }
    const QByteArray &current() const { return m_current; }
    // `diff -u` of the two texts, labelled "pristine/<path>" and "current/<path>"
    // (/dev/null for the side that does not exist). Empty for a binary file.
    QString diff() const { return m_diff; }

Q_SIGNALS:
    void finished(ft::CustomizationDiffJob *job);

private:
    void fetch(FetchWebUiFileJob::Which which);
    void fetched(FetchWebUiFileJob *job);
    void finish(const QString &error);

    QPointer<AgentClient> m_client;
    AgentEndpoint m_endpoint;
    WebUiCustomizedFile m_file;
    QByteArray m_pristine;
    QByteArray m_current;
    QString m_diff;
    QString m_errorString;
    int m_pending = 0;
    bool m_started = false;
    bool m_done = false;
};

// The reference backup of a node's customized Web UI files: fetches the current copy
// of every modified and added file from the agent (one at a time, so at most one
// file's bytes are in flight), then writes the archive with ReferenceBackupJob on a
// worker thread. Deleted files are only listed in its README. Job pattern.
class CustomizationBackupJob : public QObject
{
    Q_OBJECT

public:
    CustomizationBackupJob(AgentClient *client, AgentEndpoint endpoint,
                           WebUiCustomizations customizations, QString archivePath,
                           BackupInfo info, QObject *parent = nullptr);

    void start();

    QString archivePath() const { return m_archivePath; }
    bool hasError() const { return !m_errorString.isEmpty(); }
    QString errorString() const { return m_errorString; }
    int fileCount() const { return int(m_customizations.files.size()); }

Q_SIGNALS:
    void progress(int filesFetched, int filesToFetch);
    void finished(ft::CustomizationBackupJob *job);

private:
    void fetchNext();
    void finish(const QString &error);

    QPointer<AgentClient> m_client;
    AgentEndpoint m_endpoint;
    WebUiCustomizations m_customizations;
    QString m_archivePath;
    BackupInfo m_info;
    QList<BackupFile> m_files;
    QList<int> m_toFetch; // indexes into m_customizations.files
    int m_fetched = 0;
    QString m_errorString;
    bool m_started = false;
    bool m_done = false;
};

} // namespace ft

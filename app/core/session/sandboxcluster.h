#pragma once

#include "webapi/webapiinfo.h"

#include "model/domain.h"
#include "model/expected.h"

#include <QList>
#include <QObject>
#include <QProcess>
#include <QString>
#include <QStringList>
#include <QUrl>

namespace ft {

// One node of a sandbox cluster as `ftsandbox up` records it in cluster.json.
struct SandboxNode
{
    QString name;
    NodeRole role = NodeRole::Worker;
    OsKind os = OsKind::Linux;
    QString installDir;
    int tcpPort = 0;
    int flowPort = 0;
    double flowRate = 0;
    QUrl agentUrl;
    QString agentFingerprint;
};

// The cluster file a sandbox launcher writes (app/sandbox/LAYOUT.md). The token is
// test data: real clusters keep theirs in the keychain.
struct SandboxClusterFile
{
    QString directory;
    QString token;
    QList<SandboxNode> nodes;
    // The portal's FlowTraq Web API (password read from the file beside cluster.json,
    // sandbox test data like the token); not configured when the cluster has none.
    WebApiSettings webApi;

    static Expected<SandboxClusterFile> read(const QString &directory);
    const SandboxNode *portal() const;
};

// Brings a sandbox cluster up by running `ftsandbox up` as a child process, without
// blocking the caller. Job pattern: set the options, start(), finished() once.
class SandboxLaunchJob : public QObject
{
    Q_OBJECT

public:
    explicit SandboxLaunchJob(QObject *parent = nullptr);

    void setDirectory(const QString &directory) { m_directory = directory; }
    void setArguments(const QStringList &upArguments) { m_upArguments = upArguments; }
    // Packages to make once the cluster is up (`ftsandbox make-package` arguments),
    // e.g. the demo's new version.
    void addPackage(const QStringList &makePackageArguments)
    {
        m_packageCommands.append(makePackageArguments);
    }
    // Folder holding the ftsandbox executable; default: next to this program.
    void setToolDirectory(const QString &directory) { m_toolDirectory = directory; }

    void start();

    bool hasError() const { return !m_errorString.isEmpty(); }
    QString errorString() const { return m_errorString; }
    const SandboxClusterFile &cluster() const { return m_cluster; }

Q_SIGNALS:
    void finished(ft::SandboxLaunchJob *job);

private:
    void runNext();
    void finish(const QString &error);

    QString m_directory;
    QStringList m_upArguments;
    QList<QStringList> m_packageCommands;
    QList<QStringList> m_pending; // commands still to run, `up` first
    QString m_toolDirectory;
    QProcess *m_process = nullptr;
    QString m_errorString;
    SandboxClusterFile m_cluster;
    bool m_finished = false;
};

// Path of a sibling executable (the sandbox tool, the agent) of the running program.
QString siblingExecutable(const QString &name, const QString &directory = {});

// Stops a sandbox cluster (`ftsandbox down DIR`). Blocks: meant for process exit,
// after the window is gone, and for tests.
Result stopSandboxCluster(const QString &directory, const QString &toolDirectory = {});

} // namespace ft

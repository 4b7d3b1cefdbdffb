#pragma once

#include <functional>

#include "model/expected.h"

#include <QElapsedTimer>
#include <QObject>
#include <QPointer>
#include <QProcess>
#include <QString>
#include <QStringList>
#include <QTimer>

namespace ft::agent {

class FlowKeeper;
class JobStore;
class ServiceBackend;

// Upgrades one component with a staged package. Phases:
//   verifying (re-hash the staged file; cancellable)
//   → stopping (service) → installing (installer child process, every line logged)
//   → starting (service; also after a failed install, to put the old version back)
//   → checking (installed version, service running) → done.
// Exit codes: 0 done, 3010 reboot requested, anything else failed. A reboot is needed
// only when the version did not change (the vendor's rule).
// Job pattern: start(), finished() once; its state lives in the JobStore under jobId.
// An installed version and the source that read it ("rpm -q flowtraq-server"; empty
// for the VERSION file).
struct InstalledVersion
{
    QString version;
    QString readBy;
};

class UpgradeJob : public QObject
{
    Q_OBJECT

public:
    struct Request
    {
        QString component;      // server | nbi | webui
        QString packageName;
        QString packagePath;    // absolute path of the staged package
        QByteArray sha256;      // recorded at staging
        QString targetVersion;  // from the package's manifest; may be empty
        int timeoutSeconds = 1800;
        QString installDir;
        QString program;        // installer executable
        QStringList arguments;
        QString logFile;        // the installer's own log ({log}); streamed into the job's log
        QString rebootRequiredFile; // an installer creating it asks for a reboot (Linux)
        // Reads the installed version (the agent's chain of sources) and what said so
        // ("rpm -q flowtraq-server"); the VERSION file of installDir when unset.
        std::function<InstalledVersion()> readVersion;
    };

    UpgradeJob(JobStore *store, const QString &jobId, const Request &request, ServiceBackend *service,
               QObject *parent = nullptr);
    ~UpgradeJob() override;

    QString jobId() const { return m_jobId; }
    // Keeps the node's flows while the service is down and replays them after (optional).
    void setFlowKeeper(FlowKeeper *keeper);
    void start();
    // Cancels before the service is stopped; refused (with a sentence) from then on.
    Result cancel();

    // Installer progress lines "[ 40%] …" give the installing phase's share of progress.
    static double progressFromLine(const QString &line, bool *found);

Q_SIGNALS:
    void finished(UpgradeJob *job);

private:
    void verify();
    void stopService();
    void runInstaller();
    void onInstallerOutput(QProcess::ProcessChannel channel, bool flushAll = false);
    void onInstallerFinished(std::optional<int> exitCode, const QString &error);
    // Reads what the installer appended to its log file since the last call.
    void tailInstallerLog(bool flushAll = false);
    void startService();
    void check(bool serviceStarted, const QString &startError);
    void finishCheck(bool serviceStarted, const QString &startError, const InstalledVersion &after);
    void readInstalledVersion(const std::function<void(const InstalledVersion &)> &next);
    void giveBackFlows(bool serviceStarted, const QString &startError);
    void setPhase(const QString &phase, double progress);
    void log(const QString &line, const QString &stream = QStringLiteral("agent"));
    void complete(const QString &state, const QString &error);

    JobStore *m_store;
    QString m_jobId;
    Request m_request;
    ServiceBackend *m_service;
    QPointer<FlowKeeper> m_keeper;
    QPointer<QProcess> m_installer;
    QTimer m_installTimeout;
    QByteArray m_pending[2]; // partial output lines of stdout, stderr
    QTimer m_logTail;
    qint64 m_logOffset = 0;
    QByteArray m_logPending;
    bool m_logUtf16 = false; // msiexec writes its /l*v log in UTF-16LE with a BOM
    bool m_rebootFileBefore = false;
    QString m_phase;
    QString m_versionBefore;
    std::optional<int> m_exitCode;
    QString m_installError; // set when the install failed (the job fails after restarting)
    bool m_cancelled = false;
    bool m_done = false;
    bool m_installerDone = false;
    bool m_keeperAsked = false; // takeOver() was called (stopService() runs again after it)
};

} // namespace ft::agent

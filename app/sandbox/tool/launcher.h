#pragma once

#include "clusternetwork.h"
#include "model/expected.h"
#include "model/version.h"

#include <QJsonObject>
#include <QList>
#include <QMap>
#include <QObject>
#include <QProcess>
#include <QString>
#include <QStringList>

#include <functional>
#include <optional>

namespace ft::sandbox {

// A process the launcher started and `down` stops.
struct LaunchedProcess
{
    qint64 pid = 0;
    QString program;   // file name the process must still run (guards against pid reuse)
    QString what;      // for people: "daemon of w1"
};

// What `ftsandbox up` starts.
struct ClusterSpec
{
    QString dir;
    int workers = 3;
    int windowsWorkers = 0;       // the last K workers pretend to run Windows
    bool windowsPortal = false;   // the portal too
    bool nbi = false;             // NBI on the portal
    QMap<QString, double> flows;  // node name → flows per second
    Version version;
    int webUiFiles = 300;
    QString netns;                // non-empty: every node on its own address in this namespace
    // deb, rpm or msi: the server of every node of that format's OS is installed from
    // the vendor format (the node's dpkg/rpm database, or the registry stand-in holds
    // it) and its agent reads the version from there. Empty: laid out directly.
    QString installedFrom;
};

// Calls done(true) once ready() holds, or done(false) after timeoutMs; polls with a
// QTimer owned by owner, never blocking the event loop.
void pollUntil(QObject *owner, int intervalMs, int timeoutMs, const std::function<bool()> &ready,
               const std::function<void(bool)> &done);

// Stops processes: SIGTERM, waits until each is gone, SIGKILL after the time-out.
class ProcessStopper : public QObject
{
    Q_OBJECT

public:
    explicit ProcessStopper(QList<LaunchedProcess> processes, int timeoutMs = 10000,
                            QObject *parent = nullptr);
    void start();

    QStringList report() const { return m_report; }

Q_SIGNALS:
    void finished(bool allGone);

private:
    QList<LaunchedProcess> m_processes;
    int m_timeoutMs;
    QStringList m_report;
};

// `ftsandbox up`: lays out the nodes, starts their daemons, the agents (when the
// agent is built) and the flow exporter, and writes DIR/cluster.json.
class ClusterLauncher : public QObject
{
    Q_OBJECT

public:
    explicit ClusterLauncher(ClusterSpec spec, QObject *parent = nullptr);
    void start();

    QString error() const { return m_error; }
    QJsonObject cluster() const { return m_cluster; }

Q_SIGNALS:
    void progress(const QString &line);
    void finished(bool ok);

private:
    struct Node
    {
        QString name;
        QString role;
        QString os;
        QString install;
        int tcpPort = 0;
        int flowPort = 0;
        double flowRate = 0;
        qint64 pid = 0;
        QString address = QStringLiteral("127.0.0.1");
        QString agentUrl;
        QString agentFingerprint;
        qint64 agentPid = 0;
        QString installedFrom; // deb | rpm | msi, or empty
    };

    void run();
    int startTimeoutMs() const;
    void waitForDaemons();
    void startAgents();
    void initAgent(int index);
    void runAgents();
    void startExporter();
    void writeClusterFile();
    Result enableWebApi(const QString &install);
    // --installed-from: builds the cluster version's server package in that format and
    // runs it on every node of its OS, as the agent would run it.
    Result installFromVendorPackage();
    // The agent.conf keys that point its version sources where the node keeps them.
    void configureVersionSources(const Node &node) const;
    QJsonValue webApiJson() const;
    void abort(const QString &message);
    QString sibling(const QString &program) const;
    // Program and arguments, run inside the cluster's namespace when there is one.
    void setCommand(QProcess &process, const QString &program, const QStringList &arguments) const;

    ClusterSpec m_spec;
    QList<Node> m_nodes;
    QList<LaunchedProcess> m_started;
    QString m_token;
    QString m_webApiPassword;
    qint64 m_exporterPid = 0;
    int m_agentInitsLeft = 0;
    bool m_agentFailed = false;
    QString m_error;
    QJsonObject m_cluster;
    std::optional<ClusterNetwork> m_network;
};

// Processes listed in DIR/cluster.json (exporter, agents, daemons via their pid files).
Expected<QList<LaunchedProcess>> clusterProcesses(const QString &dir);
// cluster.json with each node's live run/status.json merged in.
Expected<QJsonObject> clusterStatus(const QString &dir);

} // namespace ft::sandbox

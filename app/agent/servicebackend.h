#pragma once

#include "agentconfig.h"
#include "model/domain.h"
#include "model/expected.h"
#include "serviceparsers.h"

#include <QObject>
#include <QString>
#include <QStringList>

#include <functional>
#include <memory>

namespace ft::agent {

// One query, start or stop of the FlowTraq service. Job pattern: start() returns at
// once, finished() fires exactly once afterwards (never inside start()). Start and stop
// poll the service manager until the service reached the wanted state or the time-out.
class ServiceOperation : public QObject
{
    Q_OBJECT

public:
    enum class Kind { Query, Start, Stop };

    // action: issues the start/stop command (nullptr for a query), reports done or an error.
    using Callback = std::function<void(Expected<ServiceProbe>)>;
    using Step = std::function<void(QObject *context, std::function<void(Result)> done)>;
    using Probe = std::function<void(QObject *context, Callback done)>;

    ServiceOperation(Kind kind, Step action, Probe probe, int timeoutMs, QObject *parent = nullptr);

    void start();

    Kind kind() const { return m_kind; }
    ServiceState state() const { return m_state; }
    bool hasError() const { return !m_error.isEmpty(); }
    QString errorString() const { return m_error; }

Q_SIGNALS:
    void message(const QString &line); // progress for people ("Waiting for the service to stop")
    void finished(ServiceOperation *operation);

private:
    void poll();
    void finish(ServiceState state, const QString &error);

    Kind m_kind;
    Step m_action;
    Probe m_probe;
    int m_timeoutMs;
    qint64 m_deadline = 0;
    ServiceState m_state = ServiceState::Unknown;
    QString m_error;
    bool m_done = false;
};

// Controls the FlowTraq service through the node's service manager. Three backends:
// the sandbox daemon (pid file + status.json), systemd (systemctl) and Windows
// services (sc.exe); the last two through QProcess.
class ServiceBackend
{
public:
    virtual ~ServiceBackend() = default;

    virtual QString serviceName() const = 0;
    // Each returns a not yet started operation parented to parent.
    virtual ServiceOperation *query(QObject *parent) = 0;
    virtual ServiceOperation *startService(QObject *parent) = 0;
    virtual ServiceOperation *stopService(QObject *parent) = 0;

    static std::unique_ptr<ServiceBackend> create(const AgentConfig &config);
};

// Result of one short command run through QProcess.
struct CommandResult
{
    bool started = false;
    bool timedOut = false;
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
    QString errorString;
};

// Runs program with arguments without blocking; done(result) is called once, later.
void runCommand(QObject *context, const QString &program, const QStringList &arguments,
                int timeoutMs, const std::function<void(const CommandResult &)> &done);

// Finds a sibling executable of this program (the agent's folder first, then PATH).
QString siblingExecutable(const QString &name);

// Sandbox daemon state from its files (LAYOUT.md): pid file + fresh status.json.
ServiceProbe probeSandboxInstall(const QString &installDir);

} // namespace ft::agent

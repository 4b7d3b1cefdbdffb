#include "servicebackend.h"

#include "support/logging.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPointer>
#include <QProcess>
#include <QStandardPaths>
#include <QTimer>

#include <spdlog/spdlog.h>

#ifdef Q_OS_UNIX
#include <cerrno>
#include <csignal>
#include <cstring>
#include <sys/types.h>
#endif

namespace ft::agent {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::agent::ServiceBackend", text); }

constexpr int kPollIntervalMs = 100;
constexpr int kCommandTimeoutMs = 30000;

} // namespace

// ---------------------------------------------------------------- ServiceOperation

ServiceOperation::ServiceOperation(Kind kind, Step action, Probe probe, int timeoutMs, QObject *parent)
    : QObject(parent)
    , m_kind(kind)
    , m_action(std::move(action))
    , m_probe(std::move(probe))
    , m_timeoutMs(timeoutMs)
{}

void ServiceOperation::start()
{
    m_deadline = QDateTime::currentMSecsSinceEpoch() + m_timeoutMs;
    // Never finish inside start(): the caller connects after start() in some places.
    QTimer::singleShot(0, this, [this] {
        if (!m_action) {
            poll();
            return;
        }
        m_action(this, [this](const Result &result) {
            if (!result) {
                finish(ServiceState::Unknown, result.error());
                return;
            }
            Q_EMIT message(m_kind == Kind::Start ? tr("Waiting for the service to start.")
                                                 : tr("Waiting for the service to stop."));
            poll();
        });
    });
}

void ServiceOperation::poll()
{
    m_probe(this, [this](Expected<ServiceProbe> probe) {
        if (!probe) {
            finish(ServiceState::Unknown, probe.error());
            return;
        }
        const ServiceState wanted = m_kind == Kind::Start ? ServiceState::Running : ServiceState::Stopped;
        if (m_kind == Kind::Query || probe->state == ServiceState::Missing
            || (probe->state == wanted && !probe->pending)) {
            QString error;
            if (m_kind != Kind::Query && probe->state == ServiceState::Missing)
                error = tr("The FlowTraq service is not installed on this node.");
            finish(probe->state, error);
            return;
        }
        if (QDateTime::currentMSecsSinceEpoch() >= m_deadline) {
            finish(probe->state,
                   m_kind == Kind::Start
                       ? tr("The service did not start within %1 s (it is %2).")
                             .arg(m_timeoutMs / 1000).arg(probe->detail)
                       : tr("The service did not stop within %1 s (it is %2).")
                             .arg(m_timeoutMs / 1000).arg(probe->detail));
            return;
        }
        QTimer::singleShot(kPollIntervalMs, this, [this] { poll(); });
    });
}

void ServiceOperation::finish(ServiceState state, const QString &error)
{
    if (m_done)
        return;
    m_done = true;
    m_state = state;
    m_error = error;
    Q_EMIT finished(this);
}

// ---------------------------------------------------------------- helpers

void runCommand(QObject *context, const QString &program, const QStringList &arguments,
                int timeoutMs, const std::function<void(const CommandResult &)> &done)
{
    auto *process = new QProcess(context);
    auto *timer = new QTimer(process);
    auto result = std::make_shared<CommandResult>();
    auto finished = std::make_shared<bool>(false);
    auto complete = [process, result, finished, done] {
        if (*finished)
            return;
        *finished = true;
        result->out = process->readAllStandardOutput();
        result->err = process->readAllStandardError();
        done(*result);
        process->deleteLater();
    };
    QObject::connect(process, &QProcess::finished, process, [=](int exitCode, QProcess::ExitStatus status) {
        result->started = true;
        result->exitCode = status == QProcess::NormalExit ? exitCode : -1;
        if (status != QProcess::NormalExit && result->errorString.isEmpty())
            result->errorString = tr("%1 crashed.").arg(program);
        complete();
    });
    QObject::connect(process, &QProcess::errorOccurred, process, [=](QProcess::ProcessError error) {
        if (error == QProcess::FailedToStart) {
            result->errorString = tr("Cannot run %1: %2").arg(program, process->errorString());
            complete();
        }
    });
    timer->setSingleShot(true);
    QObject::connect(timer, &QTimer::timeout, process, [=] {
        result->timedOut = true;
        result->errorString = tr("%1 did not answer within %2 s.").arg(program).arg(timeoutMs / 1000);
        process->kill();
    });
    timer->start(timeoutMs);
    process->start(program, arguments);
}

QString siblingExecutable(const QString &name)
{
#ifdef Q_OS_WIN
    const QString fileName = name.endsWith(QLatin1String(".exe")) ? name : name + QLatin1String(".exe");
#else
    const QString &fileName = name;
#endif
    const QString sibling = QDir(QCoreApplication::applicationDirPath()).filePath(fileName);
    if (QFileInfo(sibling).isExecutable())
        return sibling;
    const QString found = QStandardPaths::findExecutable(name);
    return found.isEmpty() ? sibling : found;
}

namespace {

#ifdef Q_OS_UNIX
bool pidAlive(qint64 pid)
{
    if (pid <= 0)
        return false;
    return ::kill(pid_t(pid), 0) == 0 || errno == EPERM;
}
#else
bool pidAlive(qint64) { return false; }
#endif

qint64 readPid(const QString &installDir)
{
    QFile file(QDir(installDir).filePath(QStringLiteral("run/flowtraq.pid")));
    if (!file.open(QIODevice::ReadOnly))
        return 0;
    return file.readAll().trimmed().toLongLong();
}

} // namespace

ServiceProbe probeSandboxInstall(const QString &installDir)
{
    ServiceProbe probe;
    if (!QFileInfo::exists(QDir(installDir).filePath(QStringLiteral("VERSION")))) {
        probe.state = ServiceState::Missing;
        probe.detail = tr("no installation in %1").arg(installDir);
        return probe;
    }
    const qint64 pid = readPid(installDir);
    if (!pidAlive(pid)) {
        probe.state = ServiceState::Stopped;
        probe.detail = QStringLiteral("stopped");
        return probe;
    }
    QFile file(QDir(installDir).filePath(QStringLiteral("run/status.json")));
    const QJsonObject status = file.open(QIODevice::ReadOnly)
                                   ? QJsonDocument::fromJson(file.readAll()).object()
                                   : QJsonObject();
    const QDateTime updated = QDateTime::fromString(status.value(QStringLiteral("updated")).toString(), Qt::ISODate);
    const bool fresh = updated.isValid() && updated.secsTo(QDateTime::currentDateTimeUtc()) <= 5
                       && status.value(QStringLiteral("pid")).toInteger() == pid;
    const QString state = status.value(QStringLiteral("state")).toString();
    if (fresh && state == QLatin1String("running")) {
        probe.state = ServiceState::Running;
        probe.detail = QStringLiteral("running (pid %1)").arg(pid);
    } else if (state == QLatin1String("stopping")) {
        probe.state = ServiceState::Running;
        probe.pending = true;
        probe.detail = QStringLiteral("stopping (pid %1)").arg(pid);
    } else {
        // Alive but not yet (or no longer) reporting: starting up or hung.
        probe.state = ServiceState::Stopped;
        probe.pending = true;
        probe.detail = QStringLiteral("starting (pid %1)").arg(pid);
    }
    return probe;
}

namespace {

// ---------------------------------------------------------------- sandbox

class SandboxBackend : public ServiceBackend
{
public:
    explicit SandboxBackend(const QString &installDir) : m_installDir(installDir) {}

    QString serviceName() const override { return QStringLiteral("ftsandbox-server"); }

    ServiceOperation *query(QObject *parent) override
    {
        return new ServiceOperation(ServiceOperation::Kind::Query, nullptr, probe(), 5000, parent);
    }

    ServiceOperation *startService(QObject *parent) override
    {
        const QString dir = m_installDir;
        auto action = [dir](QObject *, const std::function<void(Result)> &done) {
            const ServiceProbe now = probeSandboxInstall(dir);
            if (now.state == ServiceState::Running || now.pending) {
                done({});
                return;
            }
            QProcess process;
            process.setProgram(siblingExecutable(QStringLiteral("ftsandbox-server")));
            process.setArguments({QStringLiteral("--install"), dir});
            // The daemon keeps its own log; its output must not mix into the agent's.
            process.setStandardOutputFile(QProcess::nullDevice());
            process.setStandardErrorFile(QProcess::nullDevice());
            if (!process.startDetached()) {
                done(makeError(tr("Cannot start %1: %2").arg(process.program(), process.errorString())));
                return;
            }
            done({});
        };
        return new ServiceOperation(ServiceOperation::Kind::Start, action, probe(), 20000, parent);
    }

    ServiceOperation *stopService(QObject *parent) override
    {
        const QString dir = m_installDir;
        auto action = [dir](QObject *, const std::function<void(Result)> &done) {
#ifdef Q_OS_UNIX
            const qint64 pid = readPid(dir);
            if (pidAlive(pid) && ::kill(pid_t(pid), SIGTERM) != 0 && errno != ESRCH) {
                done(makeError(tr("Cannot stop the sandbox daemon (pid %1): %2")
                                   .arg(pid).arg(QString::fromLocal8Bit(strerror(errno)))));
                return;
            }
            done({});
#else
            Q_UNUSED(dir)
            done(makeError(tr("The sandbox backend needs a POSIX system.")));
#endif
        };
        return new ServiceOperation(ServiceOperation::Kind::Stop, action, probe(), 20000, parent);
    }

private:
    ServiceOperation::Probe probe() const
    {
        const QString dir = m_installDir;
        return [dir](QObject *, const ServiceOperation::Callback &done) { done(probeSandboxInstall(dir)); };
    }

    QString m_installDir;
};

// ---------------------------------------------------------------- systemd

class SystemdBackend : public ServiceBackend
{
public:
    explicit SystemdBackend(const QString &unit) : m_unit(unit) {}

    QString serviceName() const override { return m_unit; }

    ServiceOperation *query(QObject *parent) override
    {
        return new ServiceOperation(ServiceOperation::Kind::Query, nullptr, probe(), 10000, parent);
    }
    ServiceOperation *startService(QObject *parent) override
    {
        return new ServiceOperation(ServiceOperation::Kind::Start, command(QStringLiteral("start")),
                                    probe(), 120000, parent);
    }
    ServiceOperation *stopService(QObject *parent) override
    {
        return new ServiceOperation(ServiceOperation::Kind::Stop, command(QStringLiteral("stop")),
                                    probe(), 120000, parent);
    }

private:
    ServiceOperation::Step command(const QString &verb) const
    {
        const QString unit = m_unit;
        return [unit, verb](QObject *context, const std::function<void(Result)> &done) {
            // --no-block: the agent polls the state itself, with its own time-out.
            runCommand(context, QStringLiteral("systemctl"), {verb, QStringLiteral("--no-block"), unit},
                       kCommandTimeoutMs, [done, verb, unit](const CommandResult &r) {
                           if (!r.started || r.exitCode != 0) {
                               const QString why = r.errorString.isEmpty()
                                                       ? QString::fromLocal8Bit(r.err).trimmed()
                                                       : r.errorString;
                               done(makeError(tr("systemctl %1 %2 failed: %3").arg(verb, unit, why)));
                               return;
                           }
                           done({});
                       });
        };
    }

    ServiceOperation::Probe probe() const
    {
        const QString unit = m_unit;
        return [unit](QObject *context, const ServiceOperation::Callback &done) {
            runCommand(context, QStringLiteral("systemctl"),
                       {QStringLiteral("show"), unit,
                        QStringLiteral("--property=LoadState,ActiveState,SubState,MainPID")},
                       kCommandTimeoutMs, [done](const CommandResult &r) {
                           if (!r.started || r.exitCode != 0) {
                               done(makeError(tr("systemctl show failed: %1")
                                                  .arg(r.errorString.isEmpty()
                                                           ? QString::fromLocal8Bit(r.err).trimmed()
                                                           : r.errorString)));
                               return;
                           }
                           auto status = parseSystemctlShow(r.out);
                           if (!status) {
                               done(makeError(status.error()));
                               return;
                           }
                           done(probeFromSystemd(*status));
                       });
        };
    }

    QString m_unit;
};

// ---------------------------------------------------------------- Windows

class WindowsBackend : public ServiceBackend
{
public:
    explicit WindowsBackend(const QString &name) : m_name(name) {}

    QString serviceName() const override { return m_name; }

    ServiceOperation *query(QObject *parent) override
    {
        return new ServiceOperation(ServiceOperation::Kind::Query, nullptr, probe(), 10000, parent);
    }
    ServiceOperation *startService(QObject *parent) override
    {
        // 1056: an instance of the service is already running.
        return new ServiceOperation(ServiceOperation::Kind::Start, command(QStringLiteral("start"), 1056),
                                    probe(), 120000, parent);
    }
    ServiceOperation *stopService(QObject *parent) override
    {
        // 1062: the service has not been started.
        return new ServiceOperation(ServiceOperation::Kind::Stop, command(QStringLiteral("stop"), 1062),
                                    probe(), 120000, parent);
    }

private:
    ServiceOperation::Step command(const QString &verb, int harmlessError) const
    {
        const QString name = m_name;
        return [=](QObject *context, const std::function<void(Result)> &done) {
            runCommand(context, QStringLiteral("sc.exe"), {verb, name}, kCommandTimeoutMs,
                       [=](const CommandResult &r) {
                           if (!r.started) {
                               done(makeError(r.errorString));
                               return;
                           }
                           auto status = parseScOutput(r.out, r.exitCode);
                           if (!status) {
                               done(makeError(status.error()));
                               return;
                           }
                           if (status->errorCode != 0 && status->errorCode != harmlessError) {
                               done(makeError(tr("sc.exe %1 \"%2\" failed with error %3: %4")
                                                  .arg(verb, name).arg(status->errorCode)
                                                  .arg(status->errorText)));
                               return;
                           }
                           done({});
                       });
        };
    }

    ServiceOperation::Probe probe() const
    {
        const QString name = m_name;
        return [name](QObject *context, const ServiceOperation::Callback &done) {
            runCommand(context, QStringLiteral("sc.exe"), {QStringLiteral("query"), name},
                       kCommandTimeoutMs, [done](const CommandResult &r) {
                           if (!r.started) {
                               done(makeError(r.errorString));
                               return;
                           }
                           auto status = parseScOutput(r.out, r.exitCode);
                           if (!status) {
                               done(makeError(status.error()));
                               return;
                           }
                           if (status->exists && status->errorCode != 0) {
                               done(makeError(tr("sc.exe query failed with error %1: %2")
                                                  .arg(status->errorCode).arg(status->errorText)));
                               return;
                           }
                           done(probeFromSc(*status));
                       });
        };
    }

    QString m_name;
};

} // namespace

std::unique_ptr<ServiceBackend> ServiceBackend::create(const AgentConfig &config)
{
    switch (config.backend) {
    case Backend::Sandbox: return std::make_unique<SandboxBackend>(config.installDir);
    case Backend::Systemd: return std::make_unique<SystemdBackend>(config.serviceName);
    case Backend::Windows: return std::make_unique<WindowsBackend>(config.serviceName);
    }
    return nullptr;
}

} // namespace ft::agent

#include "launcher.h"

#include "installation.h"
#include "registrystandin.h"
#include "sandboxfiles.h"
#include "vendorbuilder.h"

#include "packages/installcommand.h"
#include "packages/vendorpackage.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QSslCertificate>
#include <QCryptographicHash>
#include <QSettings>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QRandomGenerator>
#include <QSettings>
#include <QTimer>
#include <QUrl>

#include <memory>

#ifdef Q_OS_UNIX
#include <csignal>
#endif

namespace ft::sandbox {

namespace {

// The portal's Web API in a network namespace: the HTTPS port of its web server, as
// FlowTraq's Web API is reached at https://HOST/flowtraq/api/v3.
constexpr int kWebApiPortInNamespace = 443;

// stdout and stderr of a started process into one file, fresh for this start. Both
// append: one truncating and one appending descriptor would each write at its own
// offset, and the first one's lines would overwrite the other's.
void sendOutputTo(QProcess &process, const QString &path)
{
    QFile file(path);
    if (file.open(QIODevice::WriteOnly | QIODevice::Truncate))
        file.close();
    process.setStandardOutputFile(path, QIODevice::Append);
    process.setStandardErrorFile(path, QIODevice::Append);
}


QString tr(const char *text)
{
    return QCoreApplication::translate("ftsandbox", text);
}

// True while pid is alive and still runs program (a recycled pid is someone else's).
bool runsProgram(qint64 pid, const QString &program)
{
    if (!isProcessAlive(pid))
        return false;
#ifdef Q_OS_LINUX
    QFile cmdline(QStringLiteral("/proc/%1/cmdline").arg(pid));
    if (cmdline.open(QIODevice::ReadOnly)) {
        const QByteArray first = cmdline.readAll().split('\0').value(0);
        // A zombie has an empty command line: it is gone for our purposes.
        if (first.isEmpty())
            return false;
        return program.isEmpty() || QFileInfo(QString::fromLocal8Bit(first)).fileName() == program;
    }
#endif
    return true;
}

void sendSignal(qint64 pid, bool kill)
{
#ifdef Q_OS_UNIX
    ::kill(pid_t(pid), kill ? SIGKILL : SIGTERM);
#else
    Q_UNUSED(pid)
    Q_UNUSED(kill)
#endif
}

Expected<QJsonObject> readJsonObject(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return makeError(tr("Could not read %1: %2.").arg(path, file.errorString()));
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(file.readAll(), &error);
    if (error.error != QJsonParseError::NoError || !document.isObject())
        return makeError(tr("%1 is not a JSON object: %2.").arg(path, error.errorString()));
    return document.object();
}

qint64 pidFromFile(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return 0;
    return file.read(64).trimmed().toLongLong();
}

} // namespace

void pollUntil(QObject *owner, int intervalMs, int timeoutMs, const std::function<bool()> &ready,
               const std::function<void(bool)> &done)
{
    auto *timer = new QTimer(owner);
    auto elapsed = std::make_shared<QElapsedTimer>();
    elapsed->start();
    QObject::connect(timer, &QTimer::timeout, owner, [=] {
        if (ready()) {
            timer->stop();
            timer->deleteLater();
            done(true);
        } else if (elapsed->elapsed() > timeoutMs) {
            timer->stop();
            timer->deleteLater();
            done(false);
        }
    });
    timer->start(intervalMs);
}

// ---------------------------------------------------------------- ProcessStopper

ProcessStopper::ProcessStopper(QList<LaunchedProcess> processes, int timeoutMs, QObject *parent)
    : QObject(parent), m_processes(std::move(processes)), m_timeoutMs(timeoutMs)
{}

void ProcessStopper::start()
{
    QTimer::singleShot(0, this, [this] {
        QList<LaunchedProcess> alive;
        for (const LaunchedProcess &process : std::as_const(m_processes)) {
            if (runsProgram(process.pid, process.program)) {
                sendSignal(process.pid, false);
                alive.append(process);
            } else {
                m_report.append(tr("%1 (pid %2) was not running").arg(process.what).arg(process.pid));
            }
        }
        const auto gone = [alive] {
            return std::none_of(alive.cbegin(), alive.cend(), [](const LaunchedProcess &p) {
                return runsProgram(p.pid, p.program);
            });
        };
        pollUntil(this, 50, m_timeoutMs, gone, [this, alive, gone](bool stopped) {
            if (stopped) {
                for (const LaunchedProcess &process : alive)
                    m_report.append(tr("%1 (pid %2) stopped").arg(process.what).arg(process.pid));
                Q_EMIT finished(true);
                return;
            }
            for (const LaunchedProcess &process : alive) {
                if (runsProgram(process.pid, process.program)) {
                    sendSignal(process.pid, true);
                    m_report.append(tr("%1 (pid %2) did not stop in time and was killed")
                                        .arg(process.what)
                                        .arg(process.pid));
                } else {
                    m_report.append(tr("%1 (pid %2) stopped").arg(process.what).arg(process.pid));
                }
            }
            pollUntil(this, 50, 3000, gone, [this](bool killed) { Q_EMIT finished(killed); });
        });
    });
}

// ---------------------------------------------------------------- ClusterLauncher

ClusterLauncher::ClusterLauncher(ClusterSpec spec, QObject *parent)
    : QObject(parent), m_spec(std::move(spec))
{}

void ClusterLauncher::start()
{
    QTimer::singleShot(0, this, [this] { run(); });
}

QString ClusterLauncher::sibling(const QString &program) const
{
    QString path = QDir(QCoreApplication::applicationDirPath()).filePath(program);
#ifdef Q_OS_WIN
    path += QStringLiteral(".exe");
#endif
    return path;
}

void ClusterLauncher::setCommand(QProcess &process, const QString &program, const QStringList &arguments) const
{
    if (!m_network) {
        process.setProgram(program);
        process.setArguments(arguments);
        return;
    }
    QStringList command = m_network->wrap(program, arguments);
    process.setProgram(command.takeFirst());
    process.setArguments(command);
}

void ClusterLauncher::abort(const QString &message)
{
    m_error = message;
    const auto done = [this] {
        if (m_network) {
            (void)ClusterNetwork::destroy(m_network->name);
            m_network.reset();
        }
        Q_EMIT finished(false);
    };
    if (m_started.isEmpty()) {
        done();
        return;
    }
    Q_EMIT progress(tr("Stopping what was started…"));
    auto *stopper = new ProcessStopper(m_started, 5000, this);
    connect(stopper, &ProcessStopper::finished, this, done);
    stopper->start();
}

void ClusterLauncher::run()
{
    const QDir dir(m_spec.dir);
    if (dir.exists() && !dir.isEmpty(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden)) {
        abort(tr("The folder %1 is not empty; choose an empty or new folder (or run `ftsandbox down` "
                 "and remove it).")
                  .arg(m_spec.dir));
        return;
    }
    if (m_spec.workers < 0 || m_spec.windowsWorkers < 0 || m_spec.windowsWorkers > m_spec.workers) {
        abort(tr("The number of Windows workers must be between 0 and the number of workers."));
        return;
    }
    const QString server = sibling(QStringLiteral("ftsandbox-server"));
    if (!QFileInfo(server).isExecutable()) {
        abort(tr("The sandbox server %1 is missing; build the ftsandbox-server target.").arg(server));
        return;
    }
    if (!m_spec.flows.isEmpty() && !QFileInfo(sibling(QStringLiteral("ftsandbox-exporter"))).isExecutable()) {
        abort(tr("The flow exporter %1 is missing; build the ftsandbox-exporter target.")
                  .arg(sibling(QStringLiteral("ftsandbox-exporter"))));
        return;
    }

    const QString root = QDir(m_spec.dir).absolutePath();
    const auto addNode = [this, &root](const QString &name, const QString &role, const QString &os) {
        Node node;
        node.name = name;
        node.role = role;
        node.os = os;
        node.install = root + QStringLiteral("/nodes/") + name;
        m_nodes.append(node);
    };
    addNode(QStringLiteral("portal"), QStringLiteral("portal"),
            m_spec.windowsPortal ? QStringLiteral("windows") : QStringLiteral("linux"));
    for (int i = 1; i <= m_spec.workers; ++i) {
        const bool windows = i > m_spec.workers - m_spec.windowsWorkers;
        addNode(QStringLiteral("w%1").arg(i), QStringLiteral("worker"),
                windows ? QStringLiteral("windows") : QStringLiteral("linux"));
    }
    for (auto it = m_spec.flows.cbegin(); it != m_spec.flows.cend(); ++it) {
        const auto node = std::find_if(m_nodes.begin(), m_nodes.end(),
                                       [&](const Node &n) { return n.name == it.key(); });
        if (node == m_nodes.end()) {
            abort(tr("--flows names the node \"%1\", which this cluster does not have.").arg(it.key()));
            return;
        }
        if (it.value() <= 0) {
            abort(tr("The flow rate for %1 must be more than 0 flows per second.").arg(it.key()));
            return;
        }
        node->flowRate = it.value();
    }
    if (!m_spec.netns.isEmpty()) {
        auto network = ClusterNetwork::create(m_spec.netns, int(m_nodes.size()));
        if (!network) {
            abort(network.error());
            return;
        }
        m_network = *network;
        Q_EMIT progress(tr("Network namespace %1: nodes on %2, the caller on %3 (the nodes cannot connect to it)")
                            .arg(m_network->name, m_network->subnet, m_network->callerAddress));
    }
    for (int i = 0; i < m_nodes.size(); ++i) {
        Node &node = m_nodes[i];
        if (m_network) {
            // Each node on its own address: the vendor's real ports.
            node.address = m_network->nodeAddresses.at(i);
            node.tcpPort = 9640;
            node.flowPort = node.flowRate > 0 ? 2055 : 0;
            continue;
        }
        node.tcpPort = freeTcpPort();
        if (node.flowRate > 0)
            node.flowPort = freeUdpPort();
    }

    QList<InstallationSpec::Member> members;
    for (const Node &node : std::as_const(m_nodes)) {
        if (node.role == QLatin1String("worker"))
            members.append({node.name, node.tcpPort, node.address});
    }
    for (const Node &node : std::as_const(m_nodes)) {
        Q_EMIT progress(tr("Laying out %1 (%2, %3) in %4").arg(node.name, node.role, node.os, node.install));
        InstallationSpec install;
        install.dir = node.install;
        install.version = m_spec.version;
        install.role = parseNodeRole(node.role).value_or(NodeRole::Worker);
        install.os = parseOsKind(node.os).value_or(OsKind::Linux);
        install.name = node.name;
        install.nbi = m_spec.nbi && node.role == QLatin1String("portal");
        install.webUiFiles = m_spec.webUiFiles;
        install.tcpPort = node.tcpPort;
        install.flowPort = node.flowPort;
        install.listen = node.address;
        if (node.role == QLatin1String("portal"))
            install.members = members;
        else
            install.portal = QStringLiteral("portal");
        if (Result created = createInstallation(install); !created) {
            abort(created.error());
            return;
        }
        if (node.role == QLatin1String("portal")) {
            if (Result webApi = enableWebApi(node.install); !webApi) {
                abort(webApi.error());
                return;
            }
        }
    }
    if (!m_spec.installedFrom.isEmpty()) {
        if (Result installed = installFromVendorPackage(); !installed) {
            abort(installed.error());
            return;
        }
    }

    for (Node &node : m_nodes) {
        QProcess process;
        setCommand(process, server, {QStringLiteral("--install"), node.install});
        process.setWorkingDirectory(node.install);
        // Never a pipe: the launcher exits long before the daemon, and a closed pipe kills.
        process.setStandardInputFile(QProcess::nullDevice());
        sendOutputTo(process, node.install + QStringLiteral("/logs/server.out"));
        if (!process.startDetached(&node.pid)) {
            abort(tr("Could not start the daemon of %1: %2.").arg(node.name, process.errorString()));
            return;
        }
        m_started.append({node.pid, QStringLiteral("ftsandbox-server"), tr("daemon of %1").arg(node.name)});
        Q_EMIT progress(tr("Started the daemon of %1 (pid %2, TCP %3%4)")
                            .arg(node.name)
                            .arg(node.pid)
                            .arg(node.tcpPort)
                            .arg(node.flowPort ? tr(", flows on UDP %1").arg(node.flowPort) : QString()));
    }
    waitForDaemons();
}

int ClusterLauncher::startTimeoutMs() const
{
    return 30000 + 500 * int(m_nodes.size());
}

void ClusterLauncher::waitForDaemons()
{
    const auto allRunning = [this] {
        for (const Node &node : std::as_const(m_nodes)) {
            const Expected<QJsonObject> status = readJsonObject(node.install + QStringLiteral("/run/status.json"));
            if (!status || status->value(QStringLiteral("state")).toString() != QLatin1String("running"))
                return false;
        }
        return true;
    };
    // Generous and growing with the cluster: a loaded machine starts processes slowly.
    const int timeoutMs = startTimeoutMs();
    pollUntil(this, 100, timeoutMs, allRunning, [this, timeoutMs](bool ok) {
        if (!ok) {
            QStringList late;
            for (const Node &node : std::as_const(m_nodes)) {
                const Expected<QJsonObject> status = readJsonObject(node.install + QStringLiteral("/run/status.json"));
                if (!status || status->value(QStringLiteral("state")).toString() != QLatin1String("running"))
                    late.append(node.name);
            }
            abort(tr("The daemons of %1 did not report running within %2 s; see logs/ in their "
                     "folders.")
                      .arg(late.join(QStringLiteral(", ")))
                      .arg(timeoutMs / 1000));
            return;
        }
        // The daemon's own pid (from its pid file) is the one to stop later.
        for (Node &node : m_nodes) {
            if (const qint64 pid = pidFromFile(node.install + QStringLiteral("/run/flowtraq.pid")))
                node.pid = pid;
        }
        Q_EMIT progress(tr("All %1 daemons are running").arg(m_nodes.size()));
        startAgents();
    });
}

void ClusterLauncher::startAgents()
{
    if (!QFileInfo(sibling(QStringLiteral("ftupgrade-agent"))).isExecutable()) {
        Q_EMIT progress(tr("No ftupgrade-agent next to ftsandbox; the nodes run without agents"));
        startExporter();
        return;
    }
    m_token = QString::fromLatin1(QByteArray::number(QRandomGenerator::system()->generate64(), 16)
                                  + QByteArray::number(QRandomGenerator::system()->generate64(), 16)
                                  + QByteArray::number(QRandomGenerator::system()->generate64(), 16));
    m_agentInitsLeft = int(m_nodes.size());
    for (int i = 0; i < m_nodes.size(); ++i)
        initAgent(i);
}

void ClusterLauncher::initAgent(int index)
{
    const Node &node = m_nodes.at(index);
    auto *process = new QProcess(this);
    process->setProgram(sibling(QStringLiteral("ftupgrade-agent")));
    process->setArguments({QStringLiteral("init"),
                           QStringLiteral("--config"), node.install + QStringLiteral("/agent/agent.conf"),
                           QStringLiteral("--install"), node.install,
                           QStringLiteral("--backend"), QStringLiteral("sandbox"),
                           QStringLiteral("--listen"), node.address,
                           QStringLiteral("--port"), m_network ? QStringLiteral("9650") : QString::number(freeTcpPort()),
                           QStringLiteral("--staging"), node.install + QStringLiteral("/agent/staging"),
                           QStringLiteral("--token"), m_token});
    connect(process, &QProcess::finished, this, [this, process, index](int exitCode, QProcess::ExitStatus status) {
        process->deleteLater();
        Node &node = m_nodes[index];
        const QString output = QString::fromUtf8(process->readAllStandardOutput());
        for (const QString &line : output.split(QLatin1Char('\n'))) {
            if (line.startsWith(QLatin1String("fingerprint:")))
                node.agentFingerprint = line.mid(12).trimmed();
        }
        if (status != QProcess::NormalExit || exitCode != 0 || node.agentFingerprint.isEmpty()) {
            m_agentFailed = true;
            m_error = tr("`ftupgrade-agent init` failed for %1: %2")
                          .arg(node.name, QString::fromUtf8(process->readAllStandardError()).trimmed());
        }
        if (--m_agentInitsLeft == 0) {
            if (m_agentFailed)
                abort(m_error);
            else
                runAgents();
        }
    });
    connect(process, &QProcess::errorOccurred, this, [this, process, index](QProcess::ProcessError error) {
        if (error != QProcess::FailedToStart)
            return;
        process->deleteLater();
        m_agentFailed = true;
        m_error = tr("Could not run ftupgrade-agent for %1: %2.").arg(m_nodes.at(index).name, process->errorString());
        if (--m_agentInitsLeft == 0)
            abort(m_error);
    });
    process->start();
}

void ClusterLauncher::runAgents()
{
    for (Node &node : m_nodes) {
        QFile::remove(node.install + QStringLiteral("/agent/agent.url"));
        if (node.flowPort != 0) {
            // The agent counts the flows itself (a packet socket on the node's flow
            // port); without CAP_NET_RAW it reports "not measured" with the reason.
            QSettings conf(node.install + QStringLiteral("/agent/agent.conf"), QSettings::IniFormat);
            conf.setValue(QStringLiteral("agent/flow_ports"), QString::number(node.flowPort));
        }
        configureVersionSources(node);
        QProcess process;
        setCommand(process, sibling(QStringLiteral("ftupgrade-agent")),
                   {QStringLiteral("run"), QStringLiteral("--config"), node.install + QStringLiteral("/agent/agent.conf")});
        process.setWorkingDirectory(node.install + QStringLiteral("/agent"));
        process.setStandardInputFile(QProcess::nullDevice());
        sendOutputTo(process, node.install + QStringLiteral("/logs/agent.out"));
        if (!process.startDetached(&node.agentPid)) {
            abort(tr("Could not start the agent of %1: %2.").arg(node.name, process.errorString()));
            return;
        }
        m_started.append({node.agentPid, QStringLiteral("ftupgrade-agent"), tr("agent of %1").arg(node.name)});
    }
    const auto allListening = [this] {
        for (Node &node : m_nodes) {
            if (!node.agentUrl.isEmpty())
                continue;
            QFile file(node.install + QStringLiteral("/agent/agent.url"));
            if (!file.open(QIODevice::ReadOnly))
                return false;
            const QString url = QString::fromUtf8(file.readAll()).trimmed();
            if (QUrl(url).port() <= 0)
                return false;
            node.agentUrl = url;
        }
        return true;
    };
    const int timeoutMs = startTimeoutMs();
    pollUntil(this, 100, timeoutMs, allListening, [this, timeoutMs](bool ok) {
        if (!ok) {
            abort(tr("Not every agent reported its address within %1 s; see logs/agent.out in the "
                     "node folders.")
                      .arg(timeoutMs / 1000));
            return;
        }
        // The portal's configuration lists its members' agent ports, as on a real portal.
        const QString portalConfig = m_nodes.first().install + QStringLiteral("/flowtraq.conf");
        QFile file(portalConfig);
        QByteArray ini;
        if (file.open(QIODevice::ReadOnly))
            ini = file.readAll();
        file.close();
        for (const Node &node : std::as_const(m_nodes)) {
            if (node.role == QLatin1String("worker")) {
                ini = setIniValue(ini, QStringLiteral("cluster"), node.name + QStringLiteral("\\agent_port"),
                                  QString::number(QUrl(node.agentUrl).port()));
            }
        }
        if (Result written = writeFileAtomically(portalConfig, ini); !written) {
            abort(written.error());
            return;
        }
        // The member list where the wizard reads it: the portal agent's own configuration
        // (what an administrator or the agent's installer writes; the vendor has no API).
        QSettings agentConf(m_nodes.first().install + QStringLiteral("/agent/agent.conf"), QSettings::IniFormat);
        QStringList names;
        agentConf.remove(QStringLiteral("cluster"));
        agentConf.beginGroup(QStringLiteral("cluster"));
        for (const Node &node : std::as_const(m_nodes)) {
            if (node.role != QLatin1String("worker"))
                continue;
            names.append(node.name);
            agentConf.setValue(node.name + QStringLiteral("/host"), node.address);
            agentConf.setValue(node.name + QStringLiteral("/agent_port"), QUrl(node.agentUrl).port());
        }
        agentConf.setValue(QStringLiteral("members"), names);
        agentConf.endGroup();
        agentConf.sync();
        Q_EMIT progress(tr("All %1 agents are listening").arg(m_nodes.size()));
        startExporter();
    });
}

void ClusterLauncher::startExporter()
{
    QStringList arguments;
    for (const Node &node : std::as_const(m_nodes)) {
        if (node.flowRate > 0) {
            arguments << QStringLiteral("--target")
                      << QStringLiteral("%1=%2:%3@%4").arg(node.name, node.address).arg(node.flowPort).arg(node.flowRate);
        }
    }
    if (!arguments.isEmpty()) {
        QProcess process;
        setCommand(process, sibling(QStringLiteral("ftsandbox-exporter")), arguments);
        process.setWorkingDirectory(m_spec.dir);
        process.setStandardInputFile(QProcess::nullDevice());
        sendOutputTo(process, QDir(m_spec.dir).filePath(QStringLiteral("exporter.log")));
        if (!process.startDetached(&m_exporterPid)) {
            abort(tr("Could not start the flow exporter: %1.").arg(process.errorString()));
            return;
        }
        m_started.append({m_exporterPid, QStringLiteral("ftsandbox-exporter"), tr("flow exporter")});
        Q_EMIT progress(tr("Started the flow exporter (pid %1): %2")
                            .arg(m_exporterPid)
                            .arg(arguments.filter(QStringLiteral("@")).join(QStringLiteral(", "))));
    }
    writeClusterFile();
}

Result ClusterLauncher::installFromVendorPackage()
{
    const Expected<PackageFormat> format = parsePackageFormat(m_spec.installedFrom);
    if (!format || (*format != PackageFormat::Deb && *format != PackageFormat::Rpm && *format != PackageFormat::Msi))
        return makeError(tr("--installed-from takes deb, rpm or msi, not \"%1\".").arg(m_spec.installedFrom));
    const QString os = osOf(*format);
    PackageSpec spec;
    spec.version = m_spec.version;
    spec.component = Component::Server;
    spec.os = os;
    spec.output = QDir(m_spec.dir).absoluteFilePath(QStringLiteral("packages/flowtraq-server-%1.%2")
                                                        .arg(m_spec.version.toString(), toString(*format)));
    Q_EMIT progress(tr("Making the %1 package of %2 to install the nodes from").arg(toString(*format), m_spec.version.toString()));
    if (Result built = buildVendorPackage(spec, *format); !built)
        return built;
    for (Node &node : m_nodes) {
        if (node.os != os)
            continue;
        const QString log = node.install + QStringLiteral("/logs/vendor-install.log");
        Expected<QStringList> command = expandInstallCommand(defaultInstallCommand(*format, true),
                                                             {spec.output, node.install, QStringLiteral("server"), log, {}});
        if (!command)
            return makeError(command.error());
        // The sandbox's own tools are this program (the msiexec stand-in).
        if (command->first() == QLatin1String("ftsandbox"))
            (*command)[0] = QCoreApplication::applicationFilePath();
        Q_EMIT progress(tr("Installing %1 on %2: %3").arg(QFileInfo(spec.output).fileName(), node.name, command->join(QLatin1Char(' '))));
        QProcess process;
        process.setProcessChannelMode(QProcess::MergedChannels);
        process.setProgram(command->takeFirst());
        process.setArguments(*command);
        process.start();
        // A command-line tool laying out folders: waiting here blocks nothing else.
        if (!process.waitForFinished(120000) || process.exitStatus() != QProcess::NormalExit || process.exitCode() != 0) {
            process.kill();
            return makeError(tr("Installing %1 on %2 failed (exit %3): %4")
                                 .arg(QFileInfo(spec.output).fileName(), node.name)
                                 .arg(process.exitCode())
                                 .arg(QString::fromLocal8Bit(process.readAll()).trimmed().right(1500)));
        }
        node.installedFrom = toString(*format);
    }
    return {};
}

void ClusterLauncher::configureVersionSources(const Node &node) const
{
    QSettings conf(node.install + QStringLiteral("/agent/agent.conf"), QSettings::IniFormat);
    // Every Windows-like node has a registry: the agent asks it as it asks reg.exe.
    if (node.os == QLatin1String("windows")) {
        conf.setValue(QStringLiteral("agent/registry_command"),
                      QStringLiteral("\"%1\" reg --hive \"%2\"")
                          .arg(QCoreApplication::applicationFilePath(), registry::hiveOf(node.install)));
    }
    if (node.installedFrom == QLatin1String("deb")) {
        conf.setValue(QStringLiteral("agent/package_names"), QStringLiteral("flowtraq-server"));
        conf.setValue(QStringLiteral("agent/package_manager"), QStringLiteral("dpkg"));
        conf.setValue(QStringLiteral("agent/dpkg_admindir"), node.install + QStringLiteral("/dpkg"));
    } else if (node.installedFrom == QLatin1String("rpm")) {
        conf.setValue(QStringLiteral("agent/package_names"), QStringLiteral("flowtraq-server"));
        conf.setValue(QStringLiteral("agent/package_manager"), QStringLiteral("rpm"));
        conf.setValue(QStringLiteral("agent/rpm_dbpath"), node.install + QStringLiteral("/rpmdb"));
    }
}

Result ClusterLauncher::enableWebApi(const QString &install)
{
    // The portal's FlowTraq Web API (LAYOUT.md): one FlowTraq user with a random
    // password, kept beside cluster.json like the token (sandbox test data, mode 0600).
    m_webApiPassword = QString::fromLatin1(QByteArray::number(QRandomGenerator::system()->generate64(), 36)
                                           + QByteArray::number(QRandomGenerator::system()->generate64(), 36));
    const QString passwordFile = QDir(m_spec.dir).absoluteFilePath(QStringLiteral("webapi.password"));
    if (Result written = writeFileAtomically(passwordFile, m_webApiPassword.toUtf8() + '\n'); !written)
        return written;
    QFile::setPermissions(passwordFile, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    const QString confPath = install + QStringLiteral("/flowtraq.conf");
    QFile conf(confPath);
    if (!conf.open(QIODevice::ReadOnly))
        return makeError(tr("Cannot read %1.").arg(confPath));
    QByteArray ini = conf.readAll();
    conf.close();
    // A fixed port, as a real portal's web server has: the address the wizard keeps
    // (cluster.json, the Connect page) still answers after an upgrade restarted the
    // daemon. Inside a namespace the portal has an address of its own, so it takes the
    // vendor's HTTPS port there, as the nodes take the vendor's other ports.
    ini = setIniValue(ini, QStringLiteral("webapi"), QStringLiteral("port"),
                      QString::number(m_network ? kWebApiPortInNamespace : freeTcpPort()));
    ini = setIniValue(ini, QStringLiteral("webapi"), QStringLiteral("user"), QStringLiteral("admin"));
    ini = setIniValue(ini, QStringLiteral("webapi"), QStringLiteral("password_sha256"),
                      QString::fromLatin1(QCryptographicHash::hash(m_webApiPassword.toUtf8(), QCryptographicHash::Sha256).toHex()));
    return writeFileAtomically(confPath, ini);
}

QJsonValue ClusterLauncher::webApiJson() const
{
    for (const Node &node : m_nodes) {
        if (node.role != QLatin1String("portal"))
            continue;
        const Expected<QJsonObject> status = readJsonObject(node.install + QStringLiteral("/run/status.json"));
        QFile cert(node.install + QStringLiteral("/run/webapi.crt"));
        const int port = status ? status->value(QStringLiteral("webapi_port")).toInt() : 0;
        if (port == 0 || !cert.open(QIODevice::ReadOnly))
            return QJsonValue::Null;
        return QJsonObject{
            // Where the daemon listens: the portal's own address (in a namespace, the one
            // the caller reaches through the cluster's link), not always loopback.
            {QStringLiteral("url"), QStringLiteral("https://%1:%2").arg(node.address).arg(port)},
            {QStringLiteral("user"), QStringLiteral("admin")},
            {QStringLiteral("password_file"), QStringLiteral("webapi.password")},
            {QStringLiteral("fingerprint"), QString::fromLatin1(QSslCertificate(cert.readAll()).digest(QCryptographicHash::Sha256).toHex())},
        };
    }
    return QJsonValue::Null;
}

void ClusterLauncher::writeClusterFile()
{
    QJsonArray nodes;
    for (const Node &node : std::as_const(m_nodes)) {
        QJsonObject object{{QStringLiteral("name"), node.name},
                           {QStringLiteral("role"), node.role},
                           {QStringLiteral("os"), node.os},
                           {QStringLiteral("install"), node.install},
                           {QStringLiteral("address"), node.address},
                           {QStringLiteral("tcp_port"), node.tcpPort},
                           {QStringLiteral("flow_port"), node.flowPort},
                           {QStringLiteral("flow_rate"), node.flowRate},
                           {QStringLiteral("installed_from"), node.installedFrom.isEmpty()
                                                                  ? QJsonValue(QJsonValue::Null)
                                                                  : QJsonValue(node.installedFrom)},
                           {QStringLiteral("pid"), node.pid}};
        if (node.agentPid) {
            object.insert(QStringLiteral("agent"),
                          QJsonObject{{QStringLiteral("url"), node.agentUrl},
                                      {QStringLiteral("fingerprint"), node.agentFingerprint},
                                      {QStringLiteral("pid"), node.agentPid}});
        } else {
            object.insert(QStringLiteral("agent"), QJsonValue::Null);
        }
        nodes.append(object);
    }
    m_cluster = QJsonObject{
        {QStringLiteral("format"), 1},
        {QStringLiteral("created"), QDateTime::currentDateTimeUtc().toString(Qt::ISODate)},
        {QStringLiteral("version"), m_spec.version.toString()},
        {QStringLiteral("token"), m_token.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(m_token)},
        {QStringLiteral("exporter"), m_exporterPid ? QJsonValue(QJsonObject{{QStringLiteral("pid"), m_exporterPid}})
                                                   : QJsonValue(QJsonValue::Null)},
        {QStringLiteral("nodes"), nodes},
        {QStringLiteral("webapi"), webApiJson()},
    };
    if (m_network)
        m_cluster.insert(QStringLiteral("network"), m_network->toJson());
    const QString path = QDir(m_spec.dir).absoluteFilePath(QStringLiteral("cluster.json"));
    // It holds the agents' token: readable by its owner only.
    if (Result written = writeFileAtomically(path, QJsonDocument(m_cluster).toJson(QJsonDocument::Indented), true);
        !written) {
        abort(written.error());
        return;
    }
    Q_EMIT finished(true);
}

// ---------------------------------------------------------------- down / status

Expected<QList<LaunchedProcess>> clusterProcesses(const QString &dir)
{
    const QString path = QDir(dir).filePath(QStringLiteral("cluster.json"));
    if (!QFileInfo::exists(path))
        return makeError(tr("%1 holds no sandbox cluster (no cluster.json).").arg(dir));
    const Expected<QJsonObject> cluster = readJsonObject(path);
    if (!cluster)
        return makeError(cluster.error());
    QList<LaunchedProcess> processes;
    if (const qint64 pid = qint64(cluster->value(QStringLiteral("exporter")).toObject().value(QStringLiteral("pid")).toDouble()))
        processes.append({pid, QStringLiteral("ftsandbox-exporter"), tr("flow exporter")});
    for (const auto &value : cluster->value(QStringLiteral("nodes")).toArray()) {
        const QJsonObject node = value.toObject();
        const QString name = node.value(QStringLiteral("name")).toString();
        if (const qint64 pid = qint64(node.value(QStringLiteral("agent")).toObject().value(QStringLiteral("pid")).toDouble()))
            processes.append({pid, QStringLiteral("ftupgrade-agent"), tr("agent of %1").arg(name)});
        // The daemon may have been restarted by an upgrade: its pid file knows the current one.
        qint64 pid = pidFromFile(node.value(QStringLiteral("install")).toString() + QStringLiteral("/run/flowtraq.pid"));
        if (!pid)
            pid = qint64(node.value(QStringLiteral("pid")).toDouble());
        if (pid)
            processes.append({pid, QStringLiteral("ftsandbox-server"), tr("daemon of %1").arg(name)});
    }
    return processes;
}

Expected<QJsonObject> clusterStatus(const QString &dir)
{
    Expected<QJsonObject> cluster = readJsonObject(QDir(dir).filePath(QStringLiteral("cluster.json")));
    if (!cluster)
        return cluster;
    QJsonArray nodes;
    const QDateTime now = QDateTime::currentDateTimeUtc();
    for (const auto &value : cluster->value(QStringLiteral("nodes")).toArray()) {
        QJsonObject node = value.toObject();
        const QString install = node.value(QStringLiteral("install")).toString();
        const Expected<QJsonObject> status = readJsonObject(install + QStringLiteral("/run/status.json"));
        bool running = false;
        if (status) {
            const QDateTime updated = QDateTime::fromString(status->value(QStringLiteral("updated")).toString(), Qt::ISODate);
            running = status->value(QStringLiteral("state")).toString() == QLatin1String("running")
                      && isProcessAlive(qint64(status->value(QStringLiteral("pid")).toDouble()))
                      && updated.isValid() && updated.secsTo(now) <= 5;
            node.insert(QStringLiteral("status"), *status);
        } else {
            node.insert(QStringLiteral("status"), QJsonValue::Null);
        }
        node.insert(QStringLiteral("running"), running);
        const Expected<Version> installed = readVersionFile(install + QStringLiteral("/VERSION"));
        node.insert(QStringLiteral("installed_version"), installed && !installed->isNull()
                                                             ? QJsonValue(installed->toString())
                                                             : QJsonValue(QJsonValue::Null));
        const QJsonObject agent = node.value(QStringLiteral("agent")).toObject();
        if (!agent.isEmpty()) {
            QJsonObject live = agent;
            live.insert(QStringLiteral("running"),
                        runsProgram(qint64(agent.value(QStringLiteral("pid")).toDouble()), QStringLiteral("ftupgrade-agent")));
            node.insert(QStringLiteral("agent"), live);
        }
        nodes.append(node);
    }
    cluster->insert(QStringLiteral("nodes"), nodes);
    const QJsonObject exporter = cluster->value(QStringLiteral("exporter")).toObject();
    if (!exporter.isEmpty()) {
        QJsonObject live = exporter;
        live.insert(QStringLiteral("running"),
                    runsProgram(qint64(exporter.value(QStringLiteral("pid")).toDouble()), QStringLiteral("ftsandbox-exporter")));
        cluster->insert(QStringLiteral("exporter"), live);
    }
    return cluster;
}

} // namespace ft::sandbox

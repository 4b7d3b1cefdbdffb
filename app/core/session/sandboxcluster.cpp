#include "session/sandboxcluster.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>

#if defined(Q_OS_UNIX)
#include <unistd.h>
#endif

namespace ft {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::Sandbox", text); }

} // namespace

Expected<SandboxClusterFile> SandboxClusterFile::read(const QString &directory)
{
    const QString path = QDir(directory).filePath(QStringLiteral("cluster.json"));
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return makeError(tr("Cannot read the sandbox cluster file %1: %2")
                             .arg(QDir::toNativeSeparators(path), file.errorString()));
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(file.readAll(), &parseError);
    if (!document.isObject())
        return makeError(tr("The sandbox cluster file %1 is not valid JSON: %2")
                             .arg(QDir::toNativeSeparators(path), parseError.errorString()));

    SandboxClusterFile cluster;
    cluster.directory = directory;
    const QJsonObject root = document.object();
    cluster.token = root.value(QLatin1String("token")).toString();
    for (const auto &value : root.value(QLatin1String("nodes")).toArray()) {
        const QJsonObject object = value.toObject();
        SandboxNode node;
        node.name = object.value(QLatin1String("name")).toString();
        const auto role = parseNodeRole(object.value(QLatin1String("role")).toString());
        const auto os = parseOsKind(object.value(QLatin1String("os")).toString());
        if (node.name.isEmpty() || !role || !os)
            return makeError(tr("The sandbox cluster file %1 has a node without a valid name, "
                                "role or OS.")
                                 .arg(QDir::toNativeSeparators(path)));
        node.role = *role;
        node.os = *os;
        node.installDir = object.value(QLatin1String("install")).toString();
        node.tcpPort = object.value(QLatin1String("tcp_port")).toInt();
        node.flowPort = object.value(QLatin1String("flow_port")).toInt();
        node.flowRate = object.value(QLatin1String("flow_rate")).toDouble();
        const QJsonObject agent = object.value(QLatin1String("agent")).toObject();
        node.agentUrl = QUrl(agent.value(QLatin1String("url")).toString());
        node.agentFingerprint = agent.value(QLatin1String("fingerprint")).toString();
        cluster.nodes.append(node);
    }
    const QJsonObject webApi = root.value(QLatin1String("webapi")).toObject();
    if (!webApi.isEmpty()) {
        QFile passwordFile(QDir(directory).filePath(webApi.value(QLatin1String("password_file")).toString()));
        if (passwordFile.open(QIODevice::ReadOnly)) {
            cluster.webApi.portal = QUrl(webApi.value(QLatin1String("url")).toString());
            cluster.webApi.user = webApi.value(QLatin1String("user")).toString();
            cluster.webApi.password = QString::fromUtf8(passwordFile.readLine(256)).trimmed();
            cluster.webApi.fingerprint = webApi.value(QLatin1String("fingerprint")).toString();
        }
    }
    if (cluster.nodes.isEmpty())
        return makeError(tr("The sandbox cluster file %1 lists no nodes.")
                             .arg(QDir::toNativeSeparators(path)));
    return cluster;
}

const SandboxNode *SandboxClusterFile::portal() const
{
    for (const SandboxNode &node : nodes) {
        if (node.role == NodeRole::Portal || node.role == NodeRole::Standalone)
            return &node;
    }
    return nullptr;
}

QString siblingExecutable(const QString &name, const QString &directory)
{
    const QString folder = directory.isEmpty() ? QCoreApplication::applicationDirPath() : directory;
#ifdef Q_OS_WIN
    return QDir(folder).filePath(name + QStringLiteral(".exe"));
#else
    return QDir(folder).filePath(name);
#endif
}

SandboxLaunchJob::SandboxLaunchJob(QObject *parent)
    : QObject(parent)
{}

void SandboxLaunchJob::start()
{
    QStringList up{QStringLiteral("up"), m_directory};
    up += m_upArguments;
    m_pending = {up};
    for (const QStringList &command : std::as_const(m_packageCommands))
        m_pending.append(QStringList{QStringLiteral("make-package")} + command);
    // QProcess reports even a failure to start asynchronously, so finished never
    // fires inside start().
    runNext();
}

void SandboxLaunchJob::runNext()
{
    if (m_pending.isEmpty()) {
        auto cluster = SandboxClusterFile::read(m_directory);
        if (!cluster) {
            finish(cluster.error());
            return;
        }
        m_cluster = *cluster;
        finish({});
        return;
    }
    const QStringList arguments = m_pending.takeFirst();
    const QString tool = siblingExecutable(QStringLiteral("ftsandbox"), m_toolDirectory);
    delete m_process;
    m_process = new QProcess(this);
    m_process->setProcessChannelMode(QProcess::MergedChannels);
    connect(m_process, &QProcess::errorOccurred, this, [this, tool](QProcess::ProcessError error) {
        if (error == QProcess::FailedToStart)
            finish(tr("Cannot start the sandbox tool %1: %2")
                       .arg(QDir::toNativeSeparators(tool), m_process->errorString()));
    });
    connect(m_process, &QProcess::finished, this,
            [this, arguments](int exitCode, QProcess::ExitStatus status) {
                if (status != QProcess::NormalExit || exitCode != 0) {
                    const QString output = QString::fromLocal8Bit(m_process->readAll()).trimmed();
                    finish(tr("\"ftsandbox %1\" failed: %2")
                               .arg(arguments.first(),
                                    output.isEmpty() ? tr("exit code %1").arg(exitCode) : output));
                    return;
                }
                // Leave the finished process's signal handler before starting the next.
                QMetaObject::invokeMethod(this, &SandboxLaunchJob::runNext, Qt::QueuedConnection);
            });
    m_process->start(tool, arguments);
}

void SandboxLaunchJob::finish(const QString &error)
{
    if (m_finished)
        return;
    m_finished = true;
    m_errorString = error;
    if (m_process) {
        m_process->disconnect(this);
        m_process->deleteLater();
        m_process = nullptr;
    }
    Q_EMIT finished(this);
}

Result stopSandboxCluster(const QString &directory, const QString &toolDirectory)
{
    QProcess process;
    process.setProcessChannelMode(QProcess::MergedChannels);
#if defined(Q_OS_UNIX)
    // In a session of its own: this runs as the caller quits on a signal, and a signal
    // sent to the caller's whole process group (timeout(1), a shell's job control) a
    // moment later would otherwise end the clean-up too, leaving the cluster running.
    process.setChildProcessModifier([] { ::setsid(); });
#endif
    process.start(siblingExecutable(QStringLiteral("ftsandbox"), toolDirectory),
                  {QStringLiteral("down"), directory});
    const bool finished = process.waitForFinished(60000);
    if (finished && process.exitStatus() == QProcess::NormalExit && process.exitCode() == 0)
        return {};
    QString why = QString::fromLocal8Bit(process.readAll()).trimmed();
    if (why.isEmpty())
        why = !finished ? process.errorString()
              : process.exitStatus() == QProcess::CrashExit ? tr("\"ftsandbox down\" was killed")
                                                            : tr("exit code %1").arg(process.exitCode());
    return makeError(tr("Stopping the sandbox cluster failed: %1").arg(why));
}

} // namespace ft

#pragma once

// Shared by the run engine and CLI run tests: real sandbox clusters (ftsandbox up),
// packages (ftsandbox make-package) and the session that drives them.

#include "agentlink/agentjobs.h"
#include "packages/packageinspection.h"
#include "session/sandboxcluster.h"
#include "session/upgradesession.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslKey>
#include <QtTest>

namespace fixture {

inline QString tool(const QString &name)
{
    return QStringLiteral(FT_BIN_DIR "/") + name;
}

// Runs a tool to its end (tests may block); false with the output in the log on failure.
inline bool runTool(const QString &program, const QStringList &arguments, QByteArray *output = nullptr,
                    int timeoutMs = 60000)
{
    QProcess process;
    process.setProgram(tool(program));
    process.setArguments(arguments);
    process.start();
    if (!process.waitForFinished(timeoutMs)) {
        process.kill();
        process.waitForFinished(5000);
        qWarning() << program << arguments << "did not finish";
        return false;
    }
    const QByteArray out = process.readAllStandardOutput();
    const QByteArray err = process.readAllStandardError();
    if (output)
        *output = out;
    if (process.exitStatus() != QProcess::NormalExit || process.exitCode() != 0) {
        qWarning() << program << arguments << "exit" << process.exitCode() << err;
        return false;
    }
    return true;
}

inline QByteArray readAll(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

inline QString installedVersion(const QString &installDir, ft::Component component)
{
    const QString file = component == ft::Component::Server ? QStringLiteral("VERSION")
                         : component == ft::Component::Nbi ? QStringLiteral("nbi/VERSION")
                                                           : QStringLiteral("webui/VERSION");
    return QString::fromUtf8(readAll(QDir(installDir).filePath(file))).trimmed();
}

// A self-signed certificate and key made by the openssl tool (null when it is missing).
inline QSslConfiguration selfSignedTls(const QString &directory)
{
    const QString cert = QDir(directory).filePath(QStringLiteral("serve-cert.pem"));
    const QString key = QDir(directory).filePath(QStringLiteral("serve-key.pem"));
    QProcess openssl;
    openssl.start(QStringLiteral("openssl"),
                  {QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"), QStringLiteral("rsa:2048"),
                   QStringLiteral("-nodes"), QStringLiteral("-keyout"), key, QStringLiteral("-out"), cert,
                   QStringLiteral("-days"), QStringLiteral("2"), QStringLiteral("-subj"), QStringLiteral("/CN=ftupgrade-test")});
    if (!openssl.waitForFinished(60000) || openssl.exitCode() != 0)
        return {};
    QSslConfiguration configuration = QSslConfiguration::defaultConfiguration();
    configuration.setLocalCertificate(QSslCertificate(readAll(cert), QSsl::Pem));
    configuration.setPrivateKey(QSslKey(readAll(key), QSsl::Rsa, QSsl::Pem));
    configuration.setPeerVerifyMode(QSslSocket::VerifyNone);
    return configuration;
}

// A sandbox cluster in a temporary folder, brought down when the object goes.
class Cluster
{
public:
    ~Cluster() { down(); }

    bool up(const QStringList &arguments)
    {
        if (!m_dir.isValid())
            return false;
        m_directory = m_dir.filePath(QStringLiteral("cluster"));
        m_up = true;
        if (!runTool(QStringLiteral("ftsandbox"), QStringList{QStringLiteral("up"), m_directory} + arguments,
                     nullptr, 90000))
            return false;
        const auto file = ft::SandboxClusterFile::read(m_directory);
        if (!file) {
            qWarning() << file.error();
            return false;
        }
        m_file = *file;
        for (const ft::SandboxNode &node : m_file.nodes) {
            if (!node.agentUrl.isValid()) {
                qWarning() << "no agent for" << node.name << "(is ftupgrade-agent built?)";
                return false;
            }
        }
        return true;
    }

    void down()
    {
        if (m_up)
            runTool(QStringLiteral("ftsandbox"), {QStringLiteral("down"), m_directory}, nullptr, 60000);
        m_up = false;
    }

    QString directory() const { return m_directory; }
    QString path(const QString &name) const { return m_dir.filePath(name); }
    const ft::SandboxClusterFile &file() const { return m_file; }
    const ft::SandboxNode *node(const QString &name) const
    {
        for (const ft::SandboxNode &node : m_file.nodes) {
            if (node.name == name)
                return &node;
        }
        return nullptr;
    }

    // ftsandbox make-package …; returns the file's path or "" on failure.
    QString makePackage(const QString &component, const QString &version, const QString &mode,
                        const QStringList &extra = {})
    {
        const QString file = m_dir.filePath(QStringLiteral("%1-%2-%3.ftpkg").arg(component, version, mode));
        if (!runTool(QStringLiteral("ftsandbox"),
                     QStringList{QStringLiteral("make-package"), QStringLiteral("--version"), version,
                                 QStringLiteral("--component"), component, QStringLiteral("--mode"), mode,
                                 QStringLiteral("-o"), file}
                         + extra,
                     nullptr, 600000))
            return {};
        return file;
    }

private:
    QTemporaryDir m_dir;
    QString m_directory;
    ft::SandboxClusterFile m_file;
    bool m_up = false;
};

// Points a session at a sandbox cluster and discovers it.
inline bool connectAndDiscover(ft::UpgradeSession &session, const ft::SandboxClusterFile &cluster)
{
    const ft::SandboxNode *portal = cluster.portal();
    if (!portal)
        return false;
    ft::AgentEndpoint endpoint;
    endpoint.nodeName = portal->name;
    endpoint.url = portal->agentUrl;
    endpoint.fingerprint = portal->agentFingerprint;
    endpoint.token = cluster.token;
    for (const ft::SandboxNode &node : cluster.nodes)
        session.addKnownFingerprint(node.agentUrl, node.agentFingerprint);
    session.setPortal(endpoint);
    bool done = false;
    QObject::connect(session.discovery(), &ft::ClusterDiscovery::finished, &session, [&done] { done = true; });
    session.discovery()->start();
    if (!QTest::qWaitFor([&done] { return done; }, 30000))
        return false;
    for (const ft::NodeStatus &node : session.nodes()) {
        if (!node.reachable) {
            qWarning() << node.name << node.unreachableReason;
            return false;
        }
    }
    return session.nodes().size() == cluster.nodes.size();
}

inline bool choosePackage(ft::UpgradeSession &session, const QString &path, ft::Component slot)
{
    ft::PackageInspectJob job;
    job.setPath(path);
    job.setSlot(slot);
    bool done = false;
    QObject::connect(&job, &ft::PackageInspectJob::finished, &job, [&done] { done = true; });
    job.start();
    if (!QTest::qWaitFor([&done] { return done; }, 30000))
        return false;
    if (job.hasError()) {
        qWarning() << job.errorString();
        return false;
    }
    session.setPackage(slot, job.choice());
    return true;
}

// The upgrade jobs an agent keeps (GET /v1/jobs), newest first.
inline QList<ft::AgentJobStatus> upgradeJobs(ft::UpgradeSession &session, const QString &nodeName)
{
    for (const ft::NodeStatus &node : session.nodes()) {
        if (node.name != nodeName)
            continue;
        auto *job = new ft::ListJobsJob(session.client(), session.endpointFor(node));
        job->setAutoDelete(false);
        bool done = false;
        QObject::connect(job, &ft::AgentJob::finished, job, [&done] { done = true; });
        job->start();
        if (!QTest::qWaitFor([&done] { return done; }, 15000))
            qWarning("The agent of %s did not list its jobs within 15 s", qPrintable(nodeName));
        QList<ft::AgentJobStatus> jobs;
        for (const ft::AgentJobStatus &status : job->jobs()) {
            if (status.kind == QLatin1String("upgrade"))
                jobs.append(status);
        }
        delete job;
        return jobs;
    }
    return {};
}

} // namespace fixture

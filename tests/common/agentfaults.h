#pragma once

// Faults made with real processes, shared by the run and CLI fault tests (runinterrupted,
// clihardening, runfailures): a node's agent SIGKILLed and brought back on its port as
// its service manager would; a staged package changed after staging; a node's service
// state as its agent reports it.

#include "sandboxfixture.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSettings>
#include <QtTest>

#include <csignal>

namespace fixture {

// The pid cluster.json records for a node's agent (0 when there is none).
inline qint64 agentPid(const Cluster &cluster, const QString &node)
{
    const QJsonArray nodes = QJsonDocument::fromJson(readAll(cluster.directory() + QStringLiteral("/cluster.json")))
                                 .object().value(QStringLiteral("nodes")).toArray();
    for (const QJsonValue &value : nodes) {
        if (value.toObject().value(QStringLiteral("name")).toString() == node)
            return value.toObject().value(QStringLiteral("agent")).toObject().value(QStringLiteral("pid")).toInteger();
    }
    return 0;
}

// A node's agent SIGKILLed (no chance to tidy up), then started again on the same port
// with the same configuration. The restarted agent gets a SIGTERM when this goes.
class AgentRestart
{
public:
    AgentRestart() = default;
    AgentRestart(const AgentRestart &) = delete;
    AgentRestart &operator=(const AgentRestart &) = delete;
    ~AgentRestart() { stop(); }

    // False, with a warning saying why, when the agent cannot be killed or restarted.
    bool killAndRestart(const Cluster &cluster, const QString &name)
    {
        const ft::SandboxNode *node = cluster.node(name);
        const qint64 pid = agentPid(cluster, name);
        if (!node || pid <= 0) {
            qWarning() << "no agent of" << name << "in" << cluster.directory();
            return false;
        }
        if (::kill(pid_t(pid), SIGKILL) != 0) {
            qWarning() << "cannot SIGKILL the agent of" << name << "( pid" << pid << ")";
            return false;
        }
        // The node's service manager brings the agent back on its port.
        const QString config = node->installDir + QStringLiteral("/agent/agent.conf");
        QSettings(config, QSettings::IniFormat).setValue(QStringLiteral("agent/port"), node->agentUrl.port());
        QTest::qWait(300);
        QProcess restarted;
        restarted.setProgram(tool(QStringLiteral("ftupgrade-agent")));
        restarted.setArguments({QStringLiteral("run"), QStringLiteral("--config"), config});
        restarted.setStandardOutputFile(QProcess::nullDevice());
        restarted.setStandardErrorFile(QProcess::nullDevice());
        if (!restarted.startDetached(&m_pid)) {
            qWarning() << "cannot restart the agent of" << name << restarted.errorString();
            return false;
        }
        return true;
    }

    // SIGTERM to the restarted agent (once).
    void stop()
    {
        if (m_pid > 0)
            ::kill(pid_t(m_pid), SIGTERM);
        m_pid = 0;
    }

private:
    qint64 m_pid = 0;
};

// Flips one byte in the middle of a file and can put it back: a staged package that
// changed after staging, which an agent must refuse to install.
class FileTamper
{
public:
    explicit FileTamper(QString path)
        : m_path(std::move(path))
    {}

    // False while the file is empty or missing (nothing changed then).
    bool tamper()
    {
        m_original = readAll(m_path);
        if (m_original.isEmpty())
            return false;
        QByteArray changed = m_original;
        changed[changed.size() / 2] = char(changed.at(changed.size() / 2) ^ 0x5a);
        QFile file(m_path);
        return file.open(QIODevice::WriteOnly) && file.write(changed) == changed.size();
    }
    bool tampered() const { return !m_original.isEmpty(); }

    bool restore()
    {
        QFile file(m_path);
        return file.open(QIODevice::WriteOnly) && file.write(m_original) == m_original.size();
    }

private:
    QString m_path;
    QByteArray m_original;
};

// A node's service state as its agent says now (Unknown when it does not answer).
inline ft::ServiceState serviceState(ft::UpgradeSession &session, const QString &name)
{
    for (const ft::NodeStatus &node : session.nodes()) {
        if (node.name != name)
            continue;
        // Agent jobs delete themselves once finished: read the answer in the handler.
        auto *job = new ft::FetchNodeJob(session.client(), session.endpointFor(node));
        bool done = false;
        ft::ServiceState state = ft::ServiceState::Unknown;
        QObject context; // an answer after the wait gave up reaches nothing
        QObject::connect(job, &ft::AgentJob::finished, &context, [&done, &state, job] {
            if (job->error() == ft::AgentJob::NoError)
                state = job->node().service;
            done = true;
        });
        job->start();
        (void)QTest::qWaitFor([&done] { return done; }, 10000);
        return state;
    }
    return ft::ServiceState::Unknown;
}

} // namespace fixture

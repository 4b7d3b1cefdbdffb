#pragma once

// ftupgrade-cli as a user runs it, for the tests that drive the CLI (clirun,
// clihardening, vendorinstall, mixedcluster, realnodes, netcluster, flowverify): each
// test's own XDG folders (history, default journal, logs, trusted fingerprints), no
// token from the environment, the whole output kept. The sandbox's tools run in the
// same environment (runProgram), so a cluster and the CLI see the same folders.

#include "sandboxfixture.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

namespace fixture {

struct CliResult
{
    int exitCode = -1; // -1: crashed, or killed at the time-out
    QByteArray out;
    QByteArray err;
    QJsonObject json() const { return QJsonDocument::fromJson(out).object(); }
};

class CliRunner
{
public:
    explicit CliRunner(int timeoutMs = 120000)
        : m_timeoutMs(timeoutMs)
    {}

    bool isValid() const { return m_home.isValid(); }
    // The folder XDG_DATA_HOME and XDG_CONFIG_HOME lie in ("data", "config").
    QString homePath(const QString &name) const { return m_home.filePath(name); }

    // A variable of the test's environment the CLI must not see (besides FTUPGRADE_TOKEN).
    void unsetVariable(const QString &name) { m_unset.append(name); }
    // A variable the CLI sees besides the test's environment (a password it reads from there).
    void setVariable(const QString &name, const QString &value) { m_set.insert(name, value); }

    QProcessEnvironment environment() const
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("XDG_DATA_HOME"), m_home.filePath(QStringLiteral("data")));
        env.insert(QStringLiteral("XDG_CONFIG_HOME"), m_home.filePath(QStringLiteral("config")));
        env.remove(QStringLiteral("FTUPGRADE_TOKEN"));
        for (const QString &name : m_unset)
            env.remove(name);
        for (auto it = m_set.cbegin(); it != m_set.cend(); ++it)
            env.insert(it.key(), it.value());
        return env;
    }

    // Starts the CLI and returns at once (the caller kills or waits for it).
    void start(QProcess &process, const QStringList &arguments) const
    {
        startProgram(process, tool(QStringLiteral("ftupgrade-cli")), arguments);
    }

    // Runs the CLI to its end (killed at the time-out: exit code -1).
    CliResult run(const QStringList &arguments, int timeoutMs = 0) const
    {
        return runProgram(tool(QStringLiteral("ftupgrade-cli")), arguments, timeoutMs);
    }

    // Any program (a sandbox tool by its path, ip, timeout) in the same environment.
    CliResult runProgram(const QString &program, const QStringList &arguments, int timeoutMs = 0) const
    {
        QProcess process;
        startProgram(process, program, arguments);
        CliResult result;
        if (!process.waitForFinished(timeoutMs > 0 ? timeoutMs : m_timeoutMs)) {
            process.kill();
            process.waitForFinished(5000);
            qWarning() << program << arguments << "did not finish";
        }
        result.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
        result.out = process.readAllStandardOutput();
        result.err = process.readAllStandardError();
        return result;
    }

private:
    void startProgram(QProcess &process, const QString &program, const QStringList &arguments) const
    {
        process.setProcessEnvironment(environment());
        process.setProgram(program);
        process.setArguments(arguments);
        process.start();
    }

    QTemporaryDir m_home;
    int m_timeoutMs;
    QStringList m_unset;
    QHash<QString, QString> m_set;
};

} // namespace fixture

#pragma once

#include "commands.h"
#include "run/runengine.h"
#include "verify/verification.h"

#include <QDateTime>
#include <QHash>

namespace ft {
class ScheduledStart;
}

namespace ft::cli {

// What run, verify and report share: discovery first, then the node endpoints.
class ClusterCommand : public Command
{
    Q_OBJECT

public:
    using Command::Command;

protected:
    // Configures the session and discovers; discovered() follows (or finished(exit)).
    void startDiscovery();
    virtual void discovered() = 0;
    Expected<AgentEndpoint> endpointForNode(const QString &node) const;
    QList<AgentEndpoint> reachableEndpoints() const;
    QString journalPathOption() const;
    // The journal's default place: one per cluster in the application's data folder.
    QString defaultJournalPath() const;
};

// run: discover, check the packages, plan, then carry the plan out (or, with
// --resume, continue the run in the journal), verify every node and print it all.
class RunCommand : public ClusterCommand
{
    Q_OBJECT

public:
    using ClusterCommand::ClusterCommand;
    Result parse(const QStringList &arguments) override;
    void start() override;

protected:
    void discovered() override;

private:
    void packagesRead();
    void startEngine(bool resuming);
    void runFinished();
    void printOutcome(const VerificationReport *verification);

    QList<PackageArgument> m_packagePaths;
    QStringList m_packageErrors;
    RunOptions m_options;
    bool m_serveAddressGiven = false;
    bool m_resume = false;
    bool m_now = false;
    QDateTime m_at; // UTC; the announced window's start (--at)
    RunEngine *m_engine = nullptr;
    ScheduledStart *m_schedule = nullptr;
};

// verify: the matrix of every node × component against the targets (the packages
// named, or the run in a journal).
class VerifyCommand : public ClusterCommand
{
    Q_OBJECT

public:
    using ClusterCommand::ClusterCommand;
    Result parse(const QStringList &arguments) override;
    void start() override;

protected:
    void discovered() override;

private:
    void targetsKnown();

    QList<PackageArgument> m_packagePaths;
    QHash<Component, Version> m_targets;
    std::optional<RunJournal> m_journal;
    QStringList m_packageErrors;
};

// report: writes a run's report (JSON, HTML or PDF) from its journal, verifying the
// nodes first when a cluster is named.
class ReportCommand : public ClusterCommand
{
    Q_OBJECT

public:
    using ClusterCommand::ClusterCommand;
    Result parse(const QStringList &arguments) override;
    void start() override;

protected:
    void discovered() override;

private:
    void write(const VerificationReport *verification);

    RunJournal m_journal;
    QString m_output;
};

// The exit code of a finished run: 0 all upgraded, 3 a reboot is needed, 1 otherwise.
int runExitCode(const RunEngine &engine, const VerificationReport *verification);

// --at's value: ISO 8601 (with an offset or Z, else local time) or "HH:MM" today in
// local time; as UTC. A time more than a minute before `now` is an error.
Expected<QDateTime> parseStartTime(const QString &text, const QDateTime &now);

} // namespace ft::cli

namespace ft::cli {
// The commands of this file, for createCommand()/commandNames().
Command *createRunCommand(const QString &name, QObject *parent);
QStringList runCommandNames();
} // namespace ft::cli

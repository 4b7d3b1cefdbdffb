#pragma once

#include "clicontext.h"
#include "model/domain.h"

#include <QCommandLineParser>
#include <QHash>
#include <QObject>

namespace ft::cli {

// One subcommand: parses its options, runs on the event loop, and says how it ended
// with finished(exitCode), never inside start().
class Command : public QObject
{
    Q_OBJECT

public:
    explicit Command(QObject *parent = nullptr) : QObject(parent) {}

    // Parses the arguments (the subcommand's name first). Bad input: a sentence.
    virtual Result parse(const QStringList &arguments) = 0;
    virtual void start() = 0;
    QString helpText() const { return m_parser.helpText(); }

Q_SIGNALS:
    void finished(int exitCode);

protected:
    void finishLater(int exitCode);

    QCommandLineParser m_parser;
    UpgradeSession m_session;
};

// discover: the nodes as the portal lists them, each probed.
class DiscoverCommand : public Command
{
    Q_OBJECT

public:
    using Command::Command;
    Result parse(const QStringList &arguments) override;
    void start() override;

protected:
    // Called when discovery is over; the default prints the nodes.
    virtual void discovered();
    QJsonObject discoveryJson() const;
    int discoveryExitCode() const;
};

// plan: discover, read the packages, run the pre-checks and print the plan.
class PlanCommand : public DiscoverCommand
{
    Q_OBJECT

public:
    using DiscoverCommand::DiscoverCommand;
    Result parse(const QStringList &arguments) override;

protected:
    // Discovers, then reads the packages into the session, then planReady().
    void discovered() override;
    // The session has the nodes and the packages: the default prints the plan.
    virtual void planReady();
    // The session's plan; with --start, its flows lost priced from the flow history at
    // that hour (lossBasis says which).
    UpgradePlan currentPlan(QString *lossBasis) const;
    // Writes --export when given; false (after printing why) when it cannot.
    bool exportIfAsked(const UpgradePlan &plan);
};

// The command for a name, or nullptr.
Command *createCommand(const QString &name, QObject *parent);
QStringList commandNames();

} // namespace ft::cli

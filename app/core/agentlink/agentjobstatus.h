#pragma once

#include "model/expected.h"
#include "model/flowkeeping.h"

#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QMetaType>
#include <QString>

#include <optional>

// What an agent says about one of its jobs (staging or upgrade): GET /v1/jobs and
// GET /v1/jobs/J, read by the job classes, the watcher and the run engine.

namespace ft {

struct AgentLogLine
{
    qint64 n = 0;
    QDateTime time;
    QString line;
};

enum class AgentJobState { Queued, Running, Succeeded, Failed, Cancelled, Interrupted };
QString toString(AgentJobState state);
Expected<AgentJobState> parseAgentJobState(const QString &text);

// One phase of an agent job and when it began, by the agent's clock.
struct AgentJobPhase
{
    QString phase;
    QDateTime started;
};

// An agent job as GET /v1/jobs/J reports it. Optional fields are nullopt while the
// agent says null.
struct AgentJobStatus
{
    QString id;
    QString kind;      // "stage" | "upgrade"
    QString component;
    QString package;
    AgentJobState state = AgentJobState::Queued;
    QString phase;
    double progress = 0;
    qint64 bytesDone = 0;
    qint64 bytesTotal = 0;
    QDateTime created;
    QDateTime started;
    QDateTime finished;
    std::optional<int> exitCode;
    bool rebootRequested = false;
    QString versionBefore;
    QString versionAfter;
    std::optional<bool> serviceRestored;
    std::optional<FlowKeeping> flowKeeping; // upgrades with keep_flows: the job's "flows"
    QString error;
    QList<AgentLogLine> log;
    QList<AgentJobPhase> phases; // oldest first; empty from agents that do not report them
    qint64 next = 0;

    bool isTerminal() const;
    static Expected<AgentJobStatus> fromAgentJson(const QJsonObject &json);
};

} // namespace ft

Q_DECLARE_METATYPE(ft::AgentJobStatus)
Q_DECLARE_METATYPE(ft::AgentLogLine)

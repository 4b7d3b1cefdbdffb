#pragma once

#include "agentlink/agentclient.h"

namespace ft {

// A call that starts a job on the agent (POST /v1/stage, POST /v1/upgrade) and is
// answered with the new job's id ({"job": "J"}); the job itself is then followed with
// an AgentJobWatcher. Subclasses say only what they ask for (request()).
class StartJob : public AgentJob
{
    Q_OBJECT
public:
    QString jobId() const { return m_jobId; }

protected:
    using AgentJob::AgentJob;
    Result parseReply(const QByteArray &body) final;

private:
    QString m_jobId;
};

} // namespace ft

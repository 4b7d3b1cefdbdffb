#include "agentlink/startjob.h"

#include "agentlink/agentreply.h"

namespace ft {

Result StartJob::parseReply(const QByteArray &body)
{
    const auto json = jsonObject(body);
    if (!json)
        return makeError(json.error());
    const auto id = agentreply::requiredString(*json, "job");
    if (!id)
        return makeError(id.error());
    m_jobId = *id;
    return {};
}

} // namespace ft

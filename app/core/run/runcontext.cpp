#include "run/runcontext.h"

#include <QCoreApplication>

namespace ft {

Expected<AgentEndpoint> RunContext::endpoint(const QString &node) const
{
    if (!lookup)
        return makeError(QCoreApplication::translate("ft::RunEngine", "no address"));
    return lookup(node);
}

QString runStepName(const RunStepRecord &record)
{
    return QCoreApplication::translate("ft::RunEngine", "%1 on %2")
        .arg(displayName(record.step.component), record.step.node);
}

} // namespace ft

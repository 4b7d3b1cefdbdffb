#pragma once

// A run's context for a part of the engine tested alone (Stager, StepRunner): the
// journal of a session's plan and packages, every node's agent.

#include "run/runcontext.h"
#include "sandboxfixture.h"

#include <QFileInfo>

namespace fixture {

inline void fillContext(ft::RunContext &context, ft::UpgradeSession &session)
{
    using namespace ft;
    QList<RunPackage> packages;
    for (Component component : {Component::Server, Component::Nbi, Component::WebUi}) {
        const std::optional<PackageChoice> &choice = session.target().package(component);
        if (!choice)
            continue;
        packages.append(RunPackage::fromChoice(component, *choice));
    }
    context.client = session.client();
    context.journal = RunJournal::fromPlan(session.plan(), packages);
    context.options.pollWaitMs = 5000;
    context.options.delivery = ft::PackageDelivery::Workstation; // the stager tests watch the package server
    context.lookup = [&session](const QString &name) -> Expected<AgentEndpoint> {
        for (const NodeStatus &node : session.nodes()) {
            if (node.name == name)
                return session.endpointFor(node);
        }
        return makeError(QStringLiteral("no node %1").arg(name));
    };
}

} // namespace fixture

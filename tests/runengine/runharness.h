#pragma once

// A session, an engine and what they record, on one sandbox cluster (run engine tests).

#include "plan/durationhistory.h"
#include "run/runengine.h"
#include "sandboxfixture.h"
#include "verify/verification.h"

#include <QTemporaryDir>

#include <memory>

namespace runharness {

using namespace ft;
using namespace fixture;

inline const QString kTarget = QStringLiteral("6.3.0-1500");
inline const QString kOld = QStringLiteral("6.2.1-1200");

// A session, an engine and what they need, on one cluster.
struct Run
{
    UpgradeSession session;
    QTemporaryDir dir;
    DurationHistory history;
    std::unique_ptr<RunEngine> engine;
    QList<RunState> states;
    QList<std::pair<int, QString>> decisions;
    QList<std::pair<int, QString>> slow;
    QHash<int, QStringList> logs;
    bool finished = false;

    void makeEngine(const RunOptions &extra = {})
    {
        engine = std::make_unique<RunEngine>(session.client());
        RunOptions options = extra;
        options.journalPath = dir.filePath(QStringLiteral("run.json"));
        options.pollWaitMs = 5000;
        options.clusterId = session.clusterId();
        // These tests watch the workstation's package server (tests/netcluster and
        // tests/uploads cover delivery through the portal's agent).
        options.delivery = PackageDelivery::Workstation;
        engine->setOptions(options);
        (void)history.open(dir.filePath(QStringLiteral("history.sqlite")));
        engine->setHistory(&history);
        engine->setEndpointLookup([this](const QString &name) -> Expected<AgentEndpoint> {
            for (const NodeStatus &node : session.nodes()) {
                if (node.name == name)
                    return session.endpointFor(node);
            }
            return makeError(QStringLiteral("no node %1").arg(name));
        });
        QObject::connect(engine.get(), &RunEngine::stateChanged, engine.get(),
                         [this](RunState state) { states.append(state); });
        QObject::connect(engine.get(), &RunEngine::decisionNeeded, engine.get(),
                         [this](int step, const QString &sentence) { decisions.append({step, sentence}); });
        QObject::connect(engine.get(), &RunEngine::stepSlow, engine.get(),
                         [this](int step, const QString &sentence) { slow.append({step, sentence}); });
        QObject::connect(engine.get(), &RunEngine::logLines, engine.get(),
                         [this](int step, const QStringList &lines) { logs[step] += lines; });
        QObject::connect(engine.get(), &RunEngine::finished, engine.get(), [this] { finished = true; });
    }

    int stepOf(const QString &node, Component component) const
    {
        for (int i = 0; i < engine->stepCount(); ++i) {
            if (engine->step(i).step.node == node && engine->step(i).step.component == component)
                return i;
        }
        return -1;
    }
};

} // namespace runharness

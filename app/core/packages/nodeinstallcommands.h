#pragma once

#include "model/nodestatus.h"
#include "model/upgradetarget.h"

#include <QList>
#include <QString>
#include <QStringList>

namespace ft {

// The command some nodes will run to install a vendor package, as shown before the run.
struct NodeInstallCommand
{
    QStringList nodes;      // in natural order
    QString command;        // expanded (the install folder and log left as placeholders)
    bool fromAgent = false; // the agent reported it (agent.conf [installers] or its
                            // backend's default); false: the format's default, the agent did not say
};

// What the reachable nodes that get `choice` (the component lives there, the package
// fits their system) will run to install it, grouped by command: the template each
// agent reported in GET /v1/node, else the format's default. Empty for .ftpkg, or when
// no discovered node gets the package.
QList<NodeInstallCommand> installCommandsFor(const PackageChoice &choice, Component slot,
                                             const QList<NodeStatus> &nodes);

} // namespace ft

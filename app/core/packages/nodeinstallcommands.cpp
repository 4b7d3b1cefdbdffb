#include "packages/nodeinstallcommands.h"

#include "packages/installcommand.h"
#include "packages/vendorpackage.h"

#include <QCoreApplication>
#include <QMap>

namespace ft {

QList<NodeInstallCommand> installCommandsFor(const PackageChoice &choice, Component slot,
                                             const QList<NodeStatus> &nodes)
{
    const auto format = parsePackageFormat(choice.format);
    if (!format || *format == PackageFormat::FtPkg)
        return {};
    InstallCommandValues values;
    values.package = choice.fileName();
    // Placeholders stay placeholders, so nodes that differ only in their folders group.
    values.install = QCoreApplication::translate("ft::NodeInstallCommand", "<install folder>");
    values.log = QCoreApplication::translate("ft::NodeInstallCommand", "<log>");
    values.component = toString(slot);
    values.switches = choice.installerArguments;

    QMap<std::pair<QString, bool>, QStringList> groups; // (command, from the agent) → nodes
    for (const NodeStatus &node : nodes) {
        if (!node.reachable || !componentLivesOn(node, slot) || !choice.fitsOs(node.os))
            continue;
        const QString reported = node.installerCommands.value(toString(*format));
        const bool fromAgent = !reported.isEmpty();
        const QString commandTemplate = fromAgent ? reported : defaultInstallCommand(*format, false);
        const auto expanded = expandInstallCommand(commandTemplate, values);
        // A template the agent cannot expand fails on the node with its own sentence;
        // here it is shown as the agent has it.
        groups[{expanded ? expanded->join(QLatin1Char(' ')) : commandTemplate, fromAgent}].append(node.name);
    }
    QList<NodeInstallCommand> result;
    for (auto it = groups.cbegin(); it != groups.cend(); ++it) {
        NodeInstallCommand entry;
        entry.command = it.key().first;
        entry.fromAgent = it.key().second;
        entry.nodes = it.value();
        std::sort(entry.nodes.begin(), entry.nodes.end(), naturalLess);
        result.append(entry);
    }
    // The group with the first node (natural order) first: a stable, readable order.
    std::sort(result.begin(), result.end(), [](const NodeInstallCommand &a, const NodeInstallCommand &b) {
        return naturalLess(a.nodes.first(), b.nodes.first());
    });
    return result;
}

} // namespace ft

#include "model/upgradetarget.h"

#include "packages/package.h"

#include <QCoreApplication>
#include <QFileInfo>

namespace ft {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::UpgradeTarget", text); }

bool isKnownOs(const QString &os)
{
    return os == QLatin1String("any") || os == QLatin1String("linux")
           || os == QLatin1String("windows");
}

QString osDisplayName(const QString &os)
{
    if (const auto kind = parseOsKind(os))
        return displayName(*kind);
    return os;
}

// Compares one run of digits numerically without overflowing on long runs.
int compareDigits(QStringView a, QStringView b)
{
    while (a.size() > 1 && a.front() == QLatin1Char('0'))
        a = a.mid(1);
    while (b.size() > 1 && b.front() == QLatin1Char('0'))
        b = b.mid(1);
    if (a.size() != b.size())
        return a.size() < b.size() ? -1 : 1;
    return a.compare(b);
}

} // namespace

PackageChoice PackageChoice::fromManifest(const PackageManifest &manifest, const QString &filePath,
                                          qint64 size)
{
    PackageChoice choice;
    choice.component = manifest.component;
    choice.version = manifest.version;
    choice.os = manifest.os;
    choice.filePath = filePath;
    choice.size = size;
    choice.versionSource = tr("from package.json");
    choice.componentSource = choice.versionSource;
    return choice;
}

Expected<PackageChoice> PackageChoice::fromFile(const QString &filePath)
{
    const QFileInfo info(filePath);
    if (!info.isFile())
        return makeError(tr("%1 is not a package file.").arg(filePath));
    const auto manifest = readPackageManifest(filePath);
    if (!manifest)
        return makeError(tr("%1 cannot be used: %2").arg(info.fileName(), manifest.error()));
    return fromManifest(*manifest, info.absoluteFilePath(), info.size());
}

QString PackageChoice::fileName() const
{
    return QFileInfo(filePath).fileName();
}

bool PackageChoice::fitsOs(OsKind nodeOs) const
{
    return os == QLatin1String("any") || os == toString(nodeOs);
}

const std::optional<PackageChoice> &UpgradeTarget::package(Component component, int slot) const
{
    const bool second = slot == 1;
    switch (component) {
    case Component::Server: return second ? secondServer : server;
    case Component::Nbi: return second ? secondNbi : nbi;
    case Component::WebUi: return second ? secondWebUi : webUi;
    }
    return server;
}

std::optional<PackageChoice> &UpgradeTarget::package(Component component, int slot)
{
    return const_cast<std::optional<PackageChoice> &>(std::as_const(*this).package(component, slot));
}

QList<const PackageChoice *> UpgradeTarget::packages(Component component) const
{
    QList<const PackageChoice *> result;
    for (int slot = 0; slot < SlotsPerComponent; ++slot) {
        if (const auto &choice = package(component, slot))
            result.append(&*choice);
    }
    return result;
}

const PackageChoice *UpgradeTarget::packageFor(Component component, OsKind nodeOs) const
{
    const QList<const PackageChoice *> chosen = packages(component);
    for (const PackageChoice *choice : chosen) {
        if (choice->os == toString(nodeOs))
            return choice;
    }
    for (const PackageChoice *choice : chosen) {
        if (choice->fitsOs(nodeOs))
            return choice;
    }
    return chosen.isEmpty() ? nullptr : chosen.first();
}

bool UpgradeTarget::isEmpty() const
{
    return !server && !nbi && !webUi && !secondServer && !secondNbi && !secondWebUi;
}

QList<NodeStatus> nodesGetting(const UpgradeTarget &target, Component slot, const PackageChoice &choice,
                               const QList<NodeStatus> &nodes)
{
    QList<NodeStatus> result;
    for (const NodeStatus &node : nodes) {
        if (target.packageFor(slot, node.os) == &choice)
            result.append(node);
    }
    return result;
}

QString packagePairProblem(const UpgradeTarget &target, Component slot, const QList<NodeStatus> &nodes)
{
    const QList<const PackageChoice *> chosen = target.packages(slot);
    if (chosen.size() < 2)
        return {};
    const PackageChoice &first = *chosen.at(0);
    const PackageChoice &second = *chosen.at(1);
    if (first.os == second.os)
        return tr("%1 and %2 are both for %3, but a component's second package is for the nodes of the "
                  "other system (one for Linux nodes, one for Windows nodes).")
            .arg(first.fileName(), second.fileName(),
                 first.os == QLatin1String("any") ? tr("any system") : osDisplayName(first.os));
    if (first.fileName() == second.fileName())
        return tr("Both %1 packages are called %2; the nodes keep staged packages by file name, so "
                  "rename one of them.")
            .arg(displayName(slot), first.fileName());
    for (const PackageChoice *choice : chosen) {
        const PackageChoice *other = choice == chosen.at(0) ? chosen.at(1) : chosen.at(0);
        const PackageFit fit = packageFit(*choice, slot, nodesGetting(target, slot, *choice, nodes));
        const PackageFit otherFit = packageFit(*other, slot, nodesGetting(target, slot, *other, nodes));
        if (fit.targets.isEmpty() && !otherFit.targets.isEmpty())
            return tr("%1 would go to no node: every node with the %2 gets %3. Leave it out.")
                .arg(choice->fileName(), displayName(slot), other->fileName());
    }
    return {};
}

bool componentLivesOn(const NodeStatus &node, Component component)
{
    const ComponentState &state = node.component(component);
    if (!state.installed)
        return false;
    // The Web UI is served by the portal; copies elsewhere are not what users see.
    if (component == Component::WebUi)
        return node.role == NodeRole::Portal || node.role == NodeRole::Standalone;
    return true;
}

Result validatePackageItself(const PackageChoice &choice, Component slot)
{
    const QString file = choice.fileName().isEmpty() ? tr("The package") : choice.fileName();
    if (choice.component != slot)
        return makeError(tr("%1 is a %2 package, but a %3 package is needed here.")
                             .arg(file, displayName(choice.component), displayName(slot)));
    if (choice.version.isNull())
        return makeError(tr("%1 does not say which version it installs.").arg(file));
    if (!isKnownOs(choice.os))
        return makeError(tr("%1 is meant for an unknown operating system \"%2\" (expected any, "
                            "linux or windows).")
                             .arg(file, choice.os.left(40)));
    return {};
}

PackageFit packageFit(const PackageChoice &choice, Component slot, const QList<NodeStatus> &nodes)
{
    // Unreachable nodes cannot be checked here; the pre-checks report them.
    PackageFit fit;
    for (const NodeStatus &node : nodes) {
        if (!node.reachable || !componentLivesOn(node, slot))
            continue;
        fit.targets.append(node.name);
        if (!choice.fitsOs(node.os))
            fit.wrongOs.append(node.name);
        const Version &installed = node.component(slot).version;
        if (installed > choice.version)
            fit.newer.append(node.name);
        else if (installed == choice.version)
            fit.current.append(node.name);
        else
            fit.needing.append(node.name);
    }
    for (QStringList *list : {&fit.targets, &fit.wrongOs, &fit.newer, &fit.needing, &fit.current})
        std::sort(list->begin(), list->end(), naturalLess);
    return fit;
}

QString wrongOsSentence(const PackageChoice &choice, const QStringList &nodes)
{
    const QString file = choice.fileName().isEmpty() ? tr("The package") : choice.fileName();
    const QString other = choice.os == QLatin1String("linux") ? displayName(OsKind::Windows)
                                                              : displayName(OsKind::Linux);
    return tr("%1 is for %2 only, but these nodes run %3: %4. Add a second package for the %3 nodes "
              "(one per system), or pick one for any system.")
        .arg(file, osDisplayName(choice.os), other, nodes.join(QStringLiteral(", ")));
}

QString downgradeSentence(const PackageChoice &choice, Component slot,
                          const QList<NodeStatus> &nodes, const QStringList &newer)
{
    const QString file = choice.fileName().isEmpty() ? tr("The package") : choice.fileName();
    QStringList described;
    for (const QString &name : newer) {
        const auto it = std::find_if(nodes.cbegin(), nodes.cend(),
                                     [&](const NodeStatus &node) { return node.name == name; });
        described.append(it == nodes.cend()
                             ? name
                             : QStringLiteral("%1 (%2)").arg(name,
                                                             it->component(slot).version.toString()));
    }
    return tr("%1 holds version %2, which is older than what already runs on %3. The wizard does "
              "not downgrade; pick a newer package.")
        .arg(file, choice.version.toString(), described.join(QStringLiteral(", ")));
}

QString nothingToUpgradeSentence(const PackageChoice &choice, Component slot)
{
    const QString file = choice.fileName().isEmpty() ? tr("The package") : choice.fileName();
    switch (slot) {
    case Component::Server:
        return tr("No reachable node runs a FlowTraq Server, so %1 has nothing to upgrade.")
            .arg(file);
    case Component::Nbi:
        return tr("No reachable node runs the NBI service, so %1 has nothing to upgrade. Leave "
                  "the NBI package out.")
            .arg(file);
    case Component::WebUi:
        return tr("No reachable portal has the Web UI installed, so %1 has nothing to upgrade. "
                  "Leave the Web UI package out.")
            .arg(file);
    }
    return {};
}

Result validatePackageChoice(const PackageChoice &choice, Component slot,
                             const QList<NodeStatus> &nodes)
{
    const Result itself = validatePackageItself(choice, slot);
    if (!itself)
        return itself;
    const PackageFit fit = packageFit(choice, slot, nodes);
    if (fit.targets.isEmpty())
        return makeError(nothingToUpgradeSentence(choice, slot));
    if (!fit.wrongOs.isEmpty())
        return makeError(wrongOsSentence(choice, fit.wrongOs));
    if (!fit.newer.isEmpty())
        return makeError(downgradeSentence(choice, slot, nodes, fit.newer));
    return {};
}

Result validateTarget(const UpgradeTarget &target, const QList<NodeStatus> &nodes)
{
    if (target.isEmpty())
        return makeError(tr("Pick at least one package to upgrade with."));
    for (Component slot : {Component::Server, Component::Nbi, Component::WebUi}) {
        const QList<const PackageChoice *> chosen = target.packages(slot);
        if (const QString pair = packagePairProblem(target, slot, nodes); !pair.isEmpty())
            return makeError(pair);
        for (const PackageChoice *choice : chosen) {
            // With two packages, each answers only for the nodes it goes to.
            const Result valid = validatePackageChoice(
                *choice, slot, chosen.size() > 1 ? nodesGetting(target, slot, *choice, nodes) : nodes);
            if (!valid)
                return valid;
        }
    }
    return {};
}

bool naturalLess(const QString &a, const QString &b)
{
    qsizetype i = 0, j = 0;
    while (i < a.size() && j < b.size()) {
        const bool aDigit = a.at(i).isDigit();
        const bool bDigit = b.at(j).isDigit();
        qsizetype iEnd = i, jEnd = j;
        while (iEnd < a.size() && a.at(iEnd).isDigit() == aDigit)
            ++iEnd;
        while (jEnd < b.size() && b.at(jEnd).isDigit() == bDigit)
            ++jEnd;
        const QStringView aRun = QStringView(a).mid(i, iEnd - i);
        const QStringView bRun = QStringView(b).mid(j, jEnd - j);
        int order = 0;
        if (aDigit && bDigit)
            order = compareDigits(aRun, bRun);
        else
            order = aRun.compare(bRun, Qt::CaseInsensitive);
        if (order != 0)
            return order < 0;
        i = iEnd;
        j = jEnd;
    }
    if ((i < a.size()) != (j < b.size()))
        return j < b.size(); // the shorter name first
    return a < b;            // "w01" vs "w1", "W1" vs "w1": a stable, total order
}

} // namespace ft

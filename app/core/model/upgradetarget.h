#pragma once

#include "model/domain.h"
#include "model/expected.h"
#include "model/nodestatus.h"
#include "model/version.h"

#include <QList>
#include <QString>

#include <optional>

namespace ft {

struct PackageManifest;

// One install package the administrator picked, as far as planning needs it.
struct PackageChoice
{
    Component component = Component::Server;
    Version version;
    QString os = QStringLiteral("any"); // any | linux | windows, as in package.json
    QString filePath;
    qint64 size = 0;    // bytes of the package file
    QString sha256;     // of the package file, lower-case hex; may be filled in later
    // The SHA-256 above is of exactly the bytes that passed the package's own check, in
    // the same read (a .ftpkg's manifest and SHA256SUMS): bytes with that SHA-256 need
    // not be read again to check them. False when the check and the hash were separate
    // reads (a vendor installer) or nobody checked.
    bool contentsChecked = false;
    // The file's last-modified time (ms since the epoch) just before that read: a file
    // touched since is read and checked again before any node gets it.
    qint64 modifiedMs = 0;
    // Where it came from and where each fact was read (shown on the Packages page).
    QString format = QStringLiteral("ftpkg"); // ftpkg | msi | exe | rpm | deb | sh
    QString versionSource;   // "from package.json", "from the MSI", "from the file name", "typed by you"
    QString componentSource;
    QString productName;     // as the vendor file names itself; empty for .ftpkg
    QString manufacturer;
    // Silent-install arguments the administrator typed (.exe and self-extracting
    // installers, whose switches the vendor does not document); sent to the agent.
    QStringList installerArguments;

    // From a package's manifest (ft::readPackageManifest) and the file's path and size.
    static PackageChoice fromManifest(const PackageManifest &manifest, const QString &filePath,
                                      qint64 size);
    // Reads the package's manifest (its first entry only, so this is quick) and the
    // file's size. sha256 stays empty: hashing a large package is the caller's
    // asynchronous job.
    static Expected<PackageChoice> fromFile(const QString &filePath);

    QString fileName() const;
    // "any" fits every node; "linux"/"windows" only nodes of that OS.
    bool fitsOs(OsKind nodeOs) const;
};

// The packages chosen for this upgrade: a server package (required to upgrade
// servers) and optionally an NBI and a Web UI package. A cluster that mixes Linux and
// Windows nodes needs one package of a component per system (say a .deb and an .msi):
// each component has a second slot, and every node gets the chosen package that fits
// its system (packageFor).
struct UpgradeTarget
{
    static constexpr int SlotsPerComponent = 2;

    std::optional<PackageChoice> server;
    std::optional<PackageChoice> nbi;
    std::optional<PackageChoice> webUi;
    // The second package of each component, for the nodes of the other system.
    std::optional<PackageChoice> secondServer;
    std::optional<PackageChoice> secondNbi;
    std::optional<PackageChoice> secondWebUi;

    // Slot 0 is the first (usual) package, slot 1 the second one.
    const std::optional<PackageChoice> &package(Component component, int slot = 0) const;
    std::optional<PackageChoice> &package(Component component, int slot = 0);
    // The chosen packages of a component, slot order.
    QList<const PackageChoice *> packages(Component component) const;
    bool has(Component component) const { return package(component) || package(component, 1); }
    // The package a node of this system gets: the one made for that system, else one for
    // any system, else the first chosen (which the checks then refuse as the wrong
    // system). Null when no package of the component was chosen.
    const PackageChoice *packageFor(Component component, OsKind nodeOs) const;
    bool isEmpty() const;
};

// Which nodes a component is upgraded on: servers everywhere they are installed, the
// NBI where it runs, the Web UI on the portal (or the standalone server).
bool componentLivesOn(const NodeStatus &node, Component component);

// A package's problems that need no cluster: the right component for the slot, a
// version, a known OS name.
Result validatePackageItself(const PackageChoice &choice, Component slot);

// How a package fits the reachable nodes it is meant for (names in natural order).
struct PackageFit
{
    QStringList targets;  // nodes the component lives on
    QStringList wrongOs;  // of those, nodes the package's OS does not fit
    QStringList newer;    // of those, nodes already running a newer version
    QStringList needing;  // of those, nodes running an older version (to be upgraded)
    QStringList current;  // of those, nodes already at the package's version
};
PackageFit packageFit(const PackageChoice &choice, Component slot, const QList<NodeStatus> &nodes);

// The sentences the checks below use, for the pre-checks to report the same way.
QString wrongOsSentence(const PackageChoice &choice, const QStringList &nodes);
QString downgradeSentence(const PackageChoice &choice, Component slot,
                          const QList<NodeStatus> &nodes, const QStringList &newer);
QString nothingToUpgradeSentence(const PackageChoice &choice, Component slot);

// Checks a chosen package against the slot it was picked for and against the cluster:
// the right component, a known OS that fits every node it is meant for, and no
// downgrade of any node. The error is a sentence naming the nodes concerned.
Result validatePackageChoice(const PackageChoice &choice, Component slot,
                             const QList<NodeStatus> &nodes);

// The nodes (of `nodes`) that get `choice`, one of the target's packages of `slot`.
QList<NodeStatus> nodesGetting(const UpgradeTarget &target, Component slot, const PackageChoice &choice,
                               const QList<NodeStatus> &nodes);

// Problems of a component's two packages together: both for the same system (the second
// slot is for the nodes the first does not fit), the same file name (the nodes stage
// packages by name), or a package no node would get. Empty when fine.
QString packagePairProblem(const UpgradeTarget &target, Component slot, const QList<NodeStatus> &nodes);

// validatePackageChoice for every chosen package (each against the nodes it goes to),
// the pair check above, plus "at least one package".
Result validateTarget(const UpgradeTarget &target, const QList<NodeStatus> &nodes);

// Sorts names the way people count: "w2" before "w10"; ties broken by plain order.
bool naturalLess(const QString &a, const QString &b);

} // namespace ft

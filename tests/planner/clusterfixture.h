#pragma once

// Small builders for discovered clusters, shared by the planner, pre-check and
// quiet-window tests.

#include "model/nodestatus.h"
#include "model/upgradetarget.h"

#include <QList>
#include <QMetaType>
#include <QString>
#include <QStringList>

namespace fixture {

constexpr qint64 kMiB = 1024 * 1024;
constexpr qint64 kGiB = 1024 * kMiB;

inline ft::Version v(const QString &text)
{
    return ft::Version::parse(text).value_or(ft::Version());
}

inline ft::NodeStatus node(const QString &name, ft::NodeRole role,
                           const QString &version = QStringLiteral("6.2.1-1200"),
                           ft::OsKind os = ft::OsKind::Linux)
{
    ft::NodeStatus n;
    n.name = name;
    n.reachable = true;
    n.role = role;
    n.os = os;
    n.agentVersion = QStringLiteral("0.1.0");
    n.apiVersion = 1;
    n.server = {true, v(version)};
    n.service = ft::ServiceState::Running;
    n.freeBytes = 10 * kGiB;
    n.stagingDir = QStringLiteral("/var/lib/ftupgrade-agent/staging");
    if (role != ft::NodeRole::Worker)
        n.webUi = {true, v(version)};
    return n;
}

inline ft::NodeStatus portal(const QString &version = QStringLiteral("6.2.1-1200"))
{
    return node(QStringLiteral("portal"), ft::NodeRole::Portal, version);
}

inline ft::NodeStatus worker(const QString &name,
                             const QString &version = QStringLiteral("6.2.1-1200"),
                             ft::OsKind os = ft::OsKind::Linux)
{
    return node(name, ft::NodeRole::Worker, version, os);
}

inline ft::NodeStatus withNbi(ft::NodeStatus n, const QString &version = QStringLiteral("6.2.1-1200"))
{
    n.nbi = {true, v(version)};
    return n;
}

inline ft::NodeStatus withFlows(ft::NodeStatus n, double perSecond)
{
    n.receivesFlows = true;
    n.flowPort = 2055;
    n.flowsPerSecond = perSecond;
    return n;
}

inline ft::NodeStatus unreachable(ft::NodeStatus n, const QString &reason = QStringLiteral("no answer after 5 s"))
{
    ft::NodeStatus out;
    out.name = n.name;
    out.reachable = false;
    out.unreachableReason = reason;
    return out;
}

// A portal (with the Web UI) and workers w1…wN.
inline QList<ft::NodeStatus> cluster(int workers, const QString &version = QStringLiteral("6.2.1-1200"))
{
    QList<ft::NodeStatus> nodes{portal(version)};
    for (int i = 1; i <= workers; ++i)
        nodes.append(worker(QStringLiteral("w%1").arg(i), version));
    return nodes;
}

inline ft::PackageChoice package(ft::Component component,
                                 const QString &version = QStringLiteral("6.3.0-1500"),
                                 const QString &os = QStringLiteral("any"), qint64 size = 100 * kMiB)
{
    ft::PackageChoice choice;
    choice.component = component;
    choice.version = v(version);
    choice.os = os;
    choice.size = size;
    choice.filePath = QStringLiteral("/packages/%1-%2.ftpkg").arg(ft::toString(component), version);
    return choice;
}

inline ft::UpgradeTarget target(bool nbi = true, bool webUi = true,
                                const QString &version = QStringLiteral("6.3.0-1500"))
{
    ft::UpgradeTarget t;
    t.server = package(ft::Component::Server, version);
    if (nbi)
        t.nbi = package(ft::Component::Nbi, version);
    if (webUi)
        t.webUi = package(ft::Component::WebUi, version);
    return t;
}

// QTest's toString() cannot print ft enums (ADL finds ft::toString, which returns a
// QString), so tests compare their names.
inline QStringList names(const QList<ft::Component> &components)
{
    QStringList result;
    for (ft::Component component : components)
        result.append(ft::toString(component));
    return result;
}

} // namespace fixture

Q_DECLARE_METATYPE(ft::NodeStatus)
Q_DECLARE_METATYPE(ft::UpgradeTarget)

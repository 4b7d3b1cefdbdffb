#pragma once

#include "model/expected.h"

#include <QJsonObject>
#include <QString>
#include <QStringList>

namespace ft::sandbox {

// A sandbox cluster on addresses of its own (`ftsandbox up --netns NAME`): a network
// namespace holding one address per node, in a private test range (10.213.X.0/24),
// on the inner end of a veth pair; the outer end, in the caller's namespace, carries
// the caller's address (.254). An nftables rule in the cluster's namespace drops every
// new connection from the nodes to the caller's address, as a VPN or NAT between an
// administrator and a data centre does: the caller reaches the nodes, the nodes never
// reach the caller. Needs CAP_NET_ADMIN and CAP_SYS_ADMIN (root), `ip` and `nft`.
struct ClusterNetwork
{
    QString name;           // the namespace, as `ip netns` knows it
    QString subnet;         // "10.213.X.0/24"
    QString callerAddress;  // the caller's end of the link
    QString outerLink;      // veth in the caller's namespace
    QString innerLink;      // veth in the cluster's namespace
    QStringList nodeAddresses;

    QJsonObject toJson() const;
    static ClusterNetwork fromJson(const QJsonObject &json);

    // Creates the namespace, link, addresses and the drop rule; on failure nothing of
    // it is left behind.
    static Expected<ClusterNetwork> create(const QString &name, int nodes);
    // Removes the namespace (and with it the link). Processes in it must be stopped first.
    static Result destroy(const QString &name);
    static bool isValidName(const QString &name);

    // The program and arguments that run program inside the namespace.
    QStringList wrap(const QString &program, const QStringList &arguments) const;
    static QString ipProgram();
};

} // namespace ft::sandbox

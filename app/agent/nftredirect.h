#pragma once

#include "model/expected.h"

#include <QList>
#include <QString>

namespace ft::agent {

// The agent's own nftables table (inet family: IPv4 and IPv6) that moves the node's
// flow ports to the flow keeper's listeners while the service is down. Every change is
// one transaction, through libnftables in the agent's own process (milliseconds, no
// child process to wait for), or through `nft -f -` when a program is configured; so
// the redirect is either fully in place or fully gone.
//
// Why a conntrack zone: NAT is decided on a connection's first packet, and an exporter's
// UDP "connection" to the flow port already exists (unredirected) when the rule comes.
// Putting the flow ports' packets in a zone of their own gives them fresh conntrack
// entries that the redirect applies to; removing the table puts them back in zone 0,
// whose entries were never redirected, so the service gets them at once.
class NftRedirect
{
public:
    struct Port
    {
        quint16 flowPort = 0;     // where exporters send
        quint16 listenerPort = 0; // where the keeper listens
    };

    // Packets with this mark (set with SO_MARK on the replay socket) pass untouched.
    static constexpr quint32 kBypassMark = 0x4654554b; // "FTUK"

    // An empty program (or "libnftables") uses the library.
    NftRedirect(QString program, QString table);
    static bool usesLibrary(const QString &program);

    QString table() const { return m_table; }

    static QString ruleset(const QString &table, const QList<Port> &ports, quint16 zone);

    // Adds (or replaces) the table with the redirect.
    Result add(const QList<Port> &ports, quint16 zone);
    // Removes the table; no table is not an error.
    Result remove();
    // Whether the table is in place now.
    Expected<bool> exists();

private:
    Expected<QString> run(const QStringList &arguments, const QByteArray &input);
    Expected<QString> runProgram(const QStringList &arguments, const QByteArray &input);
    static Expected<QString> runLibrary(const QByteArray &commands);

    QString m_program;
    QString m_table;
};

} // namespace ft::agent

#include "nftredirect.h"

#include <QCoreApplication>
#include <QProcess>

namespace ft::agent {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::agent::NftRedirect", text); }

// nft answers in milliseconds; a hung nft must not hold the upgrade for long.
constexpr int kTimeoutMs = 10000;

} // namespace

NftRedirect::NftRedirect(QString program, QString table)
    : m_program(std::move(program))
    , m_table(std::move(table))
{
}

QString NftRedirect::ruleset(const QString &table, const QList<Port> &ports, quint16 zone)
{
    const QString mark = QStringLiteral("0x%1").arg(kBypassMark, 8, 16, QLatin1Char('0'));
    QString zoneRules;
    QString natRules;
    for (const Port &p : ports) {
        // Only datagrams for this host: the node's own flow exports to other collectors,
        // and traffic it forwards, are left alone. IPv4 only: the replay speaks IPv4.
        zoneRules += QStringLiteral("    meta nfproto ipv4 fib daddr type local udp dport %1 ct zone set %2\n")
                             .arg(p.flowPort).arg(zone);
        natRules += QStringLiteral("    meta nfproto ipv4 fib daddr type local udp dport %1 redirect to :%2\n")
                            .arg(p.flowPort).arg(p.listenerPort);
    }
    auto chain = [&](const QString &name, const QString &type, const QString &hook, const QString &priority,
                     const QString &rules) {
        return QStringLiteral("  chain %1 {\n    type %2 hook %3 priority %4; policy accept;\n"
                              "    meta mark %5 accept\n%6  }\n")
                .arg(name, type, hook, priority, mark, rules);
    };
    // "table {}" then "delete table" makes the replace work whether or not it existed.
    return QStringLiteral("table inet %1 {}\ndelete table inet %1\ntable inet %1 {\n").arg(table)
           + chain(QStringLiteral("zone_in"), QStringLiteral("filter"), QStringLiteral("prerouting"),
                   QStringLiteral("raw"), zoneRules)
           + chain(QStringLiteral("zone_out"), QStringLiteral("filter"), QStringLiteral("output"),
                   QStringLiteral("raw"), zoneRules)
           + chain(QStringLiteral("keep_in"), QStringLiteral("nat"), QStringLiteral("prerouting"),
                   QStringLiteral("dstnat"), natRules)
           + chain(QStringLiteral("keep_out"), QStringLiteral("nat"), QStringLiteral("output"),
                   QStringLiteral("-100"), natRules)
           + QStringLiteral("}\n");
}

Result NftRedirect::add(const QList<Port> &ports, quint16 zone)
{
    auto done = run({QStringLiteral("-f"), QStringLiteral("-")}, ruleset(m_table, ports, zone).toUtf8());
    if (!done)
        return makeError(tr("the redirect of the flow ports could not be added: %1").arg(done.error()));
    return {};
}

Result NftRedirect::remove()
{
    auto done = run({QStringLiteral("-f"), QStringLiteral("-")},
                    QStringLiteral("table inet %1 {}\ndelete table inet %1\n").arg(m_table).toUtf8());
    if (!done)
        return makeError(tr("the nftables table %1 could not be removed: %2").arg(m_table, done.error()));
    return {};
}

Expected<bool> NftRedirect::exists()
{
    auto listed = run({QStringLiteral("list"), QStringLiteral("tables")}, {});
    if (!listed)
        return makeError(listed.error());
    return listed->split(QLatin1Char('\n')).contains(QStringLiteral("table inet %1").arg(m_table));
}

Expected<QString> NftRedirect::run(const QStringList &arguments, const QByteArray &input)
{
    // Synchronous on purpose: the agent has no window, the call takes milliseconds, and
    // the rule must be in place (or known to be missing) before the service stops.
    QProcess nft;
    nft.start(m_program, arguments);
    if (!nft.waitForStarted(kTimeoutMs))
        return makeError(tr("cannot run %1 (%2); is nftables installed?").arg(m_program, nft.errorString()));
    nft.write(input);
    nft.closeWriteChannel();
    if (!nft.waitForFinished(kTimeoutMs)) {
        nft.kill();
        nft.waitForFinished(1000);
        return makeError(tr("%1 did not answer within %2 s.").arg(m_program).arg(kTimeoutMs / 1000));
    }
    const QString errors = QString::fromUtf8(nft.readAllStandardError()).trimmed();
    if (nft.exitStatus() != QProcess::NormalExit || nft.exitCode() != 0)
        return makeError(errors.isEmpty() ? tr("%1 failed with exit code %2.").arg(m_program).arg(nft.exitCode())
                                          : errors.section(QLatin1Char('\n'), 0, 0));
    return QString::fromUtf8(nft.readAllStandardOutput());
}

} // namespace ft::agent

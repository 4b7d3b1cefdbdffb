#include "nftredirect.h"

#include <QCoreApplication>
#include <QProcess>

#ifdef FT_HAVE_LIBNFTABLES
#include <nftables/libnftables.h>
#endif

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
        // and traffic it forwards, are left alone. IPv4 and IPv6 alike (inet family).
        zoneRules += QStringLiteral("    fib daddr type local udp dport %1 ct zone set %2\n")
                             .arg(p.flowPort).arg(zone);
        natRules += QStringLiteral("    fib daddr type local udp dport %1 redirect to :%2\n")
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

bool NftRedirect::usesLibrary(const QString &program)
{
    return program.isEmpty() || program == QLatin1String("libnftables");
}

Expected<QString> NftRedirect::run(const QStringList &arguments, const QByteArray &input)
{
    if (!usesLibrary(m_program))
        return runProgram(arguments, input);
    // The library takes the same commands as `nft -f -`; "list tables" as a command.
    return runLibrary(input.isEmpty() ? arguments.join(QLatin1Char(' ')).toUtf8() : input);
}

Expected<QString> NftRedirect::runLibrary(const QByteArray &commands)
{
#ifdef FT_HAVE_LIBNFTABLES
    // One netlink transaction in this process: it answers in milliseconds, so the agent's
    // thread (health, job polls) never waits on a child process.
    nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
    if (!ctx)
        return makeError(tr("libnftables could not be initialised."));
    nft_ctx_buffer_output(ctx);
    nft_ctx_buffer_error(ctx);
    const int code = nft_run_cmd_from_buffer(ctx, commands.constData());
    const QString output = QString::fromUtf8(nft_ctx_get_output_buffer(ctx));
    const QString errors = QString::fromUtf8(nft_ctx_get_error_buffer(ctx)).trimmed();
    nft_ctx_free(ctx);
    if (code != 0)
        return makeError(errors.isEmpty() ? tr("nftables refused the change (libnftables error %1).").arg(code)
                                          : errors.section(QLatin1Char('\n'), 0, 0));
    return output;
#else
    Q_UNUSED(commands);
    return makeError(tr("nftables is not available on this system."));
#endif
}

Expected<QString> NftRedirect::runProgram(const QStringList &arguments, const QByteArray &input)
{
    // Only when agent.conf names an nft program: synchronous, capped at 10 s; the rule
    // must be in place (or known to be missing) before the service stops.
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

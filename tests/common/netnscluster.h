#pragma once

// A sandbox cluster on addresses of its own, in a network namespace the test creates
// (ftsandbox up --netns), for the tests that need nodes the caller reaches over a real
// link (netcluster, flowverify). It needs root; where namespaces are not permitted
// (a container without CAP_SYS_ADMIN) the test skips and says why.

#include "clirunner.h"
#include "readiness.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <unistd.h>

namespace fixture {

class NetnsCluster
{
public:
    // The sandbox's tools run through cli, in the test's own XDG folders.
    explicit NetnsCluster(const CliRunner &cli)
        : m_cli(cli)
    {}
    NetnsCluster(const NetnsCluster &) = delete;
    NetnsCluster &operator=(const NetnsCluster &) = delete;
    ~NetnsCluster() { down(); }

    // ftsandbox up DIRECTORY … --netns NAME. Skip where the tools are not built, this is
    // not root, or namespaces are not permitted; Fail when ftsandbox fails otherwise.
    Readiness up(const QString &directory, const QString &netns, const QStringList &arguments)
    {
        const Readiness built = requireBuiltTools({QStringLiteral("ftupgrade-cli"), QStringLiteral("ftsandbox"),
                                                   QStringLiteral("ftupgrade-agent"), QStringLiteral("ftsandbox-server")});
        if (built.verdict != Readiness::Ready)
            return built;
        if (::geteuid() != 0)
            return {Readiness::Skip, QStringLiteral("Network namespaces need root (CAP_NET_ADMIN, CAP_SYS_ADMIN); this "
                                                    "test runs as another user, so it is skipped.")};
        m_directory = directory;
        m_netns = netns;
        const CliResult result = m_cli.runProgram(tool(QStringLiteral("ftsandbox")),
                                                  QStringList{QStringLiteral("up"), directory} + arguments
                                                      + QStringList{QStringLiteral("--netns"), netns},
                                                  180000);
        if (result.exitCode != 0) {
            const QString said = QString::fromUtf8(result.err + result.out).trimmed();
            for (const char *sign : {"not available", "need `ip`", "Operation not permitted",
                                     "Could not set up the cluster's network"}) {
                if (said.contains(QLatin1String(sign)))
                    return {Readiness::Skip, QStringLiteral("Network namespaces are not permitted here, so the "
                                                            "namespaced cluster cannot be built: ") + said};
            }
            return {Readiness::Fail, QStringLiteral("ftsandbox up --netns failed: ") + said};
        }
        m_up = true;
        m_json = QJsonDocument::fromJson(readAll(directory + QStringLiteral("/cluster.json"))).object();
        return {};
    }

    // ftsandbox down (once); the namespace and its link go with it.
    CliResult down()
    {
        if (!m_up)
            return {};
        m_up = false;
        return m_cli.runProgram(tool(QStringLiteral("ftsandbox")), {QStringLiteral("down"), m_directory}, 120000);
    }

    QString directory() const { return m_directory; }
    QString netns() const { return m_netns; }
    // cluster.json as ftsandbox wrote it.
    QJsonObject json() const { return m_json; }
    QJsonArray nodes() const { return m_json.value(QStringLiteral("nodes")).toArray(); }
    // The caller's end of the link into the namespace.
    QString callerAddress() const
    {
        return m_json.value(QStringLiteral("network")).toObject().value(QStringLiteral("caller_address")).toString();
    }

private:
    const CliRunner &m_cli;
    QString m_directory;
    QString m_netns;
    QJsonObject m_json;
    bool m_up = false;
};

} // namespace fixture

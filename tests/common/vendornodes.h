#pragma once

// Sandbox nodes upgraded with the vendor's own installer formats, for the tests that
// drive them end to end (vendorinstall, mixedcluster, realnodes): the packages made by
// ftsandbox, the tools those formats need, what a node's agent logged and what the
// node's own dpkg database says.

#include "readiness.h"
#include "sandboxfixture.h"

#include <QDirIterator>
#include <QFileInfo>
#include <QStandardPaths>

namespace fixture {

// Whether a vendor-format test can run: Skip when ftupgrade-cli or the agent is not
// built; Fail when a format's tool is not on PATH (a machine not set up from
// .ci/packages.txt is no reason to skip).
inline Readiness vendorReadiness(const QStringList &programs = {QStringLiteral("dpkg"), QStringLiteral("dpkg-deb"),
                                                                 QStringLiteral("dpkg-query"), QStringLiteral("wixl"),
                                                                 QStringLiteral("msiextract")})
{
    const Readiness built = requireBuiltTools({QStringLiteral("ftupgrade-cli"), QStringLiteral("ftupgrade-agent"),
                                               QStringLiteral("ftsandbox"), QStringLiteral("ftsandbox-server")});
    if (built.verdict != Readiness::Ready)
        return built;
    for (const QString &program : programs) {
        if (QStandardPaths::findExecutable(program).isEmpty())
            return {Readiness::Fail, program + QStringLiteral(" is missing: install .ci/packages.txt")};
    }
    return {};
}

// ftsandbox make-package --format deb|msi|rpm|exe for the server, in the cluster's
// folder under name; "" on failure. An empty mode is the tool's default.
inline QString makeVendorPackage(const Cluster &cluster, const QString &format, const QString &version,
                                 const QString &name, const QString &mode = QString())
{
    const QString file = cluster.path(name);
    QStringList arguments{QStringLiteral("make-package"), QStringLiteral("--format"), format,
                          QStringLiteral("--version"), version, QStringLiteral("--component"), QStringLiteral("server"),
                          QStringLiteral("-o"), file};
    if (!mode.isEmpty())
        arguments << QStringLiteral("--mode") << mode;
    return runTool(QStringLiteral("ftsandbox"), arguments) ? file : QString();
}

// Every line the node's agent logged for its jobs (jobs/<id>.log, JSON lines), as one
// text; not the installers' own log files beside them.
inline QString agentJobLogs(const QString &installDir)
{
    QString text;
    QDirIterator it(QDir(installDir).filePath(QStringLiteral("agent/jobs")), {QStringLiteral("*.log")}, QDir::Files);
    while (it.hasNext()) {
        const QString file = it.next();
        if (!QFileInfo(file).fileName().startsWith(QLatin1String("installer-")))
            text += QString::fromUtf8(readAll(file));
    }
    return text;
}

// What the node's own dpkg database says of flowtraq-server, as "VERSION STATUS" ("" when
// it has none).
inline QString dpkgStatus(const QString &installDir)
{
    QProcess query;
    query.start(QStringLiteral("dpkg-query"), {QStringLiteral("--admindir=") + installDir + QStringLiteral("/dpkg"),
                                               QStringLiteral("-W"), QStringLiteral("-f=${Version} ${Status}"),
                                               QStringLiteral("flowtraq-server")});
    if (!query.waitForFinished(20000))
        return QStringLiteral("dpkg-query hung");
    return QString::fromUtf8(query.readAllStandardOutput());
}

} // namespace fixture

#include "installation.h"
#include "vendorbuilder.h"

#include "packages/filemanifest.h"
#include "packages/package.h"
#include "sandboxfiles.h"
#include "webuigenerator.h"

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHostAddress>
#include <QRandomGenerator>
#include <QSet>
#include <QTcpServer>
#include <QUdpSocket>

#include <functional>
#include <random>

namespace ft::sandbox {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("ftsandbox", text);
}

Result writeFile(const QString &path, const QByteArray &data, bool executable = false)
{
    if (!QDir().mkpath(QFileInfo(path).absolutePath()))
        return makeError(tr("Could not create the folder for %1.").arg(path));
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) || file.write(data) != data.size())
        return makeError(tr("Could not write %1: %2.").arg(path, file.errorString()));
    if (executable) {
        file.setPermissions(file.permissions() | QFileDevice::ExeOwner | QFileDevice::ExeGroup
                            | QFileDevice::ExeOther);
    }
    return {};
}

QByteArray configText(const InstallationSpec &spec)
{
    QByteArray text;
    text += "; FlowTraq server configuration (sandbox node \"" + spec.name.toUtf8() + "\").\n"
            "; Installers never change this file; every key and comment survives an upgrade.\n\n";
    text += "[node]\n";
    text += "; unique in the cluster\n";
    text += "name=" + spec.name.toUtf8() + "\n";
    text += "; portal | worker | standalone\n";
    text += "role=" + toString(spec.role).toUtf8() + "\n";
    text += "; what the node pretends to be: linux | windows\n";
    text += "os=" + toString(spec.os).toUtf8() + "\n";
    text += "arch=x86_64\n\n";
    text += "[server]\n";
    text += "listen=" + spec.listen.toUtf8() + "\n";
    text += "; the client port (9640 on a real node)\n";
    text += "tcp_port=" + QByteArray::number(spec.tcpPort) + "\n";
    text += "; UDP port for NetFlow v5/v9 and IPFIX; 0 = this node receives no flows\n";
    text += "flow_port=" + QByteArray::number(spec.flowPort) + "\n";
    text += "; site settings the installer must keep\n";
    text += "session_retention_days=30\n";
    text += "max_query_threads=8\n\n";
    if (spec.role == NodeRole::Portal) {
        text += "[cluster]\n";
        text += "; the workers this portal balances queries across\n";
        QStringList names;
        for (const auto &member : spec.members)
            names.append(member.name);
        text += "members=" + names.join(QLatin1Char(',')).toUtf8() + "\n";
        for (const auto &member : spec.members) {
            text += member.name.toUtf8() + "\\host=" + member.host.toUtf8() + "\n";
            text += member.name.toUtf8() + "\\tcp_port=" + QByteArray::number(member.tcpPort) + "\n";
        }
        text += "\n";
    } else if (spec.role == NodeRole::Worker) {
        text += "[cluster]\n";
        text += "portal=" + spec.portal.toUtf8() + "\n\n";
    }
    if (spec.nbi) {
        text += "[nbi]\n";
        text += "; the northbound interface service\n";
        text += "enabled=true\n";
        text += "port=0\n\n";
    }
    return text;
}

// A small session database: deterministic bytes, so a test can prove it is untouched.
QByteArray sessionDbBytes(const QString &name, int size)
{
    std::mt19937_64 random(std::hash<std::string>{}(name.toStdString()));
    QByteArray bytes("FTSESSIONDB\x01", 12);
    while (bytes.size() < size) {
        const quint64 value = random();
        bytes.append(reinterpret_cast<const char *>(&value), sizeof value);
    }
    bytes.truncate(size);
    return bytes;
}

} // namespace

std::pair<int, int> ephemeralPortRange()
{
#ifdef Q_OS_LINUX
    QFile file(QStringLiteral("/proc/sys/net/ipv4/ip_local_port_range"));
    if (file.open(QIODevice::ReadOnly)) {
        const QList<QByteArray> parts = file.readAll().simplified().split(' ');
        bool lowOk = false;
        bool highOk = false;
        const int low = parts.value(0).toInt(&lowOk);
        const int high = parts.value(1).toInt(&highOk);
        if (lowOk && highOk && low > 0 && low <= high && high <= 65535)
            return {low, high};
    }
#endif
    return {49152, 65535}; // IANA's dynamic ports, what most other systems use
}

namespace {

// A node's service port comes from outside the kernel's ephemeral range, as a real
// server's fixed port (9640) does. A port bind(0) handed out is free again the moment
// the daemon stops for its upgrade (or between choosing it here and the daemon's own
// listen), and the kernel hands it to the next bind(0) or connect() of any program on
// the machine: on a CI host running tests in parallel, another test's agent, package
// server or client. The daemon then cannot listen again ("The bound address is already
// in use"), and the upgrade fails with the service stopped. Below the range only an
// explicit bind takes a port, and every port handed out here is tried first.
int servicePort(const std::function<bool(int)> &bindable)
{
    static QSet<int> handedOut; // this process's earlier answers: two nodes never share one
    const auto [low, high] = ephemeralPortRange();
    constexpr int kFirst = 10000; // clear of the well-known ports and the common registered ones
    const int below = std::max(0, low - kFirst);           // kFirst .. low-1
    const int above = std::max(0, 65535 - std::max(high, kFirst - 1)); // high+1 .. 65535
    if (below + above >= 1000) {
        for (int attempt = 0; attempt < 500; ++attempt) {
            const int pick = int(QRandomGenerator::global()->bounded(below + above));
            const int port = pick < below ? kFirst + pick : std::max(high, kFirst - 1) + 1 + (pick - below);
            if (!handedOut.contains(port) && bindable(port)) {
                handedOut.insert(port);
                return port;
            }
        }
    }
    return 0;
}

} // namespace

int freeTcpPort()
{
    const int port = servicePort([](int candidate) {
        QTcpServer server;
        return server.listen(QHostAddress::LocalHost, quint16(candidate));
    });
    if (port != 0)
        return port;
    // No room outside the ephemeral range on this machine: the kernel's choice.
    QTcpServer server;
    if (!server.listen(QHostAddress::LocalHost, 0))
        return 0;
    return server.serverPort();
}

int freeUdpPort()
{
    const int port = servicePort([](int candidate) {
        QUdpSocket socket;
        return socket.bind(QHostAddress::LocalHost, quint16(candidate), QAbstractSocket::DontShareAddress);
    });
    if (port != 0)
        return port;
    QUdpSocket socket;
    if (!socket.bind(QHostAddress::LocalHost, 0))
        return 0;
    return socket.localPort();
}

Result createInstallation(InstallationSpec spec)
{
    const QDir dir(spec.dir);
    if (dir.exists() && !dir.isEmpty(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden | QDir::System))
        return makeError(tr("The folder %1 is not empty; choose an empty or new folder.").arg(spec.dir));
    if (spec.version.isNull())
        return makeError(tr("The version is missing."));
    if (spec.name.isEmpty())
        spec.name = QFileInfo(QDir::cleanPath(dir.absolutePath())).fileName();
    if (spec.tcpPort == 0)
        spec.tcpPort = freeTcpPort();
    if (!QDir().mkpath(spec.dir))
        return makeError(tr("Could not create the folder %1.").arg(spec.dir));
    const QString root = dir.absolutePath();
    const auto at = [&root](const QString &relative) { return QDir(root).filePath(relative); };
    const QByteArray versionLine = spec.version.toString().toUtf8() + '\n';

    Result result = writeFile(at(QStringLiteral("flowtraq.conf")), configText(spec));
    if (result)
        result = writeFile(at(QStringLiteral("VERSION")), versionLine);
    for (const QString &binary : binaryPaths(Component::Server, spec.os)) {
        if (result)
            result = writeFile(at(binary), standInBinary(binary, spec.version), true);
    }
    if (result)
        result = writeFile(at(QStringLiteral("SESSIONDB/sessions.db")), sessionDbBytes(spec.name, 48 * 1024));
    if (result)
        result = writeFile(at(QStringLiteral("SESSIONDB/index.dat")), sessionDbBytes(spec.name + QStringLiteral("#index"), 4096));
    if (spec.nbi) {
        for (const QString &binary : binaryPaths(Component::Nbi, spec.os)) {
            if (result)
                result = writeFile(at(binary), standInBinary(binary, spec.version), true);
        }
        if (result)
            result = writeFile(at(QStringLiteral("nbi/VERSION")), versionLine);
    }
    for (const QString &folder : {QStringLiteral("run"), QStringLiteral("logs"), QStringLiteral("data")}) {
        if (result && !QDir().mkpath(at(folder)))
            result = makeError(tr("Could not create the folder %1.").arg(at(folder)));
    }
    // The node's own, empty dpkg database: .deb packages install into this folder with
    // dpkg --admindir=DIR/dpkg --instdir=DIR (LAYOUT.md).
    if (result)
        result = initDpkgDatabase(root);
    if (result && spec.flowPort != 0) {
        result = writeFile(at(QStringLiteral("data/flowhistory.json")),
                           seededFlowHistory(spec.name, QDateTime::currentDateTimeUtc()));
    }
    if (!result)
        return result;

    // The Web UI, its pristine manifest and its package, as a Web UI install leaves them.
    const WebUiGenerator generator(spec.version.toString(), spec.webUiFiles);
    PackageManifest manifest;
    manifest.component = Component::WebUi;
    manifest.version = spec.version;
    manifest.created = QDateTime::currentDateTimeUtc();
    QList<ManifestEntry> pristine;
    for (const QString &path : generator.paths()) {
        const QByteArray content = generator.content(path);
        if (Result written = writeFile(at(QStringLiteral("webui/") + path), content); !written)
            return written;
        const QByteArray digest = QCryptographicHash::hash(content, QCryptographicHash::Sha256).toHex();
        pristine.append({path, digest, content.size()});
        manifest.files.append({QStringLiteral("webui/") + path, content.size(), digest});
    }
    if (Result written = writeFile(at(QStringLiteral("webui/VERSION")), versionLine); !written)
        return written;
    if (Result written = FileManifest::fromEntries(pristine).write(webUiManifestPath(root, spec.version)); !written)
        return written;
    return writePackage(webUiPackagePath(root, spec.version), manifest, root);
}

} // namespace ft::sandbox

#include "clusternetwork.h"

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QFileInfo>
#include <QHostAddress>
#include <QJsonArray>
#include <QNetworkInterface>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>

namespace ft::sandbox {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ftsandbox", text); }

const QStringList kSystemPaths{QStringLiteral("/usr/sbin"), QStringLiteral("/sbin"), QStringLiteral("/usr/bin"),
                               QStringLiteral("/bin")};

// Runs one configuration command to its end (the sandbox tool is a command-line
// program; these take milliseconds). Returns its error output on failure.
Result run(const QString &program, const QStringList &arguments, const QByteArray &input = {})
{
    QProcess process;
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.start(program, arguments);
    if (!process.waitForStarted(10000))
        return makeError(tr("Could not run %1: %2.").arg(program, process.errorString()));
    if (!input.isEmpty())
        process.write(input);
    process.closeWriteChannel();
    if (!process.waitForFinished(20000)) {
        process.kill();
        process.waitForFinished();
        return makeError(tr("`%1 %2` did not finish.").arg(program, arguments.join(QLatin1Char(' '))));
    }
    if (process.exitStatus() != QProcess::NormalExit || process.exitCode() != 0)
        return makeError(tr("`%1 %2` failed: %3")
                             .arg(QFileInfo(program).fileName(), arguments.join(QLatin1Char(' ')),
                                  QString::fromLocal8Bit(process.readAll()).trimmed()));
    return {};
}

bool subnetInUse(int third)
{
    const QPair<QHostAddress, int> subnet =
        QHostAddress::parseSubnet(QStringLiteral("10.213.%1.0/24").arg(third));
    for (const QHostAddress &address : QNetworkInterface::allAddresses()) {
        if (address.isInSubnet(subnet))
            return true;
    }
    return false;
}

} // namespace

QJsonObject ClusterNetwork::toJson() const
{
    return {{QStringLiteral("netns"), name},
            {QStringLiteral("subnet"), subnet},
            {QStringLiteral("caller_address"), callerAddress},
            {QStringLiteral("outer_link"), outerLink},
            {QStringLiteral("inner_link"), innerLink},
            {QStringLiteral("node_addresses"), QJsonArray::fromStringList(nodeAddresses)}};
}

ClusterNetwork ClusterNetwork::fromJson(const QJsonObject &json)
{
    ClusterNetwork network;
    network.name = json.value(QStringLiteral("netns")).toString();
    network.subnet = json.value(QStringLiteral("subnet")).toString();
    network.callerAddress = json.value(QStringLiteral("caller_address")).toString();
    network.outerLink = json.value(QStringLiteral("outer_link")).toString();
    network.innerLink = json.value(QStringLiteral("inner_link")).toString();
    for (const auto &value : json.value(QStringLiteral("node_addresses")).toArray())
        network.nodeAddresses.append(value.toString());
    return network;
}

bool ClusterNetwork::isValidName(const QString &name)
{
    static const QRegularExpression pattern(QStringLiteral("^[a-z0-9][a-z0-9-]{0,31}$"));
    return pattern.match(name).hasMatch();
}

QString ClusterNetwork::ipProgram()
{
    return QStandardPaths::findExecutable(QStringLiteral("ip"), kSystemPaths);
}

QStringList ClusterNetwork::wrap(const QString &program, const QStringList &arguments) const
{
    // `ip netns exec` enters the namespace and then execs program: same pid, so the
    // launcher's pid bookkeeping holds.
    return QStringList{ipProgram(), QStringLiteral("netns"), QStringLiteral("exec"), name, program} + arguments;
}

Expected<ClusterNetwork> ClusterNetwork::create(const QString &name, int nodes)
{
    if (!isValidName(name))
        return makeError(tr("The namespace name \"%1\" must be lower-case letters, digits and -, at most 32.").arg(name));
    if (nodes < 1 || nodes > 250)
        return makeError(tr("A namespaced cluster holds 1 to 250 nodes."));
    const QString ip = ipProgram();
    const QString nft = QStandardPaths::findExecutable(QStringLiteral("nft"), kSystemPaths);
    if (ip.isEmpty() || nft.isEmpty())
        return makeError(tr("Network namespaces need `ip` (iproute2) and `nft` (nftables); install them."));

    const QByteArray digest = QCryptographicHash::hash(name.toUtf8(), QCryptographicHash::Sha256).toHex();
    ClusterNetwork network;
    network.name = name;
    network.outerLink = QStringLiteral("ftc") + QString::fromLatin1(digest.left(8));
    network.innerLink = QStringLiteral("ftn") + QString::fromLatin1(digest.left(8));
    int third = 20 + int(digest.left(4).toUInt(nullptr, 16) % 200);
    for (int tries = 0; subnetInUse(third) && tries < 200; ++tries)
        third = 20 + (third - 20 + 1) % 200;
    if (subnetInUse(third))
        return makeError(tr("No free 10.213.X.0/24 range for the cluster."));
    const QString prefix = QStringLiteral("10.213.%1.").arg(third);
    network.subnet = prefix + QStringLiteral("0/24");
    network.callerAddress = prefix + QStringLiteral("254");
    for (int i = 1; i <= nodes; ++i)
        network.nodeAddresses.append(prefix + QString::number(i));

    if (auto made = run(ip, {QStringLiteral("netns"), QStringLiteral("add"), name}); !made)
        return makeError(tr("Network namespaces are not available here: %1").arg(made.error()));
    const auto inside = [&](const QStringList &arguments) {
        return run(ip, QStringList{QStringLiteral("netns"), QStringLiteral("exec"), name, ip} + arguments);
    };
    QList<QStringList> outside{
        {QStringLiteral("link"), QStringLiteral("add"), network.outerLink, QStringLiteral("type"), QStringLiteral("veth"),
         QStringLiteral("peer"), QStringLiteral("name"), network.innerLink},
        {QStringLiteral("link"), QStringLiteral("set"), network.innerLink, QStringLiteral("netns"), name},
        {QStringLiteral("addr"), QStringLiteral("add"), network.callerAddress + QStringLiteral("/24"), QStringLiteral("dev"),
         network.outerLink},
        {QStringLiteral("link"), QStringLiteral("set"), network.outerLink, QStringLiteral("up")},
    };
    QList<QStringList> within{
        {QStringLiteral("link"), QStringLiteral("set"), QStringLiteral("lo"), QStringLiteral("up")},
        {QStringLiteral("link"), QStringLiteral("set"), network.innerLink, QStringLiteral("up")},
    };
    for (const QString &address : std::as_const(network.nodeAddresses))
        within.append({QStringLiteral("addr"), QStringLiteral("add"), address + QStringLiteral("/24"),
                       QStringLiteral("dev"), network.innerLink});
    // What a VPN or NAT does: the nodes answer the caller, but cannot call it.
    const QByteArray rules = "table inet ftsandbox {\n"
                             "  chain output {\n"
                             "    type filter hook output priority 0; policy accept;\n"
                             "    ip daddr " + network.callerAddress.toLatin1() + " ct state new drop\n"
                             "  }\n"
                             "}\n";
    Result step;
    for (const QStringList &arguments : std::as_const(outside)) {
        if (step = run(ip, arguments); !step)
            break;
    }
    if (step) {
        for (const QStringList &arguments : std::as_const(within)) {
            if (step = inside(arguments); !step)
                break;
        }
    }
    if (step)
        step = run(ip, {QStringLiteral("netns"), QStringLiteral("exec"), name, nft, QStringLiteral("-f"), QStringLiteral("-")},
                   rules);
    if (!step) {
        (void)run(ip, {QStringLiteral("link"), QStringLiteral("del"), network.outerLink});
        (void)destroy(name);
        return makeError(tr("Could not set up the cluster's network: %1").arg(step.error()));
    }
    return network;
}

Result ClusterNetwork::destroy(const QString &name)
{
    if (!isValidName(name))
        return makeError(tr("The namespace name \"%1\" is not valid.").arg(name));
    return run(ipProgram(), {QStringLiteral("netns"), QStringLiteral("del"), name});
}

} // namespace ft::sandbox

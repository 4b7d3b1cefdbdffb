// Real FlowTraq nodes, end to end: sandbox clusters whose servers were installed from
// the vendor's formats (ftsandbox up --installed-from deb|msi|rpm), so the agents read
// the installed versions where the vendor's installers put them (the node's dpkg or
// rpm database; the Uninstall key the msiexec stand-in published, through the reg
// query stand-in), and FlowTraq's Web API on the portal. Driven through ftupgrade-cli
// (connected the way a real cluster is: --portal, pinned fingerprints, a token file,
// --webapi with the password in the environment) and through the real wizard (the Web
// API's credentials typed on the Connect page). Flow rates come from the agents' own
// packet counter (root); the upgrade runs the vendor packages; Verify asks the Web API.

#include "clirunner.h"
#include "vendornodes.h"

#include "pages/connectpage.h"
#include "pages/packagespage.h"
#include "pages/runpage.h"
#include "pages/upgradewizard.h"
#include "pages/verifypage.h"
#include "pages/noticepage.h"
#include "widgets/nodetablemodel.h"
#include "widgets/packagepicker.h"
#include "agentlink/trustedcertificates.h"
#include "discover/discovery.h"
#include "packages/vendorpackage.h"
#include "session/upgradesession.h"

#include <QCheckBox>
#include <QDirIterator>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QToolTip>
#include <QTreeWidget>
#include <QScreen>
#include <QtTest>

#include <cmath>

using namespace ft;
using namespace fixture;

namespace {

const QString kBefore = QStringLiteral("6.2.1-1200");
const QString kTarget = QStringLiteral("6.3.0-1500");
const QString kUninstall32 =
    QStringLiteral("HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall");
constexpr double kExportedRate = 150; // flows/s the sandbox exporter sends to w1

QString run(const QString &program, const QStringList &arguments)
{
    QProcess process;
    process.start(program, arguments);
    if (!process.waitForFinished(30000))
        return {};
    return QString::fromUtf8(process.readAllStandardOutput());
}

QString rpmVersion(const QString &installDir)
{
    return run(QStringLiteral("rpm"), {QStringLiteral("-q"), QStringLiteral("--dbpath"), installDir + QStringLiteral("/rpmdb"),
                                       QStringLiteral("--qf"), QStringLiteral("%{VERSION}-%{RELEASE}"),
                                       QStringLiteral("flowtraq-server")});
}

// What the Windows Installer stand-in published for the node, as reg.exe prints it.
QString registryText(const QString &installDir)
{
    return run(tool(QStringLiteral("ftsandbox")),
               {QStringLiteral("reg"), QStringLiteral("--hive"), installDir + QStringLiteral("/registry/HKLM.json"),
                QStringLiteral("query"), kUninstall32, QStringLiteral("/s")});
}

QJsonObject nodeNamed(const QJsonObject &answer, const QString &name)
{
    for (const QJsonValue &value : answer.value(QStringLiteral("nodes")).toArray()) {
        if (value.toObject().value(QStringLiteral("name")).toString() == name)
            return value.toObject();
    }
    return {};
}

QJsonObject serverOf(const QJsonObject &node)
{
    return node.value(QStringLiteral("components")).toObject().value(QStringLiteral("server")).toObject();
}

QJsonObject readingFrom(const QJsonObject &component, const QString &source)
{
    for (const QJsonValue &value : component.value(QStringLiteral("sources")).toArray()) {
        if (value.toObject().value(QStringLiteral("source")).toString() == source)
            return value.toObject();
    }
    return {};
}

QJsonObject planStepOf(const QJsonObject &answer, const QString &node)
{
    for (const QJsonValue &wave : answer.value(QStringLiteral("plan")).toObject().value(QStringLiteral("waves")).toArray()) {
        for (const QJsonValue &step : wave.toObject().value(QStringLiteral("steps")).toArray()) {
            if (step.toObject().value(QStringLiteral("node")).toString() == node)
                return step.toObject();
        }
    }
    return {};
}

} // namespace

class TestRealNodes : public QObject
{
    Q_OBJECT

private:
    CliRunner m_cli{180000};

    // ftupgrade-cli connected as on a real cluster: the portal's address and pinned
    // fingerprint, the other nodes' pins, the token from a file, and FlowTraq's Web API
    // with its user, its certificate pin and the password in $FLOWTRAQ_WEBAPI_PASSWORD.
    CliResult cli(const Cluster &cluster, const QStringList &arguments)
    {
        const SandboxClusterFile &file = cluster.file();
        const QString tokenFile = cluster.path(QStringLiteral("token"));
        if (!QFile::exists(tokenFile)) {
            QFile token(tokenFile);
            if (token.open(QIODevice::WriteOnly)) {
                token.write(file.token.toUtf8() + '\n');
                token.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
            }
        }
        QStringList connection{QStringLiteral("--portal"), TrustedCertificates::addressOf(file.portal()->agentUrl),
                               QStringLiteral("--fingerprint"), file.portal()->agentFingerprint,
                               QStringLiteral("--token-file"), tokenFile,
                               QStringLiteral("--webapi"), file.webApi.portal.toString(),
                               QStringLiteral("--webapi-user"), file.webApi.user,
                               QStringLiteral("--webapi-fingerprint"), file.webApi.fingerprint};
        for (const SandboxNode &node : file.nodes) {
            connection << QStringLiteral("--node-fingerprint")
                       << TrustedCertificates::addressOf(node.agentUrl) + QLatin1Char('=') + node.agentFingerprint;
        }
        m_cli.setVariable(QStringLiteral("FLOWTRAQ_WEBAPI_PASSWORD"), file.webApi.password);
        return m_cli.run(QStringList{arguments.first()} + connection + arguments.mid(1));
    }

    static QString makeVendor(const Cluster &cluster, const QString &format, const QString &name)
    {
        return makeVendorPackage(cluster, format, kTarget, name);
    }

    static QString screenshotDir()
    {
        const QString folder = qEnvironmentVariable("FT_SCREENSHOT_DIR");
        return folder.isEmpty() ? QStringLiteral(FT_SCREENSHOTS) : folder;
    }

    // Saved on a real display (xvfb-run with QT_QPA_PLATFORM=xcb), or wherever
    // $FT_SCREENSHOT_DIR says: the offscreen platform's 800×600 screen clips the wizard.
    static void screenshot(QWidget *widget, const QString &name)
    {
        if (QGuiApplication::platformName() != QLatin1String("xcb") && qEnvironmentVariableIsEmpty("FT_SCREENSHOT_DIR"))
            return;
        QDir().mkpath(screenshotDir());
        QVERIFY(widget->grab().save(QDir(screenshotDir()).filePath(name + QStringLiteral(".png"))));
    }

    // The portal's Server cell with its tooltip (every source's answer, the Web API's
    // among them). A tooltip is a window of its own: only a screen grab shows it, so
    // this needs a real display (xvfb-run); offscreen it is left out.
    static void screenshotWithToolTip(QWidget *wizard, QTableView *table, const UpgradeSession &session,
                                      const QString &name)
    {
        if (QGuiApplication::platformName() != QLatin1String("xcb"))
            return;
        int row = 0;
        while (row < session.nodes().size() && session.nodes().at(row).role != NodeRole::Portal)
            ++row;
        const QModelIndex cell = table->model()->index(row, ui::NodeTableModel::ServerColumn);
        const QPoint at = table->viewport()->mapToGlobal(table->visualRect(cell).center());
        QToolTip::showText(at, cell.data(Qt::ToolTipRole).toString(), table->viewport());
        QTRY_VERIFY(QToolTip::isVisible());
        QTest::qWait(300);
        QRect area = wizard->frameGeometry();
        for (QWidget *window : QApplication::topLevelWidgets()) {
            if (window->inherits("QTipLabel") && window->isVisible())
                area = area.united(window->geometry());
        }
        const QPixmap shot = QGuiApplication::primaryScreen()->grabWindow(0, area.x(), area.y(), area.width(), area.height());
        QDir().mkpath(screenshotDir());
        QVERIFY(shot.save(QDir(screenshotDir()).filePath(name + QStringLiteral(".png"))));
        QToolTip::hideText();
    }

    // Verification through the CLI: every node at the target, and the portal's answer
    // confirmed by FlowTraq's Web API.
    void verifyThroughWebApi(const Cluster &cluster, const QString &package, const QStringList &extra = {})
    {
        const CliResult verify = cli(cluster, QStringList{QStringLiteral("verify"), QStringLiteral("--server-package"), package} + extra);
        QVERIFY2(verify.exitCode == 0, verify.err.constData());
        const QJsonObject matrix = verify.json().value(QStringLiteral("verification")).toObject();
        QVERIFY(matrix.value(QStringLiteral("all_at_target")).toBool());
        QVERIFY(matrix.value(QStringLiteral("warnings")).toArray().isEmpty());
        const QJsonArray cells = matrix.value(QStringLiteral("cells")).toArray();
        QCOMPARE(cells.size(), cluster.file().nodes.size());
        for (const QJsonValue &value : cells) {
            const QJsonObject cell = value.toObject();
            QCOMPARE(cell.value(QStringLiteral("verdict")).toString(), QStringLiteral("upgraded"));
            QCOMPARE(cell.value(QStringLiteral("version_now")).toString(), kTarget);
            if (cell.value(QStringLiteral("node")).toString() == QLatin1String("portal")) {
                QCOMPARE(cell.value(QStringLiteral("running_version")).toString(), kTarget);
                QVERIFY2(cell.value(QStringLiteral("sentence")).toString()
                             .contains(QStringLiteral("FlowTraq's Web API confirms %1").arg(kTarget)),
                         qPrintable(cell.value(QStringLiteral("sentence")).toString()));
            }
        }
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_cli.isValid());
        QSettings::setDefaultFormat(QSettings::IniFormat);
        QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, m_cli.homePath(QStringLiteral("settings")));
        // The flow rates come from the sandbox exporter, besides the vendor formats' tools.
        Readiness ready = requireBuiltTools({QStringLiteral("ftsandbox-exporter")});
        if (ready.verdict == Readiness::Ready)
            ready = vendorReadiness({QStringLiteral("dpkg"), QStringLiteral("dpkg-deb"), QStringLiteral("dpkg-query"),
                                     QStringLiteral("rpm"), QStringLiteral("rpmbuild"), QStringLiteral("wixl"),
                                     QStringLiteral("msiextract")});
        FT_REQUIRE_READY(ready);
    }

    // Linux-like nodes installed from a .deb: versions from each node's dpkg database
    // and from the Web API; the .deb upgrade; dpkg and the Web API say so afterwards.
    void debClusterThroughCli()
    {
        Cluster cluster;
        QVERIFY(cluster.up({QStringLiteral("--workers"), QStringLiteral("2"), QStringLiteral("--installed-from"),
                            QStringLiteral("deb")}));
        for (const SandboxNode &node : cluster.file().nodes)
            QCOMPARE(dpkgStatus(node.installDir), kBefore + QStringLiteral(" install ok installed"));

        const CliResult discovered = cli(cluster, {QStringLiteral("discover")});
        QVERIFY2(discovered.exitCode == 0, discovered.err.constData());
        for (const SandboxNode &node : cluster.file().nodes) {
            const QJsonObject server = serverOf(nodeNamed(discovered.json(), node.name));
            QCOMPARE(server.value(QStringLiteral("version")).toString(), kBefore);
            QCOMPARE(server.value(QStringLiteral("source")).toString(), QStringLiteral("dpkg"));
            QCOMPARE(readingFrom(server, QStringLiteral("dpkg")).value(QStringLiteral("detail")).toString(),
                     QStringLiteral("dpkg-query -W flowtraq-server"));
            QVERIFY(!server.value(QStringLiteral("disagreement")).toBool());
        }
        const QJsonObject portalWebApi = readingFrom(serverOf(nodeNamed(discovered.json(), QStringLiteral("portal"))),
                                                     QStringLiteral("webapi"));
        QCOMPARE(portalWebApi.value(QStringLiteral("version")).toString(), kBefore);
        QVERIFY2(portalWebApi.value(QStringLiteral("detail")).toString().contains(QStringLiteral("/flowtraq/api/v3/info")),
                 qPrintable(portalWebApi.value(QStringLiteral("detail")).toString()));

        const QString deb = makeVendor(cluster, QStringLiteral("deb"), QStringLiteral("flowtraq-server_6.3.0-1500_all.deb"));
        QVERIFY(!deb.isEmpty());
        const CliResult upgraded = cli(cluster, {QStringLiteral("run"), QStringLiteral("--server-package"), deb,
                                                 QStringLiteral("--journal"), cluster.path(QStringLiteral("run.json"))});
        QVERIFY2(upgraded.exitCode == 0, upgraded.err.constData());
        for (const SandboxNode &node : cluster.file().nodes) {
            QCOMPARE(dpkgStatus(node.installDir), kTarget + QStringLiteral(" install ok installed"));
            // The agent read the new version back from dpkg, and says so.
            QVERIFY2(agentJobLogs(node.installDir).contains(QStringLiteral("Read by dpkg: dpkg-query -W flowtraq-server")),
                     qPrintable(node.name));
        }
        verifyThroughWebApi(cluster, deb);
        const CliResult after = cli(cluster, {QStringLiteral("discover")});
        QVERIFY2(after.exitCode == 0, after.err.constData());
        const QJsonObject portal = serverOf(nodeNamed(after.json(), QStringLiteral("portal")));
        QCOMPARE(portal.value(QStringLiteral("source")).toString(), QStringLiteral("dpkg"));
        QCOMPARE(portal.value(QStringLiteral("version")).toString(), kTarget);
        QCOMPARE(readingFrom(portal, QStringLiteral("webapi")).value(QStringLiteral("version")).toString(), kTarget);
    }

    // The plan's flow figures come from the rate w1's agent measured itself (its packet
    // counter on w1's flow port, fed by the sandbox exporter), not from the daemon's
    // status file and not from a default.
    void planFromMeasuredRates()
    {
        Cluster cluster;
        QVERIFY(cluster.up({QStringLiteral("--workers"), QStringLiteral("2"), QStringLiteral("--installed-from"),
                            QStringLiteral("deb"), QStringLiteral("--flows"), QStringLiteral("w1=150")}));
        const QString deb = makeVendor(cluster, QStringLiteral("deb"), QStringLiteral("flowtraq-server_6.3.0-1500_all.deb"));
        QVERIFY(!deb.isEmpty());
        const QStringList plan{QStringLiteral("plan"), QStringLiteral("--server-package"), deb,
                               QStringLiteral("--drop-flows"), QStringLiteral("w1")};
        CliResult planned = cli(cluster, plan);
        QVERIFY2(planned.exitCode == 0, planned.err.constData());
        QJsonObject w1 = nodeNamed(planned.json(), QStringLiteral("w1"));
        QCOMPARE(w1.value(QStringLiteral("flow_rate_source")).toString(), QStringLiteral("agent_capture"));
        if (w1.value(QStringLiteral("flows_per_second")).isNull()) {
            QSKIP(qPrintable(QStringLiteral("The agent's packet counter needs root (CAP_NET_RAW) and was refused here: %1")
                                 .arg(w1.value(QStringLiteral("flow_rate_not_measured")).toString())));
        }
        // The counter's one-minute rate settles as its first minute fills.
        QTRY_VERIFY_WITH_TIMEOUT((planned = cli(cluster, plan),
                                  w1 = nodeNamed(planned.json(), QStringLiteral("w1")),
                                  std::abs(w1.value(QStringLiteral("flows_per_second")).toDouble() - kExportedRate)
                                      < kExportedRate * 0.4),
                                 60000);
        const double measured = w1.value(QStringLiteral("flows_per_second")).toDouble();
        const QJsonObject step = planStepOf(planned.json(), QStringLiteral("w1"));
        const QJsonObject impact = step.value(QStringLiteral("impact")).toObject();
        QCOMPARE(impact.value(QStringLiteral("flows_per_second")).toDouble(), measured);
        QCOMPARE(impact.value(QStringLiteral("keep_flows")).toBool(), false);
        const qint64 outageMs = step.value(QStringLiteral("estimate")).toObject().value(QStringLiteral("outage_ms")).toInteger();
        QVERIFY(outageMs > 0);
        QCOMPARE(impact.value(QStringLiteral("flows_lost")).toInteger(), qint64(std::llround(measured * double(outageMs) / 1000.0)));
        // The nodes that receive nothing lose nothing.
        QCOMPARE(planStepOf(planned.json(), QStringLiteral("w2")).value(QStringLiteral("impact")).toObject()
                     .value(QStringLiteral("flows_lost")).toInteger(), 0);
        qInfo("w1: exporter %.0f flows/s, agent measured %.1f flows/s, plan: %lld flows lost over %lld ms",
              kExportedRate, measured, impact.value(QStringLiteral("flows_lost")).toInteger(), outageMs);
    }

    // Windows-like nodes installed from an .msi: the stand-in published the product in
    // the Uninstall key, where the agents read it with reg query; the .msi upgrade
    // replaces that entry (a major upgrade), and the Web API confirms the portal.
    void msiClusterThroughCli()
    {
        Cluster cluster;
        QVERIFY(cluster.up({QStringLiteral("--workers"), QStringLiteral("2"), QStringLiteral("--windows"), QStringLiteral("2"),
                            QStringLiteral("--windows-portal"), QStringLiteral("--installed-from"), QStringLiteral("msi")}));
        for (const SandboxNode &node : cluster.file().nodes) {
            QVERIFY(node.os == OsKind::Windows);
            QVERIFY2(registryText(node.installDir).contains(QStringLiteral("DisplayVersion    REG_SZ    6.2.1.1200")),
                     qPrintable(registryText(node.installDir)));
        }
        const CliResult discovered = cli(cluster, {QStringLiteral("discover")});
        QVERIFY2(discovered.exitCode == 0, discovered.err.constData());
        for (const SandboxNode &node : cluster.file().nodes) {
            const QJsonObject server = serverOf(nodeNamed(discovered.json(), node.name));
            QCOMPARE(server.value(QStringLiteral("version")).toString(), kBefore);
            QCOMPARE(server.value(QStringLiteral("source")).toString(), QStringLiteral("registry"));
            const QString detail = readingFrom(server, QStringLiteral("registry")).value(QStringLiteral("detail")).toString();
            QVERIFY2(detail.contains(QStringLiteral("WOW6432Node")) && detail.endsWith(QStringLiteral("(FlowTraq Server)")),
                     qPrintable(detail));
            QVERIFY(!server.value(QStringLiteral("disagreement")).toBool());
        }
        QCOMPARE(readingFrom(serverOf(nodeNamed(discovered.json(), QStringLiteral("portal"))), QStringLiteral("webapi"))
                     .value(QStringLiteral("version")).toString(), kBefore);

        const QString msi = makeVendor(cluster, QStringLiteral("msi"), QStringLiteral("FlowTraq-Server-6.3.0.1500.msi"));
        QVERIFY(!msi.isEmpty());
        const CliResult upgraded = cli(cluster, {QStringLiteral("run"), QStringLiteral("--server-package"), msi,
                                                 QStringLiteral("--journal"), cluster.path(QStringLiteral("run.json"))});
        QVERIFY2(upgraded.exitCode == 0, upgraded.err.constData());
        for (const SandboxNode &node : cluster.file().nodes) {
            const QString registry = registryText(node.installDir);
            QVERIFY2(registry.contains(QStringLiteral("DisplayVersion    REG_SZ    6.3.0.1500")), qPrintable(registry));
            QCOMPARE(registry.count(QStringLiteral("DisplayName    REG_SZ    FlowTraq Server")), 1);
            QVERIFY2(agentJobLogs(node.installDir).contains(QStringLiteral("Read by registry: HKEY_LOCAL_MACHINE")),
                     qPrintable(node.name));
        }
        verifyThroughWebApi(cluster, msi);
    }

    // An agent whose node keeps its packages in an rpm database upgrades with a .rpm
    // made by rpmbuild, reads the version back with rpm -q and reports it.
    void rpmNodeThroughAgent()
    {
        Cluster cluster;
        QVERIFY(cluster.up({QStringLiteral("--workers"), QStringLiteral("1"), QStringLiteral("--installed-from"),
                            QStringLiteral("rpm")}));
        for (const SandboxNode &node : cluster.file().nodes)
            QCOMPARE(rpmVersion(node.installDir), kBefore);
        const CliResult discovered = cli(cluster, {QStringLiteral("discover")});
        QVERIFY2(discovered.exitCode == 0, discovered.err.constData());
        for (const SandboxNode &node : cluster.file().nodes) {
            const QJsonObject server = serverOf(nodeNamed(discovered.json(), node.name));
            QCOMPARE(server.value(QStringLiteral("source")).toString(), QStringLiteral("rpm"));
            QCOMPARE(readingFrom(server, QStringLiteral("rpm")).value(QStringLiteral("detail")).toString(),
                     QStringLiteral("rpm -q flowtraq-server"));
        }
        const QString rpm = makeVendor(cluster, QStringLiteral("rpm"), QStringLiteral("flowtraq-server-6.3.0-1500.noarch.rpm"));
        QVERIFY(!rpm.isEmpty());
        const CliResult upgraded = cli(cluster, {QStringLiteral("run"), QStringLiteral("--server-package"), rpm,
                                                 QStringLiteral("--journal"), cluster.path(QStringLiteral("run.json"))});
        QVERIFY2(upgraded.exitCode == 0, upgraded.err.constData());
        for (const SandboxNode &node : cluster.file().nodes) {
            QCOMPARE(rpmVersion(node.installDir), kTarget);
            const QString logs = agentJobLogs(node.installDir);
            QVERIFY2(logs.contains(QStringLiteral("Installed version of server: 6.3.0-1500 (before: 6.2.1-1200). "
                                                  "Read by rpm: rpm -q flowtraq-server.")),
                     qPrintable(logs.right(1500)));
        }
        const CliResult after = cli(cluster, {QStringLiteral("discover")});
        for (const SandboxNode &node : cluster.file().nodes) {
            const QJsonObject server = serverOf(nodeNamed(after.json(), node.name));
            QCOMPARE(server.value(QStringLiteral("version")).toString(), kTarget);
            QCOMPARE(server.value(QStringLiteral("source")).toString(), QStringLiteral("rpm"));
        }
        verifyThroughWebApi(cluster, rpm);
    }

    // A Windows installer program (.exe): a real PE whose version resource the wizard
    // reads; its silent switches are not documented, so nothing runs until they are
    // typed, then a canary goes first; the stand-in installs it as the switches say and
    // records it in the Uninstall key, where the agent reads the version.
    void exeInstallerWithTypedSwitches()
    {
        if (QStandardPaths::findExecutable(QStringLiteral("x86_64-w64-mingw32-windres")).isEmpty())
            QFAIL("x86_64-w64-mingw32-windres is missing: install .ci/packages.txt (binutils-mingw-w64-x86-64)");
        Cluster cluster;
        QVERIFY(cluster.up({QStringLiteral("--workers"), QStringLiteral("2"), QStringLiteral("--windows"), QStringLiteral("2"),
                            QStringLiteral("--windows-portal")}));
        const QString exe = makeVendor(cluster, QStringLiteral("exe"), QStringLiteral("FlowTraq-Server-6.3.0.1500.exe"));
        QVERIFY(!exe.isEmpty());
        QVERIFY(readAll(exe).startsWith("MZ"));
        const auto metadata = ExeReader::read(exe);
        QVERIFY2(metadata, metadata ? "" : qPrintable(metadata.error()));
        QCOMPARE(metadata->productName, QStringLiteral("FlowTraq Server"));
        QCOMPARE(metadata->version, QStringLiteral("6.3.0.1500"));
        QCOMPARE(metadata->manufacturer, QStringLiteral("FlowTraq sandbox"));
        const SandboxNode *w1 = cluster.node(QStringLiteral("w1"));

        // Run without /S, the installer would show its wizard: refused, nothing changed.
        QProcess direct;
        direct.start(tool(QStringLiteral("ftsandbox")), {QStringLiteral("exe"), exe, QStringLiteral("/D=") + w1->installDir});
        QVERIFY(direct.waitForFinished(30000));
        QCOMPARE(direct.exitCode(), 2);
        QVERIFY(direct.readAllStandardError().contains("/S /D=DIR"));
        QCOMPARE(installedVersion(w1->installDir, Component::Server), kBefore);

        const QStringList run{QStringLiteral("run"), QStringLiteral("--server-package"), exe, QStringLiteral("--journal"),
                              cluster.path(QStringLiteral("run.json"))};
        const CliResult untyped = cli(cluster, run);
        QCOMPARE(untyped.exitCode, 2);
        QVERIFY2(untyped.err.contains("--server-switches"), untyped.err.constData());
        const CliResult canary = cli(cluster, run + QStringList{QStringLiteral("--server-switches"), QStringLiteral("/S /D={install}"),
                                                                QStringLiteral("--canary"), QStringLiteral("w2")});
        QVERIFY2(canary.exitCode == 1, canary.err.constData());
        QCOMPARE(installedVersion(cluster.node(QStringLiteral("w2"))->installDir, Component::Server), kTarget);
        QCOMPARE(installedVersion(w1->installDir, Component::Server), kBefore);
        const CliResult resumed = cli(cluster, {QStringLiteral("run"), QStringLiteral("--resume"), QStringLiteral("--journal"),
                                                cluster.path(QStringLiteral("run.json"))});
        QVERIFY2(resumed.exitCode == 0, resumed.err.constData());
        for (const SandboxNode &node : cluster.file().nodes) {
            QCOMPARE(installedVersion(node.installDir, Component::Server), kTarget);
            const QString logs = agentJobLogs(node.installDir);
            QVERIFY2(logs.contains(QStringLiteral(" /S /D=") + node.installDir), qPrintable(logs.right(1500)));
            QVERIFY2(logs.contains(QStringLiteral("Read by registry: HKEY_LOCAL_MACHINE\\\\SOFTWARE\\\\Microsoft")),
                     qPrintable(logs.right(800)));
        }
        const CliResult after = cli(cluster, {QStringLiteral("discover")});
        for (const SandboxNode &node : cluster.file().nodes) {
            const QJsonObject server = serverOf(nodeNamed(after.json(), node.name));
            QCOMPARE(server.value(QStringLiteral("source")).toString(), QStringLiteral("registry"));
            QCOMPARE(server.value(QStringLiteral("version")).toString(), kTarget);
        }
        // Verify runs no installer, so it needs no switches.
        verifyThroughWebApi(cluster, exe);
    }

    // The real wizard on each cluster: Connect (the Web API's credentials typed),
    // Discover (each version with its source), Packages (the vendor file's own facts),
    // Plan (the measured rate), the run, and Verify (the Web API's answer).
    void wizardUpgrades_data()
    {
        QTest::addColumn<QString>("format");
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QString>("packageName");
        QTest::addColumn<QString>("versionSource");
        QTest::addColumn<QString>("factSource");
        QTest::newRow("deb") << QStringLiteral("deb")
                             << QStringList{QStringLiteral("--workers"), QStringLiteral("2"), QStringLiteral("--installed-from"),
                                            QStringLiteral("deb"), QStringLiteral("--flows"), QStringLiteral("w1=150")}
                             << QStringLiteral("flowtraq-server_6.3.0-1500_all.deb") << QStringLiteral("dpkg")
                             << QStringLiteral("from the deb control file");
        QTest::newRow("msi") << QStringLiteral("msi")
                             << QStringList{QStringLiteral("--workers"), QStringLiteral("2"), QStringLiteral("--windows"),
                                            QStringLiteral("2"), QStringLiteral("--windows-portal"), QStringLiteral("--installed-from"),
                                            QStringLiteral("msi"), QStringLiteral("--flows"), QStringLiteral("w1=150")}
                             << QStringLiteral("FlowTraq-Server-6.3.0.1500.msi") << QStringLiteral("registry")
                             << QStringLiteral("from the MSI");
    }

    void wizardUpgrades()
    {
        QFETCH(QString, format);
        QFETCH(QStringList, arguments);
        QFETCH(QString, packageName);
        QFETCH(QString, versionSource);
        QFETCH(QString, factSource);
        Cluster cluster;
        QVERIFY(cluster.up(arguments));
        const QString package = makeVendor(cluster, format, packageName);
        QVERIFY(!package.isEmpty());
        const SandboxClusterFile &file = cluster.file();
        // The agent's counter has seen the exporter's first flows (or says it cannot count).
        QTRY_VERIFY_WITH_TIMEOUT(([&] {
                                     const QJsonObject w1 = nodeNamed(cli(cluster, {QStringLiteral("discover")}).json(),
                                                                      QStringLiteral("w1"));
                                     const QJsonValue rate = w1.value(QStringLiteral("flows_per_second"));
                                     return rate.isNull() || rate.toDouble() > kExportedRate / 2;
                                 })(),
                                 60000);

        UpgradeSession session;
        ui::UpgradeWizard wizard(&session);
        wizard.resize(1100, 760);
        wizard.show();
        QVERIFY(QTest::qWaitForWindowExposed(&wizard));
        auto *next = qobject_cast<QPushButton *>(wizard.button(QWizard::NextButton));

        // Connect: the portal agent, its certificate trusted; FlowTraq's Web API typed in
        // (a session key for the MSI cluster, basic auth for the other).
        auto *connectPage = wizard.findChild<ui::ConnectPage *>(QStringLiteral("connectPage"));
        connectPage->preset(TrustedCertificates::addressOf(file.portal()->agentUrl), file.token);
        QTRY_VERIFY_WITH_TIMEOUT(!wizard.findChild<QLabel *>(QStringLiteral("fingerprint"))->text().isEmpty(), 10000);
        wizard.findChild<QCheckBox *>(QStringLiteral("trustCertificate"))->setChecked(true);
        const auto type = [&wizard](const char *name, const QString &text) {
            auto *edit = wizard.findChild<QLineEdit *>(QLatin1String(name));
            QVERIFY2(edit, name);
            edit->clear();
            QTest::keyClicks(edit, text);
        };
        type("webApiPortal", file.webApi.portal.toString());
        type("webApiUser", file.webApi.user);
        type("webApiPassword", file.webApi.password);
        type("webApiFingerprint", file.webApi.fingerprint);
        if (format == QLatin1String("msi"))
            wizard.findChild<QCheckBox *>(QStringLiteral("webApiSessionKey"))->setChecked(true);
        // The keychain has a test of its own; this one leaves the machine's alone.
        wizard.findChild<QCheckBox *>(QStringLiteral("webApiRemember"))->setChecked(false);
        screenshot(&wizard, format + QStringLiteral("-1-connect"));
        for (const SandboxNode &node : file.nodes)
            session.addKnownFingerprint(node.agentUrl, node.agentFingerprint);
        QTest::mouseClick(next, Qt::LeftButton);
        QCOMPARE(wizard.currentId(), int(ui::UpgradeWizard::DiscoverPageId));

        // Discover: every version with its source; the portal's also from the Web API.
        auto *table = wizard.findChild<QTableView *>(QStringLiteral("nodeTable"));
        QTRY_VERIFY_WITH_TIMEOUT(next->isEnabled() && !session.discovery()->isRunning(), 30000);
        QCOMPARE(table->model()->rowCount(), file.nodes.size());
        for (int row = 0; row < int(session.nodes().size()); ++row) {
            const NodeStatus &node = session.nodes().at(row);
            QVERIFY2(node.reachable, qPrintable(node.name + QStringLiteral(": ") + node.unreachableReason));
            const QModelIndex cell = table->model()->index(row, ui::NodeTableModel::ServerColumn);
            QVERIFY2(cell.data().toString().contains(QStringLiteral("%1 (%2)").arg(kBefore, versionSource)),
                     qPrintable(cell.data().toString()));
            QCOMPARE(node.server.source, versionSource);
            if (node.role == NodeRole::Portal) {
                QCOMPARE(node.server.readings.last().source, QStringLiteral("webapi"));
                QCOMPARE(node.server.readings.last().version, kBefore);
                QVERIFY(cell.data(Qt::ToolTipRole).toString().contains(QStringLiteral("webapi")));
            }
        }
        screenshot(&wizard, format + QStringLiteral("-2-discover"));
        screenshotWithToolTip(&wizard, table, session, format + QStringLiteral("-2-discover-sources"));
        QTest::mouseClick(next, Qt::LeftButton);

        // Packages: the vendor file as downloaded, with where each fact came from.
        QCOMPARE(wizard.currentId(), int(ui::UpgradeWizard::PackagesPageId));
        auto *packagesPage = wizard.findChild<ui::PackagesPage *>(QStringLiteral("packagesPage"));
        packagesPage->picker(0)->setPath(package);
        QTRY_VERIFY_WITH_TIMEOUT(session.target().server.has_value(), 30000);
        const QString facts = wizard.findChild<QLabel *>(QStringLiteral("packageInfo_server"))->text();
        QVERIFY2(facts.contains(QStringLiteral("Version %1").arg(factSource)), qPrintable(facts));
        QVERIFY2(facts.contains(format == QLatin1String("msi") ? QStringLiteral("msiexec /i") : QStringLiteral("dpkg")),
                 qPrintable(facts));
        QCOMPARE(session.target().server->version.toString(), kTarget);
        auto *acknowledge = wizard.findChild<QCheckBox *>(QStringLiteral("acknowledgeWarnings"));
        QTRY_VERIFY_WITH_TIMEOUT(next->isEnabled() || acknowledge->isVisible(), 30000);
        if (acknowledge->isVisible())
            acknowledge->setChecked(true);
        QTRY_VERIFY(next->isEnabled());
        screenshot(&wizard, format + QStringLiteral("-3-packages"));
        QTest::mouseClick(next, Qt::LeftButton);

        // Plan: w1's figures come from the rate its agent measured (flows kept off, so
        // the loss is computed from it).
        QCOMPARE(wizard.currentId(), int(ui::UpgradeWizard::PlanPageId));
        PlanOptions options = session.planOptions();
        options.dropFlowsOn.insert(QStringLiteral("w1"));
        options.startTime = QDateTime::currentDateTimeUtc();
        session.setPlanOptions(options);
        const auto w1 = std::find_if(session.nodes().cbegin(), session.nodes().cend(),
                                     [](const NodeStatus &node) { return node.name == QLatin1String("w1"); });
        QVERIFY(w1 != session.nodes().cend());
        QCOMPARE(w1->flowRateSource, QStringLiteral("agent_capture"));
        auto *loss = wizard.findChild<QLabel *>(QStringLiteral("flowLoss"));
        const UpgradePlan plan = session.plan();
        const PlanStep *step = nullptr;
        for (const PlanWave &wave : plan.waves) {
            for (const PlanStep &candidate : wave.steps) {
                if (candidate.node == QLatin1String("w1"))
                    step = &candidate;
            }
        }
        QVERIFY(step);
        if (w1->flowRateMeasured) {
            QVERIFY(w1->flowsPerSecond > 0);
            QCOMPARE(step->impact.flowsPerSecond, w1->flowsPerSecond);
            QCOMPARE(step->impact.flowsLost, qint64(std::llround(w1->flowsPerSecond * double(step->estimate.outageMs) / 1000.0)));
            QVERIFY(step->impact.sentence.contains(QStringLiteral("flow records sent to w1 are lost")));
        } else {
            // Without CAP_NET_RAW: "not measured" with the reason, never a 0.
            QVERIFY(!w1->flowRateNotMeasuredReason.isEmpty());
            QVERIFY(step->impact.sentence.contains(QStringLiteral("not measured")));
            qInfo("w1's rate is not measured here (%s); the plan says so.", qPrintable(w1->flowRateNotMeasuredReason));
        }
        QTRY_VERIFY_WITH_TIMEOUT(loss->text().contains(QStringLiteral("quietest")), 20000);
        screenshot(&wizard, format + QStringLiteral("-4-plan"));
        QTest::mouseClick(next, Qt::LeftButton);

        // Customizations (nothing changed), then the notice's start, confirmed.
        QCOMPARE(wizard.currentId(), int(ui::UpgradeWizard::CustomizationsPageId));
        QTRY_VERIFY_WITH_TIMEOUT(next->isEnabled(), 20000);
        QTest::mouseClick(next, Qt::LeftButton);
        QCOMPARE(wizard.currentId(), int(ui::UpgradeWizard::NoticePageId));
        auto *noticePage = wizard.findChild<ui::NoticePage *>(QStringLiteral("noticePage"));
        QTest::mouseClick(wizard.button(QWizard::CommitButton), Qt::LeftButton);
        QTRY_VERIFY(noticePage->confirmation() && noticePage->confirmation()->isVisible());
        QTest::mouseClick(noticePage->confirmation()->findChild<QPushButton *>(QStringLiteral("confirmStart")),
                          Qt::LeftButton);

        // Run: the vendor package on every node.
        QTRY_COMPARE(wizard.currentId(), int(ui::UpgradeWizard::RunPageId));
        auto *runPage = wizard.findChild<ui::RunPage *>(QStringLiteral("runPage"));
        QTRY_VERIFY_WITH_TIMEOUT(runPage->isComplete(), 180000);
        QCOMPARE(toString(runPage->engine()->state()), toString(RunState::Completed));
        screenshot(&wizard, format + QStringLiteral("-5-run"));
        QTest::mouseClick(next, Qt::LeftButton);

        // Verify: every node at the target; the portal's row confirmed by the Web API.
        QCOMPARE(wizard.currentId(), int(ui::UpgradeWizard::VerifyPageId));
        auto *verifyPage = wizard.findChild<ui::VerifyPage *>(QStringLiteral("verifyPage"));
        auto *matrix = wizard.findChild<QTableWidget *>(QStringLiteral("verificationMatrix"));
        QTRY_VERIFY_WITH_TIMEOUT(verifyPage->isComplete() && matrix->rowCount() > 0, 30000);
        QCOMPARE(matrix->rowCount(), file.nodes.size());
        bool portalConfirmed = false;
        for (int row = 0; row < matrix->rowCount(); ++row) {
            QCOMPARE(matrix->item(row, 7)->data(Qt::UserRole).toString(), QStringLiteral("upgraded"));
            portalConfirmed = portalConfirmed
                              || (matrix->item(row, 0)->text() == QLatin1String("portal")
                                  && matrix->item(row, 8)->text().contains(
                                      QStringLiteral("FlowTraq's Web API confirms %1").arg(kTarget)));
        }
        QVERIFY(portalConfirmed);
        QVERIFY(verifyPage->report().allAtTarget());
        QVERIFY(!verifyPage->report().rebootNeeded());
        screenshot(&wizard, format + QStringLiteral("-6-verify"));

        // What the nodes' own databases say now.
        for (const SandboxNode &node : file.nodes) {
            if (format == QLatin1String("deb"))
                QCOMPARE(dpkgStatus(node.installDir), kTarget + QStringLiteral(" install ok installed"));
            else
                QVERIFY(registryText(node.installDir).contains(QStringLiteral("DisplayVersion    REG_SZ    6.3.0.1500")));
        }
    }
};

QTEST_MAIN(TestRealNodes)
#include "tst_realnodes.moc"

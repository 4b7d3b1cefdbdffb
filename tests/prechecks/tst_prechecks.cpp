#include "../planner/clusterfixture.h"

#include "packages/package.h"
#include "plan/precheck.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include <functional>

using namespace ft;
using namespace fixture;

namespace {

NodeStatus with(NodeStatus n, const std::function<void(NodeStatus &)> &change)
{
    change(n);
    return n;
}

// "check@node" (or "check" for cluster-wide findings), sorted.
QStringList describe(const PreCheckReport &report, PreCheckSeverity severity)
{
    QStringList result;
    for (const PreCheckFinding &finding : report.withSeverity(severity))
        result.append(finding.node.isEmpty() ? finding.check
                                             : finding.check + QLatin1Char('@') + finding.node);
    result.sort();
    return result;
}

UpgradeTarget serverOnly(const QString &version = QStringLiteral("6.3.0-1500"),
                         const QString &os = QStringLiteral("any"))
{
    UpgradeTarget t;
    t.server = package(Component::Server, version, os);
    return t;
}

} // namespace

class tst_PreChecks : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void findings_data();
    void findings();
    void orderAndAcknowledgement();
    void sentencesNameWhatIsWrong();
    void jsonShape();
    void validatePackageChoice_data();
    void validatePackageChoice();
    void choiceFromPackageFile();
};

void tst_PreChecks::findings_data()
{
    QTest::addColumn<QList<NodeStatus>>("nodes");
    QTest::addColumn<UpgradeTarget>("upgrade");
    QTest::addColumn<QStringList>("errors");
    QTest::addColumn<QStringList>("warnings");
    QTest::addColumn<QStringList>("notices");

    const QString next = QStringLiteral("6.3.0-1500");

    QTest::newRow("healthy cluster") << cluster(2) << target(false) << QStringList()
                                     << QStringList() << QStringList();

    QTest::newRow("portal unreachable")
        << QList<NodeStatus>{unreachable(portal()), worker("w1"), worker("w2")} << target(false)
        << QStringList{"no-portal", "unreachable@portal"} << QStringList() << QStringList();

    QTest::newRow("two NBIs")
        << QList<NodeStatus>{withNbi(portal()), withNbi(worker("w1")), worker("w2")} << target()
        << QStringList{"nbi-count"} << QStringList() << QStringList();

    QTest::newRow("agent API too old")
        << QList<NodeStatus>{portal(), with(worker("w1"), [](NodeStatus &n) { n.apiVersion = 0; })}
        << target(false) << QStringList{"agent-too-old@w1"} << QStringList() << QStringList();

    QTest::newRow("agent version too old")
        << QList<NodeStatus>{portal(), with(worker("w1"), [](NodeStatus &n) { n.agentVersion = "0.0.9"; })}
        << target(false) << QStringList{"agent-too-old@w1"} << QStringList() << QStringList();

    QTest::newRow("agent version unreadable")
        << QList<NodeStatus>{portal(), with(worker("w1"), [](NodeStatus &n) { n.agentVersion = "dev"; })}
        << target(false) << QStringList{"agent-too-old@w1"} << QStringList() << QStringList();

    QTest::newRow("not enough disk for staging")
        << QList<NodeStatus>{portal(), with(worker("w1"), [](NodeStatus &n) { n.freeBytes = 199 * kMiB; })}
        << target(false) << QStringList{"disk-space@w1"} << QStringList() << QStringList();

    // The portal stages server and Web UI: 200 MiB × 2.
    QTest::newRow("exactly enough disk")
        << QList<NodeStatus>{with(portal(), [](NodeStatus &n) { n.freeBytes = 400 * kMiB; }), worker("w1")}
        << target(false) << QStringList() << QStringList() << QStringList();

    QTest::newRow("portal one byte short")
        << QList<NodeStatus>{with(portal(), [](NodeStatus &n) { n.freeBytes = 400 * kMiB - 1; }), worker("w1")}
        << target(false) << QStringList{"disk-space@portal"} << QStringList() << QStringList();

    QTest::newRow("disk space unknown")
        << QList<NodeStatus>{portal(), with(worker("w1"), [](NodeStatus &n) { n.freeBytes = -1; })}
        << target(false) << QStringList() << QStringList{"disk-unknown@w1"} << QStringList();

    QTest::newRow("a current node needs no disk")
        << QList<NodeStatus>{portal(), with(worker("w1", next), [](NodeStatus &n) { n.freeBytes = 0; })}
        << target(false) << QStringList() << QStringList{"mixed-versions"}
        << QStringList{"already-current@w1"};

    QTest::newRow("mixed versions before the start")
        << QList<NodeStatus>{portal(), worker("w1", "6.2.0"), worker("w2")} << target(false)
        << QStringList() << QStringList{"mixed-versions"} << QStringList();

    QTest::newRow("all nodes current")
        << cluster(2, next) << target(false) << QStringList() << QStringList()
        << QStringList{"already-current@portal", "already-current@w1", "already-current@w2",
                       "nothing-to-do"};

    QTest::newRow("no portal")
        << QList<NodeStatus>{worker("w1"), worker("w2")} << serverOnly() << QStringList{"no-portal"}
        << QStringList() << QStringList();

    QTest::newRow("two portals")
        << QList<NodeStatus>{portal(), node("ft2", NodeRole::Standalone), worker("w1")}
        << serverOnly() << QStringList{"portal-count"} << QStringList() << QStringList();

    QTest::newRow("Windows package on Linux nodes")
        << cluster(2) << serverOnly(next, "windows") << QStringList{"os-mismatch"} << QStringList()
        << QStringList();

    QTest::newRow("Linux package with a Windows node")
        << QList<NodeStatus>{portal(), worker("w1"), worker("w2", "6.2.1-1200", OsKind::Windows)}
        << serverOnly(next, "linux") << QStringList{"os-mismatch"} << QStringList() << QStringList();

    QTest::newRow("any-OS package with a Windows node")
        << QList<NodeStatus>{portal(), worker("w2", "6.2.1-1200", OsKind::Windows)}
        << serverOnly(next, "any") << QStringList() << QStringList() << QStringList();

    QTest::newRow("downgrade")
        << cluster(2) << serverOnly("6.2.0") << QStringList{"downgrade"} << QStringList()
        << QStringList{"nothing-to-do"};

    UpgradeTarget wrongSlot;
    wrongSlot.server = package(Component::Nbi);
    QTest::newRow("NBI package in the server slot")
        << cluster(1) << wrongSlot << QStringList{"package"} << QStringList()
        << QStringList{"nothing-to-do"};

    QTest::newRow("NBI package without an NBI")
        << cluster(1) << target(true, false) << QStringList{"package"} << QStringList()
        << QStringList();

    QTest::newRow("no package") << cluster(1) << UpgradeTarget() << QStringList{"package"}
                                << QStringList() << QStringList();

    QTest::newRow("busy node")
        << QList<NodeStatus>{portal(), with(worker("w1"), [](NodeStatus &n) { n.busy = true; })}
        << target(false) << QStringList{"busy@w1"} << QStringList() << QStringList();

    QTest::newRow("service stopped")
        << QList<NodeStatus>{portal(), with(worker("w1"), [](NodeStatus &n) {
                                 n.service = ServiceState::Stopped;
                             })}
        << target(false) << QStringList() << QStringList{"service-stopped@w1"} << QStringList();

    QTest::newRow("no nodes") << QList<NodeStatus>() << target() << QStringList{"no-nodes"}
                              << QStringList() << QStringList();
}

void tst_PreChecks::findings()
{
    QFETCH(QList<NodeStatus>, nodes);
    QFETCH(UpgradeTarget, upgrade);
    QFETCH(QStringList, errors);
    QFETCH(QStringList, warnings);
    QFETCH(QStringList, notices);

    const PreCheckReport report = runPreChecks(nodes, upgrade);
    QCOMPARE(describe(report, PreCheckSeverity::Error), errors);
    QCOMPARE(describe(report, PreCheckSeverity::Warning), warnings);
    QCOMPARE(describe(report, PreCheckSeverity::Notice), notices);
    QCOMPARE(report.hasErrors(), !errors.isEmpty());
    for (const PreCheckFinding &finding : report.findings)
        QVERIFY(!finding.message.isEmpty());
}

void tst_PreChecks::orderAndAcknowledgement()
{
    const QList<NodeStatus> nodes{
        portal(), with(worker("w10"), [](NodeStatus &n) { n.freeBytes = -1; }),
        with(worker("w2"), [](NodeStatus &n) { n.freeBytes = 0; }), worker("w3", "6.3.0-1500"),
        unreachable(worker("w1"))};
    const PreCheckReport report = runPreChecks(nodes, target(false));
    QStringList order;
    for (const PreCheckFinding &f : report.findings)
        order.append(toString(f.severity) + QLatin1Char(':') + f.check + QLatin1Char('@') + f.node);
    QCOMPARE(order, (QStringList{"error:unreachable@w1", "error:disk-space@w2",
                                 "warning:mixed-versions@", "warning:disk-unknown@w10",
                                 "notice:already-current@w3"}));
    QVERIFY(!report.allowsStart(true));

    const PreCheckReport warningsOnly =
        runPreChecks({portal(), with(worker("w1"), [](NodeStatus &n) { n.freeBytes = -1; })},
                     target(false));
    QVERIFY(!warningsOnly.hasErrors());
    QVERIFY(warningsOnly.hasWarnings());
    QVERIFY(!warningsOnly.allowsStart(false));
    QVERIFY(warningsOnly.allowsStart(true));

    QVERIFY(runPreChecks(cluster(1), target(false)).allowsStart(false));
}

void tst_PreChecks::sentencesNameWhatIsWrong()
{
    const QList<NodeStatus> nodes{portal(), worker("w1"),
                                  worker("w3", "6.2.1-1200", OsKind::Windows),
                                  worker("w2", "6.2.1-1200", OsKind::Windows)};
    const PreCheckReport os = runPreChecks(nodes, serverOnly("6.3.0-1500", "linux"));
    const QString message = os.withSeverity(PreCheckSeverity::Error).first().message;
    QVERIFY2(message.contains("w2, w3"), qPrintable(message));
    QVERIFY(message.contains("Linux only"));
    QVERIFY(!message.contains("w1"));

    const PreCheckReport down =
        runPreChecks({portal("6.4.0"), worker("w1")}, serverOnly("6.3.0-1500"));
    const QString downMessage = down.withSeverity(PreCheckSeverity::Error).first().message;
    QVERIFY2(downMessage.contains("portal (6.4.0)"), qPrintable(downMessage));
    QVERIFY(downMessage.contains("6.3.0-1500"));

    const PreCheckReport nbi =
        runPreChecks({withNbi(portal()), worker("w1"), withNbi(worker("w2"))}, target());
    QVERIFY(nbi.withSeverity(PreCheckSeverity::Error).first().message.contains("portal, w2"));

    const PreCheckReport disk = runPreChecks(
        {portal(), with(worker("w1"), [](NodeStatus &n) { n.freeBytes = 150 * kMiB; })},
        target(false));
    const QString diskMessage = disk.withSeverity(PreCheckSeverity::Error).first().message;
    QVERIFY(diskMessage.contains("w1"));
    QVERIFY(diskMessage.contains("/var/lib/ftupgrade-agent/staging"));

    const PreCheckReport unreachablePortal =
        runPreChecks({unreachable(portal(), "connection refused"), worker("w1")}, target(false));
    QCOMPARE(unreachablePortal.findings.at(1).check, QString::fromLatin1(PreCheckId::Unreachable));
    QVERIFY(unreachablePortal.findings.at(1).message.contains("connection refused"));
}

void tst_PreChecks::jsonShape()
{
    const PreCheckReport report =
        runPreChecks({unreachable(portal()), worker("w1")}, target(false));
    const QJsonArray array = report.toJson();
    QCOMPARE(array.size(), report.findings.size());
    bool sawNode = false;
    for (const auto &value : array) {
        const QJsonObject object = value.toObject();
        QCOMPARE(object.value("severity").toString(), QStringLiteral("error"));
        QVERIFY(!object.value("check").toString().isEmpty());
        QVERIFY(!object.value("message").toString().isEmpty());
        sawNode = sawNode || object.value("node").toString() == QLatin1String("portal");
    }
    QVERIFY(sawNode);
}

void tst_PreChecks::validatePackageChoice_data()
{
    QTest::addColumn<QList<NodeStatus>>("nodes");
    QTest::addColumn<int>("slot");
    QTest::addColumn<int>("component");
    QTest::addColumn<QString>("version");
    QTest::addColumn<QString>("os");
    QTest::addColumn<QString>("errorContains"); // empty: valid

    const QList<NodeStatus> linuxNodes = cluster(2);
    const int server = int(Component::Server), nbi = int(Component::Nbi), web = int(Component::WebUi);

    QTest::newRow("fits") << linuxNodes << server << server << "6.3.0-1500" << "any" << "";
    QTest::newRow("same version fits (nothing to do)") << linuxNodes << server << server << "6.2.1-1200" << "any" << "";
    QTest::newRow("wrong component") << linuxNodes << server << web << "6.3.0-1500" << "any" << "Web UI package";
    QTest::newRow("downgrade") << linuxNodes << server << server << "6.2.0" << "any" << "does not downgrade";
    QTest::newRow("wrong OS") << linuxNodes << server << server << "6.3.0-1500" << "windows" << "portal, w1, w2";
    QTest::newRow("unknown OS") << linuxNodes << server << server << "6.3.0-1500" << "solaris" << "solaris";
    QTest::newRow("no version") << linuxNodes << server << server << "" << "any" << "version";
    QTest::newRow("NBI without NBI") << linuxNodes << nbi << nbi << "6.3.0-1500" << "any" << "Leave the NBI package out";
    QTest::newRow("NBI on a worker") << QList<NodeStatus>{portal(), withNbi(worker("w1"))} << nbi << nbi << "6.3.0-1500" << "linux" << "";
    QTest::newRow("Web UI is on the portal only")
        << QList<NodeStatus>{portal(), worker("w1", "6.2.1-1200", OsKind::Windows)} << web << web
        << "6.3.0-1500" << "linux" << "";
    QTest::newRow("Web UI without a portal")
        << QList<NodeStatus>{worker("w1")} << web << web << "6.3.0-1500" << "any" << "Leave the Web UI package out";
}

void tst_PreChecks::validatePackageChoice()
{
    QFETCH(QList<NodeStatus>, nodes);
    QFETCH(int, slot);
    QFETCH(int, component);
    QFETCH(QString, version);
    QFETCH(QString, os);
    QFETCH(QString, errorContains);

    PackageChoice choice = package(Component(component), QStringLiteral("6.3.0-1500"), os);
    choice.version = v(version);
    const Result result = ft::validatePackageChoice(choice, Component(slot), nodes);
    if (errorContains.isEmpty()) {
        QVERIFY2(result.has_value(), qPrintable(result ? QString() : result.error()));
    } else {
        QVERIFY(!result.has_value());
        QVERIFY2(result.error().contains(errorContains), qPrintable(result.error()));
    }
}

void tst_PreChecks::choiceFromPackageFile()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QByteArray payload("stand-in server binary 6.3.0\n");
    QVERIFY(QDir(dir.path()).mkpath("payload/bin"));
    QFile binary(dir.filePath("payload/bin/flowtraq-server"));
    QVERIFY(binary.open(QIODevice::WriteOnly));
    binary.write(payload);
    binary.close();

    PackageManifest manifest;
    manifest.component = Component::Server;
    manifest.version = v("6.3.0-1500");
    manifest.os = "linux";
    manifest.files = {{"bin/flowtraq-server", payload.size(),
                       QCryptographicHash::hash(payload, QCryptographicHash::Sha256).toHex()}};
    const QString path = dir.filePath("server-6.3.0.ftpkg");
    const Result written = writePackage(path, manifest, dir.filePath("payload"));
    QVERIFY2(written.has_value(), qPrintable(written ? QString() : written.error()));

    const auto choice = PackageChoice::fromFile(path);
    QVERIFY2(choice.has_value(), qPrintable(choice ? QString() : choice.error()));
    QCOMPARE(toString(choice->component), QStringLiteral("server"));
    QCOMPARE(choice->version, v("6.3.0-1500"));
    QCOMPARE(choice->os, QStringLiteral("linux"));
    QCOMPARE(choice->size, QFileInfo(path).size());
    QCOMPARE(choice->fileName(), QStringLiteral("server-6.3.0.ftpkg"));
    QVERIFY(choice->sha256.isEmpty());
    QVERIFY(choice->fitsOs(OsKind::Linux));
    QVERIFY(!choice->fitsOs(OsKind::Windows));
    // The Linux package refused in the Web UI slot and with a Windows node.
    QVERIFY(!ft::validatePackageChoice(*choice, Component::WebUi, cluster(1)));
    QVERIFY(ft::validatePackageChoice(*choice, Component::Server, cluster(1)));
    QVERIFY(!ft::validatePackageChoice(*choice, Component::Server,
                                       {portal(), worker("w1", "6.2.1", OsKind::Windows)}));

    QFile junk(dir.filePath("junk.ftpkg"));
    QVERIFY(junk.open(QIODevice::WriteOnly));
    junk.write("not a tar archive at all");
    junk.close();
    const auto bad = PackageChoice::fromFile(junk.fileName());
    QVERIFY(!bad.has_value());
    QVERIFY(bad.error().contains("junk.ftpkg"));
    QVERIFY(!PackageChoice::fromFile(dir.filePath("missing.ftpkg")).has_value());
}

QTEST_GUILESS_MAIN(tst_PreChecks)
#include "tst_prechecks.moc"

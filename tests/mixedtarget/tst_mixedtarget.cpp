#include "../planner/clusterfixture.h"

#include "plan/planner.h"
#include "plan/precheck.h"
#include "run/runjournal.h"

#include <QTemporaryDir>
#include <QTest>

using namespace ft;
using namespace fixture;

namespace {

const QString kNext = QStringLiteral("6.3.0-1500");

PackageChoice named(const QString &fileName, const QString &os, const QString &version = kNext,
                    qint64 size = 100 * kMiB)
{
    PackageChoice choice = package(Component::Server, version, os, size);
    choice.filePath = QStringLiteral("/packages/") + fileName;
    choice.format = fileName.section(QLatin1Char('.'), -1);
    return choice;
}

const PackageChoice kDeb = named(QStringLiteral("flowtraq-server_6.3.0-1500_all.deb"), QStringLiteral("linux"));
const PackageChoice kMsi = named(QStringLiteral("FlowTraq-Server-6.3.0.1500.msi"), QStringLiteral("windows"),
                                 kNext, 300 * kMiB);

UpgradeTarget servers(const std::optional<PackageChoice> &first, const std::optional<PackageChoice> &second)
{
    UpgradeTarget t;
    t.server = first;
    t.secondServer = second;
    return t;
}

// A Linux portal, a Linux worker w1 and a Windows worker w2.
QList<NodeStatus> mixed(const QString &windowsVersion = QStringLiteral("6.2.1-1200"))
{
    return {portal(), worker(QStringLiteral("w1")), worker(QStringLiteral("w2"), windowsVersion, OsKind::Windows)};
}

QStringList errors(const PreCheckReport &report)
{
    QStringList result;
    for (const PreCheckFinding &finding : report.withSeverity(PreCheckSeverity::Error))
        result.append(finding.check);
    result.sort();
    return result;
}

QString messages(const PreCheckReport &report)
{
    QStringList result;
    for (const PreCheckFinding &finding : report.findings)
        result.append(finding.message);
    return result.join(QLatin1Char('\n'));
}

} // namespace

class tst_MixedTarget : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void eachNodeGetsThePackageOfItsSystem();
    void preChecks_data();
    void preChecks();
    void planStagesAndInstallsPerSystem();
    void journalKeepsBothPackages();
};

void tst_MixedTarget::eachNodeGetsThePackageOfItsSystem()
{
    const UpgradeTarget both = servers(kDeb, kMsi);
    QCOMPARE(both.packages(Component::Server).size(), 2);
    QVERIFY(both.has(Component::Server));
    QVERIFY(!both.has(Component::WebUi));
    QCOMPARE(both.packageFor(Component::Server, OsKind::Linux)->fileName(), kDeb.fileName());
    QCOMPARE(both.packageFor(Component::Server, OsKind::Windows)->fileName(), kMsi.fileName());
    // The order of the slots does not matter.
    const UpgradeTarget reversed = servers(kMsi, kDeb);
    QCOMPARE(reversed.packageFor(Component::Server, OsKind::Linux)->fileName(), kDeb.fileName());
    QCOMPARE(reversed.packageFor(Component::Server, OsKind::Windows)->fileName(), kMsi.fileName());
    // A package for one system beats one for any system.
    const PackageChoice any = named(QStringLiteral("server.ftpkg"), QStringLiteral("any"));
    const UpgradeTarget anyAndMsi = servers(any, kMsi);
    QCOMPARE(anyAndMsi.packageFor(Component::Server, OsKind::Windows)->fileName(), kMsi.fileName());
    QCOMPARE(anyAndMsi.packageFor(Component::Server, OsKind::Linux)->fileName(), any.fileName());
    // Only a Linux package: the Windows node gets it too (and the checks refuse that).
    const UpgradeTarget debOnly = servers(kDeb, std::nullopt);
    QCOMPARE(debOnly.packageFor(Component::Server, OsKind::Windows)->fileName(), kDeb.fileName());
    QVERIFY(!debOnly.packageFor(Component::Nbi, OsKind::Linux));
    QVERIFY(UpgradeTarget().isEmpty());
    QVERIFY(!servers(std::nullopt, kMsi).isEmpty());

    QVERIFY(validateTarget(both, mixed()));
    const Result refused = validateTarget(debOnly, mixed());
    QVERIFY(!refused);
    QVERIFY2(refused.error().contains(QStringLiteral("w2")), qPrintable(refused.error()));
}

void tst_MixedTarget::preChecks_data()
{
    QTest::addColumn<QList<NodeStatus>>("nodes");
    QTest::addColumn<UpgradeTarget>("upgrade");
    QTest::addColumn<QStringList>("expectedErrors");
    QTest::addColumn<QString>("sentence"); // part of a finding's message

    QTest::newRow("a .deb and an .msi") << mixed() << servers(kDeb, kMsi) << QStringList() << QString();
    QTest::newRow("an .msi first, then a .deb") << mixed() << servers(kMsi, kDeb) << QStringList() << QString();
    QTest::newRow("only the .deb") << mixed() << servers(kDeb, std::nullopt) << QStringList{"os-mismatch"}
                                   << QStringLiteral("these nodes run Windows: w2");
    QTest::newRow("two Linux packages")
        << mixed() << servers(kDeb, named(QStringLiteral("flowtraq-server-6.3.0-1500.noarch.rpm"), "linux"))
        << QStringList{"os-mismatch"} << QStringLiteral("are both for Linux");
    QTest::newRow("two packages for any system")
        << mixed()
        << servers(named(QStringLiteral("a.ftpkg"), "any"), named(QStringLiteral("b.ftpkg"), "any"))
        << QStringList{"os-mismatch"} << QStringLiteral("are both for any system");
    QTest::newRow("the same file name twice")
        << mixed()
        << servers(named(QStringLiteral("server.ftpkg"), "linux"), named(QStringLiteral("server.ftpkg"), "windows"))
        << QStringList{"package"} << QStringLiteral("rename one of them");
    QTest::newRow("a Windows package with no Windows node")
        << cluster(2) << servers(kDeb, kMsi) << QStringList{"package"}
        << QStringLiteral("FlowTraq-Server-6.3.0.1500.msi would go to no node");
    QTest::newRow("an any-system package shadowed on a Linux cluster")
        << cluster(2) << servers(named(QStringLiteral("server.ftpkg"), "any"), kDeb) << QStringList{"package"}
        << QStringLiteral("server.ftpkg would go to no node");
    QTest::newRow("the Windows node is newer than the .msi")
        << mixed(QStringLiteral("6.4.0-1600")) << servers(kDeb, kMsi) << QStringList{"downgrade"}
        << QStringLiteral("older than what already runs on w2 (6.4.0-1600)");
}

void tst_MixedTarget::preChecks()
{
    QFETCH(QList<NodeStatus>, nodes);
    QFETCH(UpgradeTarget, upgrade);
    QFETCH(QStringList, expectedErrors);
    QFETCH(QString, sentence);
    const PreCheckReport report = runPreChecks(nodes, upgrade);
    QCOMPARE(errors(report), expectedErrors);
    if (!sentence.isEmpty())
        QVERIFY2(messages(report).contains(sentence), qPrintable(messages(report)));
    // validateTarget (the CLI's and the session's quick check) agrees.
    QCOMPARE(bool(validateTarget(upgrade, nodes)), expectedErrors.isEmpty());
}

void tst_MixedTarget::planStagesAndInstallsPerSystem()
{
    UpgradeTarget upgrade = servers(kDeb, kMsi);
    const UpgradePlan plan = UpgradePlanner().plan(mixed(), upgrade);
    QHash<QString, QString> installs; // node → package file
    for (const PlanStep &step : plan.allSteps()) {
        QVERIFY(!step.skipped);
        installs.insert(step.node, step.packageFile);
    }
    QCOMPARE(installs.value(QStringLiteral("portal")), kDeb.fileName());
    QCOMPARE(installs.value(QStringLiteral("w1")), kDeb.fileName());
    QCOMPARE(installs.value(QStringLiteral("w2")), kMsi.fileName());
    QHash<QString, StageEntry> stage;
    for (const StageEntry &entry : plan.stage)
        stage.insert(entry.node, entry);
    QCOMPARE(stage.value(QStringLiteral("w1")).packageFiles, QStringList{kDeb.fileName()});
    QCOMPARE(stage.value(QStringLiteral("w2")).packageFiles, QStringList{kMsi.fileName()});
    QCOMPARE(stage.value(QStringLiteral("w2")).bytes, 300 * kMiB);
    QCOMPARE(stage.value(QStringLiteral("w1")).bytes, 100 * kMiB);
    // Staging space is checked against the package each node really gets.
    QCOMPARE(stagingBytesFor(mixed().at(2), upgrade), 300 * kMiB);
    QCOMPARE(stagingBytesFor(mixed().at(1), upgrade), 100 * kMiB);
    // Without the second package the Windows node would be planned with the .deb.
    upgrade.secondServer.reset();
    const UpgradePlan single = UpgradePlanner().plan(mixed(), upgrade);
    for (const PlanStep &step : single.allSteps())
        QCOMPARE(step.packageFile, kDeb.fileName());
}

void tst_MixedTarget::journalKeepsBothPackages()
{
    const UpgradePlan plan = UpgradePlanner().plan(mixed(), servers(kDeb, kMsi));
    QList<RunPackage> packages;
    for (const PackageChoice &choice : {kDeb, kMsi}) {
        RunPackage package;
        package.component = Component::Server;
        package.path = choice.filePath;
        package.fileName = choice.fileName();
        package.sha256 = QString(64, QLatin1Char(choice.os == QLatin1String("linux") ? 'a' : 'b'));
        package.size = choice.size;
        package.version = choice.version.toString();
        packages.append(package);
    }
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("run.json"));
    QVERIFY(RunJournal::fromPlan(plan, packages).save(path));
    const auto loaded = RunJournal::load(path);
    QVERIFY2(loaded, qPrintable(loaded.error()));
    QCOMPARE(loaded->packages.size(), 2);
    for (const RunStepRecord &record : loaded->steps) {
        const RunPackage *package = loaded->package(record.step.packageFile);
        QVERIFY(package);
        QCOMPARE(package->fileName, record.step.node == QLatin1String("w2") ? kMsi.fileName() : kDeb.fileName());
    }
    for (const RunStageRecord &stage : loaded->stage)
        QVERIFY2(loaded->package(stage.packageFile), qPrintable(stage.packageFile));
}

QTEST_GUILESS_MAIN(tst_MixedTarget)
#include "tst_mixedtarget.moc"

// The agent's chain of version sources (app/agent/versionsources.h): the parsers on
// captured outputs, and the chain itself against real package databases (dpkg with
// --admindir, rpm with --dbpath) made by the test, a real version_command and the
// sandbox's VERSION file; a disagreement is reported, a failing source says why.

#include "agentconfig.h"
#include "nodeinfo.h"
#include "versionsources.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QProcess>
#include <QSettings>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace ft::agent;
namespace vs = ft::agent::versionsources;

namespace {

QString readText(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? QString::fromUtf8(file.readAll()) : QString();
}

bool writeText(const QString &path, const QByteArray &text)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(text) == text.size();
}

// Runs a tool to completion; its output on failure.
QString run(const QString &program, const QStringList &arguments, const QString &workDir = {})
{
    QProcess process;
    process.setProcessChannelMode(QProcess::MergedChannels);
    if (!workDir.isEmpty())
        process.setWorkingDirectory(workDir);
    process.start(program, arguments);
    if (!process.waitForFinished(60000) || process.exitStatus() != QProcess::NormalExit || process.exitCode() != 0)
        return program + QLatin1String(": ") + QString::fromUtf8(process.readAll()) + process.errorString();
    return {};
}

// A .deb of `name` at `version`, installed into a database of its own.
QString installDeb(const QString &root, const QString &name, const QString &version)
{
    const QString pkg = QDir(root).filePath(QStringLiteral("pkg-") + name);
    if (!writeText(pkg + QStringLiteral("/DEBIAN/control"),
                   QStringLiteral("Package: %1\nVersion: %2\nArchitecture: all\nMaintainer: Test <test@example.invalid>\n"
                                  "Description: FlowTraq test package\n").arg(name, version).toUtf8())
        || !writeText(pkg + QStringLiteral("/opt/flowtraq/README"), "test\n"))
        return QStringLiteral("cannot write the package tree");
    const QString deb = QDir(root).filePath(name + QStringLiteral(".deb"));
    if (QString error = run(QStringLiteral("dpkg-deb"), {QStringLiteral("--build"), QStringLiteral("--root-owner-group"), pkg, deb}); !error.isEmpty())
        return error;
    const QString admin = QDir(root).filePath(QStringLiteral("dpkg"));
    QDir().mkpath(admin + QStringLiteral("/updates"));
    QDir().mkpath(admin + QStringLiteral("/info"));
    QDir().mkpath(QDir(root).filePath(QStringLiteral("inst")));
    if (!QFile::exists(admin + QStringLiteral("/status")))
        writeText(admin + QStringLiteral("/status"), "");
    return run(QStringLiteral("dpkg"), {QStringLiteral("--admindir=") + admin,
                                        QStringLiteral("--instdir=") + QDir(root).filePath(QStringLiteral("inst")),
                                        QStringLiteral("--force-not-root"), QStringLiteral("--force-script-chrootless"),
                                        QStringLiteral("-i"), deb});
}

AgentConfig configIn(const QString &dir, const QByteArray &agentKeys)
{
    const QString file = QDir(dir).filePath(QStringLiteral("agent.conf"));
    writeText(file, "[agent]\nbackend=systemd\ninstall_dir=" + QDir(dir).filePath(QStringLiteral("install")).toUtf8()
                        + "\n" + agentKeys + "[auth]\ntoken_salt=00\ntoken_sha256=00\n");
    auto config = AgentConfig::load(file);
    if (!config)
        qWarning("%s", qPrintable(config.error()));
    return config ? *config : AgentConfig{};
}

} // namespace

class TestVersionSources : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void findVersion_data();
    void findVersion();
    void registryParser();
    void dpkgParser();
    void rpmParser();
    void combineFlagsDisagreement();
    void dpkgDatabaseAndCommandAndFile();
    void rpmDatabase();
    void registryThroughItsCommand();
    void failingSourceSaysWhy();
    void badConfigurationRefused();
};

void TestVersionSources::findVersion_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("expected");
    QTest::newRow("plain") << "6.2.1" << "6.2.1";
    QTest::newRow("build dash") << "6.2.1-1200" << "6.2.1-1200";
    QTest::newRow("build word") << "FlowTraq Server 18.12.1 build 33" << "18.12.1-33";
    QTest::newRow("debian epoch") << "1:6.3.0-1500" << "6.3.0-1500";
    QTest::newRow("tab separated") << "flowtraq\t6.2.1-1200\tii " << "6.2.1-1200";
    QTest::newRow("no dots") << "build 1200" << "";
    QTest::newRow("empty") << "" << "";
    QTest::newRow("words") << "unknown" << "";
}

void TestVersionSources::findVersion()
{
    QFETCH(QString, text);
    QFETCH(QString, expected);
    QCOMPARE(vs::findVersion(text), expected);
}

void TestVersionSources::registryParser()
{
    const QString output = readText(QStringLiteral(FT_SOURCE_DIR "/tests/versionsources/data/reg_query_uninstall.txt"));
    QVERIFY(!output.isEmpty());
    const QList<vs::RegistryEntry> entries = vs::parseRegQuery(output);
    QCOMPARE(entries.size(), 4);
    QCOMPARE(entries.at(1).displayName, QStringLiteral("ProQueSys FlowTraq Server"));
    QCOMPARE(entries.at(1).displayVersion, QStringLiteral("18.12.1"));
    QVERIFY(entries.at(1).key.endsWith(QLatin1String("{6A1B2C3D-4E5F-4071-8293-A4B5C6D7E8F9}")));

    const QList<vs::Reading> server = vs::registryReadings(entries, QStringLiteral("FlowTraq"), QStringLiteral("server"));
    QCOMPARE(server.size(), 1);
    QCOMPARE(server.first().source, QStringLiteral("registry"));
    QCOMPARE(server.first().version, QStringLiteral("18.12.1"));
    QVERIFY(server.first().detail.contains(QLatin1String("ProQueSys FlowTraq Server")));

    // The NBI's entry says "unknown": a reading with the reason, not a version.
    const QList<vs::Reading> nbi = vs::registryReadings(entries, QStringLiteral("FlowTraq"), QStringLiteral("nbi"));
    QCOMPARE(nbi.size(), 1);
    QVERIFY(nbi.first().version.isEmpty());
    QVERIFY(nbi.first().error.contains(QLatin1String("unknown")));
    QVERIFY(vs::registryReadings(entries, QStringLiteral("FlowTraq"), QStringLiteral("webui")).isEmpty());
}

void TestVersionSources::dpkgParser()
{
    const QString output = QStringLiteral("flowtraq-server\t6.2.1-1200\tii \n"
                                          "flowtraq-nbi\t6.2.0-1100\trc \n"
                                          "flowtraq-webui\t6.2.1-1200\tiU \n");
    const auto readings = vs::parseDpkgQuery(output, {QStringLiteral("flowtraq-server"), QStringLiteral("flowtraq-nbi"),
                                                      QStringLiteral("flowtraq-webui"), QStringLiteral("absent")},
                                             QString());
    QCOMPARE(readings.size(), 2); // removed (rc) and absent names are no version
    QCOMPARE(readings.at(0).version, QStringLiteral("6.2.1-1200"));
    QVERIFY(readings.at(0).error.isEmpty());
    QCOMPARE(readings.at(1).version, QStringLiteral("6.2.1-1200"));
    QVERIFY(readings.at(1).error.contains(QLatin1String("not fully installed")));
}

void TestVersionSources::rpmParser()
{
    const QString output = QStringLiteral("flowtraq-server\t6.2.1-1200\npackage flowtraq-nbi is not installed\n");
    const auto readings = vs::parseRpmQuery(output, {QStringLiteral("flowtraq-server"), QStringLiteral("flowtraq-nbi")}, QString());
    QCOMPARE(readings.size(), 1);
    QCOMPARE(readings.first().source, QStringLiteral("rpm"));
    QCOMPARE(readings.first().version, QStringLiteral("6.2.1-1200"));
}

void TestVersionSources::combineFlagsDisagreement()
{
    const vs::ComponentVersion same = vs::combine({{QStringLiteral("dpkg"), {}, QStringLiteral("6.2.1-1200"), {}},
                                                   {QStringLiteral("version_file"), {}, QStringLiteral("6.2.1-1200"), {}}});
    QCOMPARE(same.version, QStringLiteral("6.2.1-1200"));
    QCOMPARE(same.source, QStringLiteral("dpkg"));
    QVERIFY(!same.disagreement);

    const vs::ComponentVersion differ = vs::combine({{QStringLiteral("version_command"), {}, {}, QStringLiteral("failed")},
                                                     {QStringLiteral("dpkg"), {}, QStringLiteral("6.3.0-1500"), {}},
                                                     {QStringLiteral("version_file"), {}, QStringLiteral("6.2.1-1200"), {}}});
    QCOMPARE(differ.version, QStringLiteral("6.3.0-1500"));
    QCOMPARE(differ.source, QStringLiteral("dpkg"));
    QVERIFY(differ.disagreement);
    const QJsonObject json = differ.toJson();
    QCOMPARE(json.value(QStringLiteral("disagreement")).toBool(), true);
    QCOMPARE(json.value(QStringLiteral("sources")).toArray().size(), 3);
    QCOMPARE(json.value(QStringLiteral("sources")).toArray().at(0).toObject().value(QStringLiteral("error")).toString(),
             QStringLiteral("failed"));
}

void TestVersionSources::dpkgDatabaseAndCommandAndFile()
{
    if (QStandardPaths::findExecutable(QStringLiteral("dpkg-deb")).isEmpty())
        QSKIP("dpkg-deb is not installed (Debian package dpkg).");
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString installed = installDeb(dir.path(), QStringLiteral("flowtraq-server"), QStringLiteral("6.3.0-1500"));
    QVERIFY2(installed.isEmpty(), qPrintable(installed));
    // The sandbox's own file still says the old version: the sources disagree.
    QVERIFY(writeText(dir.filePath(QStringLiteral("install/VERSION")), "6.2.1-1200\n"));
    QVERIFY(writeText(dir.filePath(QStringLiteral("install/webui/VERSION")), "6.3.0-1500\n"));
    const AgentConfig config = configIn(dir.path(),
        "package_names=flowtraq-server\ndpkg_admindir=" + dir.filePath(QStringLiteral("dpkg")).toUtf8() + "\n"
        // As agent.conf must spell it: the whole value quoted, inner quotes escaped.
        "version_command=\"/bin/sh -c \\\"echo FlowTraq {component} 6.3.0 build 1500\\\"\"\n");
    QCOMPARE(config.sources.packageNames.value(QStringLiteral("server")), QStringList{QStringLiteral("flowtraq-server")});

    const vs::ComponentVersion server = vs::read(config, QStringLiteral("server"));
    QCOMPARE(server.version, QStringLiteral("6.3.0-1500"));
    QCOMPARE(server.source, QStringLiteral("dpkg"));
    QCOMPARE(server.readings.size(), 3);
    QCOMPARE(server.readings.at(1).source, QStringLiteral("version_command"));
    QCOMPARE(server.readings.at(1).version, QStringLiteral("6.3.0-1500"));
    QVERIFY(server.readings.at(1).detail.contains(QLatin1String("FlowTraq server")));
    QCOMPARE(server.readings.at(2).source, QStringLiteral("version_file"));
    QCOMPARE(server.readings.at(2).version, QStringLiteral("6.2.1-1200"));
    QVERIFY(server.disagreement);

    // The Web UI has no package name: the command and the file agree.
    const vs::ComponentVersion webui = vs::read(config, QStringLiteral("webui"));
    QCOMPARE(webui.version, QStringLiteral("6.3.0-1500"));
    QCOMPARE(webui.source, QStringLiteral("version_command"));
    QVERIFY(!webui.disagreement);

    // The node report carries it all.
    const QJsonObject node = nodeinfo::nodeReport(config, {}, false, std::nullopt);
    const QJsonObject entry = node.value(QStringLiteral("components")).toObject().value(QStringLiteral("server")).toObject();
    QCOMPARE(entry.value(QStringLiteral("version")).toString(), QStringLiteral("6.3.0-1500"));
    QCOMPARE(entry.value(QStringLiteral("source")).toString(), QStringLiteral("dpkg"));
    QCOMPARE(entry.value(QStringLiteral("disagreement")).toBool(), true);
    QCOMPARE(entry.value(QStringLiteral("sources")).toArray().size(), 3);
    // Without flow_ports on a real backend the rate is "not measured", never 0.
    const QJsonObject flows = node.value(QStringLiteral("flows")).toObject();
    QCOMPARE(flows.value(QStringLiteral("measured")).toBool(), false);
    QVERIFY(flows.value(QStringLiteral("per_second_1m")).isNull());
    QVERIFY(flows.value(QStringLiteral("not_measured_reason")).toString().contains(QLatin1String("flow_ports")));
}

void TestVersionSources::rpmDatabase()
{
    if (QStandardPaths::findExecutable(QStringLiteral("rpmbuild")).isEmpty())
        QSKIP("rpmbuild is not installed (Debian package rpm).");
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString top = dir.filePath(QStringLiteral("top"));
    QVERIFY(writeText(top + QStringLiteral("/SPECS/ft.spec"),
                      "Name: flowtraq-server\nVersion: 6.2.1\nRelease: 1200\nSummary: test\nLicense: none\n"
                      "BuildArch: noarch\n%description\ntest\n%install\nmkdir -p %{buildroot}/opt/flowtraq\n"
                      "echo x > %{buildroot}/opt/flowtraq/README\n%files\n/opt/flowtraq/README\n"));
    QString error = run(QStringLiteral("rpmbuild"), {QStringLiteral("--define"), QStringLiteral("_topdir ") + top,
                                                     QStringLiteral("-bb"), top + QStringLiteral("/SPECS/ft.spec")});
    QVERIFY2(error.isEmpty(), qPrintable(error));
    const QString db = dir.filePath(QStringLiteral("rpmdb"));
    QVERIFY(QDir().mkpath(db));
    error = run(QStringLiteral("rpm"), {QStringLiteral("--initdb"), QStringLiteral("--dbpath"), db});
    QVERIFY2(error.isEmpty(), qPrintable(error));
    // --justdb records the package in this database only; nothing lands in /.
    error = run(QStringLiteral("rpm"), {QStringLiteral("-i"), QStringLiteral("--justdb"), QStringLiteral("--nodeps"),
                                        QStringLiteral("--dbpath"), db,
                                        top + QStringLiteral("/RPMS/noarch/flowtraq-server-6.2.1-1200.noarch.rpm")});
    QVERIFY2(error.isEmpty(), qPrintable(error));

    const AgentConfig config = configIn(dir.path(), "package_names=flowtraq-server,flowtraq-extra\nrpm_dbpath=" + db.toUtf8() + "\n");
    const vs::ComponentVersion server = vs::read(config, QStringLiteral("server"));
    QCOMPARE(server.version, QStringLiteral("6.2.1-1200"));
    QCOMPARE(server.source, QStringLiteral("rpm"));
    QCOMPARE(server.readings.size(), 1);
}

// The registry source runs `registry_command query KEY /s` (reg.exe on Windows): here a
// command that prints captured reg.exe output. An MSI's four-part DisplayVersion is
// read as a build; a command that fails for both views is one reading with the reason.
void TestVersionSources::registryThroughItsCommand()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString output = dir.filePath(QStringLiteral("reg.txt"));
    QVERIFY(writeText(output, "\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\"
                              "{57D21164-D1BC-4A23-975A-E8406DB4C68B}\r\n"
                              "    DisplayName    REG_SZ    FlowTraq Server\r\n"
                              "    DisplayVersion    REG_SZ    6.3.0.1500\r\n"));
    const AgentConfig config = configIn(dir.path(), "registry_command=\"/bin/sh -c \\\"cat '" + output.toUtf8() + "'\\\"\"\n");
    QVERIFY(!config.sources.registryCommand.isEmpty());
    const vs::ComponentVersion server = vs::read(config, QStringLiteral("server"));
    QCOMPARE(server.version, QStringLiteral("6.3.0-1500"));
    QCOMPARE(server.source, QStringLiteral("registry"));
    // Both views printed the same entry: two readings that agree.
    QCOMPARE(server.readings.size(), 2);
    QVERIFY(!server.disagreement);
    QVERIFY(server.readings.first().detail.endsWith(QLatin1String("(FlowTraq Server)")));

    const AgentConfig failing = configIn(dir.path(), "registry_command=\"/bin/sh -c \\\"echo ERROR: Access is denied. >&2; exit 1\\\"\"\n");
    const vs::ComponentVersion none = vs::read(failing, QStringLiteral("server"));
    QVERIFY(none.version.isEmpty());
    QCOMPARE(none.readings.size(), 1);
    QVERIFY2(none.readings.first().error.contains(QLatin1String("Access is denied")), qPrintable(none.readings.first().error));

    // No command (any OS but Windows by default): the registry is not asked at all.
    QVERIFY(vs::read(configIn(dir.path(), ""), QStringLiteral("server")).readings.isEmpty());
}

void TestVersionSources::failingSourceSaysWhy()
{
    QTemporaryDir dir;
    const AgentConfig config = configIn(dir.path(), "version_command=\"/bin/sh -c \\\"echo no such product >&2; exit 3\\\"\"\n");
    const vs::ComponentVersion server = vs::read(config, QStringLiteral("server"));
    QVERIFY(server.version.isEmpty());
    QCOMPARE(server.readings.size(), 1);
    QVERIFY(server.readings.first().error.contains(QLatin1String("exit 3")));
    QVERIFY(server.readings.first().error.contains(QLatin1String("no such product")));
    const QJsonObject json = server.toJson();
    QCOMPARE(json.value(QStringLiteral("installed")).toBool(), false);
    QVERIFY(json.value(QStringLiteral("error")).toString().contains(QLatin1String("exit 3")));

    const AgentConfig missing = configIn(dir.path(), "version_command=/nonexistent/ftversion\n");
    const vs::ComponentVersion none = vs::read(missing, QStringLiteral("server"));
    QVERIFY(none.version.isEmpty());
    QVERIFY(none.readings.first().error.contains(QLatin1String("could not be started")));
}

void TestVersionSources::badConfigurationRefused()
{
    QTemporaryDir dir;
    const QString file = dir.filePath(QStringLiteral("agent.conf"));
    for (const QByteArray &bad : {QByteArray("flow_ports=2055,70000\n"), QByteArray("package_names=flow traq;rm\n"),
                                  QByteArray("package_manager=apt\n")}) {
        writeText(file, "[agent]\nbackend=systemd\n" + bad + "[auth]\ntoken_salt=00\ntoken_sha256=00\n");
        const auto config = AgentConfig::load(file);
        QVERIFY2(!config, bad.constData());
        QVERIFY(!config.error().isEmpty());
    }
    writeText(file, "[agent]\nbackend=systemd\nflow_ports=2055, 4739\n[auth]\ntoken_salt=00\ntoken_sha256=00\n");
    const auto config = AgentConfig::load(file);
    QVERIFY2(config, config ? "" : qPrintable(config.error()));
    QCOMPARE(config->sources.flowPorts, (QList<quint16>{2055, 4739}));
}

QTEST_GUILESS_MAIN(TestVersionSources)
#include "tst_versionsources.moc"

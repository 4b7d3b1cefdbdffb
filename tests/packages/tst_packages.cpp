#include "packages/filemanifest.h"
#include "packages/package.h"
#include "packages/sha256.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QSettings>
#include <QTemporaryDir>
#include <QtTest>

#include <archive.h>
#include <archive_entry.h>

using namespace ft;

// error() is only valid on a failure: evaluate the message only then.
#define FT_VERIFY_OK(expected) \
    do { \
        if (!(expected).has_value()) \
            QFAIL(qPrintable((expected).error())); \
    } while (false)

namespace {

const QString installed = QStringLiteral("6.2.1-1200");
const QString newer = QStringLiteral("6.3.0-1500");

struct RunResult
{
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

QString tool()
{
    return QStringLiteral(FT_BIN_DIR "/ftsandbox");
}

RunResult runTool(const QStringList &arguments, int timeoutMs = 30000)
{
    QProcess process;
    process.start(tool(), arguments);
    RunResult result;
    if (!process.waitForFinished(timeoutMs)) {
        process.kill();
        process.waitForFinished();
        return result;
    }
    result.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    result.out = process.readAllStandardOutput();
    result.err = process.readAllStandardError();
    return result;
}

QByteArray readAll(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

// Everything of an installation a package's installer may touch, as checksums.
FileManifest snapshot(const QString &dir)
{
    return FileManifest::compute(dir, {QStringLiteral("run/"), QStringLiteral("logs/")}).value();
}

QString describe(const QList<FileManifest::Change> &changes)
{
    QStringList lines;
    for (const auto &change : changes)
        lines.append(QString::number(change.kind) + QLatin1Char(' ') + change.path);
    return lines.join(QStringLiteral("; "));
}

// A tar written by hand, for packages the tool would never write.
bool writeRawTar(const QString &path, const QList<std::tuple<QString, QByteArray, int>> &entries)
{
    archive *out = archive_write_new();
    archive_write_set_format_pax_restricted(out);
    if (archive_write_open_filename(out, QFile::encodeName(path).constData()) != ARCHIVE_OK)
        return false;
    for (const auto &[name, data, type] : entries) {
        archive_entry *entry = archive_entry_new();
        archive_entry_set_pathname_utf8(entry, name.toUtf8().constData());
        archive_entry_set_filetype(entry, unsigned(type));
        archive_entry_set_perm(entry, 0644);
        if (type == AE_IFLNK) {
            archive_entry_set_symlink(entry, data.constData());
            archive_entry_set_size(entry, 0);
        } else {
            archive_entry_set_size(entry, data.size());
        }
        archive_write_header(out, entry);
        if (type == AE_IFREG)
            archive_write_data(out, data.constData(), size_t(data.size()));
        archive_entry_free(entry);
    }
    archive_write_close(out);
    archive_write_free(out);
    return true;
}

QByteArray manifestJson(const QList<std::pair<QString, QByteArray>> &files)
{
    QJsonArray array;
    for (const auto &[path, data] : files) {
        array.append(QJsonObject{{QStringLiteral("path"), path},
                                 {QStringLiteral("size"), double(data.size())},
                                 {QStringLiteral("sha256"),
                                  QString::fromLatin1(QCryptographicHash::hash(data, QCryptographicHash::Sha256).toHex())}});
    }
    return QJsonDocument(QJsonObject{{QStringLiteral("format"), 1},
                                     {QStringLiteral("product"), QStringLiteral("FlowTraq")},
                                     {QStringLiteral("component"), QStringLiteral("server")},
                                     {QStringLiteral("version"), newer},
                                     {QStringLiteral("os"), QStringLiteral("any")},
                                     {QStringLiteral("mode"), QStringLiteral("normal")},
                                     {QStringLiteral("files"), array}})
        .toJson();
}

} // namespace

class TestPackages : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    int m_counter = 0;

    QString newInstallation(const QString &os = QStringLiteral("linux"), bool nbi = false)
    {
        const QString dir = m_dir.filePath(QStringLiteral("node%1").arg(++m_counter));
        QStringList arguments{QStringLiteral("init"), dir, QStringLiteral("--version"), installed,
                              QStringLiteral("--role"), QStringLiteral("worker"), QStringLiteral("--os"), os,
                              QStringLiteral("--webui-files"), QStringLiteral("40"),
                              QStringLiteral("--flow-port"), QStringLiteral("0")};
        if (nbi)
            arguments.append(QStringLiteral("--nbi"));
        const RunResult result = runTool(arguments);
        if (result.exitCode != 0)
            qWarning() << "init failed:" << result.err;
        return result.exitCode == 0 ? dir : QString();
    }

    QString newPackage(const QString &component, const QString &mode, const QString &version = newer,
                       const QString &os = QStringLiteral("any"), const QStringList &extra = {})
    {
        const QString path = m_dir.filePath(QStringLiteral("pkg%1-%2-%3.ftpkg").arg(++m_counter).arg(component, mode));
        QStringList arguments{QStringLiteral("make-package"), QStringLiteral("--version"), version,
                              QStringLiteral("--component"), component, QStringLiteral("--mode"), mode,
                              QStringLiteral("--os"), os, QStringLiteral("--slow-seconds"), QStringLiteral("2"),
                              QStringLiteral("--webui-files"), QStringLiteral("40"), QStringLiteral("-o"), path};
        arguments += extra;
        const RunResult result = runTool(arguments);
        if (result.exitCode != 0)
            qWarning() << "make-package failed:" << result.err;
        return result.exitCode == 0 ? path : QString();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(QFileInfo(tool()).isExecutable(), "build the ftsandbox target first");
        QVERIFY(m_dir.isValid());
    }

    void initLaysOutAnInstallation()
    {
        const QString dir = newInstallation(QStringLiteral("windows"), true);
        QVERIFY(!dir.isEmpty());
        QCOMPARE(readAll(dir + "/VERSION").trimmed(), installed.toUtf8());
        QCOMPARE(readAll(dir + "/webui/VERSION").trimmed(), installed.toUtf8());
        QCOMPARE(readAll(dir + "/nbi/VERSION").trimmed(), installed.toUtf8());
        QVERIFY(QFile::exists(dir + "/bin/FlowTraqServer.exe"));
        QVERIFY(!QFile::exists(dir + "/bin/flowtraq-server"));
        QVERIFY(QFileInfo(dir + "/SESSIONDB").isDir());
        const QSettings config(dir + "/flowtraq.conf", QSettings::IniFormat);
        QCOMPARE(config.value("node/os").toString(), QStringLiteral("windows"));
        QCOMPARE(config.value("node/role").toString(), QStringLiteral("worker"));
        QVERIFY(config.value("server/tcp_port").toInt() > 0);

        // The pristine manifest describes the installed Web UI exactly, and its package
        // is intact and carries the same files.
        const Expected<FileManifest> pristine = FileManifest::read(dir + "/manifests/webui-" + installed + ".sha256");
        FT_VERIFY_OK(pristine);
        QCOMPARE(pristine->size(), 40);
        const Expected<FileManifest> actual = FileManifest::compute(dir + "/webui", {QStringLiteral("VERSION")});
        FT_VERIFY_OK(actual);
        QVERIFY2(pristine->compare(*actual).isEmpty(), qPrintable(describe(pristine->compare(*actual))));
        const QString package = dir + "/manifests/webui-" + installed + ".ftpkg";
        const Result verified = verifyPackage(package);
        FT_VERIFY_OK(verified);
        const Expected<QByteArray> index = readPackageFile(package, QStringLiteral("webui/index.html"));
        FT_VERIFY_OK(index);
        QCOMPARE(*index, readAll(dir + "/webui/index.html"));

        // The generator is deterministic: make-package writes the same Web UI for the version.
        const QString same = newPackage(QStringLiteral("webui"), QStringLiteral("normal"), installed);
        const Expected<PackageManifest> kept = readPackageManifest(package);
        const Expected<PackageManifest> made = readPackageManifest(same);
        FT_VERIFY_OK(kept);
        FT_VERIFY_OK(made);
        QCOMPARE(made->files.size(), kept->files.size());
        for (qsizetype i = 0; i < made->files.size(); ++i) {
            QCOMPARE(made->files.at(i).path, kept->files.at(i).path);
            QCOMPARE(made->files.at(i).sha256, kept->files.at(i).sha256);
        }

        // No flows: no history. A node with a flow port gets 14 days of it.
        QVERIFY(!QFile::exists(dir + "/data/flowhistory.json"));
        const QString receiving = m_dir.filePath("receiving");
        QCOMPARE(runTool({"init", receiving, "--version", installed, "--role", "standalone", "--os", "linux",
                          "--webui-files", "20", "--flow-port", "40999"}).exitCode, 0);
        const QJsonArray hours = QJsonDocument::fromJson(readAll(receiving + "/data/flowhistory.json"))
                                     .object().value("hours").toArray();
        QCOMPARE(hours.size(), 14 * 24);
        qint64 busiest = 0, quietest = std::numeric_limits<qint64>::max();
        for (const QJsonValue &hour : hours) {
            busiest = std::max(busiest, qint64(hour.toObject().value("flows").toDouble()));
            quietest = std::min(quietest, qint64(hour.toObject().value("flows").toDouble()));
        }
        QVERIFY(busiest > 5 * quietest); // a weekly pattern, not a flat line
    }

    void initRefusesANonEmptyFolderAndBadInput()
    {
        const QString dir = newInstallation();
        QVERIFY(!dir.isEmpty());
        const QByteArray before = readAll(dir + "/flowtraq.conf");
        RunResult result = runTool({"init", dir, "--version", newer, "--role", "worker", "--os", "linux"});
        QCOMPARE(result.exitCode, 1);
        QVERIFY(result.err.contains("not empty"));
        QCOMPARE(readAll(dir + "/flowtraq.conf"), before);

        result = runTool({"init", m_dir.filePath("bad"), "--version", "six", "--role", "worker", "--os", "linux"});
        QCOMPARE(result.exitCode, 2);
        QVERIFY(result.err.contains("not a FlowTraq version"));
        result = runTool({"init", m_dir.filePath("bad"), "--version", newer, "--role", "boss", "--os", "linux"});
        QCOMPARE(result.exitCode, 2);
        result = runTool({"frobnicate"});
        QCOMPARE(result.exitCode, 2);
        QVERIFY(!QFile::exists(m_dir.filePath("bad")));
    }

    void applyModes_data()
    {
        QTest::addColumn<QString>("component");
        QTest::addColumn<QString>("mode");
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<bool>("versionChanges");

        for (const QString &component : {QStringLiteral("server"), QStringLiteral("nbi"), QStringLiteral("webui")}) {
            const auto row = [&](const char *mode, int code, bool changes) {
                QTest::addRow("%s-%s", qPrintable(component), mode) << component << QString::fromLatin1(mode) << code << changes;
            };
            row("normal", InstallerExit::Success, true);
            row("slow", InstallerExit::Success, true);
            row("fail", InstallerExit::Failed, false);
            row("reboot", InstallerExit::RebootRequired, true);
            row("reboot-needed", InstallerExit::RebootRequired, false);
            row("corrupt", InstallerExit::PackageInvalid, false);
        }
    }
    void applyModes()
    {
        QFETCH(QString, component);
        QFETCH(QString, mode);
        QFETCH(int, exitCode);
        QFETCH(bool, versionChanges);

        const QString dir = newInstallation(QStringLiteral("linux"), component == QLatin1String("nbi"));
        QVERIFY(!dir.isEmpty());
        const QString package = newPackage(component, mode);
        QVERIFY(!package.isEmpty());
        const QByteArray config = readAll(dir + "/flowtraq.conf");
        const FileManifest sessionDb = snapshot(dir + "/SESSIONDB");
        const FileManifest before = snapshot(dir);
        const QString versionFile = component == QLatin1String("server") ? dir + "/VERSION"
                                                                        : dir + "/" + component + "/VERSION";

        const RunResult result = runTool({"apply", package, "--install", dir, "--component", component});
        QCOMPARE(installerExitCodeFromStatus(result.exitCode), exitCode);
        QCOMPARE(readAll(versionFile).trimmed(), (versionChanges ? newer : installed).toUtf8());
        QCOMPARE(readAll(dir + "/flowtraq.conf"), config);
        QVERIFY(snapshot(dir + "/SESSIONDB").compare(sessionDb).isEmpty());
        QVERIFY(!QFile::exists(dir + "/.install-staging"));
        QVERIFY(!result.out.isEmpty());
        for (const QByteArray &line : result.out.split('\n')) {
            if (!line.isEmpty() && !line.startsWith('[') && !line.startsWith("A reboot"))
                QFAIL(qPrintable("unexpected progress line: " + line));
        }
        if (exitCode == InstallerExit::Failed || exitCode == InstallerExit::PackageInvalid) {
            QVERIFY(result.err.startsWith("error: "));
        } else {
            QVERIFY(result.err.isEmpty());
        }
        if (mode == QLatin1String("slow"))
            QVERIFY(result.out.count("s)\n") >= 2); // a line per second of the 2 s

        if (!versionChanges) {
            // Nothing at all changed.
            const QList<FileManifest::Change> changes = before.compare(snapshot(dir));
            QVERIFY2(changes.isEmpty(), qPrintable(describe(changes)));
            return;
        }
        // The component's files are the package's now.
        if (component == QLatin1String("server")) {
            QVERIFY(readAll(dir + "/bin/flowtraq-server").contains(newer.toUtf8()));
            QVERIFY(!QFile::exists(dir + "/bin/FlowTraqServer.exe")); // only this OS's binaries
        } else if (component == QLatin1String("nbi")) {
            QVERIFY(readAll(dir + "/nbi/bin/flowtraq-nbi").contains(newer.toUtf8()));
        } else {
            const Expected<FileManifest> pristine = FileManifest::read(dir + "/manifests/webui-" + newer + ".sha256");
            FT_VERIFY_OK(pristine);
            const QList<FileManifest::Change> changes = pristine->compare(snapshot(dir + "/webui"));
            // Only webui/VERSION is outside the manifest.
            QCOMPARE(changes.size(), 1);
            QCOMPARE(changes.first().path, QStringLiteral("VERSION"));
            QVERIFY(QFile::exists(dir + "/manifests/webui-" + newer + ".ftpkg"));
            QVERIFY(QFile::exists(dir + "/manifests/webui-" + installed + ".sha256"));
        }
    }

    void hangNeverExitsAndAKillLeavesTheOldInstallation()
    {
        const QString dir = newInstallation();
        QVERIFY(!dir.isEmpty());
        const QString package = newPackage(QStringLiteral("server"), QStringLiteral("hang"));
        QVERIFY(!package.isEmpty());
        const FileManifest before = snapshot(dir);

        QProcess process;
        process.start(tool(), {"apply", package, "--install", dir});
        QVERIFY(process.waitForStarted());
        QByteArray out;
        QTRY_VERIFY_WITH_TIMEOUT((out += process.readAllStandardOutput()).contains("Installing"), 10000);
        // It keeps running (it does not exit on its own within a second)...
        QVERIFY(!process.waitForFinished(1000));
        process.kill();
        QVERIFY(process.waitForFinished(5000));
        // ...and the installation is the old one, intact.
        const QList<FileManifest::Change> changes = before.compare(snapshot(dir));
        QVERIFY2(changes.isEmpty(), qPrintable(describe(changes)));
        QCOMPARE(readAll(dir + "/VERSION").trimmed(), installed.toUtf8());

        // A normal package installs fine afterwards.
        const QString good = newPackage(QStringLiteral("server"), QStringLiteral("normal"));
        QCOMPARE(runTool({"apply", good, "--install", dir}).exitCode, 0);
        QCOMPARE(readAll(dir + "/VERSION").trimmed(), newer.toUtf8());
    }

    void interruptedSwitchRollsForward()
    {
        // A kill between the two renames of the switch leaves the journal and the staged
        // folder; the next run finishes the switch rather than leaving a mix.
        const QString dir = newInstallation();
        QVERIFY(!dir.isEmpty());
        const QString staged = dir + "/.install-staging";
        QVERIFY(QDir().mkpath(staged + "/payload/bin"));
        QVERIFY(QDir().rename(dir + "/bin", staged + "/old-bin"));
        QFile binary(staged + "/payload/bin/flowtraq-server");
        QVERIFY(binary.open(QIODevice::WriteOnly));
        binary.write("new " + newer.toUtf8());
        binary.close();
        QFile journal(staged + "/switch.json");
        QVERIFY(journal.open(QIODevice::WriteOnly));
        journal.write(QJsonDocument(QJsonObject{{"folder", "bin"}, {"version", newer}, {"version_file", "VERSION"}}).toJson());
        journal.close();

        // Any installer run recovers first: the switch is finished (new bin/, new VERSION),
        // and then this older package is refused against the recovered version.
        const QString older = newPackage(QStringLiteral("server"), QStringLiteral("normal"), QStringLiteral("6.3.0-1400"));
        const RunResult result = runTool({"apply", older, "--install", dir});
        QCOMPARE(installerExitCodeFromStatus(result.exitCode), InstallerExit::OtherVersion);
        QVERIFY(!QFile::exists(staged));
        QCOMPARE(readAll(dir + "/VERSION").trimmed(), newer.toUtf8());
        QCOMPARE(readAll(dir + "/bin/flowtraq-server"), "new " + newer.toUtf8());
    }

    void refusals_data()
    {
        QTest::addColumn<QString>("nodeOs");
        QTest::addColumn<QString>("packageComponent");
        QTest::addColumn<QString>("packageVersion");
        QTest::addColumn<QString>("packageOs");
        QTest::addColumn<QString>("expectedComponent");
        QTest::addColumn<bool>("daemonRunning");
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QString>("sentence");

        QTest::newRow("other component") << "linux" << "server" << newer << "any" << "webui" << false
                                         << InstallerExit::OtherVersion << "not a Web UI package";
        QTest::newRow("lower version") << "linux" << "server" << "6.1.0-900" << "any" << "server" << false
                                       << InstallerExit::OtherVersion << "newer than this package";
        QTest::newRow("windows package on linux") << "linux" << "server" << newer << "windows" << "server" << false
                                                  << InstallerExit::OtherVersion << "is for windows";
        QTest::newRow("linux package on windows") << "windows" << "webui" << newer << "linux" << "webui" << false
                                                  << InstallerExit::OtherVersion << "is for linux";
        QTest::newRow("daemon running") << "linux" << "server" << newer << "any" << "server" << true
                                        << InstallerExit::ServiceRunning << "stop the FlowTraq service first";
    }
    void refusals()
    {
        QFETCH(QString, nodeOs);
        QFETCH(QString, packageComponent);
        QFETCH(QString, packageVersion);
        QFETCH(QString, packageOs);
        QFETCH(QString, expectedComponent);
        QFETCH(bool, daemonRunning);
        QFETCH(int, exitCode);
        QFETCH(QString, sentence);

        const QString dir = newInstallation(nodeOs);
        QVERIFY(!dir.isEmpty());
        const QString package = newPackage(packageComponent, QStringLiteral("normal"), packageVersion, packageOs);
        QVERIFY(!package.isEmpty());
        QProcess daemon; // a live process standing in for the daemon that holds the pid file
        if (daemonRunning) {
            daemon.start(QStringLiteral("sleep"), {QStringLiteral("60")});
            QVERIFY(daemon.waitForStarted());
            QFile pidFile(dir + "/run/flowtraq.pid");
            QVERIFY(pidFile.open(QIODevice::WriteOnly));
            pidFile.write(QByteArray::number(daemon.processId()) + '\n');
        }
        const FileManifest before = snapshot(dir);

        const RunResult result = runTool({"apply", package, "--install", dir, "--component", expectedComponent});
        if (daemonRunning) {
            daemon.kill();
            daemon.waitForFinished();
        }
        QCOMPARE(installerExitCodeFromStatus(result.exitCode), exitCode);
        QVERIFY2(result.err.startsWith("error: ") && result.err.contains(sentence.toUtf8()), result.err.constData());
        const QList<FileManifest::Change> changes = before.compare(snapshot(dir));
        QVERIFY2(changes.isEmpty(), qPrintable(describe(changes)));
    }

    void staleDaemonPidIsNotARefusal()
    {
        const QString dir = newInstallation();
        QVERIFY(!dir.isEmpty());
        QProcess gone;
        gone.start(QStringLiteral("true"));
        QVERIFY(gone.waitForFinished());
        QFile pidFile(dir + "/run/flowtraq.pid");
        QVERIFY(pidFile.open(QIODevice::WriteOnly));
        pidFile.write(QByteArray::number(gone.processId() ? gone.processId() : 999999) + '\n');
        pidFile.close();
        const QString package = newPackage(QStringLiteral("server"), QStringLiteral("normal"));
        QCOMPARE(runTool({"apply", package, "--install", dir}).exitCode, 0);
    }

    void webUiUpgradeOverwritesCustomizations()
    {
        const QString dir = newInstallation();
        QVERIFY(!dir.isEmpty());
        const QString site = dir + "/webui/css/site.css";
        const QByteArray pristineOld = readAll(site);
        QFile custom(site);
        QVERIFY(custom.open(QIODevice::Append));
        custom.write("\n.acme-banner { color: #c00; }\n");
        custom.close();
        QFile logo(dir + "/webui/img/logo-acme.png");
        QVERIFY(logo.open(QIODevice::WriteOnly));
        logo.write("\x89PNG custom logo");
        logo.close();

        const QString package = newPackage(QStringLiteral("webui"), QStringLiteral("normal"));
        QCOMPARE(runTool({"apply", package, "--install", dir, "--component", "webui"}).exitCode, 0);

        QVERIFY(!readAll(site).contains("acme-banner"));
        QVERIFY(!QFile::exists(dir + "/webui/img/logo-acme.png"));
        const Expected<QByteArray> pristineNew = readPackageFile(package, QStringLiteral("webui/css/site.css"));
        FT_VERIFY_OK(pristineNew);
        QCOMPARE(readAll(site), *pristineNew);
        // The versions really differ somewhere: an upgrade changes files.
        const FileManifest oldManifest = FileManifest::read(dir + "/manifests/webui-" + installed + ".sha256").value();
        const FileManifest newManifest = FileManifest::read(dir + "/manifests/webui-" + newer + ".sha256").value();
        QVERIFY(!oldManifest.compare(newManifest).isEmpty());
        Q_UNUSED(pristineOld)
    }

    void readManifestAndVerify()
    {
        const QString good = newPackage(QStringLiteral("server"), QStringLiteral("reboot"), newer, QStringLiteral("linux"),
                                        {QStringLiteral("--pad-bytes"), QString::number(3 * 1024 * 1024 + 5)});
        QVERIFY(!good.isEmpty());
        const Expected<PackageManifest> manifest = readPackageManifest(good);
        FT_VERIFY_OK(manifest);
        QVERIFY(manifest->component == Component::Server);
        QCOMPARE(manifest->version.toString(), newer);
        QCOMPARE(manifest->mode, QStringLiteral("reboot"));
        QCOMPARE(manifest->os, QStringLiteral("linux"));
        QVERIFY(manifest->created.isValid());
        QCOMPARE(manifest->files.size(), 3); // two binaries and the padding
        const auto padding = std::find_if(manifest->files.cbegin(), manifest->files.cend(),
                                          [](const PackageFile &f) { return f.path.endsWith(QLatin1String(".pak")); });
        QVERIFY(padding != manifest->files.cend());
        QCOMPARE(padding->size, qint64(3 * 1024 * 1024 + 5));
        const Result verified = verifyPackage(good);
        FT_VERIFY_OK(verified);

        // Checked and hashed in one read: the digest is the whole file's, also with bytes
        // after the archive's end that the check itself never needed.
        const Expected<QByteArray> checkedDigest = verifyPackageAndHash(good);
        FT_VERIFY_OK(checkedDigest);
        QCOMPARE(*checkedDigest, ft::sha256OfFile(good).value());
        QTemporaryDir appendedDir;
        const QString appended = appendedDir.filePath(QStringLiteral("appended.ftpkg"));
        QVERIFY(QFile::copy(good, appended));
        {
            QFile file(appended);
            QVERIFY(file.open(QIODevice::Append));
            file.write(QByteArray(70000, 'x'));
        }
        const Expected<QByteArray> appendedDigest = verifyPackageAndHash(appended);
        FT_VERIFY_OK(appendedDigest);
        QCOMPARE(*appendedDigest, ft::sha256OfFile(appended).value());
        QVERIFY(*appendedDigest != *checkedDigest);

        // JSON round trip.
        const Expected<PackageManifest> again = PackageManifest::fromJson(manifest->toJson());
        FT_VERIFY_OK(again);
        QCOMPARE(again->files.size(), manifest->files.size());
        QCOMPARE(again->files.first().sha256, manifest->files.first().sha256);

        // Extraction streams the payload and checks it.
        QTemporaryDir target;
        const Result extracted = extractPackagePayload(good, target.path());
        FT_VERIFY_OK(extracted);
        QCOMPARE(QFileInfo(target.filePath(padding->path)).size(), padding->size);
        QCOMPARE(ft::sha256OfFile(target.filePath(padding->path)).value(), padding->sha256);
    }

    void damagedPackagesAreRefused_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<QString>("sentence");
        QTest::newRow("corrupt mode") << "corrupt" << "does not match";
        QTest::newRow("truncated") << "truncated" << "";
        QTest::newRow("not a tar") << "garbage" << "";
        QTest::newRow("manifest not first") << "order" << "does not start with package.json";
        QTest::newRow("path traversal") << "traversal" << "unsafe path";
        QTest::newRow("symlink") << "symlink" << "not a regular file";
        QTest::newRow("unlisted file") << "unlisted" << "does not list";
        QTest::newRow("missing SHA256SUMS") << "nosums" << "no SHA256SUMS";
        QTest::newRow("SHA256SUMS disagrees") << "badsums" << "does not match SHA256SUMS";
    }
    void damagedPackagesAreRefused()
    {
        QFETCH(QString, kind);
        QFETCH(QString, sentence);
        QTemporaryDir work;
        const QString path = work.filePath("damaged.ftpkg");
        const QByteArray bin = "binary";
        const QByteArray json = manifestJson({{QStringLiteral("bin/flowtraq-server"), bin}});
        const QByteArray sums = QCryptographicHash::hash(bin, QCryptographicHash::Sha256).toHex() + "  payload/bin/flowtraq-server\n";
        if (kind == QLatin1String("corrupt")) {
            QVERIFY(QFile::copy(newPackage(QStringLiteral("server"), QStringLiteral("corrupt")), path));
        } else if (kind == QLatin1String("truncated")) {
            const QString good = newPackage(QStringLiteral("server"), QStringLiteral("normal"), newer, QStringLiteral("any"),
                                            {QStringLiteral("--pad-bytes"), QStringLiteral("200000")});
            QFile file(path);
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write(readAll(good).left(120000));
        } else if (kind == QLatin1String("garbage")) {
            QFile file(path);
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write(QByteArray(5000, 'z'));
        } else if (kind == QLatin1String("order")) {
            QVERIFY(writeRawTar(path, {{"payload/bin/flowtraq-server", bin, AE_IFREG}, {"package.json", json, AE_IFREG}}));
        } else if (kind == QLatin1String("traversal")) {
            QVERIFY(writeRawTar(path, {{"package.json", json, AE_IFREG}, {"payload/../../evil", bin, AE_IFREG}}));
        } else if (kind == QLatin1String("symlink")) {
            QVERIFY(writeRawTar(path, {{"package.json", json, AE_IFREG}, {"payload/bin/flowtraq-server", "/etc/passwd", AE_IFLNK}}));
        } else if (kind == QLatin1String("unlisted")) {
            QVERIFY(writeRawTar(path, {{"package.json", json, AE_IFREG}, {"payload/bin/flowtraq-server", bin, AE_IFREG},
                                       {"payload/bin/extra", bin, AE_IFREG}, {"SHA256SUMS", sums, AE_IFREG}}));
        } else if (kind == QLatin1String("nosums")) {
            QVERIFY(writeRawTar(path, {{"package.json", json, AE_IFREG}, {"payload/bin/flowtraq-server", bin, AE_IFREG}}));
        } else if (kind == QLatin1String("badsums")) {
            QVERIFY(writeRawTar(path, {{"package.json", json, AE_IFREG}, {"payload/bin/flowtraq-server", bin, AE_IFREG},
                                       {"SHA256SUMS", QByteArray(64, 'a') + "  payload/bin/flowtraq-server\n", AE_IFREG}}));
        }
        const Result verified = verifyPackage(path);
        QVERIFY(!verified);
        QVERIFY2(verified.error().contains(sentence), qPrintable(verified.error()));
        const Expected<QByteArray> checked = verifyPackageAndHash(path);
        QVERIFY(!checked);
        QCOMPARE(checked.error(), verified.error());

        // Extraction refuses too, and never writes outside its folder.
        QTemporaryDir target;
        const QString inside = target.filePath("a/b");
        const Result extracted = extractPackagePayload(path, inside);
        if (kind != QLatin1String("nosums") && kind != QLatin1String("badsums"))
            QVERIFY(!extracted);
        QVERIFY(!QFile::exists(target.filePath("evil")));
        QVERIFY(!QFile::exists(target.filePath("a/evil")));
        QVERIFY(!QFileInfo(inside + "/bin/flowtraq-server").isSymLink());

        // The installer says 1620 and changes nothing.
        if (kind == QLatin1String("traversal") || kind == QLatin1String("corrupt") || kind == QLatin1String("badsums")) {
            const QString dir = newInstallation();
            const FileManifest before = snapshot(dir);
            const RunResult result = runTool({"apply", path, "--install", dir});
            QCOMPARE(installerExitCodeFromStatus(result.exitCode), InstallerExit::PackageInvalid);
            QVERIFY(before.compare(snapshot(dir)).isEmpty());
        }
    }

    void exitCodesMapBackFromPosixStatus()
    {
        QCOMPARE(installerExitCodeFromStatus(0), 0);
        QCOMPARE(installerExitCodeFromStatus(1603 & 0xff), 1603);
        QCOMPARE(installerExitCodeFromStatus(3010 & 0xff), 3010);
        QCOMPARE(installerExitCodeFromStatus(1620 & 0xff), 1620);
        QCOMPARE(installerExitCodeFromStatus(1618 & 0xff), 1618);
        QCOMPARE(installerExitCodeFromStatus(1638 & 0xff), 1638);
        QCOMPARE(installerExitCodeFromStatus(3010), 3010);
        QCOMPARE(installerExitCodeFromStatus(1), 1);
        QCOMPARE(installerExitCodeFromStatus(2), 2);
    }

    void safeRelativePaths_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<bool>("safe");
        QTest::newRow("plain") << "css/site.css" << true;
        QTest::newRow("spaces and umlauts") << "help/Quick Start Überblick.html" << true;
        QTest::newRow("dotdot") << "../x" << false;
        QTest::newRow("inner dotdot") << "a/../../x" << false;
        QTest::newRow("absolute") << "/etc/passwd" << false;
        QTest::newRow("backslash") << "a\\b" << false;
        QTest::newRow("drive") << "C:/x" << false;
        QTest::newRow("empty segment") << "a//b" << false;
        QTest::newRow("dot") << "./a" << false;
        QTest::newRow("empty") << "" << false;
    }
    void safeRelativePaths()
    {
        QFETCH(QString, path);
        QFETCH(bool, safe);
        QCOMPARE(isSafeRelativePath(path), safe);
    }

    void applyRejectsBadInput()
    {
        RunResult result = runTool({"apply", m_dir.filePath("missing.ftpkg"), "--install", m_dir.path()});
        QCOMPARE(result.exitCode, 2);
        result = runTool({"apply", m_dir.filePath("x.ftpkg")});
        QCOMPARE(result.exitCode, 2);
        QVERIFY(result.err.contains("--install"));
        result = runTool({"make-package", "--version", newer, "--component", "server", "--mode", "explode", "-o", m_dir.filePath("x")});
        QCOMPARE(result.exitCode, 2);
        QVERIFY(result.err.contains("explode"));
    }
};

QTEST_GUILESS_MAIN(TestPackages)
#include "tst_packages.moc"

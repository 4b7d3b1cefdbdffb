#include "packages/installcommand.h"
#include "packages/package.h"
#include "packages/packageinspection.h"
#include "packages/sha256.h"
#include "packages/vendorpackage.h"
#include "sandboxfixture.h"

#include <QSettings>
#include <QTemporaryDir>
#include <QtTest>

using namespace ft;
using fixture::runTool;


namespace {

void put16(QByteArray &data, qsizetype at, quint16 value)
{
    data[at] = char(value & 0xff);
    data[at + 1] = char(value >> 8);
}
void put32(QByteArray &data, qsizetype at, quint32 value)
{
    put16(data, at, quint16(value & 0xffff));
    put16(data, at + 2, quint16(value >> 16));
}
void pad4(QByteArray &data)
{
    while (data.size() % 4)
        data.append('\0');
}
QByteArray utf16z(const QString &text)
{
    QByteArray bytes(reinterpret_cast<const char *>(text.utf16()), text.size() * 2);
    return bytes + QByteArray(2, '\0');
}

// One VS_VERSIONINFO block: wLength, wValueLength, wType, szKey, padding, value, children.
QByteArray versionBlock(const QString &key, const QByteArray &value, quint16 valueLength, quint16 type,
                        const QList<QByteArray> &children = {})
{
    QByteArray block(6, '\0');
    block += utf16z(key);
    pad4(block);
    block += value;
    for (const QByteArray &child : children) {
        pad4(block);
        block += child;
    }
    put16(block, 0, quint16(block.size()));
    put16(block, 2, valueLength);
    put16(block, 4, type);
    return block;
}

QByteArray versionString(const QString &key, const QString &value)
{
    return versionBlock(key, utf16z(value), quint16(value.size() + 1), 1);
}

// A minimal PE32 file whose only section holds a resource tree with RT_VERSION, as the
// Windows resource compiler lays it out. No toolchain for Windows is needed.
QByteArray peWithVersion(const QString &productName, const QString &productVersion, const QString &company)
{
    QByteArray fixed(52, '\0');
    put32(fixed, 0, 0xfeef04bd);
    const QByteArray info = versionBlock(
        QStringLiteral("VS_VERSION_INFO"), fixed, 52, 0,
        {versionBlock(QStringLiteral("StringFileInfo"), {}, 0, 1,
                      {versionBlock(QStringLiteral("040904b0"), {}, 0, 1,
                                    {versionString(QStringLiteral("CompanyName"), company),
                                     versionString(QStringLiteral("ProductName"), productName),
                                     versionString(QStringLiteral("ProductVersion"), productVersion)})}),
         versionBlock(QStringLiteral("VarFileInfo"), {}, 0, 1)});
    const quint32 rva = 0x1000;
    QByteArray resources(0x58, '\0');
    put16(resources, 0x0e, 1);                      // root: one id entry
    put32(resources, 0x10, 16);                     // RT_VERSION
    put32(resources, 0x14, 0x80000000u | 0x18);     // → subdirectory
    put16(resources, 0x18 + 0x0e, 1);
    put32(resources, 0x18 + 0x10, 1);               // name id 1
    put32(resources, 0x18 + 0x14, 0x80000000u | 0x30);
    put16(resources, 0x30 + 0x0e, 1);
    put32(resources, 0x30 + 0x10, 0x409);           // language
    put32(resources, 0x30 + 0x14, 0x48);            // → data entry
    put32(resources, 0x48, rva + 0x58);
    put32(resources, 0x4c, quint32(info.size()));
    resources += info;
    pad4(resources);

    QByteArray file(0x200, '\0');
    file[0] = 'M';
    file[1] = 'Z';
    put32(file, 0x3c, 0x40);
    file.replace(0x40, 4, QByteArray("PE\0\0", 4));
    const int coff = 0x44;
    put16(file, coff, 0x14c);
    put16(file, coff + 2, 1);      // one section
    put16(file, coff + 16, 224);   // optional header size
    const int optional = coff + 20;
    put16(file, optional, 0x10b);  // PE32
    put32(file, optional + 92, 16);
    put32(file, optional + 96 + 2 * 8, rva);
    put32(file, optional + 96 + 2 * 8 + 4, quint32(resources.size()));
    const int section = optional + 224;
    file.replace(section, 5, QByteArray(".rsrc"));
    put32(file, section + 8, quint32(resources.size()));
    put32(file, section + 12, rva);
    put32(file, section + 16, quint32(resources.size()));
    put32(file, section + 20, 0x200);
    return file + resources;
}

} // namespace

class TestVendorPackages : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;

    // ftsandbox make-package --format F: the real dpkg-deb, rpmbuild or wixl.
    QString make(const QString &format, const QString &name, const QString &version = QStringLiteral("6.3.0-1500"),
                 const QString &mode = QStringLiteral("normal"), const QString &component = QStringLiteral("server"))
    {
        const QString file = m_dir.filePath(name);
        if (!runTool(QStringLiteral("ftsandbox"),
                     {QStringLiteral("make-package"), QStringLiteral("--format"), format, QStringLiteral("--version"), version,
                      QStringLiteral("--component"), component, QStringLiteral("--mode"), mode, QStringLiteral("-o"), file}))
            return {};
        return file;
    }

    QString copyAs(const QString &source, const QString &name)
    {
        const QString target = m_dir.filePath(name);
        QFile::remove(target);
        return QFile::copy(source, target) ? target : QString();
    }

    QString truncated(const QString &source, const QString &name)
    {
        const QString target = copyAs(source, name);
        QFile file(target);
        if (!file.open(QIODevice::ReadWrite) || !file.resize(file.size() / 2))
            return {};
        return target;
    }

    static Expected<PackageChoice> inspect(const QString &path, Component slot, const TypedFacts &typed = {},
                                           bool *needsVersion = nullptr)
    {
        PackageInspectJob job;
        job.setPath(path);
        job.setSlot(slot);
        job.setTypedFacts(typed);
        QSignalSpy spy(&job, &PackageInspectJob::finished);
        job.start();
        if (!spy.wait(30000))
            return makeError(QStringLiteral("inspection did not finish"));
        if (needsVersion)
            *needsVersion = job.needsTypedVersion();
        if (job.hasError())
            return makeError(job.errorString());
        return job.choice();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        if (!QFile::exists(fixture::tool(QStringLiteral("ftsandbox"))))
            QSKIP("ftsandbox is not built");
        for (const char *program : {"dpkg-deb", "rpmbuild", "wixl"}) {
            if (QStandardPaths::findExecutable(QLatin1String(program)).isEmpty())
                QFAIL(qPrintable(QStringLiteral("%1 is missing: install .ci/packages.txt").arg(QLatin1String(program))));
        }
    }

    void formatsByName_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("format");
        QTest::addColumn<QString>("os");
        QTest::newRow("msi") << "FlowTraq-Server.MSI" << "msi" << "windows";
        QTest::newRow("exe") << "setup.exe" << "exe" << "windows";
        QTest::newRow("rpm") << "a.rpm" << "rpm" << "linux";
        QTest::newRow("deb") << "a.deb" << "deb" << "linux";
        QTest::newRow("sh") << "a.sh" << "sh" << "linux";
        QTest::newRow("bin") << "a.bin" << "sh" << "linux";
        QTest::newRow("run") << "a.run" << "sh" << "linux";
        QTest::newRow("ftpkg") << "a.ftpkg" << "ftpkg" << "any";
        QTest::newRow("zip") << "a.zip" << "" << "";
    }

    void formatsByName()
    {
        QFETCH(QString, name);
        QFETCH(QString, format);
        QFETCH(QString, os);
        const auto found = packageFormatOf(name);
        QCOMPARE(found.has_value(), !format.isEmpty());
        if (found) {
            QCOMPARE(toString(*found), format);
            QCOMPARE(osOf(*found), os);
        }
    }

    void fileNames_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("version");
        QTest::addColumn<QString>("component");
        QTest::newRow("dash build") << "flowtraq-server-6.3.0-1500.msi" << "6.3.0-1500" << "server";
        QTest::newRow("underscore") << "FlowTraq_NBI_6.3.0_1500.rpm" << "6.3.0-1500" << "nbi";
        QTest::newRow("web ui") << "flowtraq-webui-6.3.1.deb" << "6.3.1" << "webui";
        QTest::newRow("four part") << "FlowTraqServer.6.3.0.1500.exe" << "6.3.0-1500" << "";
        QTest::newRow("build word") << "FlowTraq Server 6.3 build 77.bin" << "6.3-77" << "server";
        QTest::newRow("nothing") << "installer.sh" << "" << "";
        QTest::newRow("architecture digits are not a version") << "flowtraq-x86_64.run" << "" << "";
    }

    void fileNames()
    {
        QFETCH(QString, name);
        QFETCH(QString, version);
        QFETCH(QString, component);
        const FileNameFacts facts = readFileName(name);
        QCOMPARE(facts.version ? facts.version->toString() : QString(), version);
        QCOMPARE(facts.component ? toString(*facts.component) : QString(), component);
    }

    void debFromDpkgDeb()
    {
        const QString deb = make(QStringLiteral("deb"), QStringLiteral("flowtraq-server-6.3.0-1500.deb"));
        QVERIFY(!deb.isEmpty());
        const auto metadata = DebReader::read(deb);
        QVERIFY2(metadata, qPrintable(metadata.error()));
        QCOMPARE(metadata->productName, QStringLiteral("flowtraq-server"));
        QCOMPARE(metadata->version, QStringLiteral("6.3.0-1500"));
        QCOMPARE(metadata->architecture, QStringLiteral("all"));
        QVERIFY(verifyVendorPackage(deb));

        const auto choice = inspect(deb, Component::Server);
        QVERIFY2(choice, qPrintable(choice.error()));
        QCOMPARE(choice->format, QStringLiteral("deb"));
        QCOMPARE(choice->os, QStringLiteral("linux"));
        QCOMPARE(choice->version.toString(), QStringLiteral("6.3.0-1500"));
        QCOMPARE(choice->versionSource, QStringLiteral("from the deb control file"));
        QCOMPARE(choice->componentSource, QStringLiteral("from the deb control file"));
        QCOMPARE(choice->size, QFileInfo(deb).size());
        QCOMPARE(choice->sha256.toLatin1(), *sha256OfFile(deb));
        // Its own check and its hash are two reads: staging checks it again.
        QVERIFY(!choice->contentsChecked);
    }

    void rpmFromRpmbuild()
    {
        const QString rpm = make(QStringLiteral("rpm"), QStringLiteral("flowtraq-nbi.rpm"), QStringLiteral("6.3.0-1500"),
                                 QStringLiteral("normal"), QStringLiteral("nbi"));
        QVERIFY(!rpm.isEmpty());
        const auto metadata = RpmReader::read(rpm);
        QVERIFY2(metadata, qPrintable(metadata.error()));
        QCOMPARE(metadata->productName, QStringLiteral("flowtraq-nbi"));
        QCOMPARE(metadata->version, QStringLiteral("6.3.0-1500"));
        QCOMPARE(metadata->manufacturer, QStringLiteral("FlowTraq sandbox"));
        // No version in the file name: the RPM header names both facts.
        const auto choice = inspect(rpm, Component::Nbi);
        QVERIFY2(choice, qPrintable(choice.error()));
        QCOMPARE(choice->version.toString(), QStringLiteral("6.3.0-1500"));
        QCOMPARE(choice->versionSource, QStringLiteral("from the RPM header"));
        QVERIFY(choice->component == Component::Nbi);
    }

    void msiFromWixl()
    {
        const QString msi = make(QStringLiteral("msi"), QStringLiteral("FlowTraqServer.msi"));
        QVERIFY(!msi.isEmpty());
        const auto metadata = MsiReader::read(msi);
        QVERIFY2(metadata, qPrintable(metadata.error()));
        QCOMPARE(metadata->productName, QStringLiteral("FlowTraq Server"));
        QCOMPARE(metadata->version, QStringLiteral("6.3.0.1500"));
        QCOMPARE(metadata->manufacturer, QStringLiteral("FlowTraq sandbox"));
        const auto choice = inspect(msi, Component::Server);
        QVERIFY2(choice, qPrintable(choice.error()));
        QCOMPARE(choice->os, QStringLiteral("windows"));
        QCOMPARE(choice->version.toString(), QStringLiteral("6.3.0-1500"));
        QCOMPARE(choice->versionSource, QStringLiteral("from the MSI"));
        QCOMPARE(choice->productName, QStringLiteral("FlowTraq Server"));
        // The wrong slot is refused by what the MSI says.
        const auto wrongSlot = inspect(msi, Component::Nbi);
        QVERIFY(!wrongSlot);
        QVERIFY2(wrongSlot.error().contains(QStringLiteral("Server package")), qPrintable(wrongSlot.error()));
    }

    void selfExtractingNeedsNameOrTyping()
    {
        const QString sh = make(QStringLiteral("sh"), QStringLiteral("installer.sh"));
        QVERIFY(!sh.isEmpty());
        bool needsVersion = false;
        const auto untyped = inspect(sh, Component::Server, {}, &needsVersion);
        QVERIFY(!untyped);
        QVERIFY(needsVersion);
        QCOMPARE(untyped.error(), missingVersionSentence(QStringLiteral("installer.sh")));

        const auto typed = inspect(sh, Component::Server, {QStringLiteral("6.3.0-1500"), std::nullopt});
        QVERIFY2(typed, qPrintable(typed.error()));
        QCOMPARE(typed->versionSource, QStringLiteral("typed by you"));
        QCOMPARE(typed->componentSource, QStringLiteral("chosen by you (the slot you picked it for)"));

        const QString named = copyAs(sh, QStringLiteral("flowtraq-server-6.3.0-1500.sh"));
        const auto fromName = inspect(named, Component::Server);
        QVERIFY2(fromName, qPrintable(fromName.error()));
        QCOMPARE(fromName->versionSource, QStringLiteral("from the file name"));
        QCOMPARE(fromName->componentSource, QStringLiteral("from the file name"));

        const auto badTyping = inspect(sh, Component::Server, {QStringLiteral("latest"), std::nullopt});
        QVERIFY(!badTyping);
        QVERIFY(badTyping.error().contains(QStringLiteral("is not a version")));
    }

    // Metadata that disagrees with the file name: refused with one sentence.
    void metadataDisagreesWithFileName_data()
    {
        QTest::addColumn<QString>("format");
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("sentence");
        QTest::newRow("deb version") << "deb" << "flowtraq-server-6.4.0-1.deb" << "its file name says version 6.4.0-1, but from the deb control file it is version 6.3.0-1500";
        QTest::newRow("msi version") << "msi" << "FlowTraq-Server-7.0.0.msi" << "its file name says version 7.0.0, but from the MSI it is version 6.3.0-1500";
        QTest::newRow("rpm component") << "rpm" << "flowtraq-webui-6.3.0-1500.rpm" << "its file name says it is the Web UI, but from the RPM header it is the FlowTraq Server";
    }

    void metadataDisagreesWithFileName()
    {
        QFETCH(QString, format);
        QFETCH(QString, name);
        QFETCH(QString, sentence);
        const QString made = make(format, QStringLiteral("made.") + format);
        QVERIFY(!made.isEmpty());
        const QString renamed = copyAs(made, name);
        const auto choice = inspect(renamed, Component::Server);
        QVERIFY(!choice);
        QVERIFY2(choice.error().contains(sentence), qPrintable(choice.error()));
        QVERIFY(choice.error().contains(QStringLiteral("refused")));
    }

    void badFiles_data()
    {
        QTest::addColumn<QString>("format");
        QTest::addColumn<QString>("damage");
        QTest::addColumn<QString>("sentence");
        QTest::newRow("deb truncated") << "deb" << "truncate" << "";
        QTest::newRow("deb corrupt payload") << "deb" << "corrupt" << "does not match its md5sums";
        QTest::newRow("rpm truncated") << "rpm" << "truncate" << "RPM package";
        QTest::newRow("msi truncated") << "msi" << "truncate" << "";
        QTest::newRow("deb that is text") << "deb" << "text" << "not a readable Debian package";
        QTest::newRow("msi that is text") << "msi" << "text" << "not a readable Windows Installer package";
        QTest::newRow("rpm that is text") << "rpm" << "text" << "not an RPM package";
        QTest::newRow("exe that is text") << "exe" << "text" << "not a Windows program";
        QTest::newRow("exe truncated PE") << "exe" << "mz" << "not a Windows program";
    }

    void badFiles()
    {
        QFETCH(QString, format);
        QFETCH(QString, damage);
        QFETCH(QString, sentence);
        QString path;
        const QString name = QStringLiteral("flowtraq-server-6.3.0-1500-%1.%2").arg(damage, format);
        if (damage == QLatin1String("text") || damage == QLatin1String("mz")) {
            path = m_dir.filePath(name);
            QFile file(path);
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write(damage == QLatin1String("mz") ? QByteArray("MZ\0\0\0\0", 6) + QByteArray(58, 'x') + QByteArray("\xf0\xff\xff\x7f", 4)
                                                     : QByteArray("this is not a package\n"));
        } else if (damage == QLatin1String("corrupt")) {
            path = make(format, name, QStringLiteral("6.3.0-1500"), QStringLiteral("corrupt"));
        } else {
            path = truncated(make(format, QStringLiteral("whole.") + format), name);
        }
        QVERIFY(!path.isEmpty());
        const auto choice = inspect(path, Component::Server);
        QVERIFY2(!choice, "a damaged file was accepted");
        QVERIFY2(choice.error().contains(QFileInfo(path).fileName()), qPrintable(choice.error()));
        if (!sentence.isEmpty())
            QVERIFY2(choice.error().contains(sentence), qPrintable(choice.error()));
    }

    // The .exe's version resource, read by the bounds-checked PE reader.
    void exeVersionResource()
    {
        const QString exe = m_dir.filePath(QStringLiteral("FlowTraqSetup.exe"));
        QFile file(exe);
        QVERIFY(file.open(QIODevice::WriteOnly));
        const QByteArray pe = peWithVersion(QStringLiteral("FlowTraq Server"), QStringLiteral("6.3.0.1500"),
                                            QStringLiteral("ProQueSys"));
        file.write(pe);
        file.close();
        const auto metadata = ExeReader::read(exe);
        QVERIFY2(metadata, qPrintable(metadata.error()));
        QCOMPARE(metadata->productName, QStringLiteral("FlowTraq Server"));
        QCOMPARE(metadata->version, QStringLiteral("6.3.0.1500"));
        QCOMPARE(metadata->manufacturer, QStringLiteral("ProQueSys"));
        const auto choice = inspect(exe, Component::Server);
        QVERIFY2(choice, qPrintable(choice.error()));
        QCOMPARE(choice->version.toString(), QStringLiteral("6.3.0-1500"));
        QCOMPARE(choice->versionSource, QStringLiteral("from the program's version resource"));
        QCOMPARE(choice->os, QStringLiteral("windows"));

        // Cut anywhere inside the headers or the resource tree: refused or silent, never
        // a read past the end.
        for (int cut : {0x50, 0x120, 0x210, 0x260, int(pe.size()) - 8}) {
            const QString cutPath = m_dir.filePath(QStringLiteral("cut-%1.exe").arg(cut));
            QFile cutFile(cutPath);
            QVERIFY(cutFile.open(QIODevice::WriteOnly));
            cutFile.write(pe.left(cut));
            cutFile.close();
            const auto cutRead = ExeReader::read(cutPath);
            QVERIFY2(!cutRead || cutRead->version.isEmpty(), qPrintable(QString::number(cut)));
        }
    }

    void unknownExtensionRefused()
    {
        const QString path = m_dir.filePath(QStringLiteral("flowtraq-server-6.3.0.zip"));
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("zip");
        file.close();
        const auto choice = inspect(path, Component::Server);
        QVERIFY(!choice);
        QVERIFY(choice.error().contains(QStringLiteral(".msi or .exe (Windows)")));
    }

    void installCommands()
    {
        QCOMPARE(defaultInstallCommand(PackageFormat::Msi, false), QStringLiteral("msiexec /i {package} /qn /norestart /l*v {log}"));
        QCOMPARE(defaultInstallCommand(PackageFormat::Rpm, false), QStringLiteral("rpm -U {package}"));
        QVERIFY(defaultInstallCommand(PackageFormat::Deb, false).endsWith(QStringLiteral("-i {package}")));
        QVERIFY(commandNeedsSwitches(defaultInstallCommand(PackageFormat::Exe, false)));
        QVERIFY(commandNeedsSwitches(defaultInstallCommand(PackageFormat::SelfExtracting, false)));
        QVERIFY(!commandNeedsSwitches(defaultInstallCommand(PackageFormat::Msi, false)));

        InstallCommandValues values;
        values.package = QStringLiteral("/staging/a b.sh");
        values.log = QStringLiteral("/logs/x.log");
        values.switches = {QStringLiteral("--unattended"), QStringLiteral("--prefix=/opt/flow traq; rm -rf /")};
        const auto command = expandInstallCommand(QStringLiteral("/bin/sh {package} {switches} --log={log}"), values);
        QVERIFY(command);
        // Every value stays one argument: nothing typed can add one.
        QCOMPARE(*command, (QStringList{QStringLiteral("/bin/sh"), QStringLiteral("/staging/a b.sh"), QStringLiteral("--unattended"),
                                        QStringLiteral("--prefix=/opt/flow traq; rm -rf /"), QStringLiteral("--log=/logs/x.log")}));
        QVERIFY(!expandInstallCommand(QStringLiteral("   "), values));
        QCOMPARE(msiexecExitMeaning(3010), QStringLiteral("success; a restart is required to finish"));
        QCOMPARE(msiexecExitMeaning(1641), QStringLiteral("success; the installer started a restart"));
        QCOMPARE(installerExitCodeFromStatus(1641 & 0xff), 1641);
    }

    void switchesRememberedPerPattern()
    {
        QSettings settings(m_dir.filePath(QStringLiteral("switches.ini")), QSettings::IniFormat);
        InstallerSwitchMemory memory(&settings);
        QCOMPARE(InstallerSwitchMemory::patternOf(QStringLiteral("flowtraq-server-6.3.0-1500.sh")),
                 QStringLiteral("flowtraq-server-*.*.*-*.sh"));
        memory.remember(QStringLiteral("flowtraq-server-6.3.0-1500.sh"), QStringLiteral(" --unattended --install-dir {install} "));
        // The next version's file gets them again; another product's does not.
        QCOMPARE(memory.recall(QStringLiteral("flowtraq-server-6.4.1-1620.sh")), QStringLiteral("--unattended --install-dir {install}"));
        QCOMPARE(memory.recall(QStringLiteral("flowtraq-nbi-6.4.1-1620.sh")), QString());
        memory.remember(QStringLiteral("flowtraq-server-6.3.0-1500.sh"), QString());
        QCOMPARE(memory.recall(QStringLiteral("flowtraq-server-6.4.1-1620.sh")), QString());
    }
};

QTEST_GUILESS_MAIN(TestVendorPackages)
#include "tst_vendorpackages.moc"

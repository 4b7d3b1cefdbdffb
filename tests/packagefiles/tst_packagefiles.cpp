#include "sandboxfixture.h"

#include "agentlink/baselinejob.h"
#include "packages/vendorpackage.h"

#include <QTemporaryDir>
#include <QtTest>

using namespace ft;

namespace {

// Runs a system tool; its standard output, or a null array when it failed.
QByteArray systemTool(const QString &program, const QStringList &arguments)
{
    QProcess process;
    process.start(program, arguments);
    if (!process.waitForFinished(60000) || process.exitStatus() != QProcess::NormalExit || process.exitCode() != 0)
        return {};
    return process.readAllStandardOutput();
}

QStringList lines(const QByteArray &text)
{
    QStringList result;
    for (const QByteArray &line : text.split('\n')) {
        if (!line.trimmed().isEmpty())
            result.append(QString::fromUtf8(line).trimmed());
    }
    return result;
}

} // namespace

class TestPackageFiles : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;

    QString make(const QString &format, const QString &name, const QString &component = QStringLiteral("server"))
    {
        const QString file = m_dir.filePath(name);
        if (!fixture::runTool(QStringLiteral("ftsandbox"),
                              {QStringLiteral("make-package"), QStringLiteral("--format"), format, QStringLiteral("--version"),
                               QStringLiteral("6.3.0-1500"), QStringLiteral("--component"), component,
                               QStringLiteral("--webui-files"), QStringLiteral("25"), QStringLiteral("-o"), file}))
            return {};
        return file;
    }

    // What the format's own tool lists, as paths without a leading "/" or "./".
    static QStringList listedByTool(const QString &format, const QString &file)
    {
        QStringList listed;
        if (format == QLatin1String("deb")) {
            // dpkg-deb's own view of data.tar: "./opt/…" entries, folders ending in "/".
            QProcess dpkg;
            QProcess tar;
            dpkg.setStandardOutputProcess(&tar);
            dpkg.start(QStringLiteral("dpkg-deb"), {QStringLiteral("--fsys-tarfile"), file});
            tar.start(QStringLiteral("tar"), {QStringLiteral("-t")});
            dpkg.waitForFinished(60000);
            tar.waitForFinished(60000);
            for (QString line : lines(tar.readAllStandardOutput())) {
                if (line.endsWith(QLatin1Char('/')))
                    continue;
                while (line.startsWith(QLatin1String("./")))
                    line.remove(0, 2);
                listed.append(line);
            }
        } else if (format == QLatin1String("rpm")) {
            for (QString line : lines(systemTool(QStringLiteral("rpm"), {QStringLiteral("-qlp"), QStringLiteral("--nosignature"), file})))
                listed.append(line.remove(0, 1));
        } else if (format == QLatin1String("msi")) {
            listed = lines(systemTool(QStringLiteral("msiextract"), {QStringLiteral("--list"), file}));
        }
        listed.sort();
        return listed;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        if (!QFile::exists(fixture::tool(QStringLiteral("ftsandbox"))))
            QSKIP("ftsandbox is not built");
        for (const char *program : {"dpkg-deb", "rpmbuild", "rpm", "wixl", "msiextract", "tar"}) {
            if (QStandardPaths::findExecutable(QLatin1String(program)).isEmpty())
                QFAIL(qPrintable(QStringLiteral("%1 is missing: install .ci/packages.txt").arg(QLatin1String(program))));
        }
    }

    void sameListAsTheFormatsOwnTool_data()
    {
        QTest::addColumn<QString>("format");
        QTest::addColumn<QString>("name");
        QTest::newRow("deb") << QStringLiteral("deb") << QStringLiteral("flowtraq-server_6.3.0-1500_all.deb");
        QTest::newRow("rpm") << QStringLiteral("rpm") << QStringLiteral("flowtraq-server-6.3.0-1500.noarch.rpm");
        QTest::newRow("msi") << QStringLiteral("msi") << QStringLiteral("FlowTraq-Server-6.3.0.1500.msi");
    }

    void sameListAsTheFormatsOwnTool()
    {
        QFETCH(QString, format);
        QFETCH(QString, name);
        const QString file = make(format, name);
        QVERIFY(!file.isEmpty());
        const auto read = packageFileList(file);
        QVERIFY2(read, qPrintable(read.error()));
        const QStringList expected = listedByTool(format, file);
        QVERIFY2(expected.size() >= 2, qPrintable(expected.join(QLatin1Char(' '))));
        QCOMPARE(*read, expected);

        // Relative to the folder every file shares, as a baseline's paths are.
        const auto relative = webUiFilesOfPackage(file);
        QVERIFY2(relative, qPrintable(relative.error()));
        QCOMPARE(relative->size(), expected.size());
        for (int i = 0; i < expected.size(); ++i) {
            QVERIFY2(expected.at(i) == relative->at(i) || expected.at(i).endsWith(QLatin1Char('/') + relative->at(i)),
                     qPrintable(relative->at(i)));
            QVERIFY(!relative->at(i).startsWith(QLatin1Char('/')));
        }
    }

    // The sandbox's own .ftpkg: its Web UI payload, as before.
    void ftpkgWebUi()
    {
        const QString file = make(QStringLiteral("ftpkg"), QStringLiteral("webui-6.3.0-1500.ftpkg"), QStringLiteral("webui"));
        QVERIFY(!file.isEmpty());
        const auto files = webUiFilesOfPackage(file);
        QVERIFY2(files, qPrintable(files.error()));
        QCOMPARE(files->size(), 25);
        QVERIFY(!files->contains(QStringLiteral("VERSION")));
    }

    // Bad input: one sentence, no list.
    void unreadable()
    {
        const QString sh = make(QStringLiteral("sh"), QStringLiteral("flowtraq-server-6.3.0-1500.sh"));
        QVERIFY(!sh.isEmpty());
        const auto program = packageFileList(sh);
        QVERIFY(!program);
        QVERIFY2(program.error().contains(QStringLiteral("does not list its files")), qPrintable(program.error()));

        const QString fake = m_dir.filePath(QStringLiteral("not-really.deb"));
        QFile out(fake);
        QVERIFY(out.open(QIODevice::WriteOnly));
        out.write("this is no Debian package");
        out.close();
        const auto broken = packageFileList(fake);
        QVERIFY(!broken);
        QVERIFY2(broken.error().contains(QStringLiteral("not-really.deb")), qPrintable(broken.error()));
        for (const QString &name : {QStringLiteral("not-really.rpm"), QStringLiteral("not-really.msi")}) {
            QVERIFY(QFile::copy(fake, m_dir.filePath(name)));
            const auto refused = packageFileList(m_dir.filePath(name));
            QVERIFY(!refused);
            QVERIFY2(refused.error().contains(name), qPrintable(refused.error()));
        }
    }
};

QTEST_GUILESS_MAIN(TestPackageFiles)
#include "tst_packagefiles.moc"

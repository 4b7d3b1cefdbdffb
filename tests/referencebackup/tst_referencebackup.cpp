#include "guard/referencebackup.h"

#include <archive.h>
#include <archive_entry.h>

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QMap>
#include <QProcess>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QTimeZone>

using namespace ft;

namespace {

// Reads an archive back with libarchive's reader (not the code under test): path → bytes.
QMap<QString, QByteArray> readArchive(const QString &path, QString *error)
{
    QMap<QString, QByteArray> entries;
    struct archive *a = archive_read_new();
    archive_read_support_format_all(a);
    archive_read_support_filter_all(a);
    if (archive_read_open_filename(a, QFile::encodeName(path).constData(), 65536) != ARCHIVE_OK) {
        *error = QString::fromUtf8(archive_error_string(a));
        archive_read_free(a);
        return entries;
    }
    struct archive_entry *entry = nullptr;
    while (archive_read_next_header(a, &entry) == ARCHIVE_OK) {
        const char *utf8 = archive_entry_pathname_utf8(entry);
        const QString name = utf8 ? QString::fromUtf8(utf8)
                                  : QString::fromLocal8Bit(archive_entry_pathname(entry));
        QByteArray data;
        char buffer[65536];
        la_ssize_t n = 0;
        while ((n = archive_read_data(a, buffer, sizeof buffer)) > 0)
            data.append(buffer, n);
        if (n < 0)
            *error = QString::fromUtf8(archive_error_string(a));
        entries.insert(name, data);
    }
    archive_read_free(a);
    return entries;
}

QByteArray sha256Hex(const QByteArray &data)
{
    return QCryptographicHash::hash(data, QCryptographicHash::Sha256).toHex();
}

} // namespace

class TestReferenceBackup : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void roundTrip_data();
    void roundTrip();
    void unzipListsTheArchive();
    void refusesToOverwriteUnlessTold();
    void badInputChangesNothing_data();
    void badInputChangesNothing();
    void unreadableSourceLeavesNoArchive();
    void readmeNameAvoidsACustomizedReadme();
    void jobFinishesOnceAndLater();

private:
    QList<BackupFile> sampleFiles();
    BackupInfo sampleInfo() const;

    std::unique_ptr<QTemporaryDir> m_dir;
    QByteArray m_bigContent;
};

void TestReferenceBackup::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
}

QList<BackupFile> TestReferenceBackup::sampleFiles()
{
    // A copy fetched from the node, larger than the writer's 1 MiB block.
    m_bigContent.clear();
    for (int i = 0; m_bigContent.size() < 3 * 1024 * 1024 + 17; ++i)
        m_bigContent += "/* bundle line " + QByteArray::number(i) + " */\n";
    const QString fetched = m_dir->filePath(QStringLiteral("fetched-app.js"));
    QFile file(fetched);
    if (file.open(QIODevice::WriteOnly))
        file.write(m_bigContent);
    file.close();

    BackupFile css{QStringLiteral("css/site.css"),
                   FileManifest::Change::Modified,
                   QByteArray("body { background: #c0ffee; }\n"),
                   {}};
    BackupFile logo{QStringLiteral("img/logo-ü.svg"),
                    FileManifest::Change::Added,
                    QByteArray("<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n"),
                    {}};
    BackupFile app{QStringLiteral("js/app.js"), FileManifest::Change::Modified, {}, fetched};
    BackupFile gone{QStringLiteral("help/old.html"), FileManifest::Change::Deleted, {}, {}};
    return {css, logo, app, gone};
}

BackupInfo TestReferenceBackup::sampleInfo() const
{
    BackupInfo info;
    info.node = QStringLiteral("portal-01");
    info.webUiVersion = QStringLiteral("8.3.2");
    info.targetVersion = QStringLiteral("8.4.0");
    info.createdAt = QDateTime(QDate(2026, 11, 27), QTime(9, 15), QTimeZone::utc());
    return info;
}

void TestReferenceBackup::roundTrip_data()
{
    QTest::addColumn<QString>("name");
    QTest::newRow("zip") << QStringLiteral("webui-customizations.zip");
    QTest::newRow("tar.gz") << QStringLiteral("webui-customizations.tar.gz");
    QTest::newRow("tgz, upper case") << QStringLiteral("WEBUI.TGZ");
}

void TestReferenceBackup::roundTrip()
{
    QFETCH(QString, name);
    const QString path = m_dir->filePath(name);
    const QList<BackupFile> files = sampleFiles();
    const Result result = writeReferenceBackup(path, files, sampleInfo());
    QVERIFY2(result, qPrintable(result ? QString() : result.error()));

    QString error;
    const QMap<QString, QByteArray> entries = readArchive(path, &error);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    QCOMPARE(entries.keys(),
             (QStringList{QStringLiteral("README.txt"), QStringLiteral("css/site.css"),
                          QStringLiteral("img/logo-ü.svg"), QStringLiteral("js/app.js")}));
    QCOMPARE(entries.value(QStringLiteral("css/site.css")), files.at(0).content);
    QCOMPARE(entries.value(QStringLiteral("img/logo-ü.svg")), files.at(1).content);
    QCOMPARE(entries.value(QStringLiteral("js/app.js")), m_bigContent);

    const QString readme = QString::fromUtf8(entries.value(QStringLiteral("README.txt")));
    QVERIFY(readme.contains(QStringLiteral("portal-01")));
    QVERIFY(readme.contains(QStringLiteral("8.3.2")));
    QVERIFY(readme.contains(QStringLiteral("8.4.0")));
    QVERIFY(readme.contains(QStringLiteral("2026-11-27T09:15:00Z")));
    QVERIFY(readme.contains(QStringLiteral("FOR REFERENCE ONLY")));
    QVERIFY(readme.contains(QStringLiteral("Do NOT copy these files back over the new")));
    const QStringList lines = readme.split(QStringLiteral("\r\n"));
    const auto lineFor = [&](const QString &path) {
        for (const QString &line : lines) {
            if (line.endsWith(QLatin1String("  ") + path))
                return line.simplified();
        }
        return QString();
    };
    QCOMPARE(lineFor(QStringLiteral("css/site.css")),
             QStringLiteral("modified %1 %2 css/site.css")
                     .arg(files.at(0).content.size())
                     .arg(QString::fromLatin1(sha256Hex(files.at(0).content))));
    QCOMPARE(lineFor(QStringLiteral("img/logo-ü.svg")),
             QStringLiteral("added %1 %2 img/logo-ü.svg")
                     .arg(files.at(1).content.size())
                     .arg(QString::fromLatin1(sha256Hex(files.at(1).content))));
    QCOMPARE(lineFor(QStringLiteral("js/app.js")),
             QStringLiteral("modified %1 %2 js/app.js")
                     .arg(m_bigContent.size())
                     .arg(QString::fromLatin1(sha256Hex(m_bigContent))));
    QCOMPARE(lineFor(QStringLiteral("help/old.html")), QStringLiteral("deleted - - help/old.html"));

    // Nothing but the archive (and the test's own fetched copy) is left in the folder.
    QStringList expectedFiles{name, QStringLiteral("fetched-app.js")};
    expectedFiles.sort();
    QStringList actualFiles = QDir(m_dir->path()).entryList(QDir::Files | QDir::Hidden);
    actualFiles.sort();
    QCOMPARE(actualFiles, expectedFiles);
}

void TestReferenceBackup::unzipListsTheArchive()
{
    const QString unzip = QStandardPaths::findExecutable(QStringLiteral("unzip"));
    if (unzip.isEmpty())
        QSKIP("unzip is not installed; the libarchive read-back covers the format");
    const QString path = m_dir->filePath(QStringLiteral("backup.zip"));
    QVERIFY(writeReferenceBackup(path, sampleFiles(), sampleInfo()));
    QProcess process;
    process.start(unzip, {QStringLiteral("-tq"), path});
    QVERIFY(process.waitForFinished(30000));
    QCOMPARE(process.exitCode(), 0);
    process.start(unzip, {QStringLiteral("-Z1"), path});
    QVERIFY(process.waitForFinished(30000));
    const QStringList names = QString::fromUtf8(process.readAllStandardOutput())
                                      .split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QCOMPARE(names.size(), 4);
    QVERIFY(names.contains(QStringLiteral("README.txt")));
    QVERIFY(names.contains(QStringLiteral("img/logo-ü.svg")));
}

void TestReferenceBackup::refusesToOverwriteUnlessTold()
{
    const QString path = m_dir->filePath(QStringLiteral("backup.zip"));
    QFile existing(path);
    QVERIFY(existing.open(QIODevice::WriteOnly));
    existing.write("keep me");
    existing.close();

    BackupInfo info = sampleInfo();
    const Result refused = writeReferenceBackup(path, sampleFiles(), info);
    QVERIFY(!refused);
    QVERIFY2(refused.error().contains(QStringLiteral("already exists")),
             qPrintable(refused.error()));
    QVERIFY(existing.open(QIODevice::ReadOnly));
    QCOMPARE(existing.readAll(), QByteArray("keep me"));
    existing.close();

    info.overwrite = true;
    QVERIFY(writeReferenceBackup(path, sampleFiles(), info));
    QString error;
    QVERIFY(readArchive(path, &error).contains(QStringLiteral("README.txt")));
    QVERIFY(error.isEmpty());
}

void TestReferenceBackup::badInputChangesNothing_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("filePath");
    QTest::addColumn<QString>("expected");
    QTest::newRow("unknown extension") << QStringLiteral("backup.rar") << QStringLiteral("a.css")
                                       << QStringLiteral(".zip, .tar.gz or .tgz");
    QTest::newRow("missing folder") << QStringLiteral("no/such/folder/backup.zip")
                                    << QStringLiteral("a.css") << QStringLiteral("does not exist");
    QTest::newRow("parent path") << QStringLiteral("backup.zip")
                                 << QStringLiteral("../../etc/passwd")
                                 << QStringLiteral("must be relative");
    QTest::newRow("absolute path") << QStringLiteral("backup.zip") << QStringLiteral("/etc/passwd")
                                   << QStringLiteral("must be relative");
    QTest::newRow("drive path") << QStringLiteral("backup.tgz") << QStringLiteral("C:/x.css")
                                << QStringLiteral("must be relative");
    QTest::newRow("backslashes") << QStringLiteral("backup.zip") << QStringLiteral("css\\a.css")
                                 << QStringLiteral("must be relative");
    QTest::newRow("empty segment") << QStringLiteral("backup.zip") << QStringLiteral("css//a.css")
                                   << QStringLiteral("must be relative");
}

void TestReferenceBackup::badInputChangesNothing()
{
    QFETCH(QString, name);
    QFETCH(QString, filePath);
    QFETCH(QString, expected);
    const QString path = m_dir->filePath(name);
    const Result result = writeReferenceBackup(
            path, {BackupFile{filePath, FileManifest::Change::Modified, "x", {}}}, sampleInfo());
    QVERIFY(!result);
    QVERIFY2(result.error().contains(expected), qPrintable(result.error()));
    QVERIFY(QDir(m_dir->path()).isEmpty());
}

void TestReferenceBackup::unreadableSourceLeavesNoArchive()
{
    const QString path = m_dir->filePath(QStringLiteral("backup.tar.gz"));
    const QString missing = m_dir->filePath(QStringLiteral("not-fetched.js"));
    const Result result = writeReferenceBackup(
            path,
            {BackupFile{QStringLiteral("js/a.js"), FileManifest::Change::Modified, {}, missing}},
            sampleInfo());
    QVERIFY(!result);
    QVERIFY2(result.error().contains(missing) && result.error().contains(QStringLiteral("js/a.js")),
             qPrintable(result.error()));
    QVERIFY2(QDir(m_dir->path()).isEmpty(), "no archive and no temporary file may be left");
}

void TestReferenceBackup::readmeNameAvoidsACustomizedReadme()
{
    const QString path = m_dir->filePath(QStringLiteral("backup.zip"));
    QVERIFY(writeReferenceBackup(
            path,
            {BackupFile{
                    QStringLiteral("README.txt"), FileManifest::Change::Added, "site notes", {}}},
            sampleInfo()));
    QString error;
    const auto entries = readArchive(path, &error);
    QCOMPARE(entries.value(QStringLiteral("README.txt")), QByteArray("site notes"));
    QVERIFY(entries.value(QStringLiteral("README-reference-backup.txt"))
                    .contains("FOR REFERENCE ONLY"));
}

void TestReferenceBackup::jobFinishesOnceAndLater()
{
    const QString path = m_dir->filePath(QStringLiteral("job.zip"));
    ReferenceBackupJob job(path, sampleFiles(), sampleInfo());
    QSignalSpy spy(&job, &ReferenceBackupJob::finished);
    job.start();
    QCOMPARE(spy.count(), 0); // never from inside start()
    QTRY_COMPARE(spy.count(), 1);
    QVERIFY2(job.error().isEmpty(), qPrintable(job.error()));
    QVERIFY(QFile::exists(path));

    ReferenceBackupJob again(path, sampleFiles(), sampleInfo());
    QSignalSpy againSpy(&again, &ReferenceBackupJob::finished);
    again.start();
    QTRY_COMPARE(againSpy.count(), 1);
    QVERIFY(again.error().contains(QStringLiteral("already exists")));
    QTest::qWait(50);
    QCOMPARE(spy.count(), 1);
}

QTEST_GUILESS_MAIN(TestReferenceBackup)
#include "tst_referencebackup.moc"

#include "packages/filemanifest.h"
#include "packages/sha256.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

using namespace ft;

// error() is only valid on a failure: evaluate the message only then.
#define FT_VERIFY_OK(expected) \
    do { \
        if (!(expected).has_value()) \
            QFAIL(qPrintable((expected).error())); \
    } while (false)

class TestFileManifest : public QObject
{
    Q_OBJECT

private:
    static void writeFile(const QString &path, const QByteArray &data)
    {
        QVERIFY(QDir().mkpath(QFileInfo(path).absolutePath()));
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        QCOMPARE(file.write(data), data.size());
    }
    static QByteArray hex(const QByteArray &data)
    {
        return QCryptographicHash::hash(data, QCryptographicHash::Sha256).toHex();
    }

private Q_SLOTS:
    void fileHash_data()
    {
        QTest::addColumn<QByteArray>("data");
        QTest::newRow("empty") << QByteArray();
        QTest::newRow("small") << QByteArray("abc");
        // Larger than one 1 MiB block, and not a multiple of it.
        QTest::newRow("three blocks") << QByteArray(3 * 1024 * 1024 - 17, 'x');
    }
    void fileHash()
    {
        QFETCH(QByteArray, data);
        QTemporaryDir dir;
        writeFile(dir.filePath("f"), data);
        const Expected<QByteArray> digest = ft::sha256OfFile(dir.filePath("f"));
        FT_VERIFY_OK(digest);
        QCOMPARE(*digest, hex(data));
        if (data == "abc")
            QCOMPARE(*digest, QByteArray("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    }

    void incrementalHashMatchesInAnyChunking()
    {
        QByteArray data(1024 * 1024 + 333, Qt::Uninitialized);
        for (qsizetype i = 0; i < data.size(); ++i)
            data[i] = char((i * 131) ^ (i >> 7));
        for (qsizetype chunk : {qsizetype(1), qsizetype(63), qsizetype(64), qsizetype(4096), data.size()}) {
            Sha256 hash;
            for (qsizetype offset = 0; offset < data.size(); offset += chunk)
                hash.addData(data.constData() + offset, std::min(chunk, data.size() - offset));
            QCOMPARE(hash.hexResult(), hex(data));
        }
        QCOMPARE(Sha256::hexHash(QByteArray()), hex(QByteArray()));
        qInfo() << "SHA-256 backend:" << Sha256::backend();
    }

    void sha256OfMissingFileIsAnError()
    {
        const Expected<QByteArray> digest = ft::sha256OfFile(QStringLiteral("/nonexistent/file"));
        QVERIFY(!digest);
        QVERIFY(digest.error().contains(QLatin1String("/nonexistent/file")));
    }

    void computeHashesEveryFileWithRelativeSortedPaths()
    {
        QTemporaryDir dir;
        const QList<std::pair<QString, QByteArray>> files{
            {QStringLiteral("index.html"), "<html></html>\n"},
            {QStringLiteral("css/site.css"), "body { color: red; }\n"},
            {QStringLiteral("help/Quick Start Guide.html"), "spaces\n"},
            {QStringLiteral("help/Überblick.html"), "non-ASCII\n"},
            {QStringLiteral("i18n/日本語.json"), "{}\n"},
            {QStringLiteral(".hidden"), "hidden files count too\n"},
            {QStringLiteral("VERSION"), "6.2.1\n"},
        };
        for (const auto &[path, data] : files)
            writeFile(dir.filePath(path), data);

        const Expected<FileManifest> manifest = FileManifest::compute(dir.path(), {QStringLiteral("VERSION")});
        FT_VERIFY_OK(manifest);
        QCOMPARE(manifest->entries().size(), files.size() - 1);
        QVERIFY(!manifest->find(QStringLiteral("VERSION")));
        for (const auto &[path, data] : files) {
            if (path == QLatin1String("VERSION"))
                continue;
            const auto entry = manifest->find(path);
            QVERIFY2(entry.has_value(), qPrintable(path));
            QCOMPARE(entry->sha256, hex(data));
            QCOMPARE(entry->size, qint64(data.size()));
        }
        QStringList paths;
        for (const ManifestEntry &entry : manifest->entries())
            paths.append(entry.path);
        QStringList sorted = paths;
        std::sort(sorted.begin(), sorted.end());
        QCOMPARE(paths, sorted);
    }

    void computeExcludesWholeFolders()
    {
        QTemporaryDir dir;
        writeFile(dir.filePath("a.txt"), "a");
        writeFile(dir.filePath("run/status.json"), "{}");
        writeFile(dir.filePath("runner/b.txt"), "b");
        const Expected<FileManifest> manifest = FileManifest::compute(dir.path(), {QStringLiteral("run/")});
        QVERIFY(manifest.has_value());
        QCOMPARE(manifest->size(), 2);
        QVERIFY(manifest->find(QStringLiteral("runner/b.txt")));
        QVERIFY(!manifest->find(QStringLiteral("run/status.json")));
    }

    void computeOfMissingFolderIsAnError()
    {
        QVERIFY(!FileManifest::compute(QStringLiteral("/nonexistent/folder")));
    }

    void writeAndReadRoundTrip()
    {
        QTemporaryDir dir;
        writeFile(dir.filePath("tree/one two.css"), "1");
        writeFile(dir.filePath("tree/ümlaut/ß.js"), "2");
        writeFile(dir.filePath("tree/back\\slash.txt"), "3");
        writeFile(dir.filePath("tree/new\nline.txt"), "4");
        const Expected<FileManifest> computed = FileManifest::compute(dir.filePath("tree"));
        QVERIFY(computed.has_value());
        QCOMPARE(computed->size(), 4);
        const QString path = dir.filePath("manifests/tree.sha256");
        const Result written = computed->write(path);
        FT_VERIFY_OK(written);

        const Expected<FileManifest> read = FileManifest::read(path);
        FT_VERIFY_OK(read);
        QCOMPARE(read->size(), computed->size());
        for (qsizetype i = 0; i < read->size(); ++i) {
            QCOMPARE(read->entries().at(i).path, computed->entries().at(i).path);
            QCOMPARE(read->entries().at(i).sha256, computed->entries().at(i).sha256);
            QCOMPARE(read->entries().at(i).size, qint64(-1)); // the format has no sizes
        }
        QVERIFY(read->compare(*computed).isEmpty());
    }

    void textMatchesSha256sum()
    {
        const QString sha256sum = QStandardPaths::findExecutable(QStringLiteral("sha256sum"));
        if (sha256sum.isEmpty())
            QSKIP("sha256sum is not installed");
        QTemporaryDir dir;
        const QStringList names{QStringLiteral("a b.txt"), QStringLiteral("é.txt"), QStringLiteral("z/x.js"),
                                QStringLiteral("back\\slash.txt")};
        for (const QString &name : names)
            writeFile(dir.filePath(name), name.toUtf8());
        const Expected<FileManifest> computed = FileManifest::compute(dir.path());
        QVERIFY(computed.has_value());
        QStringList sortedNames = names;
        std::sort(sortedNames.begin(), sortedNames.end());
        QProcess process;
        process.setWorkingDirectory(dir.path());
        process.start(sha256sum, sortedNames);
        QVERIFY(process.waitForFinished(10000));
        QCOMPARE(computed->toText(), process.readAllStandardOutput());
        // And what sha256sum wrote reads back to the same manifest.
        writeFile(dir.filePath("sums"), computed->toText());
        const Expected<FileManifest> read = FileManifest::read(dir.filePath("sums"));
        QVERIFY(read.has_value());
        QCOMPARE(read->find(QStringLiteral("back\\slash.txt"))->sha256, hex("back\\slash.txt"));
    }

    void readRejectsMalformedLines_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::newRow("no separator") << QByteArray(64, 'a') + "file\n";
        QTest::newRow("short digest") << QByteArray("abc  file\n");
        QTest::newRow("not hex") << QByteArray(64, 'g') + "  file\n";
        QTest::newRow("bad escape") << "\\" + QByteArray(64, 'a') + "  a\\qb\n";
    }
    void readRejectsMalformedLines()
    {
        QFETCH(QByteArray, text);
        QTemporaryDir dir;
        writeFile(dir.filePath("m"), text);
        const Expected<FileManifest> read = FileManifest::read(dir.filePath("m"));
        QVERIFY(!read);
        QVERIFY2(read.error().contains(QLatin1String("line 1")) || read.error().contains(QLatin1String("Line 1")),
                 qPrintable(read.error()));
    }

    void compareFindsModifiedAddedDeleted()
    {
        QTemporaryDir dir;
        writeFile(dir.filePath("tree/keep.css"), "same");
        writeFile(dir.filePath("tree/site.css"), "pristine");
        writeFile(dir.filePath("tree/help/old file.html"), "going away");
        const Expected<FileManifest> pristine = FileManifest::compute(dir.filePath("tree"));
        QVERIFY(pristine.has_value());

        writeFile(dir.filePath("tree/site.css"), "customized");
        QVERIFY(QFile::remove(dir.filePath("tree/help/old file.html")));
        writeFile(dir.filePath("tree/img/logo-acme.png"), "added");
        const Expected<FileManifest> actual = FileManifest::compute(dir.filePath("tree"));
        QVERIFY(actual.has_value());

        const QList<FileManifest::Change> changes = pristine->compare(*actual);
        QCOMPARE(changes.size(), 3);
        QCOMPARE(changes.at(0).path, QStringLiteral("help/old file.html"));
        QCOMPARE(changes.at(0).kind, FileManifest::Change::Deleted);
        QCOMPARE(changes.at(1).path, QStringLiteral("img/logo-acme.png"));
        QCOMPARE(changes.at(1).kind, FileManifest::Change::Added);
        QCOMPARE(changes.at(2).path, QStringLiteral("site.css"));
        QCOMPARE(changes.at(2).kind, FileManifest::Change::Modified);
        QVERIFY(pristine->compare(*pristine).isEmpty());
    }

    void manyFilesHashInParallel()
    {
        QTemporaryDir dir;
        for (int i = 0; i < 500; ++i)
            writeFile(dir.filePath(QStringLiteral("d%1/f%2.js").arg(i % 7).arg(i)), QByteArray::number(i));
        const Expected<FileManifest> manifest = FileManifest::compute(dir.path());
        QVERIFY(manifest.has_value());
        QCOMPARE(manifest->size(), 500);
        QCOMPARE(manifest->find(QStringLiteral("d3/f10.js"))->sha256, hex("10"));
    }
};

QTEST_GUILESS_MAIN(TestFileManifest)
#include "tst_filemanifest.moc"

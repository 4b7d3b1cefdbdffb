// Benchmark (BRIEF §6): hashing a Web UI tree with FileManifest::compute against
// `find … -print0 | xargs -0 sha256sum` on the same tree, in one run. Prints both
// throughputs and their ratio (budget: ≥ 0.8). Not a test: it never fails on timing,
// only when the two disagree about a file's hash.
//
//   bench_manifest [--files 20000] [--mean-kib 8] [--rounds 3] [--dir PARENT]

#include "packages/filemanifest.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QHash>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QThread>

#include <algorithm>
#include <cmath>
#include <cstdio>

using namespace ft;

namespace {

void say(const QString &text)
{
    std::fputs(qPrintable(text + QLatin1Char('\n')), stdout);
    std::fflush(stdout);
}

// A tree shaped like a Web UI: 100 files per folder, sizes spread around the mean
// (most small, a few large), with bytes that do not compress or repeat.
qint64 makeTree(const QString &root, int files, int meanKib)
{
    QRandomGenerator random(20261127);
    QByteArray block(1 << 20, Qt::Uninitialized);
    for (qsizetype i = 0; i < block.size(); i += 4)
        *reinterpret_cast<quint32 *>(block.data() + i) = random.generate();
    qint64 total = 0;
    for (int i = 0; i < files; ++i) {
        const QString folder = QStringLiteral("%1/dir%2/sub%3").arg(root).arg(i / 1000).arg((i / 100) % 10);
        if (i % 100 == 0)
            QDir().mkpath(folder);
        // Exponential-ish spread: mean ≈ meanKib, capped at 1 MiB.
        const double u = std::max(1e-6, random.generateDouble());
        const qint64 size = std::min<qint64>(block.size(), qint64(-std::log(u) * meanKib * 1024) + 1);
        QFile file(QStringLiteral("%1/file%2.js").arg(folder).arg(i));
        if (!file.open(QIODevice::WriteOnly)) {
            say(QStringLiteral("cannot write %1: %2").arg(file.fileName(), file.errorString()));
            return -1;
        }
        const qint64 offset = random.bounded(int(block.size() - size + 1));
        file.write(block.constData() + offset, size);
        total += size;
    }
    return total;
}

struct Timed
{
    double seconds = 0;
    QHash<QString, QByteArray> hashes;
    QString error;
};

Timed timeManifest(const QString &root)
{
    Timed result;
    QElapsedTimer timer;
    timer.start();
    const auto manifest = FileManifest::compute(root);
    result.seconds = double(timer.nsecsElapsed()) / 1e9;
    if (!manifest) {
        result.error = manifest.error();
        return result;
    }
    for (const ManifestEntry &entry : manifest->entries())
        result.hashes.insert(entry.path, entry.sha256);
    return result;
}

// `parallel`: one sha256sum per core (xargs -P), the fairest comparison for a
// hasher that uses every core; the plain pipe is what an administrator types.
Timed timeSha256sum(const QString &root, bool parallel = false)
{
    Timed result;
    QProcess process;
    process.setWorkingDirectory(root);
    QElapsedTimer timer;
    timer.start();
    process.start(QStringLiteral("/bin/sh"),
                  {QStringLiteral("-c"),
                   parallel ? QStringLiteral("find . -type f -print0 | xargs -0 -n 256 -P %1 sha256sum")
                                  .arg(QThread::idealThreadCount())
                            : QStringLiteral("find . -type f -print0 | xargs -0 sha256sum")});
    // A benchmark runs nothing else: blocking here is fine.
    if (!process.waitForFinished(-1) || process.exitCode() != 0) {
        result.error = QStringLiteral("sha256sum failed: %1").arg(QString::fromLocal8Bit(process.readAllStandardError()));
        return result;
    }
    result.seconds = double(timer.nsecsElapsed()) / 1e9;
    const QList<QByteArray> lines = process.readAllStandardOutput().split('\n');
    for (const QByteArray &line : lines) {
        if (line.size() < 67)
            continue;
        QString path = QString::fromUtf8(line.mid(66));
        if (path.startsWith(QLatin1String("./")))
            path.remove(0, 2);
        result.hashes.insert(path, line.left(64));
    }
    return result;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("FileManifest::compute against sha256sum."));
    parser.addHelpOption();
    parser.addOption({QStringLiteral("files"), QStringLiteral("Files in the tree (default 20000)."),
                      QStringLiteral("n"), QStringLiteral("20000")});
    parser.addOption({QStringLiteral("mean-kib"), QStringLiteral("Mean file size in KiB (default 8)."),
                      QStringLiteral("kib"), QStringLiteral("8")});
    parser.addOption({QStringLiteral("rounds"), QStringLiteral("Timed rounds of each (default 3); the best counts."),
                      QStringLiteral("n"), QStringLiteral("3")});
    parser.addOption({QStringLiteral("dir"), QStringLiteral("Where to make the temporary tree."),
                      QStringLiteral("dir"), QDir::tempPath()});
    parser.process(app);
    const int files = std::max(1, parser.value(QStringLiteral("files")).toInt());
    const int meanKib = std::max(1, parser.value(QStringLiteral("mean-kib")).toInt());
    const int rounds = std::max(1, parser.value(QStringLiteral("rounds")).toInt());

    QTemporaryDir dir(QDir(parser.value(QStringLiteral("dir"))).filePath(QStringLiteral("bench_manifest-XXXXXX")));
    if (!dir.isValid()) {
        say(QStringLiteral("cannot make a temporary folder: %1").arg(dir.errorString()));
        return 1;
    }
    const QString root = dir.filePath(QStringLiteral("webui"));
    say(QStringLiteral("making %1 files (mean %2 KiB) in %3 …").arg(files).arg(meanKib).arg(root));
    const qint64 bytes = makeTree(root, files, meanKib);
    if (bytes < 0)
        return 1;
    say(QStringLiteral("tree: %1 files, %2 MiB").arg(files).arg(double(bytes) / (1 << 20), 0, 'f', 1));

    // Both read from the page cache after this warm-up, so the figures compare hashing
    // and file handling, not whichever ran first against a cold disk.
    (void)timeSha256sum(root);

    double bestManifest = 1e30;
    double bestSum = 1e30;
    double bestParallelSum = 1e30;
    for (int round = 1; round <= rounds; ++round) {
        // Alternate the order so neither profits from the other's cache state.
        const bool manifestFirst = round % 2 == 1;
        Timed manifest, sum;
        if (manifestFirst) {
            manifest = timeManifest(root);
            sum = timeSha256sum(root);
        } else {
            sum = timeSha256sum(root);
            manifest = timeManifest(root);
        }
        for (const Timed *timed : {&manifest, &sum}) {
            if (!timed->error.isEmpty()) {
                say(timed->error);
                return 1;
            }
        }
        if (manifest.hashes != sum.hashes) {
            say(QStringLiteral("FileManifest and sha256sum disagree (%1 vs %2 files)")
                    .arg(manifest.hashes.size())
                    .arg(sum.hashes.size()));
            return 1;
        }
        const Timed parallel = timeSha256sum(root, true);
        if (!parallel.error.isEmpty() || parallel.hashes != sum.hashes) {
            say(QStringLiteral("parallel sha256sum failed or disagrees: %1").arg(parallel.error));
            return 1;
        }
        say(QStringLiteral("round %1: FileManifest::compute %2 s, sha256sum %3 s, parallel sha256sum %4 s")
                .arg(round)
                .arg(manifest.seconds, 0, 'f', 3)
                .arg(sum.seconds, 0, 'f', 3)
                .arg(parallel.seconds, 0, 'f', 3));
        bestParallelSum = std::min(bestParallelSum, parallel.seconds);
        bestManifest = std::min(bestManifest, manifest.seconds);
        bestSum = std::min(bestSum, sum.seconds);
    }

    const double mib = double(bytes) / (1 << 20);
    const double manifestRate = mib / bestManifest;
    const double sumRate = mib / bestSum;
    const double ratio = manifestRate / sumRate;
    say(QStringLiteral("FileManifest::compute: %1 MiB/s, %2 files/s (best of %3)")
            .arg(manifestRate, 0, 'f', 1)
            .arg(files / bestManifest, 0, 'f', 0)
            .arg(rounds));
    say(QStringLiteral("sha256sum (find | xargs -0): %1 MiB/s, %2 files/s (best of %3)")
            .arg(sumRate, 0, 'f', 1)
            .arg(files / bestSum, 0, 'f', 0)
            .arg(rounds));
    const double parallelRate = mib / bestParallelSum;
    say(QStringLiteral("sha256sum (xargs -P %1): %2 MiB/s").arg(QThread::idealThreadCount()).arg(parallelRate, 0, 'f', 1));
    say(QStringLiteral("ratio FileManifest/sha256sum: %1 (budget >= 0.80: %2); against parallel "
                       "sha256sum: %3; %4 threads")
            .arg(ratio, 0, 'f', 2)
            .arg(ratio >= 0.8 ? QStringLiteral("met") : QStringLiteral("NOT met"))
            .arg(manifestRate / parallelRate, 0, 'f', 2)
            .arg(QThread::idealThreadCount()));
    return 0;
}

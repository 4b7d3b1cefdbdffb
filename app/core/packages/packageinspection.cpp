#include "packages/packageinspection.h"

#include "packages/package.h"
#include "packages/sha256.h"

#include <QCoreApplication>
#include <QDir>
#include <QDateTime>
#include <QFileInfo>
#include <QHash>
#include <QMutex>
#include <QtConcurrent/QtConcurrentRun>

namespace ft {

namespace {

// The SHA-256 of a file the administrator picked is computed once: typing a version or
// re-picking the same, unchanged file reuses it (keyed by path, size and mtime).
Expected<QByteArray> cachedSha256(const QFileInfo &info)
{
    static QMutex mutex;
    static QHash<QString, QByteArray> cache;
    const QString key = QStringLiteral("%1|%2|%3")
                            .arg(info.absoluteFilePath())
                            .arg(info.size())
                            .arg(info.lastModified().toMSecsSinceEpoch());
    {
        QMutexLocker lock(&mutex);
        if (const auto found = cache.constFind(key); found != cache.constEnd())
            return *found;
    }
    auto digest = sha256OfFile(info.absoluteFilePath());
    if (digest) {
        QMutexLocker lock(&mutex);
        cache.insert(key, *digest);
    }
    return digest;
}

} // namespace

PackageInspectJob::PackageInspectJob(QObject *parent)
    : QObject(parent)
{
    connect(&m_watcher, &QFutureWatcher<Outcome>::finished, this, [this] {
        const Outcome outcome = m_watcher.result();
        m_choice = outcome.choice;
        m_errorString = outcome.error;
        m_needsVersion = outcome.needsVersion;
        Q_EMIT finished(this);
    });
}

PackageInspectJob::~PackageInspectJob()
{
    m_watcher.waitForFinished();
}

void PackageInspectJob::start()
{
    // The result arrives through the watcher, queued, so never inside start().
    m_watcher.setFuture(QtConcurrent::run(&PackageInspectJob::inspect, m_path, m_slot, m_typed, m_arguments));
}

PackageInspectJob::Outcome PackageInspectJob::inspect(const QString &path, Component slot, const TypedFacts &typed,
                                                      const QStringList &arguments)
{
    const auto tr = [](const char *text) {
        return QCoreApplication::translate("ft::PackageInspectJob", text);
    };
    Outcome outcome;
    const QFileInfo info(path);
    if (!info.isFile()) {
        outcome.error = tr("%1 is not a file.").arg(QDir::toNativeSeparators(path));
        return outcome;
    }
    const std::optional<PackageFormat> format = packageFormatOf(path);
    if (!format) {
        outcome.error = tr("%1 is not an install package the wizard knows: choose a .msi or .exe (Windows), a .rpm, "
                           ".deb, .sh, .bin or .run (Linux), or a sandbox .ftpkg.")
                            .arg(info.fileName());
        return outcome;
    }
    if (*format == PackageFormat::FtPkg) {
        const auto manifest = readPackageManifest(path);
        if (!manifest) {
            outcome.error = manifest.error();
            return outcome;
        }
        outcome.choice = PackageChoice::fromManifest(*manifest, info.absoluteFilePath(), info.size());
    } else {
        const Expected<PackageFacts> facts = identifyVendorPackage(path, slot, typed);
        if (!facts) {
            outcome.error = facts.error();
            // Only the version is missing when the file reads but says nothing.
            outcome.needsVersion = facts.error() == missingVersionSentence(info.fileName());
            return outcome;
        }
        PackageChoice &choice = outcome.choice;
        choice.component = facts->component;
        choice.version = facts->version;
        choice.os = facts->os;
        choice.filePath = info.absoluteFilePath();
        choice.size = info.size();
        choice.format = toString(facts->format);
        choice.versionSource = facts->versionSource;
        choice.componentSource = facts->componentSource;
        choice.productName = facts->metadata.productName;
        choice.manufacturer = facts->metadata.manufacturer;
        if (needsTypedSwitches(facts->format))
            choice.installerArguments = arguments;
    }
    if (const Result fits = validatePackageItself(outcome.choice, slot); !fits) {
        outcome.error = fits.error();
        return outcome;
    }
    // A .ftpkg is checked and hashed in one read: the digest staging carries is of the
    // bytes that passed. A vendor format's own check is a separate read.
    if (*format != PackageFormat::FtPkg) {
        if (const Result intact = verifyVendorPackage(path); !intact) {
            outcome.error = intact.error();
            return outcome;
        }
    }
    // Taken before the read: a file written during it has another time when staging looks.
    const qint64 modifiedMs = info.lastModified().toMSecsSinceEpoch();
    const auto digest = *format == PackageFormat::FtPkg ? verifyPackageAndHash(path) : cachedSha256(info);
    if (!digest) {
        outcome.error = digest.error();
        return outcome;
    }
    outcome.choice.sha256 = QString::fromLatin1(*digest);
    outcome.choice.contentsChecked = *format == PackageFormat::FtPkg;
    outcome.choice.modifiedMs = modifiedMs;
    return outcome;
}

} // namespace ft

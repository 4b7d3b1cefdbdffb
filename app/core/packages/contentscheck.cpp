#include "packages/contentscheck.h"

#include "packages/package.h"
#include "packages/sha256.h"
#include "packages/vendorpackage.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QFileInfo>
#include <QtConcurrent/QtConcurrentRun>

namespace ft {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("ft::PackageContentsCheckJob", text);
}

QString checkOne(const ContentsToCheck &package)
{
    const QFileInfo info(package.path);
    if (!info.isFile())
        return tr("%1 is no longer at %2.").arg(package.fileName, package.path);
    if (info.size() != package.size)
        return tr("%1 has %2 bytes now, not the %3 it had when it was chosen; choose it again.")
            .arg(package.path)
            .arg(info.size())
            .arg(package.size);
    if (package.checkedWhenChosen && info.lastModified().toMSecsSinceEpoch() == package.modifiedMs)
        return {};
    const std::optional<PackageFormat> format = packageFormatOf(package.fileName);
    const bool ftpkg = format && *format == PackageFormat::FtPkg;
    if (!ftpkg) {
        // Its format's check, then the hash: a file that changes in between no longer
        // has the SHA-256 chosen earlier, and the comparison below says so.
        if (const Result intact = verifyVendorPackage(package.path); !intact)
            return intact.error();
    }
    const Expected<QByteArray> digest = ftpkg ? verifyPackageAndHash(package.path) : sha256OfFile(package.path);
    if (!digest)
        return digest.error();
    if (QString::fromLatin1(*digest).compare(package.sha256, Qt::CaseInsensitive) != 0)
        return tr("%1 changed since it was chosen: its SHA-256 is %2 now, not %3; choose it again.")
            .arg(package.path, QString::fromLatin1(*digest), package.sha256);
    return {};
}

} // namespace

PackageContentsCheckJob::PackageContentsCheckJob(const QList<ContentsToCheck> &packages, QObject *parent)
    : QObject(parent)
    , m_packages(packages)
{
    connect(&m_watcher, &QFutureWatcher<QString>::finished, this, [this] {
        m_errorString = m_watcher.result();
        Q_EMIT finished(this);
    });
}

// No wait for a check under way: its task holds copies only, and its result is
// dropped with the watcher (a run closed mid-check never blocks the window).
PackageContentsCheckJob::~PackageContentsCheckJob() = default;

void PackageContentsCheckJob::start()
{
    // The result arrives through the watcher, queued, so never inside start().
    m_watcher.setFuture(QtConcurrent::run(&PackageContentsCheckJob::check, m_packages));
}

QString PackageContentsCheckJob::check(const QList<ContentsToCheck> &packages)
{
    for (const ContentsToCheck &package : packages) {
        if (const QString error = checkOne(package); !error.isEmpty())
            return error;
    }
    return {};
}

} // namespace ft

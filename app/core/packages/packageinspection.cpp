#include "packages/packageinspection.h"

#include "packages/package.h"
#include "packages/sha256.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QtConcurrent/QtConcurrentRun>

namespace ft {

PackageInspectJob::PackageInspectJob(QObject *parent)
    : QObject(parent)
{
    connect(&m_watcher, &QFutureWatcher<Outcome>::finished, this, [this] {
        const Outcome outcome = m_watcher.result();
        m_choice = outcome.choice;
        m_errorString = outcome.error;
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
    m_watcher.setFuture(QtConcurrent::run(&PackageInspectJob::inspect, m_path, m_slot));
}

PackageInspectJob::Outcome PackageInspectJob::inspect(const QString &path, Component slot)
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
    const auto manifest = readPackageManifest(path);
    if (!manifest) {
        outcome.error = manifest.error();
        return outcome;
    }
    outcome.choice = PackageChoice::fromManifest(*manifest, info.absoluteFilePath(), info.size());
    if (const Result fits = validatePackageItself(outcome.choice, slot); !fits) {
        outcome.error = fits.error();
        return outcome;
    }
    if (const Result intact = verifyPackage(path); !intact) {
        outcome.error = intact.error();
        return outcome;
    }
    const auto digest = sha256OfFile(path);
    if (!digest) {
        outcome.error = digest.error();
        return outcome;
    }
    outcome.choice.sha256 = QString::fromLatin1(*digest);
    return outcome;
}

} // namespace ft

#include "upgradejob.h"

#include "jobstore.h"
#include "support/logging.h"
#include "nodeinfo.h"
#include "packages/installcommand.h"
#include "packages/package.h"
#include "servicebackend.h"
#include "fasthash.h"
#include "flowkeeper.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QJsonObject>
#include <QRegularExpression>
#include <QtConcurrent>

#include <spdlog/spdlog.h>

namespace ft::agent {

namespace {

// Share of the overall progress at the start of each phase.
constexpr double kVerifying = 0.0;
constexpr double kStopping = 0.05;
constexpr double kInstalling = 0.15;
constexpr double kStarting = 0.85;
constexpr double kChecking = 0.95;

} // namespace

UpgradeJob::UpgradeJob(JobStore *store, const QString &jobId, const Request &request,
                       ServiceBackend *service, QObject *parent)
    : QObject(parent)
    , m_store(store)
    , m_jobId(jobId)
    , m_request(request)
    , m_service(service)
{
    m_phase = QStringLiteral("queued");
    m_logTail.setInterval(300);
    connect(&m_logTail, &QTimer::timeout, this, [this] { tailInstallerLog(); });
    m_installTimeout.setSingleShot(true);
    connect(&m_installTimeout, &QTimer::timeout, this, [this] {
        if (!m_installer)
            return;
        m_installError = tr("The installer did not finish within %1 s and was stopped.")
                             .arg(m_request.timeoutSeconds);
        log(m_installError);
        m_installer->kill();
    });
}

UpgradeJob::~UpgradeJob()
{
    if (m_installer) {
        m_installer->disconnect(this);
        m_installer->kill();
        m_installer->waitForFinished(2000); // shutting down: reap the child we started
    }
}

double UpgradeJob::progressFromLine(const QString &line, bool *found)
{
    static const QRegularExpression percent(QStringLiteral("^\\[\\s*(\\d{1,3})\\s*%\\]"));
    const auto match = percent.match(line);
    *found = match.hasMatch();
    return *found ? qBound(0, match.captured(1).toInt(), 100) / 100.0 : 0.0;
}

void UpgradeJob::start()
{
    QTimer::singleShot(0, this, [this] {
        if (m_done || m_cancelled)
            return;
        readInstalledVersion([this](const InstalledVersion &installed) {
            if (m_done || m_cancelled) // cancelled while the version was read: nothing stopped
                return;
            m_versionBefore = installed.version;
            JobRecord record = *m_store->job(m_jobId);
            record.state = QStringLiteral("running");
            record.started = QDateTime::currentDateTimeUtc();
            record.versionBefore = m_versionBefore;
            (void)m_store->update(record);
            log(tr("Upgrading %1 from version %2 with %3.")
                    .arg(m_request.component,
                         m_versionBefore.isEmpty() ? tr("(none)") : m_versionBefore,
                         m_request.packageName));
            verify();
        });
    });
}

void UpgradeJob::readInstalledVersion(const std::function<void(const InstalledVersion &)> &next)
{
    // The chain of version sources may run commands (dpkg-query, rpm, version_command):
    // off the agent's thread, so health and job polls keep answering meanwhile.
    auto *watcher = new QFutureWatcher<InstalledVersion>(this);
    connect(watcher, &QFutureWatcher<InstalledVersion>::finished, this, [watcher, next] {
        watcher->deleteLater();
        next(watcher->result());
    });
    watcher->setFuture(QtConcurrent::run([read = m_request.readVersion, installDir = m_request.installDir,
                                          component = m_request.component] {
        return read ? read() : InstalledVersion{nodeinfo::installedVersion(installDir, component), {}};
    }));
}

void UpgradeJob::verify()
{
    setPhase(QStringLiteral("verifying"), kVerifying);
    log(tr("Checking the staged package's SHA-256."));
    auto *watcher = new QFutureWatcher<Expected<QByteArray>>(this);
    connect(watcher, &QFutureWatcher<Expected<QByteArray>>::finished, this, [this, watcher] {
        watcher->deleteLater();
        if (m_done)
            return;
        const Expected<QByteArray> sha = watcher->result();
        if (!sha) {
            complete(QStringLiteral("failed"), tr("Cannot read the staged package: %1").arg(sha.error()));
            return;
        }
        if (*sha != m_request.sha256) {
            complete(QStringLiteral("failed"),
                     tr("The staged package %1 changed since it was staged (SHA-256 %2); stage it again. "
                        "The service was not touched.")
                         .arg(m_request.packageName, QString::fromLatin1(*sha)));
            return;
        }
        stopService();
    });
    watcher->setFuture(QtConcurrent::run([path = m_request.packagePath] { return sha256OfFileFast(path); }));
}

void UpgradeJob::setFlowKeeper(FlowKeeper *keeper)
{
    m_keeper = keeper;
    connect(keeper, &FlowKeeper::message, this, [this](const QString &line) { log(line); });
    connect(keeper, &FlowKeeper::progress, this, [this](double share) {
        m_store->setProgress(m_jobId, kStarting + (kChecking - kStarting) * (0.5 + share / 2), 0, 0);
    });
}

void UpgradeJob::giveBackFlows(bool serviceStarted, const QString &startError)
{
    setPhase(QStringLiteral("replaying"), kStarting + (kChecking - kStarting) / 2);
    connect(m_keeper, &FlowKeeper::finished, this, [this, serviceStarted, startError] {
        JobRecord record = *m_store->job(m_jobId);
        record.flows = m_keeper->summary();
        (void)m_store->update(record);
        check(serviceStarted, startError);
    }, Qt::SingleShotConnection);
    m_keeper->giveBack(serviceStarted);
}

void UpgradeJob::stopService()
{
    if (m_phase != QLatin1String("stopping"))
        setPhase(QStringLiteral("stopping"), kStopping);
    if (m_keeper && !m_keeperAsked) {
        // The redirect is added off the agent's thread; the service stops once it is in place.
        m_keeperAsked = true;
        connect(m_keeper, &FlowKeeper::tookOver, this, [this](const QString &error) {
            if (!error.isEmpty())
                log(tr("Flows are not kept during this outage: %1. The upgrade goes on as without the option; "
                       "flows sent while the service is down are lost.").arg(error));
            stopService();
        }, Qt::SingleShotConnection);
        m_keeper->takeOver(m_jobId);
        return;
    }
    log(tr("Stopping the service %1.").arg(m_service->serviceName()));
    ServiceOperation *op = m_service->stopService(this);
    connect(op, &ServiceOperation::message, this, [this](const QString &line) { log(line); });
    connect(op, &ServiceOperation::finished, this, [this](ServiceOperation *op) {
        op->deleteLater();
        if (op->hasError()) {
            m_installError = tr("The service could not be stopped, so nothing was installed: %1")
                                 .arg(op->errorString());
            log(m_installError);
            startService(); // make sure it runs as before
            return;
        }
        log(tr("The service is stopped."));
        runInstaller();
    });
    op->start();
}

void UpgradeJob::runInstaller()
{
    setPhase(QStringLiteral("installing"), kInstalling);
    log(tr("Running %1 %2").arg(m_request.program, m_request.arguments.join(QLatin1Char(' '))));
    m_installer = new QProcess(this);
    m_installer->setProgram(m_request.program);
    m_installer->setArguments(m_request.arguments);
    m_installer->setWorkingDirectory(QFileInfo(m_request.packagePath).absolutePath());
    connect(m_installer, &QProcess::readyReadStandardOutput, this,
            [this] { onInstallerOutput(QProcess::StandardOutput); });
    connect(m_installer, &QProcess::readyReadStandardError, this,
            [this] { onInstallerOutput(QProcess::StandardError); });
    connect(m_installer, &QProcess::finished, this, [this](int exitCode, QProcess::ExitStatus status) {
        if (status == QProcess::NormalExit)
            onInstallerFinished(installerExitCodeFromStatus(exitCode), {});
        else
            onInstallerFinished(std::nullopt, tr("The installer crashed."));
    });
    connect(m_installer, &QProcess::errorOccurred, this, [this](QProcess::ProcessError error) {
        if (error == QProcess::FailedToStart)
            onInstallerFinished(std::nullopt, tr("Cannot run the installer %1: %2")
                                                  .arg(m_request.program, m_installer->errorString()));
    });
    m_installTimeout.start(m_request.timeoutSeconds * 1000);
    if (!m_request.rebootRequiredFile.isEmpty())
        m_rebootFileBefore = QFileInfo::exists(m_request.rebootRequiredFile);
    if (!m_request.logFile.isEmpty()) {
        QDir().mkpath(QFileInfo(m_request.logFile).absolutePath());
        QFile::remove(m_request.logFile);
        log(tr("The installer's own log: %1").arg(QDir::toNativeSeparators(m_request.logFile)));
        m_logTail.start();
    }
    m_installer->start();
}

void UpgradeJob::onInstallerOutput(QProcess::ProcessChannel channel, bool flushAll)
{
    if (!m_installer)
        return;
    const int index = channel == QProcess::StandardOutput ? 0 : 1;
    m_installer->setReadChannel(channel);
    m_pending[index] += m_installer->readAll();
    QByteArray &buffer = m_pending[index];
    // Lines end in \n; a bare \r (a redrawn progress line) ends one too.
    buffer.replace("\r\n", "\n");
    buffer.replace('\r', '\n');
    qsizetype start = 0;
    for (qsizetype end = buffer.indexOf('\n'); end >= 0; end = buffer.indexOf('\n', start)) {
        const QString line = QString::fromUtf8(buffer.mid(start, end - start));
        start = end + 1;
        if (line.trimmed().isEmpty())
            continue;
        log(line, index == 0 ? QStringLiteral("stdout") : QStringLiteral("stderr"));
        bool found = false;
        const double share = progressFromLine(line, &found);
        if (found)
            m_store->setProgress(m_jobId, kInstalling + (kStarting - kInstalling) * share, 0, 0);
    }
    buffer.remove(0, start);
    if (flushAll && !buffer.trimmed().isEmpty()) {
        log(QString::fromUtf8(buffer), index == 0 ? QStringLiteral("stdout") : QStringLiteral("stderr"));
        buffer.clear();
    }
}

void UpgradeJob::tailInstallerLog(bool flushAll)
{
    if (m_request.logFile.isEmpty())
        return;
    QFile file(m_request.logFile);
    if (!file.open(QIODevice::ReadOnly))
        return; // not written yet
    if (file.size() < m_logOffset)
        m_logOffset = 0; // rewritten from the start
    if (!file.seek(m_logOffset))
        return;
    // At most 4 MiB per turn, so a chatty log never stalls the agent.
    QByteArray data = file.read(4 * 1024 * 1024);
    if (m_logOffset == 0 && data.startsWith("\xff\xfe")) {
        m_logUtf16 = true;
        data.remove(0, 2);
        m_logOffset = 2;
    }
    m_logOffset += data.size();
    m_logPending += data;
    QString text;
    if (m_logUtf16) {
        const qsizetype whole = m_logPending.size() & ~qsizetype(1);
        text = QString::fromUtf16(reinterpret_cast<const char16_t *>(m_logPending.constData()), whole / 2);
        m_logPending.remove(0, whole);
    } else {
        text = QString::fromUtf8(m_logPending);
        m_logPending.clear();
    }
    text.replace(QLatin1String("\r\n"), QLatin1String("\n"));
    const qsizetype lastBreak = text.lastIndexOf(QLatin1Char('\n'));
    QString complete = lastBreak >= 0 ? text.left(lastBreak) : QString();
    QString rest = lastBreak >= 0 ? text.mid(lastBreak + 1) : text;
    if (flushAll) {
        complete += QLatin1Char('\n') + rest;
        rest.clear();
    }
    // An unfinished last line waits for the next turn.
    m_logPending.prepend(m_logUtf16 ? QByteArray(reinterpret_cast<const char *>(rest.utf16()), rest.size() * 2)
                                    : rest.toUtf8());
    for (const QString &line : complete.split(QLatin1Char('\n'))) {
        if (!line.trimmed().isEmpty())
            log(line, QStringLiteral("installer-log"));
    }
}

void UpgradeJob::onInstallerFinished(std::optional<int> exitCode, const QString &error)
{
    if (m_installerDone)
        return;
    m_installerDone = true;
    m_installTimeout.stop();
    m_logTail.stop();
    tailInstallerLog(true);
    onInstallerOutput(QProcess::StandardOutput, true);
    onInstallerOutput(QProcess::StandardError, true);
    if (m_installer)
        m_installer->deleteLater();

    JobRecord record = *m_store->job(m_jobId);
    record.exitCode = exitCode;
    // 3010: a restart is required; 1641: the installer started one. A file such as
    // /var/run/reboot-required that the install created says the same on Linux.
    const bool rebootFile = !m_request.rebootRequiredFile.isEmpty() && !m_rebootFileBefore
                            && QFileInfo::exists(m_request.rebootRequiredFile);
    if (exitCode && (*exitCode == InstallerExit::RebootRequired || *exitCode == InstallerExit::RebootStarted))
        record.rebootRequested = true;
    if (exitCode && *exitCode == InstallerExit::Success && rebootFile) {
        log(tr("The installer created %1: it asks for a reboot.").arg(QDir::toNativeSeparators(m_request.rebootRequiredFile)));
        record.rebootRequested = true;
        exitCode = InstallerExit::RebootRequired;
    }
    (void)m_store->update(record);
    m_exitCode = exitCode;

    if (m_installError.isEmpty()) {
        if (!exitCode) {
            m_installError = error;
        } else if (*exitCode != InstallerExit::Success && *exitCode != InstallerExit::RebootRequired
                   && *exitCode != InstallerExit::RebootStarted) {
            m_installError = tr("The installer failed with exit code %1.").arg(*exitCode);
        }
    }
    if (exitCode) {
        const QString meaning = msiexecExitMeaning(*exitCode);
        log(meaning.isEmpty() ? tr("The installer exited with code %1.").arg(*exitCode)
                              : tr("The installer exited with code %1 (%2).").arg(*exitCode).arg(meaning));
    }
    else if (m_installError == error)
        log(error);
    startService();
}

void UpgradeJob::startService()
{
    setPhase(QStringLiteral("starting"), kStarting);
    log(tr("Starting the service %1.").arg(m_service->serviceName()));
    ServiceOperation *op = m_service->startService(this);
    connect(op, &ServiceOperation::message, this, [this](const QString &line) { log(line); });
    connect(op, &ServiceOperation::finished, this, [this](ServiceOperation *op) {
        op->deleteLater();
        if (op->hasError())
            log(op->errorString());
        else
            log(tr("The service is running."));
        const bool running = !op->hasError() && op->state() == ServiceState::Running;
        if (m_keeper && m_keeper->isKeeping())
            giveBackFlows(running, op->errorString());
        else
            check(running, op->errorString());
    });
    op->start();
}

void UpgradeJob::check(bool serviceStarted, const QString &startError)
{
    setPhase(QStringLiteral("checking"), kChecking);
    readInstalledVersion([this, serviceStarted, startError](const InstalledVersion &after) {
        if (!m_done)
            finishCheck(serviceStarted, startError, after);
    });
}

void UpgradeJob::finishCheck(bool serviceStarted, const QString &startError, const InstalledVersion &installed)
{
    const QString after = installed.version;
    log(tr("Installed version of %1: %2 (before: %3).")
            .arg(m_request.component, after.isEmpty() ? tr("(none)") : after,
                 m_versionBefore.isEmpty() ? tr("(none)") : m_versionBefore)
        + (installed.readBy.isEmpty() || after.isEmpty() ? QString()
                                                          : QLatin1Char(' ') + tr("Read by %1.").arg(installed.readBy)));
    JobRecord record = *m_store->job(m_jobId);
    record.versionAfter = after;

    if (!m_installError.isEmpty()) {
        const bool restored = serviceStarted && after == m_versionBefore;
        record.serviceRestored = restored;
        (void)m_store->update(record);
        QString error = m_installError;
        if (restored)
            error += QLatin1Char(' ') + tr("The service was started again on version %1.").arg(m_versionBefore);
        else if (!serviceStarted)
            error += QLatin1Char(' ') + tr("The service could not be started again: %1").arg(startError);
        else
            error += QLatin1Char(' ') + tr("The service runs, but on version %1 instead of %2.").arg(after, m_versionBefore);
        complete(QStringLiteral("failed"), error);
        return;
    }

    if (!serviceStarted) {
        (void)m_store->update(record);
        complete(QStringLiteral("failed"),
                 tr("Version %1 was installed, but the service did not start: %2").arg(after, startError));
        return;
    }

    const bool rebootRequested = m_exitCode && (*m_exitCode == InstallerExit::RebootRequired
                                                || *m_exitCode == InstallerExit::RebootStarted);
    const bool changed = !after.isEmpty() && after != m_versionBefore;
    const bool reachedTarget = m_request.targetVersion.isEmpty() ? changed : after == m_request.targetVersion;
    if (rebootRequested) {
        if (!changed) {
            record.rebootNeeded = true;
            log(tr("The installer asked for a reboot and the version did not change (still %1): "
                   "reboot the node to finish the upgrade.").arg(after));
        } else {
            log(tr("The installer asked for a reboot, but the version changed to %1, so no reboot is needed.")
                    .arg(after));
        }
        (void)m_store->update(record);
        complete(QStringLiteral("succeeded"), {});
        return;
    }
    (void)m_store->update(record);
    if (!reachedTarget) {
        complete(QStringLiteral("failed"),
                 m_request.targetVersion.isEmpty()
                     ? tr("The installer reported success, but the version is still %1.").arg(after)
                     : tr("The installer reported success, but the installed version is %1 instead of %2.")
                           .arg(after.isEmpty() ? tr("(none)") : after, m_request.targetVersion));
        return;
    }
    complete(QStringLiteral("succeeded"), {});
}

Result UpgradeJob::cancel()
{
    if (m_done)
        return makeError(tr("The job has already finished."));
    if (m_phase != QLatin1String("queued") && m_phase != QLatin1String("verifying"))
        return makeError(tr("The upgrade cannot be cancelled now (phase \"%1\"): the service is being "
                            "replaced. Wait for the job to finish.").arg(m_phase));
    m_cancelled = true;
    QTimer::singleShot(0, this, [this] {
        complete(QStringLiteral("cancelled"),
                 tr("Cancelled by the caller before the service was stopped; nothing changed."));
    });
    return {};
}

void UpgradeJob::setPhase(const QString &phase, double progress)
{
    m_phase = phase;
    JobRecord record = *m_store->job(m_jobId);
    record.phase = phase;
    record.progress = progress;
    // Each phase's start time: what the wizard measures outage estimates from.
    record.phases.append(QJsonObject{{QStringLiteral("phase"), phase},
                                     {QStringLiteral("started"),
                                      QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs)}});
    (void)m_store->update(record);
}

void UpgradeJob::log(const QString &line, const QString &stream)
{
    m_store->appendLog(m_jobId, line, stream);
}

void UpgradeJob::complete(const QString &state, const QString &error)
{
    if (m_done)
        return;
    m_done = true;
    if (!error.isEmpty())
        log(error);
    JobRecord record = *m_store->job(m_jobId);
    record.state = state;
    record.phase = state == QLatin1String("succeeded") ? QStringLiteral("done") : record.phase;
    if (state == QLatin1String("succeeded"))
        record.progress = 1;
    record.error = error;
    record.finished = QDateTime::currentDateTimeUtc();
    (void)m_store->update(record);
    logging::logger()->info("Upgrade job {} {}{}{}", m_jobId.toStdString(), state.toStdString(),
                            error.isEmpty() ? "" : ": ", error.toStdString());
    Q_EMIT finished(this);
}

} // namespace ft::agent

#include "pidfile.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>

#ifdef Q_OS_UNIX
#include <cerrno>
#include <csignal>
#endif
#ifdef Q_OS_WIN
#include <windows.h>
#endif

namespace ft::flow {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("ft::flow::PidFile", text);
}

} // namespace

PidFile::PidFile(QString path)
    : m_path(std::move(path))
{ }

PidFile::~PidFile()
{
    release();
}

qint64 PidFile::readPid(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return 0;
    bool ok = false;
    const qint64 pid = file.read(64).trimmed().toLongLong(&ok);
    return ok && pid > 0 ? pid : 0;
}

bool PidFile::isProcessAlive(qint64 pid)
{
    if (pid <= 0)
        return false;
#if defined(Q_OS_UNIX)
    // EPERM: it exists but belongs to someone else, which still holds the file.
    return ::kill(pid_t(pid), 0) == 0 || errno == EPERM;
#elif defined(Q_OS_WIN)
    HANDLE process = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, DWORD(pid));
    if (!process)
        return false;
    DWORD code = 0;
    const bool alive = GetExitCodeProcess(process, &code) && code == STILL_ACTIVE;
    CloseHandle(process);
    return alive;
#else
    return true;
#endif
}

Result PidFile::acquire()
{
    if (m_held)
        return {};
    const QString native = QDir::toNativeSeparators(m_path);
    if (!QDir().mkpath(QFileInfo(m_path).absolutePath()))
        return makeError(tr("Cannot create the folder of the pid file %1.").arg(native));

    // Two tries: the second after removing a stale file.
    for (int attempt = 0; attempt < 2; ++attempt) {
        QFile file(m_path);
        if (file.open(QIODevice::WriteOnly | QIODevice::NewOnly)) {
            const QByteArray pid = QByteArray::number(QCoreApplication::applicationPid()) + '\n';
            if (file.write(pid) != pid.size() || !file.flush()) {
                file.close();
                QFile::remove(m_path);
                return makeError(
                        tr("Cannot write the pid file %1: %2").arg(native, file.errorString()));
            }
            m_held = true;
            return {};
        }
        if (!QFileInfo::exists(m_path))
            return makeError(
                    tr("Cannot create the pid file %1: %2").arg(native, file.errorString()));
        const qint64 pid = readPid(m_path);
        if (pid != 0 && pid != QCoreApplication::applicationPid() && isProcessAlive(pid))
            return makeError(tr("Another instance (pid %1) is already running: %2 is held.")
                                     .arg(pid)
                                     .arg(native));
        QFile::remove(m_path);
    }
    return makeError(tr("Cannot take over the stale pid file %1.").arg(native));
}

void PidFile::release()
{
    if (!m_held)
        return;
    // Only our own file: never remove one another process wrote after us.
    if (readPid(m_path) == QCoreApplication::applicationPid())
        QFile::remove(m_path);
    m_held = false;
}

} // namespace ft::flow

#pragma once

#include "model/expected.h"

#include <QString>

namespace ft::flow {

// A daemon's pid file: created exclusively, refused while a live process holds it,
// removed on a clean exit. A stale file (its process is gone) is replaced.
class PidFile
{
public:
    explicit PidFile(QString path);
    ~PidFile(); // releases

    PidFile(const PidFile &) = delete;
    PidFile &operator=(const PidFile &) = delete;

    Result acquire();
    void release();

    const QString &path() const { return m_path; }
    bool isHeld() const { return m_held; }

    // The pid the file names, or 0 when it is missing or unreadable.
    static qint64 readPid(const QString &path);
    static bool isProcessAlive(qint64 pid);

private:
    QString m_path;
    bool m_held = false;
};

} // namespace ft::flow

#pragma once

// Windows only (compiled under if(WIN32) in CMake): lets `ftupgrade-agent run` be started
// by the Service Control Manager. Untested on a real Windows machine (installer/README-install.md).

#include <QtGlobal>

#ifdef Q_OS_WIN

#include <QString>

#include <thread>

namespace ft::agent {

// Connects the process to the Service Control Manager when the SCM started it: reports
// "running", turns the SCM's stop and shutdown requests into QCoreApplication::quit(),
// and reports "stopped" with the exit code when destroyed. Started from a console it
// does nothing. The SCM's dispatcher blocks its thread, so it runs in a thread of its own
// and the agent's event loop stays in main().
class WindowsService
{
public:
    WindowsService();
    ~WindowsService();

    WindowsService(const WindowsService &) = delete;
    WindowsService &operator=(const WindowsService &) = delete;

    // Call once QCoreApplication exists and the server listens, before exec().
    void start();
    // The code reported to the SCM when the service stops (0: clean stop).
    void setExitCode(int code) { m_exitCode = code; }

private:
    std::thread m_dispatcher;
    void *m_stopped = nullptr; // Win32 event: the event loop has ended
    int m_exitCode = 0;

    friend struct WindowsServiceCallbacks;
};

} // namespace ft::agent

#endif // Q_OS_WIN

#include "windowsservice.h"

#ifdef Q_OS_WIN

#include "support/logging.h"

#include <QCoreApplication>
#include <QMetaObject>

#include <spdlog/spdlog.h>

#include <mutex>

#include <windows.h>

namespace ft::agent {

// The SCM's callbacks are plain functions without a context pointer (ServiceMain), so
// they reach the one service object of the process through s_service.
struct WindowsServiceCallbacks
{
    static inline WindowsService *s_service = nullptr;
    static inline SERVICE_STATUS_HANDLE s_handle = nullptr;
    static inline SERVICE_STATUS s_status = {};
    static inline std::mutex s_mutex; // the SCM calls onControl on its own thread

    static void report(DWORD state, int exitCode = 0, DWORD waitHint = 0)
    {
        std::lock_guard lock(s_mutex);
        if (!s_handle)
            return;
        s_status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
        s_status.dwCurrentState = state;
        s_status.dwControlsAccepted = state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN : 0;
        s_status.dwWin32ExitCode = exitCode == 0 ? NO_ERROR : ERROR_SERVICE_SPECIFIC_ERROR;
        s_status.dwServiceSpecificExitCode = DWORD(exitCode);
        s_status.dwWaitHint = waitHint;
        s_status.dwCheckPoint = (state == SERVICE_RUNNING || state == SERVICE_STOPPED) ? 0 : s_status.dwCheckPoint + 1;
        SetServiceStatus(s_handle, &s_status);
    }

    static DWORD WINAPI onControl(DWORD control, DWORD, LPVOID, LPVOID)
    {
        switch (control) {
        case SERVICE_CONTROL_STOP:
        case SERVICE_CONTROL_SHUTDOWN:
            // Same path as SIGTERM on Unix: the event loop ends and jobs close their files.
            report(SERVICE_STOP_PENDING, 0, 30000);
            if (auto *app = QCoreApplication::instance()) {
                QMetaObject::invokeMethod(app, [] {
                    logging::logger()->info("Stopping on the service manager's request");
                    QCoreApplication::quit();
                }, Qt::QueuedConnection);
            }
            return NO_ERROR;
        case SERVICE_CONTROL_INTERROGATE:
            return NO_ERROR;
        default:
            return ERROR_CALL_NOT_IMPLEMENTED;
        }
    }

    // Runs on a thread the SCM makes; returns once the event loop has ended.
    static void WINAPI serviceMain(DWORD, LPWSTR *)
    {
        {
            std::lock_guard lock(s_mutex);
            // The name is not checked for a SERVICE_WIN32_OWN_PROCESS service.
            s_handle = RegisterServiceCtrlHandlerExW(L"", &onControl, nullptr);
        }
        if (!s_handle)
            return;
        report(SERVICE_RUNNING);
        WaitForSingleObject(static_cast<HANDLE>(s_service->m_stopped), INFINITE);
        report(SERVICE_STOPPED, s_service->m_exitCode);
    }
};

WindowsService::WindowsService()
    : m_stopped(CreateEventW(nullptr, TRUE, FALSE, nullptr))
{
}

WindowsService::~WindowsService()
{
    if (m_stopped)
        SetEvent(static_cast<HANDLE>(m_stopped));
    // Returns as soon as serviceMain has reported "stopped" (or at once in a console).
    if (m_dispatcher.joinable())
        m_dispatcher.join();
    WindowsServiceCallbacks::s_service = nullptr;
    if (m_stopped)
        CloseHandle(static_cast<HANDLE>(m_stopped));
}

void WindowsService::start()
{
    if (WindowsServiceCallbacks::s_service || !m_stopped)
        return;
    WindowsServiceCallbacks::s_service = this;
    m_dispatcher = std::thread([] {
        wchar_t name[] = L"";
        SERVICE_TABLE_ENTRYW table[] = {
            {name, &WindowsServiceCallbacks::serviceMain},
            {nullptr, nullptr},
        };
        // Fails at once with ERROR_FAILED_SERVICE_CONTROLLER_CONNECT in a console.
        if (!StartServiceCtrlDispatcherW(table) && GetLastError() != ERROR_FAILED_SERVICE_CONTROLLER_CONNECT)
            logging::logger()->warn("Cannot connect to the service manager (error {})", GetLastError());
    });
}

} // namespace ft::agent

#endif // Q_OS_WIN

#pragma once

#include "model/domain.h"
#include "model/expected.h"

#include <QByteArray>
#include <QString>

// Parsers for what service managers print; kept apart from QProcess so they are
// unit-tested on captured real outputs (tests/servicebackends/data).
namespace ft::agent {

// A service's state plus whether the manager is still moving it somewhere.
struct ServiceProbe
{
    ServiceState state = ServiceState::Unknown;
    bool pending = false;   // starting or stopping: poll again
    QString detail;         // e.g. "active (running)", "STOP_PENDING"
};

// `systemctl show UNIT --property=LoadState,ActiveState,SubState,MainPID`
struct SystemdUnitStatus
{
    QString loadState;   // loaded, not-found, masked, error
    QString activeState; // active, inactive, failed, activating, deactivating, reloading
    QString subState;    // running, dead, exited, start, stop-sigterm, …
    qint64 mainPid = 0;
};
Expected<SystemdUnitStatus> parseSystemctlShow(const QByteArray &output);
ServiceProbe probeFromSystemd(const SystemdUnitStatus &status);

// `systemctl is-active UNIT`: one word on stdout; exit 0 only when active.
Expected<ServiceProbe> parseSystemctlIsActive(const QByteArray &output, int exitCode);

// `sc.exe query "NAME"` (also `sc.exe start/stop`, which print the same block).
struct WindowsServiceStatus
{
    bool exists = true;
    QString serviceName;
    int stateCode = 0;  // 1 STOPPED, 2 START_PENDING, 3 STOP_PENDING, 4 RUNNING, …
    QString stateName;  // "RUNNING"
    int win32ExitCode = 0;
    int errorCode = 0;  // from "[SC] … FAILED 1060:"; 0 when none
    QString errorText;  // the sentence Windows printed after the error code
};
Expected<WindowsServiceStatus> parseScOutput(const QByteArray &output, int exitCode);
ServiceProbe probeFromSc(const WindowsServiceStatus &status);

} // namespace ft::agent

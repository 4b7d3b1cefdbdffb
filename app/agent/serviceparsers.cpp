#include "serviceparsers.h"

#include <QCoreApplication>
#include <QList>
#include <QRegularExpression>

namespace ft::agent {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::agent::ServiceParsers", text); }

QList<QByteArray> lines(const QByteArray &output)
{
    QList<QByteArray> result;
    for (const QByteArray &line : output.split('\n')) {
        const QByteArray trimmed = line.trimmed(); // also drops Windows' \r
        if (!trimmed.isEmpty())
            result.append(trimmed);
    }
    return result;
}

} // namespace

Expected<SystemdUnitStatus> parseSystemctlShow(const QByteArray &output)
{
    SystemdUnitStatus status;
    bool any = false;
    for (const QByteArray &line : lines(output)) {
        const int eq = line.indexOf('=');
        if (eq <= 0)
            continue;
        const QByteArray key = line.left(eq);
        const QString value = QString::fromUtf8(line.mid(eq + 1));
        if (key == "LoadState") {
            status.loadState = value;
            any = true;
        } else if (key == "ActiveState") {
            status.activeState = value;
            any = true;
        } else if (key == "SubState") {
            status.subState = value;
        } else if (key == "MainPID") {
            status.mainPid = value.toLongLong();
        }
    }
    if (!any)
        return makeError(tr("systemctl printed no LoadState or ActiveState."));
    return status;
}

ServiceProbe probeFromSystemd(const SystemdUnitStatus &status)
{
    ServiceProbe probe;
    probe.detail = status.subState.isEmpty()
                       ? status.activeState
                       : QStringLiteral("%1 (%2)").arg(status.activeState, status.subState);
    if (status.loadState == QLatin1String("not-found") || status.loadState == QLatin1String("masked")) {
        probe.state = ServiceState::Missing;
        probe.detail = status.loadState;
        return probe;
    }
    if (status.activeState == QLatin1String("active") || status.activeState == QLatin1String("reloading")) {
        probe.state = ServiceState::Running;
    } else if (status.activeState == QLatin1String("inactive") || status.activeState == QLatin1String("failed")) {
        probe.state = ServiceState::Stopped;
    } else if (status.activeState == QLatin1String("activating")) {
        probe.state = ServiceState::Stopped;
        probe.pending = true;
    } else if (status.activeState == QLatin1String("deactivating")) {
        probe.state = ServiceState::Running;
        probe.pending = true;
    } else {
        probe.state = ServiceState::Unknown;
    }
    return probe;
}

Expected<ServiceProbe> parseSystemctlIsActive(const QByteArray &output, int exitCode)
{
    const QList<QByteArray> words = lines(output);
    if (words.isEmpty())
        return makeError(tr("systemctl is-active printed nothing (exit code %1).").arg(exitCode));
    const QByteArray &word = words.first();
    ServiceProbe probe;
    probe.detail = QString::fromUtf8(word);
    if (word == "active" && exitCode == 0) {
        probe.state = ServiceState::Running;
    } else if (word == "reloading") {
        probe.state = ServiceState::Running;
    } else if (word == "inactive" || word == "failed") {
        probe.state = ServiceState::Stopped;
    } else if (word == "activating") {
        probe.state = ServiceState::Stopped;
        probe.pending = true;
    } else if (word == "deactivating") {
        probe.state = ServiceState::Running;
        probe.pending = true;
    } else if (word == "unknown") {
        probe.state = ServiceState::Missing;
    } else {
        return makeError(tr("systemctl is-active printed \"%1\", which the agent does not know.")
                             .arg(QString::fromUtf8(word)));
    }
    return probe;
}

Expected<WindowsServiceStatus> parseScOutput(const QByteArray &output, int exitCode)
{
    WindowsServiceStatus status;
    const QList<QByteArray> all = lines(output);
    static const QRegularExpression failed(QStringLiteral("FAILED\\s+(\\d+)\\s*:?"));
    static const QRegularExpression field(QStringLiteral("^([A-Z0-9_]+)\\s*:\\s*(.*)$"));
    bool sawState = false;
    for (int i = 0; i < all.size(); ++i) {
        const QString line = QString::fromLocal8Bit(all.at(i));
        if (const auto m = failed.match(line); m.hasMatch()) {
            status.errorCode = m.captured(1).toInt();
            // The sentence follows on the next non-empty line.
            if (i + 1 < all.size())
                status.errorText = QString::fromLocal8Bit(all.at(i + 1));
            continue;
        }
        const auto m = field.match(line);
        if (!m.hasMatch())
            continue;
        const QString key = m.captured(1);
        const QString value = m.captured(2).trimmed();
        if (key == QLatin1String("SERVICE_NAME")) {
            status.serviceName = value;
        } else if (key == QLatin1String("STATE")) {
            // "4  RUNNING"
            const QStringList parts = value.split(QLatin1Char(' '), Qt::SkipEmptyParts);
            if (parts.size() >= 2) {
                status.stateCode = parts.at(0).toInt();
                status.stateName = parts.at(1);
                sawState = true;
            }
        } else if (key == QLatin1String("WIN32_EXIT_CODE")) {
            status.win32ExitCode = value.section(QLatin1Char(' '), 0, 0).toInt();
        }
    }
    if (status.errorCode == 0 && exitCode != 0 && !sawState)
        status.errorCode = exitCode;
    // 1060: ERROR_SERVICE_DOES_NOT_EXIST
    if (status.errorCode == 1060)
        status.exists = false;
    if (!sawState && status.errorCode == 0)
        return makeError(tr("sc.exe printed no service state (exit code %1).").arg(exitCode));
    return status;
}

ServiceProbe probeFromSc(const WindowsServiceStatus &status)
{
    ServiceProbe probe;
    if (!status.exists) {
        probe.state = ServiceState::Missing;
        probe.detail = status.errorText;
        return probe;
    }
    probe.detail = status.stateName;
    switch (status.stateCode) {
    case 1: probe.state = ServiceState::Stopped; break;             // STOPPED
    case 2: probe.state = ServiceState::Stopped; probe.pending = true; break; // START_PENDING
    case 3: probe.state = ServiceState::Running; probe.pending = true; break; // STOP_PENDING
    case 4: probe.state = ServiceState::Running; break;             // RUNNING
    case 5: probe.state = ServiceState::Running; probe.pending = true; break; // CONTINUE_PENDING
    case 6: probe.state = ServiceState::Running; probe.pending = true; break; // PAUSE_PENDING
    case 7: probe.state = ServiceState::Running; break;             // PAUSED
    default: probe.state = ServiceState::Unknown; break;
    }
    return probe;
}

} // namespace ft::agent

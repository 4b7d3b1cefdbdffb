#pragma once

#include "agentlink/agentclient.h"

#include <QString>
#include <QStringList>

namespace ft {

enum class ShellKind { Posix, WindowsCmd };

#ifdef Q_OS_WIN
inline constexpr ShellKind kNativeShell = ShellKind::WindowsCmd;
#else
inline constexpr ShellKind kNativeShell = ShellKind::Posix;
#endif

// One argument quoted so the shell passes it through unchanged (spaces, quotes, $).
QString shellQuote(const QString &argument, ShellKind shell = kNativeShell);

// The arguments of the CLI command that continues the run in `journalPath` on the
// cluster whose portal agent is `portal` (address and pinned fingerprint). The token is
// a secret and never part of it: the CLI reads it from $FTUPGRADE_TOKEN or --token-file.
QStringList resumeArguments(const QString &journalPath, const AgentEndpoint &portal);

// The same, as a line to copy into a terminal: the program and every argument quoted.
QString resumeCommandLine(const QString &journalPath, const AgentEndpoint &portal,
                          const QString &program = QStringLiteral("ftupgrade-cli"),
                          ShellKind shell = kNativeShell);

} // namespace ft

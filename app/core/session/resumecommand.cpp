#include "session/resumecommand.h"

#include "agentlink/trustedcertificates.h"

#include <QRegularExpression>

namespace ft {

QString shellQuote(const QString &argument, ShellKind shell)
{
    static const QRegularExpression plain(QStringLiteral("^[A-Za-z0-9_./:=@%+,-]+$"));
    if (!argument.isEmpty() && plain.match(argument).hasMatch())
        return argument;
    if (shell == ShellKind::Posix) {
        QString quoted = argument;
        quoted.replace(QLatin1Char('\''), QStringLiteral("'\\''"));
        return QLatin1Char('\'') + quoted + QLatin1Char('\'');
    }
    QString quoted = argument;
    quoted.replace(QLatin1Char('"'), QStringLiteral("\\\""));
    return QLatin1Char('"') + quoted + QLatin1Char('"');
}

QStringList resumeArguments(const QString &journalPath, const AgentEndpoint &portal)
{
    QStringList arguments{QStringLiteral("run"), QStringLiteral("--resume"), QStringLiteral("--journal"),
                          journalPath};
    if (portal.url.isValid())
        arguments << QStringLiteral("--portal") << TrustedCertificates::addressOf(portal.url);
    if (const auto fingerprint = TrustedCertificates::normalize(portal.fingerprint); fingerprint)
        arguments << QStringLiteral("--fingerprint") << *fingerprint;
    return arguments;
}

QString resumeCommandLine(const QString &journalPath, const AgentEndpoint &portal, const QString &program,
                          ShellKind shell)
{
    QStringList parts{shellQuote(program, shell)};
    for (const QString &argument : resumeArguments(journalPath, portal))
        parts.append(shellQuote(argument, shell));
    return parts.join(QLatin1Char(' '));
}

} // namespace ft

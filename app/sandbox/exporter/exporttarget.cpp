#include "exporttarget.h"

#include <QCoreApplication>
#include <QRegularExpression>

namespace ft::sandbox {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("ft::sandbox::ExportTarget", text);
}

constexpr double kMaxRate = 1'000'000;

} // namespace

Expected<ExportTarget> ExportTarget::parse(const QString &text)
{
    static const QRegularExpression pattern(QStringLiteral(
            R"(^([^=\s]+)=(\[[^\]]+\]|[^:\[\]@\s]+):(\d{1,5})@([0-9]+(?:\.[0-9]+)?)$)"));
    const auto match = pattern.match(text.trimmed());
    if (!match.hasMatch())
        return makeError(tr("\"%1\" is not a target of the form NAME=HOST:PORT@RATE "
                            "(e.g. w1=127.0.0.1:2055@100).")
                                 .arg(text));

    ExportTarget target;
    target.name = match.captured(1);
    QString host = match.captured(2);
    if (host.startsWith(QLatin1Char('[')))
        host = host.mid(1, host.size() - 2);
    if (host.compare(QLatin1String("localhost"), Qt::CaseInsensitive) == 0)
        target.host = QHostAddress(QHostAddress::LocalHost);
    else if (!target.host.setAddress(host))
        return makeError(tr("Target %1: \"%2\" is not an IP address.").arg(target.name, host));

    const int port = match.captured(3).toInt();
    if (port < 1 || port > 65535)
        return makeError(
                tr("Target %1: port %2 is not between 1 and 65535.").arg(target.name).arg(port));
    target.port = quint16(port);

    target.rate = match.captured(4).toDouble();
    if (target.rate > kMaxRate)
        return makeError(
                tr("Target %1: %2 flows a second is more than the exporter sends (at most %3).")
                        .arg(target.name, match.captured(4))
                        .arg(kMaxRate, 0, 'f', 0));
    return target;
}

} // namespace ft::sandbox

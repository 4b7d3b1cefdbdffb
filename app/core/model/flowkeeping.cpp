#include "model/flowkeeping.h"

#include <QCoreApplication>
#include <QLocale>

namespace ft {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::FlowKeeping", text); }

QString number(qint64 n) { return QLocale(QLocale::English).toString(n); }

} // namespace

std::optional<FlowKeeping> FlowKeeping::fromJson(const QJsonValue &value)
{
    const QJsonObject object = value.toObject();
    const QString state = object.value(QLatin1String("state")).toString();
    if (state.isEmpty() || state == QLatin1String("off"))
        return std::nullopt;
    FlowKeeping keeping;
    keeping.state = state;
    keeping.kept = object.value(QLatin1String("kept")).toInteger();
    keeping.dropped = object.value(QLatin1String("dropped")).toInteger();
    keeping.replayed = object.value(QLatin1String("replayed")).toInteger();
    keeping.templates = object.value(QLatin1String("templates")).toInteger();
    keeping.spool = object.value(QLatin1String("spool")).toString();
    return keeping;
}

QJsonObject FlowKeeping::toJson() const
{
    QJsonObject object{{QStringLiteral("state"), state},
                       {QStringLiteral("kept"), kept},
                       {QStringLiteral("dropped"), dropped},
                       {QStringLiteral("replayed"), replayed},
                       {QStringLiteral("templates"), templates}};
    if (!spool.isEmpty())
        object.insert(QStringLiteral("spool"), spool);
    return object;
}

QString FlowKeeping::figures() const
{
    return tr("%1 kept, %2 replayed, %3 dropped").arg(number(kept), number(replayed), number(dropped));
}

QString FlowKeeping::sentence() const
{
    QString text = tr("Flows during the outage: %1.").arg(figures());
    if (dropped > 0)
        text += QLatin1Char(' ') + tr("%1 datagrams were dropped because the spool reached its cap "
                                      "(spool_cap in agent.conf).").arg(number(dropped));
    if (state != QLatin1String("replayed") && kept > replayed)
        text += QLatin1Char(' ')
                + (spool.isEmpty() ? tr("%1 kept datagrams were not replayed.").arg(number(kept - replayed))
                                   : tr("%1 kept datagrams were not replayed; they stay in %2.")
                                         .arg(number(kept - replayed), spool));
    return text;
}

} // namespace ft

#include "agentlink/agentreply.h"

#include <QCoreApplication>
#include <QJsonDocument>
#include <QUrl>

namespace ft::agentreply {

QString tr(const char *text)
{
    return QCoreApplication::translate("ft::AgentJobs", text);
}

Unexpected fieldError(const QString &field)
{
    return makeError(tr("the agent's answer has a bad \"%1\" field").arg(field));
}

QDateTime timeOf(const QJsonValue &value)
{
    return QDateTime::fromString(value.toString(), Qt::ISODate);
}

QByteArray toJson(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

// A string field the call cannot do without.
Expected<QString> requiredString(const QJsonObject &json, const char *field)
{
    const QString value = json.value(QLatin1String(field)).toString();
    if (value.isEmpty())
        return fieldError(QLatin1String(field));
    return value;
}

Expected<QJsonArray> arrayField(const QJsonObject &json, const char *field)
{
    const QJsonValue value = json.value(QLatin1String(field));
    if (!value.isArray())
        return fieldError(QLatin1String(field));
    return value.toArray();
}

QString encodedSegment(const QString &text)
{
    return QString::fromLatin1(QUrl::toPercentEncoding(text));
}

} // namespace ft::agentreply

#pragma once

#include "model/expected.h"

#include <QByteArray>
#include <QDateTime>
#include <QJsonArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QString>

// Reading the agent's answers and writing its request bodies: the small pieces every
// job class of agentlink uses, so each answer is checked the same way and each bad
// field gets the same sentence.

namespace ft::agentreply {

// Translated in the context the agent job sentences have always had.
QString tr(const char *text);
// "the agent's answer has a bad "<field>" field"
Unexpected fieldError(const QString &field);
QDateTime timeOf(const QJsonValue &value);
QByteArray toJson(const QJsonObject &object);
// A string field the call cannot do without.
Expected<QString> requiredString(const QJsonObject &json, const char *field);
Expected<QJsonArray> arrayField(const QJsonObject &json, const char *field);
// A job id or a name as one segment of a URL path.
QString encodedSegment(const QString &text);

} // namespace ft::agentreply

#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QSet>
#include <QString>

#include <optional>

class QHttpServerRequest;

namespace ft::agent {

// The largest request body the API accepts (API.md).
constexpr qint64 kMaxBodyBytes = 64 * 1024;
// The largest chunk of an upload (PUT /v1/uploads/U).
constexpr qint64 kMaxChunkBytes = 8 * 1024 * 1024;

// An HTTP error for the caller: a status and a sentence.
struct HttpError
{
    int status = 400;
    QString message;
};

// Reads a JSON object body: Content-Type must be application/json (415), the body at
// most kMaxBodyBytes (413), valid JSON (400), an object (400), with no field outside
// allowed (400) and every field of required (400).
std::optional<HttpError> readJsonBody(const QHttpServerRequest &request, QJsonObject *body,
                                      const QSet<QString> &allowed, const QSet<QString> &required);

// Body size check on the declared Content-Length first, then on the bytes received.
std::optional<HttpError> checkBodySize(const QHttpServerRequest &request, qint64 limit = kMaxBodyBytes);

// A plain file name: letters, digits and . _ + - only, starting with a letter or
// digit, no "..", at most 128 characters. Anything else could name a path.
bool isPlainFileName(const QString &name);

// 64 hexadecimal digits (either case).
bool isSha256Hex(const QString &text);

// Field readers that name the field in their error.
std::optional<HttpError> stringField(const QJsonObject &body, const QString &key, QString *value);
std::optional<HttpError> integerField(const QJsonObject &body, const QString &key, qint64 *value,
                                      qint64 minimum, qint64 maximum);

} // namespace ft::agent

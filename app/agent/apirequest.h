#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QSet>
#include <QString>
#include <QStringList>

#include <optional>

class QHttpServerRequest;
class QUrl;
class QUrlQuery;

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

// The parts of the request parsing above that need no QHttpServerRequest, so they can
// be tested and fuzzed on their own (tests/fuzz/agentrequest).
std::optional<HttpError> checkBodySize(const QByteArray &contentLength, qsizetype bodyBytes,
                                       qint64 limit = kMaxBodyBytes);
std::optional<HttpError> parseJsonBody(const QByteArray &contentType, const QByteArray &bytes, QJsonObject *body,
                                       const QSet<QString> &allowed, const QSet<QString> &required);
// Unknown (or repeated) query parameters are refused like unknown body fields.
std::optional<HttpError> checkQuery(const QUrlQuery &query, const QStringList &allowed);
// A whole-number query parameter in [minimum, maximum]; fallback when absent.
std::optional<HttpError> queryInteger(const QUrlQuery &query, const QString &key, qint64 minimum,
                                      qint64 maximum, qint64 fallback, qint64 *value);
// The path's segments, each split before it is decoded (an encoded "/" stays inside its
// segment): "/v1/jobs/J" gives ["", "v1", "jobs", "J"].
QStringList pathSegments(const QUrl &url);

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

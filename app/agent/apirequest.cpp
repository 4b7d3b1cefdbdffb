#include "apirequest.h"

#include <QCoreApplication>
#include <QHttpServerRequest>
#include <QJsonDocument>
#include <QJsonParseError>
#include <QRegularExpression>
#include <QStringList>
#include <QUrl>
#include <QUrlQuery>

#include <algorithm>
#include <cmath>

namespace ft::agent {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::agent::ApiRequest", text); }

} // namespace

std::optional<HttpError> checkBodySize(const QHttpServerRequest &request, qint64 limit)
{
    return checkBodySize(request.value("Content-Length"), request.body().size(), limit);
}

std::optional<HttpError> checkBodySize(const QByteArray &contentLength, qsizetype bodyBytes, qint64 limit)
{
    bool ok = false;
    const qint64 length = contentLength.trimmed().toLongLong(&ok);
    if ((ok && length > limit) || bodyBytes > limit)
        return HttpError{413, tr("The request body is larger than %1 KiB.").arg(limit / 1024)};
    return std::nullopt;
}

std::optional<HttpError> readJsonBody(const QHttpServerRequest &request, QJsonObject *body,
                                      const QSet<QString> &allowed, const QSet<QString> &required)
{
    if (auto tooLarge = checkBodySize(request))
        return tooLarge;
    return parseJsonBody(request.value("Content-Type"), request.body(), body, allowed, required);
}

std::optional<HttpError> parseJsonBody(const QByteArray &contentTypeHeader, const QByteArray &bytes, QJsonObject *body,
                                       const QSet<QString> &allowed, const QSet<QString> &required)
{
    if (auto tooLarge = checkBodySize(QByteArray(), bytes.size()))
        return tooLarge;
    const QByteArray contentType = contentTypeHeader.trimmed().toLower();
    const qsizetype semicolon = contentType.indexOf(';');
    const QByteArray mime = (semicolon < 0 ? contentType : contentType.left(semicolon)).trimmed();
    QByteArray parameters = semicolon < 0 ? QByteArray() : contentType.mid(semicolon + 1).trimmed();
    if (mime != "application/json"
        || (!parameters.isEmpty() && parameters.replace(' ', "") != "charset=utf-8")) {
        return HttpError{415, tr("The request body must be JSON (Content-Type: application/json).")};
    }
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(bytes, &error);
    if (error.error != QJsonParseError::NoError)
        return HttpError{400, tr("The request body is not valid JSON: %1 at byte %2.")
                                  .arg(error.errorString()).arg(error.offset)};
    if (!doc.isObject())
        return HttpError{400, tr("The request body must be a JSON object.")};
    *body = doc.object();

    QStringList unknown;
    for (auto it = body->constBegin(); it != body->constEnd(); ++it) {
        if (!allowed.contains(it.key()))
            unknown.append(it.key());
    }
    if (!unknown.isEmpty())
        return HttpError{400, tr("Unknown field(s) in the request: %1.").arg(unknown.join(QStringLiteral(", ")))};
    QStringList missing;
    for (const QString &key : required) {
        if (!body->contains(key))
            missing.append(key);
    }
    if (!missing.isEmpty()) {
        std::sort(missing.begin(), missing.end());
        return HttpError{400, tr("Missing field(s) in the request: %1.").arg(missing.join(QStringLiteral(", ")))};
    }
    return std::nullopt;
}

std::optional<HttpError> checkQuery(const QUrlQuery &query, const QStringList &allowed)
{
    const auto items = query.queryItems(QUrl::FullyDecoded);
    QStringList seen;
    for (const auto &item : items) {
        if (!allowed.contains(item.first))
            return HttpError{400, tr("Unknown query parameter \"%1\".").arg(item.first)};
        if (seen.contains(item.first))
            return HttpError{400, tr("The query parameter \"%1\" is given twice.").arg(item.first)};
        seen.append(item.first);
    }
    return std::nullopt;
}

std::optional<HttpError> queryInteger(const QUrlQuery &query, const QString &key, qint64 minimum,
                                      qint64 maximum, qint64 fallback, qint64 *value)
{
    if (!query.hasQueryItem(key)) {
        *value = fallback;
        return std::nullopt;
    }
    bool ok = false;
    *value = query.queryItemValue(key).toLongLong(&ok);
    if (!ok || *value < minimum || *value > maximum)
        return HttpError{400, tr("The query parameter \"%1\" must be a whole number from %2 to %3.")
                                  .arg(key).arg(minimum).arg(maximum)};
    return std::nullopt;
}

QStringList pathSegments(const QUrl &url)
{
    QStringList parts;
    for (const QString &part : url.path(QUrl::FullyEncoded).split(QLatin1Char('/')))
        parts.append(QUrl::fromPercentEncoding(part.toUtf8()));
    return parts;
}

bool isPlainFileName(const QString &name)
{
    static const QRegularExpression pattern(QStringLiteral("^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$"));
    return pattern.match(name).hasMatch() && !name.contains(QLatin1String(".."))
           && !name.endsWith(QLatin1Char('.'));
}

bool isSha256Hex(const QString &text)
{
    static const QRegularExpression pattern(QStringLiteral("^[0-9A-Fa-f]{64}$"));
    return pattern.match(text).hasMatch();
}

std::optional<HttpError> stringField(const QJsonObject &body, const QString &key, QString *value)
{
    const QJsonValue v = body.value(key);
    if (!v.isString() || v.toString().isEmpty())
        return HttpError{400, tr("The field \"%1\" must be a non-empty string.").arg(key)};
    *value = v.toString();
    return std::nullopt;
}

std::optional<HttpError> integerField(const QJsonObject &body, const QString &key, qint64 *value,
                                      qint64 minimum, qint64 maximum)
{
    const QJsonValue v = body.value(key);
    const double d = v.toDouble(std::nan(""));
    if (!v.isDouble() || std::isnan(d) || d != std::floor(d) || d < double(minimum) || d > double(maximum))
        return HttpError{400, tr("The field \"%1\" must be a whole number from %2 to %3.")
                                  .arg(key).arg(minimum).arg(maximum)};
    *value = qint64(d);
    return std::nullopt;
}

} // namespace ft::agent

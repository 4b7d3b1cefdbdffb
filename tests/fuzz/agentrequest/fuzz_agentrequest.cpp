// libFuzzer target: the agent's request parsing (app/agent/apirequest.h) on what an
// attacker controls: the request target (path and query), the Content-Type, the
// Authorization header and the body.
//
// Input: "TARGET\nCONTENT-TYPE\nAUTHORIZATION\nBODY…" (missing lines are empty).

#include "apirequest.h"
#include "packages/package.h"
#include "tokenauth.h"

#include <QJsonObject>
#include <QUrl>
#include <QUrlQuery>

#include <cstddef>
#include <cstdint>

using namespace ft::agent;

namespace {

QByteArray takeLine(QByteArray &rest)
{
    const qsizetype newline = rest.indexOf('\n');
    if (newline < 0) {
        QByteArray all = rest;
        rest.clear();
        return all;
    }
    QByteArray line = rest.left(newline);
    rest.remove(0, newline + 1);
    return line;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    QByteArray rest(reinterpret_cast<const char *>(data), qsizetype(size));
    const QByteArray target = takeLine(rest);
    const QByteArray contentType = takeLine(rest);
    const QByteArray authorization = takeLine(rest);
    const QByteArray &body = rest;

    // Path and query, as AgentServer::route() reads them.
    const QUrl url = QUrl::fromEncoded(target);
    const QStringList parts = pathSegments(url);
    (void)url.path(QUrl::FullyDecoded);
    if (parts.size() >= 4)
        (void)isPlainFileName(parts.at(3));
    const QUrlQuery query(url);
    (void)checkQuery(query, {QStringLiteral("path"), QStringLiteral("which")});
    (void)checkQuery(query, {});
    qint64 value = 0;
    (void)queryInteger(query, QStringLiteral("hours"), 1, 744, 168, &value);
    (void)queryInteger(query, QStringLiteral("since"), 0, 2147483647, 0, &value);
    (void)queryInteger(query, QStringLiteral("wait"), 0, 30000, 0, &value);
    (void)ft::isSafeRelativePath(query.queryItemValue(QStringLiteral("path"), QUrl::FullyDecoded));

    (void)bearerToken(authorization);
    (void)checkBodySize(contentType, body.size());

    // The body as POST /v1/stage reads it, field by field.
    QJsonObject object;
    const QSet<QString> fields{QStringLiteral("url"), QStringLiteral("sha256"), QStringLiteral("size"),
                               QStringLiteral("name"), QStringLiteral("fingerprint")};
    if (!parseJsonBody(contentType, body, &object, fields, {})) {
        QString text;
        for (const QString &key : fields) {
            if (!stringField(object, key, &text)) {
                (void)isSha256Hex(text);
                (void)isPlainFileName(text);
                (void)QUrl(text, QUrl::StrictMode).host();
            }
            (void)integerField(object, key, &value, 1, qint64(1) << 50);
        }
    }
    return 0;
}

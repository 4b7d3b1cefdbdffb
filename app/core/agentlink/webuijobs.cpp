#include "agentlink/webuijobs.h"

#include "agentlink/agentreply.h"

#include <QUrl>

namespace ft {

using namespace agentreply;

Expected<WebUiCustomizations> WebUiCustomizations::fromAgentJson(const QJsonObject &json)
{
    WebUiCustomizations result;
    result.raw = json;
    const QString versionText = json.value(QLatin1String("version")).toString();
    if (!versionText.isEmpty()) {
        const auto version = Version::parse(versionText);
        if (!version)
            return fieldError(QStringLiteral("version"));
        result.version = *version;
    }
    result.manifest = json.value(QLatin1String("manifest")).toString();
    const auto files = arrayField(json, "files");
    if (!files)
        return makeError(files.error());
    for (const auto &value : *files) {
        const QJsonObject object = value.toObject();
        WebUiCustomizedFile file;
        file.path = object.value(QLatin1String("path")).toString();
        const QString change = object.value(QLatin1String("change")).toString();
        if (change == QLatin1String("modified"))
            file.change = WebUiCustomizedFile::Change::Modified;
        else if (change == QLatin1String("added"))
            file.change = WebUiCustomizedFile::Change::Added;
        else if (change == QLatin1String("deleted"))
            file.change = WebUiCustomizedFile::Change::Deleted;
        else
            return fieldError(QStringLiteral("files.change"));
        if (file.path.isEmpty())
            return fieldError(QStringLiteral("files.path"));
        file.size = object.value(QLatin1String("size")).toInteger(-1);
        file.modified = timeOf(object.value(QLatin1String("modified")));
        file.sha256 = object.value(QLatin1String("sha256")).toString();
        file.pristineSha256 = object.value(QLatin1String("pristine_sha256")).toString();
        file.text = object.value(QLatin1String("text")).toBool();
        result.files.append(file);
    }
    return result;
}

// ---- FetchCustomizationsJob -------------------------------------------------------------

FetchCustomizationsJob::FetchCustomizationsJob(AgentClient *client,
                                               const AgentEndpoint &endpoint, QObject *parent)
    : AgentJob(client, endpoint, parent)
{
}

AgentClient::Request FetchCustomizationsJob::request() const
{
    AgentClient::Request call;
    call.path = QStringLiteral("/webui/customizations");
    return call;
}

Result FetchCustomizationsJob::parseReply(const QByteArray &body)
{
    const auto json = jsonObject(body);
    if (!json)
        return makeError(json.error());
    auto customizations = WebUiCustomizations::fromAgentJson(*json);
    if (!customizations)
        return makeError(customizations.error());
    m_customizations = std::move(*customizations);
    return {};
}

// ---- FetchWebUiFileJob ------------------------------------------------------------------

FetchWebUiFileJob::FetchWebUiFileJob(AgentClient *client, const AgentEndpoint &endpoint,
                                     const QString &path, Which which, QObject *parent)
    : AgentJob(client, endpoint, parent)
    , m_path(path)
    , m_which(which)
{
    setMaxReplyBytes(4 * 1024 * 1024); // the agent serves files up to 4 MiB
}

AgentClient::Request FetchWebUiFileJob::request() const
{
    AgentClient::Request call;
    call.path = QStringLiteral("/webui/file");
    call.query.addQueryItem(QStringLiteral("path"),
                            QString::fromLatin1(QUrl::toPercentEncoding(m_path, "/")));
    call.query.addQueryItem(QStringLiteral("which"), m_which == Which::Pristine
                                                         ? QStringLiteral("pristine")
                                                         : QStringLiteral("current"));
    return call;
}

Result FetchWebUiFileJob::parseReply(const QByteArray &body)
{
    m_data = body;
    return {};
}

} // namespace ft

#include "agentlink/baselinejob.h"

#include "packages/package.h"

#include <QCoreApplication>
#include <QJsonObject>

namespace ft {

RecordBaselineJob::RecordBaselineJob(AgentClient *client, const AgentEndpoint &endpoint, QObject *parent)
    : AgentJob(client, endpoint, parent)
{
}

AgentClient::Request RecordBaselineJob::request() const
{
    AgentClient::Request call;
    call.verb = "POST";
    call.path = QStringLiteral("/webui/baseline");
    call.body = "{}";
    return call;
}

Result RecordBaselineJob::parseReply(const QByteArray &body)
{
    const auto json = jsonObject(body);
    if (!json)
        return makeError(json.error());
    m_version = json->value(QLatin1String("version")).toString();
    m_files = json->value(QLatin1String("files")).toInteger(-1);
    if (m_version.isEmpty() || m_files < 0)
        return makeError(QCoreApplication::translate("ft::RecordBaselineJob", "the baseline answer lacks its version or file count"));
    return {};
}

Expected<QStringList> webUiFilesOfPackage(const QString &packagePath)
{
    const auto manifest = readPackageManifest(packagePath);
    if (!manifest)
        return makeError(manifest.error());
    QStringList files;
    for (const PackageFile &file : manifest->files) {
        if (file.path.startsWith(QLatin1String("webui/")) && file.path != QLatin1String("webui/VERSION"))
            files.append(file.path.mid(6));
    }
    files.sort();
    return files;
}

} // namespace ft

#include "agentlink/baselinejob.h"

#include "packages/package.h"
#include "packages/vendorpackage.h"

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
    const auto format = packageFormatOf(packagePath);
    if (format && *format == PackageFormat::FtPkg) {
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
    // A vendor package (.deb, .rpm, .msi) lists where its files go on the system; where
    // the Web UI folder is, is not documented, so the folder all files share is taken as
    // its root and the paths are relative to it, as a baseline's are.
    const auto listed = packageFileList(packagePath);
    if (!listed)
        return makeError(listed.error());
    if (listed->isEmpty())
        return *listed;
    QStringList common = listed->first().split(QLatin1Char('/'));
    common.removeLast();
    for (const QString &file : *listed) {
        const QStringList parts = file.split(QLatin1Char('/'));
        qsizetype same = 0;
        while (same < common.size() && same + 1 < parts.size() && parts.at(same) == common.at(same))
            ++same;
        common = common.mid(0, same);
    }
    const qsizetype prefix = common.isEmpty() ? 0 : common.join(QLatin1Char('/')).size() + 1;
    QStringList files;
    for (const QString &file : *listed)
        files.append(file.mid(prefix));
    return files;
}

} // namespace ft

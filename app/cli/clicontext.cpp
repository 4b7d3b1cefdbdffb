#include "clicontext.h"

#include "agentlink/connectionprofile.h"
#include "packages/packageinspection.h"
#include "session/sandboxcluster.h"
#include "agentlink/trustedcertificates.h"

#include <QCoreApplication>
#include <QFile>
#include <QJsonDocument>

#include <cstdio>

namespace ft::cli {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ftupgrade-cli", text); }

Expected<QString> readTokenFile(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return makeError(tr("Cannot read the token file %1: %2").arg(path, file.errorString()));
    const QString token = QString::fromUtf8(file.read(4096)).trimmed();
    if (token.isEmpty())
        return makeError(tr("The token file %1 is empty.").arg(path));
    return token;
}

} // namespace

void CliContext::addConnectionOptions(QCommandLineParser &parser)
{
    parser.addOption({QStringLiteral("sandbox"),
                      tr("A sandbox cluster's folder (from 'ftsandbox up'): its portal, pins and token."),
                      tr("dir")});
    parser.addOption({QStringLiteral("portal"), tr("The portal agent's address (host:port)."),
                      tr("address")});
    parser.addOption({QStringLiteral("fingerprint"),
                      tr("The portal agent's certificate SHA-256 fingerprint, as 'ftupgrade-agent "
                         "init' printed it."),
                      tr("hex")});
    parser.addOption({QStringLiteral("token-file"),
                      tr("A file holding the cluster's access token (else $FTUPGRADE_TOKEN)."),
                      tr("file")});
}

void CliContext::addPackageOptions(QCommandLineParser &parser)
{
    parser.addOption({QStringLiteral("server-package"), tr("The new server package."), tr("file")});
    parser.addOption({QStringLiteral("nbi-package"), tr("The new NBI package."), tr("file")});
    parser.addOption({QStringLiteral("webui-package"), tr("The new Web UI package."), tr("file")});
}

Result CliContext::configure(const QCommandLineParser &parser, UpgradeSession &session)
{
    AgentEndpoint portal;
    portal.nodeName = tr("portal");
    QString token;

    if (parser.isSet(QStringLiteral("sandbox"))) {
        const auto cluster = SandboxClusterFile::read(parser.value(QStringLiteral("sandbox")));
        if (!cluster)
            return makeError(cluster.error());
        const SandboxNode *node = cluster->portal();
        if (!node || !node->agentUrl.isValid())
            return makeError(tr("The sandbox cluster has no portal agent."));
        for (const SandboxNode &member : cluster->nodes)
            session.addKnownFingerprint(member.agentUrl, member.agentFingerprint);
        portal.url = node->agentUrl;
        portal.fingerprint = node->agentFingerprint;
        token = cluster->token;
    } else {
        if (!parser.isSet(QStringLiteral("portal")))
            return makeError(tr("Say which cluster: --sandbox DIR, or --portal HOST:PORT with "
                                "--fingerprint."));
        const auto url = parseAgentAddress(parser.value(QStringLiteral("portal")));
        if (!url)
            return makeError(url.error());
        portal.url = *url;
        QString fingerprint = parser.value(QStringLiteral("fingerprint"));
        if (fingerprint.isEmpty())
            fingerprint = session.trustedCertificates().fingerprint(TrustedCertificates::addressOf(*url));
        if (fingerprint.isEmpty())
            return makeError(tr("No trusted fingerprint for %1: pass --fingerprint with the one "
                                "'ftupgrade-agent init' printed.")
                                 .arg(TrustedCertificates::addressOf(*url)));
        const auto normalized = TrustedCertificates::normalize(fingerprint);
        if (!normalized)
            return makeError(normalized.error());
        portal.fingerprint = *normalized;
    }

    if (parser.isSet(QStringLiteral("token-file"))) {
        const auto fromFile = readTokenFile(parser.value(QStringLiteral("token-file")));
        if (!fromFile)
            return makeError(fromFile.error());
        token = *fromFile;
    } else if (const QString fromEnvironment = qEnvironmentVariable("FTUPGRADE_TOKEN");
               !fromEnvironment.isEmpty()) {
        token = fromEnvironment;
    }
    if (token.isEmpty())
        return makeError(tr("No access token: use --token-file or set FTUPGRADE_TOKEN."));
    portal.token = token;
    session.setPortal(portal);
    return {};
}

Result parseArguments(QCommandLineParser &parser, const QStringList &arguments)
{
    if (!parser.parse(arguments))
        return makeError(parser.errorText());
    if (!parser.positionalArguments().isEmpty())
        return makeError(tr("Unexpected argument \"%1\".").arg(parser.positionalArguments().first()));
    return {};
}

QHash<Component, QString> packagePaths(const QCommandLineParser &parser)
{
    const std::pair<const char *, Component> slots[] = {{"server-package", Component::Server},
                                                        {"nbi-package", Component::Nbi},
                                                        {"webui-package", Component::WebUi}};
    QHash<Component, QString> paths;
    for (const auto &[option, component] : slots) {
        if (parser.isSet(QLatin1String(option)))
            paths.insert(component, parser.value(QLatin1String(option)));
    }
    return paths;
}

void inspectPackages(QObject *owner, const QHash<Component, QString> &paths,
                     const std::function<void(Component, const PackageChoice &)> &accept,
                     const std::function<void(const QStringList &)> &done)
{
    if (paths.isEmpty()) {
        QMetaObject::invokeMethod(owner, [done] { done({}); }, Qt::QueuedConnection);
        return;
    }
    auto pending = std::make_shared<int>(int(paths.size()));
    auto errors = std::make_shared<QStringList>();
    for (auto it = paths.cbegin(); it != paths.cend(); ++it) {
        auto *job = new PackageInspectJob(owner);
        job->setPath(it.value());
        job->setSlot(it.key());
        QObject::connect(job, &PackageInspectJob::finished, owner,
                         [pending, errors, accept, done](PackageInspectJob *finished) {
                             finished->deleteLater();
                             if (finished->hasError())
                                 errors->append(finished->errorString());
                             else
                                 accept(finished->slot(), finished->choice());
                             if (--*pending == 0)
                                 done(*errors);
                         });
        job->start();
    }
}

void printJson(const QJsonObject &object)
{
    const QByteArray text = QJsonDocument(object).toJson(QJsonDocument::Indented);
    std::fwrite(text.constData(), 1, size_t(text.size()), stdout);
    std::fflush(stdout);
}

void printError(const QString &sentence)
{
    const QByteArray text = sentence.toLocal8Bit() + '\n';
    std::fwrite(text.constData(), 1, size_t(text.size()), stderr);
    std::fflush(stderr);
}

} // namespace ft::cli

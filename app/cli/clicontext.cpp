#include "clicontext.h"

#include "packages/vendorpackage.h"

#include <QProcess>

#include "agentlink/connectionprofile.h"
#include "packages/packageinspection.h"
#include "session/sandboxcluster.h"
#include "session/upgradesession.h"
#include "webapi/webapiinfo.h"
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
    parser.addOption({QStringLiteral("node-fingerprint"),
                      tr("Pin another node's agent certificate: ADDRESS=HEX, ADDRESS as host:port "
                         "(repeat for each node; else the fingerprints the wizard trusted)."),
                      tr("address=hex")});
    parser.addOption({QStringLiteral("token-file"),
                      tr("A file holding the cluster's access token (else $FTUPGRADE_TOKEN)."),
                      tr("file")});
    // FlowTraq's own Web API on the portal: one more version source, and the "reboot
    // needed" check of verify. The password comes from $FLOWTRAQ_WEBAPI_PASSWORD only.
    parser.addOption({QStringLiteral("webapi"), tr("The FlowTraq portal's web address (https://host[:port])."),
                      tr("url")});
    parser.addOption({QStringLiteral("webapi-user"),
                      tr("The FlowTraq user for the Web API (password in $FLOWTRAQ_WEBAPI_PASSWORD)."), tr("user")});
    parser.addOption({QStringLiteral("webapi-fingerprint"),
                      tr("SHA-256 of the portal's web certificate, to pin a self-signed one."), tr("hex")});
    parser.addOption({QStringLiteral("webapi-version-key"),
                      tr("The key of the Web API's info answer that holds the version (default: found)."), tr("key")});
    parser.addOption({QStringLiteral("webapi-session-key"),
                      tr("Log in for a session key (POST sessionkey) instead of basic auth on every call.")});
}

void CliContext::addPackageOptions(QCommandLineParser &parser)
{
    parser.addOption({QStringLiteral("server-package"), tr("The new server package."), tr("file")});
    parser.addOption({QStringLiteral("nbi-package"), tr("The new NBI package."), tr("file")});
    parser.addOption({QStringLiteral("webui-package"), tr("The new Web UI package."), tr("file")});
    // A vendor installer that does not name its version, or whose silent switches the
    // vendor does not document (.exe, .sh/.bin/.run), needs them typed.
    for (const char *slot : {"server", "nbi", "webui"}) {
        parser.addOption({QStringLiteral("%1-version").arg(QLatin1String(slot)),
                          tr("The version the %1 package installs, when the file does not say.").arg(QLatin1String(slot)),
                          tr("version")});
        parser.addOption({QStringLiteral("%1-switches").arg(QLatin1String(slot)),
                          tr("The silent-install arguments of the %1 installer (.exe, .sh, .bin, .run).")
                              .arg(QLatin1String(slot)),
                          tr("arguments")});
    }
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
        if (cluster->webApi.isConfigured() && !parser.isSet(QStringLiteral("webapi")))
            session.discovery()->setWebApi(cluster->webApi);
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

    // The other nodes' pins, as 'ftupgrade-agent init' (or Ansible's node_agent) printed
    // them: without them a node nobody trusted in the wizard is left untouched.
    for (const QString &pin : parser.values(QStringLiteral("node-fingerprint"))) {
        const qsizetype equals = pin.indexOf(QLatin1Char('='));
        const auto url = parseAgentAddress(pin.left(equals));
        if (equals <= 0 || !url)
            return makeError(tr("--node-fingerprint takes ADDRESS=HEX, such as 10.0.0.7:9650=4904…b0f7; "
                                "\"%1\" is not.")
                                 .arg(pin));
        const auto normalized = TrustedCertificates::normalize(pin.mid(equals + 1));
        if (!normalized)
            return makeError(normalized.error());
        session.addKnownFingerprint(*url, *normalized);
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

    if (parser.isSet(QStringLiteral("webapi"))) {
        WebApiSettings webApi;
        webApi.portal = QUrl(parser.value(QStringLiteral("webapi")), QUrl::StrictMode);
        webApi.user = parser.value(QStringLiteral("webapi-user"));
        webApi.password = qEnvironmentVariable("FLOWTRAQ_WEBAPI_PASSWORD");
        webApi.fingerprint = parser.value(QStringLiteral("webapi-fingerprint"));
        webApi.versionKey = parser.value(QStringLiteral("webapi-version-key"));
        webApi.useSessionKey = parser.isSet(QStringLiteral("webapi-session-key"));
        if (auto valid = webApi.validate(); !valid)
            return makeError(valid.error());
        session.discovery()->setWebApi(webApi);
    } else if (parser.isSet(QStringLiteral("webapi-user"))) {
        return makeError(tr("--webapi-user needs --webapi with the portal's web address."));
    }
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

QHash<Component, PackageTyping> packageTyping(const QCommandLineParser &parser)
{
    QHash<Component, PackageTyping> typing;
    for (Component slot : {Component::Server, Component::Nbi, Component::WebUi}) {
        const QString name = toString(slot);
        PackageTyping typed;
        typed.version = parser.value(name + QStringLiteral("-version"));
        typed.switches = parser.value(name + QStringLiteral("-switches"));
        typing.insert(slot, typed);
    }
    return typing;
}

void inspectPackages(QObject *owner, const QHash<Component, QString> &paths,
                     const QHash<Component, PackageTyping> &typing,
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
        const PackageTyping typed = typing.value(it.key());
        job->setTypedFacts({typed.version, std::nullopt});
        job->setInstallerArguments(QProcess::splitCommand(typed.switches));
        QObject::connect(job, &PackageInspectJob::finished, owner,
                         [pending, errors, accept, done](PackageInspectJob *finished) {
                             finished->deleteLater();
                             const auto format = packageFormatOf(finished->path());
                             if (finished->hasError())
                                 errors->append(finished->errorString());
                             else if (format && needsTypedSwitches(*format)
                                      && finished->choice().installerArguments.isEmpty())
                                 errors->append(tr("%1 needs its silent-install arguments (--%2-switches): the vendor "
                                                   "does not document them, and the wizard does not guess.")
                                                    .arg(finished->choice().fileName(), toString(finished->slot())));
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

#include "clicontext.h"

#include "packages/vendorpackage.h"

#include <QProcess>

#include "agentlink/connectionprofile.h"
#include "agentlink/credentialstore.h"
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
    // needed" check of verify. The password comes from $FLOWTRAQ_WEBAPI_PASSWORD, else
    // from the keychain entry the wizard saved.
    parser.addOption({QStringLiteral("webapi"), tr("The FlowTraq portal's web address (https://host[:port])."),
                      tr("url")});
    parser.addOption({QStringLiteral("webapi-user"),
                      tr("The FlowTraq user for the Web API (password in $FLOWTRAQ_WEBAPI_PASSWORD, else the "
                         "wizard's keychain entry for the portal; without it, the keychain's user)."),
                      tr("user")});
    parser.addOption({QStringLiteral("webapi-fingerprint"),
                      tr("SHA-256 of the portal's web certificate, to pin a self-signed one."), tr("hex")});
    parser.addOption({QStringLiteral("webapi-version-key"),
                      tr("The key of the Web API's info answer that holds the version (default: found)."), tr("key")});
    parser.addOption({QStringLiteral("webapi-session-key"),
                      tr("Log in for a session key (POST sessionkey) instead of basic auth on every call.")});
}

void CliContext::addPackageOptions(QCommandLineParser &parser)
{
    // A cluster of Linux and Windows nodes needs a package per system: the option is then
    // given twice, and each node gets the package made for its own system.
    parser.addOption({QStringLiteral("server-package"),
                      tr("The new server package. Give it twice for a cluster of Linux and Windows nodes "
                         "(e.g. a .deb and an .msi): each node gets the one for its system."),
                      tr("file")});
    parser.addOption({QStringLiteral("nbi-package"), tr("The new NBI package (twice: one per system)."), tr("file")});
    parser.addOption({QStringLiteral("webui-package"), tr("The new Web UI package (twice: one per system)."),
                      tr("file")});
    // A vendor installer that does not name its version, or whose silent switches the
    // vendor does not document (.exe, .sh/.bin/.run), needs them typed.
    for (const char *slot : {"server", "nbi", "webui"}) {
        parser.addOption({QStringLiteral("%1-version").arg(QLatin1String(slot)),
                          tr("The version the %1 package installs, when the file does not say (with two "
                             "packages: once for both, or once per package in the same order).")
                              .arg(QLatin1String(slot)),
                          tr("version")});
        parser.addOption({QStringLiteral("%1-switches").arg(QLatin1String(slot)),
                          tr("The silent-install arguments of the %1 installer (.exe, .sh, .bin, .run), "
                             "needed where it is installed (not by verify); with two packages, once for "
                             "both or once per package in order.")
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

    // --webapi itself is configured by configureWebApi() (the keychain answers later).
    if (!parser.isSet(QStringLiteral("webapi")) && parser.isSet(QStringLiteral("webapi-user")))
        return makeError(tr("--webapi-user needs --webapi with the portal's web address."));
    session.setPortal(portal);
    return {};
}

void CliContext::configureWebApi(QObject *owner, const QCommandLineParser &parser, UpgradeSession &session,
                                 const std::function<void(const Result &)> &done)
{
    auto finish = [owner, done](const Result &result) {
        QMetaObject::invokeMethod(owner, [done, result] { done(result); }, Qt::QueuedConnection);
    };
    if (!parser.isSet(QStringLiteral("webapi"))) {
        finish({});
        return;
    }
    WebApiSettings typed;
    typed.portal = QUrl(parser.value(QStringLiteral("webapi")), QUrl::StrictMode);
    typed.user = parser.value(QStringLiteral("webapi-user"));
    typed.fingerprint = parser.value(QStringLiteral("webapi-fingerprint"));
    typed.versionKey = parser.value(QStringLiteral("webapi-version-key"));
    typed.useSessionKey = parser.isSet(QStringLiteral("webapi-session-key"));
    UpgradeSession *target = &session;
    auto apply = [target, finish](const WebApiSettings &settings) {
        if (Result valid = settings.validate(); !valid) {
            finish(valid);
            return;
        }
        target->discovery()->setWebApi(settings);
        finish({});
    };

    // The environment wins: a script's own secret beats what the wizard remembered.
    if (const QString password = qEnvironmentVariable("FLOWTRAQ_WEBAPI_PASSWORD"); !password.isEmpty()) {
        typed.password = password;
        apply(typed);
        return;
    }
    // Checked before the keychain is asked, so a bad address is the sentence (not "no password").
    {
        WebApiSettings probe = typed;
        probe.user = probe.user.isEmpty() ? QStringLiteral("-") : probe.user;
        probe.password = QStringLiteral("-");
        if (Result valid = probe.validate(); !valid) {
            finish(valid);
            return;
        }
    }
    // Else the entry the wizard saved ("Remember the credentials in the system
    // keychain"): the same service and key, so what the wizard stored the CLI reads.
    KeychainCredentialStore store;
    CredentialJob *job = store.readToken(typed.keychainKey(), owner);
    QObject::connect(job, &CredentialJob::finished, owner, [typed, apply, finish](CredentialJob *read) {
        const QString address = QStringLiteral("%1:%2").arg(typed.portal.host()).arg(typed.portal.port(443));
        if (read->error() != CredentialJob::NoError) {
            const QString why = read->error() == CredentialJob::NotFound
                                    ? tr("the keychain holds none for %1").arg(address)
                                    : tr("the keychain could not be read: %1").arg(read->errorString());
            finish(makeError(tr("No password for the FlowTraq Web API: set FLOWTRAQ_WEBAPI_PASSWORD, or save the "
                                "credentials once in the wizard (\"Remember the credentials in the system keychain\"); "
                                "%1.")
                                 .arg(why)));
            return;
        }
        WebApiSettings stored = typed;
        if (Result readable = stored.applySecretText(read->token()); !readable) {
            finish(readable);
            return;
        }
        if (!typed.user.isEmpty() && typed.user != stored.user) {
            finish(makeError(tr("The keychain holds the Web API password of user %1 for %2, not of %3: set "
                                "FLOWTRAQ_WEBAPI_PASSWORD or leave out --webapi-user.")
                                 .arg(stored.user, address, typed.user)));
            return;
        }
        // What was typed on the command line beats what was stored beside the password.
        if (!typed.fingerprint.isEmpty())
            stored.fingerprint = typed.fingerprint;
        if (!typed.versionKey.isEmpty())
            stored.versionKey = typed.versionKey;
        stored.useSessionKey = stored.useSessionKey || typed.useSessionKey;
        apply(stored);
    });
    job->start();
}

Result parseArguments(QCommandLineParser &parser, const QStringList &arguments)
{
    if (!parser.parse(arguments))
        return makeError(parser.errorText());
    if (!parser.positionalArguments().isEmpty())
        return makeError(tr("Unexpected argument \"%1\".").arg(parser.positionalArguments().first()));
    return {};
}

Expected<QList<PackageArgument>> packagePaths(const QCommandLineParser &parser)
{
    const std::pair<const char *, Component> options[] = {{"server-package", Component::Server},
                                                          {"nbi-package", Component::Nbi},
                                                          {"webui-package", Component::WebUi}};
    QList<PackageArgument> result;
    for (const auto &[option, component] : options) {
        const QStringList paths = parser.values(QLatin1String(option));
        const QString name = toString(component);
        const QStringList versions = parser.values(name + QStringLiteral("-version"));
        const QStringList switches = parser.values(name + QStringLiteral("-switches"));
        if (paths.size() > UpgradeTarget::SlotsPerComponent)
            return makeError(tr("--%1 is given %2 times, but at most twice: one package for the Linux nodes "
                                "and one for the Windows nodes.")
                                 .arg(QLatin1String(option))
                                 .arg(paths.size()));
        for (const auto &[typed, what] : {std::pair{&versions, "version"}, std::pair{&switches, "switches"}}) {
            if (typed->size() > 1 && typed->size() != paths.size())
                return makeError(tr("--%1-%2 is given %3 times for %4 %1 packages: give it once for all, or "
                                    "once per package in the same order.")
                                     .arg(name, QLatin1String(what))
                                     .arg(typed->size())
                                     .arg(paths.size()));
        }
        for (int index = 0; index < paths.size(); ++index) {
            PackageArgument argument;
            argument.slot = component;
            argument.index = index;
            argument.path = paths.at(index);
            argument.typed.version = versions.value(versions.size() > 1 ? index : 0);
            argument.typed.switches = switches.value(switches.size() > 1 ? index : 0);
            result.append(argument);
        }
    }
    return result;
}

void inspectPackages(QObject *owner, const QList<PackageArgument> &packages,
                     const std::function<void(const PackageArgument &, const PackageChoice &)> &accept,
                     const std::function<void(const QStringList &)> &done, InstallerSwitches switches)
{
    if (packages.isEmpty()) {
        QMetaObject::invokeMethod(owner, [done] { done({}); }, Qt::QueuedConnection);
        return;
    }
    auto pending = std::make_shared<int>(int(packages.size()));
    auto errors = std::make_shared<QStringList>();
    for (const PackageArgument &argument : packages) {
        auto *job = new PackageInspectJob(owner);
        job->setPath(argument.path);
        job->setSlot(argument.slot);
        job->setTypedFacts({argument.typed.version, std::nullopt});
        job->setInstallerArguments(QProcess::splitCommand(argument.typed.switches));
        QObject::connect(job, &PackageInspectJob::finished, owner,
                         [pending, errors, accept, done, argument, switches](PackageInspectJob *finished) {
                             finished->deleteLater();
                             const auto format = packageFormatOf(finished->path());
                             if (finished->hasError())
                                 errors->append(finished->errorString());
                             else if (switches == InstallerSwitches::Required && format
                                      && needsTypedSwitches(*format) && finished->choice().installerArguments.isEmpty())
                                 errors->append(tr("%1 needs its silent-install arguments (--%2-switches): the vendor "
                                                   "does not document them, and the wizard does not guess.")
                                                    .arg(finished->choice().fileName(), toString(finished->slot())));
                             else
                                 accept(argument, finished->choice());
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

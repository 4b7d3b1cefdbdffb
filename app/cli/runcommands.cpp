#include "runcommands.h"

#include "session/scheduledstart.h"
#include "agentlink/localaddressprobe.h"

#include "packages/packageinspection.h"
#include "plan/planexport.h"
#include "verify/runreport.h"

#include <QCoreApplication>
#include <QDir>
#include <QHostAddress>
#include <QJsonArray>
#include <QFile>
#include <QRegularExpression>
#include <QSslCertificate>
#include <QSslKey>
#include <QStandardPaths>
#include <QTimeZone>
#include <QTimer>

namespace ft::cli {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ftupgrade-cli", text); }

Expected<QSslConfiguration> tlsConfiguration(const QString &certificatePath, const QString &keyPath)
{
    QFile certificateFile(certificatePath);
    if (!certificateFile.open(QIODevice::ReadOnly))
        return makeError(tr("Cannot read the certificate %1: %2").arg(certificatePath, certificateFile.errorString()));
    const QSslCertificate certificate(certificateFile.read(1024 * 1024), QSsl::Pem);
    if (certificate.isNull())
        return makeError(tr("%1 holds no PEM certificate.").arg(certificatePath));
    QFile keyFile(keyPath);
    if (!keyFile.open(QIODevice::ReadOnly))
        return makeError(tr("Cannot read the key %1: %2").arg(keyPath, keyFile.errorString()));
    const QByteArray keyPem = keyFile.read(1024 * 1024);
    QSslKey key(keyPem, QSsl::Rsa, QSsl::Pem);
    if (key.isNull())
        key = QSslKey(keyPem, QSsl::Ec, QSsl::Pem);
    if (key.isNull())
        return makeError(tr("%1 holds no unencrypted PEM key (RSA or EC).").arg(keyPath));
    QSslConfiguration configuration = QSslConfiguration::defaultConfiguration();
    configuration.setLocalCertificate(certificate);
    configuration.setPrivateKey(key);
    configuration.setPeerVerifyMode(QSslSocket::VerifyNone);
    return configuration;
}

} // namespace

// ---- shared ------------------------------------------------------------------------------

void ClusterCommand::startDiscovery()
{
    if (Result configured = CliContext::configure(m_parser, m_session); !configured) {
        printError(configured.error());
        finishLater(ExitBadInput);
        return;
    }
    connect(m_session.discovery(), &ClusterDiscovery::finished, this, [this] {
        const QList<NodeStatus> &nodes = m_session.nodes();
        if (nodes.isEmpty() || !nodes.first().reachable) {
            printError(tr("The portal could not be reached: %1").arg(nodes.value(0).unreachableReason));
            Q_EMIT finished(ExitFailed);
            return;
        }
        for (const NodeStatus &node : nodes) {
            if (!node.reachable)
                printError(tr("%1: %2").arg(node.name, node.unreachableReason));
        }
        discovered();
    });
    CliContext::configureWebApi(this, m_parser, m_session, [this](const Result &webApi) {
        if (!webApi) {
            printError(webApi.error());
            Q_EMIT finished(ExitBadInput);
            return;
        }
        m_session.discovery()->start();
    });
}

Expected<AgentEndpoint> ClusterCommand::endpointForNode(const QString &node) const
{
    for (const NodeStatus &status : m_session.nodes()) {
        if (status.name == node) {
            if (status.agentUrl.isEmpty())
                return makeError(tr("node %1 has no agent address").arg(node));
            return m_session.endpointFor(status);
        }
    }
    return makeError(tr("node %1 is not in the cluster the portal lists").arg(node));
}

QList<AgentEndpoint> ClusterCommand::reachableEndpoints() const
{
    QList<AgentEndpoint> endpoints;
    for (const NodeStatus &node : m_session.nodes())
        endpoints.append(m_session.endpointFor(node));
    return endpoints;
}

QString ClusterCommand::defaultJournalPath() const
{
    QString base = QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation);
    if (base.isEmpty())
        base = QDir::tempPath();
    QString cluster = m_session.clusterId();
    cluster.replace(QRegularExpression(QStringLiteral("[^A-Za-z0-9._-]")), QStringLiteral("_"));
    return QDir(base).filePath(QStringLiteral("runs/run-%1.json").arg(cluster));
}

QString ClusterCommand::journalPathOption() const
{
    return m_parser.isSet(QStringLiteral("journal")) ? m_parser.value(QStringLiteral("journal"))
                                                     : defaultJournalPath();
}

// ---- run ---------------------------------------------------------------------------------

Result RunCommand::parse(const QStringList &arguments)
{
    m_parser.setApplicationDescription(
        tr("Upgrades the cluster without asking: stages the packages on every node, then runs the "
           "plan's waves, verifies every node and prints the outcome as JSON. Exit codes: 0 every "
           "node upgraded, 1 halted or failed, 2 bad input, 3 done but a node needs a reboot."));
    CliContext::addConnectionOptions(m_parser);
    CliContext::addPackageOptions(m_parser);
    m_parser.addOptions({
        {QStringLiteral("resume"), tr("Continue the run in the journal: re-probe every node, reconcile, "
                                      "and go on without upgrading anything twice.")},
        {QStringLiteral("journal"), tr("The run journal (default: one per cluster in the application's "
                                       "data folder)."),
         tr("file")},
        {QStringLiteral("on-failure"), tr("What a failed step does: halt (default), skip (leave the node "
                                          "on its old version) or defer (retry it at the end)."),
         tr("policy"), QStringLiteral("halt")},
        {QStringLiteral("stop-after"), tr("Halt once this many nodes have failed (default 1 with halt; "
                                          "no limit with skip or defer)."),
         tr("n")},
        {QStringLiteral("max-workers-down"), tr("Workers upgraded at the same time (default 1)."), tr("n"),
         QStringLiteral("1")},
        {QStringLiteral("drop-flows"), tr("Turn \"Keep flows during the outage\" off for this node (repeat for more); it is on for every Linux node that receives flows."), tr("node")},
        {QStringLiteral("installer-timeout"), tr("Seconds an installer may run before the agent stops it "
                                                 "(default: 4 × its estimate, at least 10 min)."),
         tr("seconds")},
        {QStringLiteral("slow-after"), tr("Warn that a step takes longer than expected after this many "
                                          "seconds beyond its estimate (default 60)."),
         tr("seconds")},
        {QStringLiteral("flow-timeout"), tr("Seconds to wait for flows to arrive again on a node that "
                                            "receives them (default 60)."),
         tr("seconds")},
        {QStringLiteral("delivery"), tr("How the packages reach the nodes: portal (default: uploaded once to "
                                        "the portal's agent, the nodes fetch them there), workstation (served "
                                        "from here; the nodes must reach this machine) or url (from "
                                        "--package-url)."),
         tr("how"), QStringLiteral("portal")},
        {QStringLiteral("package-url"), tr("With --delivery url: the http(s) folder that holds the package files."),
         tr("url")},
        {QStringLiteral("package-url-fingerprint"), tr("With --delivery url over https: the SHA-256 of the file "
                                                       "server's certificate to pin."),
         tr("hex")},
        {QStringLiteral("portal-address-for-nodes"),
         tr("With --delivery portal: the host or host:port at which the nodes reach the portal's agent, when "
            "it is not the address this machine uses (NAT, a second interface)."),
         tr("host[:port]")},
        {QStringLiteral("serve-address"), tr("With --delivery workstation: the address the packages are served on, "
                                             "facing the nodes (default: the address this machine uses to reach "
                                             "the portal)."),
         tr("address")},
        {QStringLiteral("serve-certificate"), tr("Serve the packages over HTTPS with this certificate "
                                                 "(PEM; the agents pin it). Needs --serve-key."),
         tr("file")},
        {QStringLiteral("serve-key"), tr("The certificate's private key (PEM, RSA or EC)."), tr("file")},
        {QStringLiteral("report"), tr("Also write the run's report (.json, .html or .pdf)."), tr("file")},
        {QStringLiteral("verbose"), tr("Print the installers' log lines on stderr as they come.")},
        {QStringLiteral("canary"), tr("Upgrade this worker first and alone, then halt (exit 1) so it can be "
                                      "checked; run --resume upgrades the rest."),
         tr("node")},
        {QStringLiteral("at"), tr("The announced window's start: stage at once, then stop no service "
                                  "before this time (ISO 8601, e.g. 2026-12-05T22:00:00+01:00, or "
                                  "HH:MM today in local time)."),
         tr("time")},
        {QStringLiteral("now"), tr("Start the upgrade as soon as staging is done, without a window "
                                   "(also when resuming a run that has one).")},
    });
    if (Result parsed = parseArguments(m_parser, arguments); !parsed)
        return parsed;

    m_resume = m_parser.isSet(QStringLiteral("resume"));
    const auto packages = packagePaths(m_parser);
    if (!packages)
        return makeError(packages.error());
    m_packagePaths = *packages;
    if (!m_resume && m_packagePaths.isEmpty())
        return makeError(tr("Name at least the new server package (--server-package FILE), or use --resume."));
    if (m_resume && !m_packagePaths.isEmpty())
        return makeError(tr("--resume continues with the journal's packages; do not name packages."));

    const auto policy = parseFailurePolicy(m_parser.value(QStringLiteral("on-failure")));
    if (!policy || *policy == FailurePolicy::Ask)
        return makeError(tr("--on-failure takes halt, skip or defer."));
    m_options.onFailure = *policy;
    m_options.stopAfterFailedNodes = *policy == FailurePolicy::Halt ? 1 : 0;
    auto number = [this](const char *option, int minimum, int maximum) -> Expected<int> {
        bool ok = false;
        const int value = m_parser.value(QLatin1String(option)).toInt(&ok);
        if (!ok || value < minimum || value > maximum)
            return makeError(tr("--%1 takes a whole number from %2 to %3.")
                                 .arg(QLatin1String(option))
                                 .arg(minimum)
                                 .arg(maximum));
        return value;
    };
    if (m_parser.isSet(QStringLiteral("stop-after"))) {
        const auto value = number("stop-after", 1, 100000);
        if (!value)
            return makeError(value.error());
        m_options.stopAfterFailedNodes = *value;
    }
    if (m_parser.isSet(QStringLiteral("installer-timeout"))) {
        const auto value = number("installer-timeout", 1, 7 * 24 * 3600);
        if (!value)
            return makeError(value.error());
        m_options.installerTimeoutSeconds = *value;
    }
    if (m_parser.isSet(QStringLiteral("slow-after"))) {
        const auto value = number("slow-after", 0, 24 * 3600);
        if (!value)
            return makeError(value.error());
        m_options.slowGraceMs = qint64(*value) * 1000;
    }
    if (m_parser.isSet(QStringLiteral("flow-timeout"))) {
        const auto value = number("flow-timeout", 0, 3600);
        if (!value)
            return makeError(value.error());
        m_options.flowResumeTimeoutMs = qint64(*value) * 1000;
    }
    const auto workers = number("max-workers-down", 1, 1000);
    if (!workers)
        return makeError(workers.error());
    PlanOptions planOptions;
    planOptions.maxWorkersDown = *workers;
    planOptions.canaryNode = m_parser.value(QStringLiteral("canary"));
    for (const QString &node : m_parser.values(QStringLiteral("drop-flows")))
        planOptions.dropFlowsOn.insert(node);
    m_session.setPlanOptions(planOptions);
    const auto delivery = parsePackageDelivery(m_parser.value(QStringLiteral("delivery")));
    if (!delivery)
        return makeError(delivery.error());
    m_options.delivery = *delivery;
    if (m_parser.isSet(QStringLiteral("package-url")) != (*delivery == PackageDelivery::Url))
        return makeError(tr("--package-url goes with --delivery url, and --delivery url needs --package-url."));
    if (*delivery == PackageDelivery::Url) {
        const QUrl url(m_parser.value(QStringLiteral("package-url")), QUrl::StrictMode);
        if (!url.isValid() || url.host().isEmpty()
            || (url.scheme() != QLatin1String("http") && url.scheme() != QLatin1String("https")))
            return makeError(tr("--package-url takes an http or https URL with a host."));
        m_options.deliveryUrl = url;
        m_options.deliveryFingerprint = m_parser.value(QStringLiteral("package-url-fingerprint"));
    }
    if (m_parser.isSet(QStringLiteral("portal-address-for-nodes"))) {
        if (*delivery != PackageDelivery::Portal)
            return makeError(tr("--portal-address-for-nodes goes with --delivery portal."));
        const QString address = m_parser.value(QStringLiteral("portal-address-for-nodes")).trimmed();
        if (Result checked = checkHostAndPort(address); !checked)
            return makeError(tr("--portal-address-for-nodes: %1").arg(checked.error()));
        m_options.portalAddressForNodes = address;
    }
    if (m_parser.isSet(QStringLiteral("serve-address"))) {
        if (*delivery != PackageDelivery::Workstation)
            return makeError(tr("--serve-address goes with --delivery workstation."));
        const QHostAddress address(m_parser.value(QStringLiteral("serve-address")));
        if (address.isNull())
            return makeError(tr("--serve-address takes an IP address such as 10.0.0.5."));
        m_options.serveAddress = address;
        m_serveAddressGiven = true;
    }
    if (m_parser.isSet(QStringLiteral("serve-certificate")) != m_parser.isSet(QStringLiteral("serve-key")))
        return makeError(tr("HTTPS needs both --serve-certificate and --serve-key."));
    if (m_parser.isSet(QStringLiteral("serve-certificate"))) {
        const auto tls = tlsConfiguration(m_parser.value(QStringLiteral("serve-certificate")),
                                          m_parser.value(QStringLiteral("serve-key")));
        if (!tls)
            return makeError(tls.error());
        m_options.tls = *tls;
    }
    if (m_parser.isSet(QStringLiteral("report"))) {
        if (const auto format = reportFormatForPath(m_parser.value(QStringLiteral("report"))); !format)
            return makeError(format.error());
    }
    m_now = m_parser.isSet(QStringLiteral("now"));
    if (m_parser.isSet(QStringLiteral("at"))) {
        if (m_now)
            return makeError(tr("Use either --at or --now, not both."));
        const auto at = parseStartTime(m_parser.value(QStringLiteral("at")), QDateTime::currentDateTime());
        if (!at)
            return makeError(at.error());
        m_at = *at;
        PlanOptions withStart = m_session.planOptions();
        withStart.startTime = m_at;
        m_session.setPlanOptions(withStart);
    }
    return {};
}

Expected<QDateTime> parseStartTime(const QString &text, const QDateTime &now)
{
    const QString trimmed = text.trimmed();
    QDateTime at;
    const QTime clock = QTime::fromString(trimmed, QStringLiteral("H:mm"));
    if (clock.isValid())
        at = QDateTime(now.date(), clock, now.timeZone());
    else
        at = QDateTime::fromString(trimmed, Qt::ISODate);
    if (!at.isValid())
        return makeError(QCoreApplication::translate(
                             "ft::cli::RunCommand",
                             "--at takes a time such as 2026-12-05T22:00:00+01:00, 2026-12-05T21:00:00Z "
                             "or 22:00 (today, local time); \"%1\" is none of these.")
                             .arg(text));
    // A minute of slack: "--at 22:00" typed at 22:00:30 means now.
    if (at.toUTC() < now.toUTC().addSecs(-60))
        return makeError(QCoreApplication::translate("ft::cli::RunCommand",
                                                     "--at %1 lies in the past; use --now to start at once.")
                             .arg(text));
    return at.toUTC();
}

void RunCommand::start()
{
    startDiscovery();
}

void RunCommand::discovered()
{
    (void)m_session.openHistory();
    if (m_resume) {
        startEngine(true);
        return;
    }
    inspectPackages(
        this, m_packagePaths,
        [this](const PackageArgument &argument, const PackageChoice &choice) {
            m_session.setPackage(argument.slot, choice, argument.index);
        },
        [this](const QStringList &errors) {
            m_packageErrors = errors;
            packagesRead();
        });
}

void RunCommand::packagesRead()
{
    if (!m_packageErrors.isEmpty()) {
        for (const QString &error : std::as_const(m_packageErrors))
            printError(error);
        Q_EMIT finished(ExitBadInput);
        return;
    }
    const PreCheckReport report = m_session.preChecks();
    bool blocked = false;
    for (const PreCheckFinding &finding : report.findings) {
        if (finding.severity == PreCheckSeverity::Notice)
            continue;
        printError(QStringLiteral("%1: %2%3")
                       .arg(toString(finding.severity),
                            finding.node.isEmpty() ? QString() : finding.node + QStringLiteral(": "),
                            finding.message));
        blocked = blocked || finding.severity == PreCheckSeverity::Error;
    }
    if (blocked) {
        printJson(QJsonObject{{QStringLiteral("prechecks"), report.toJson()}});
        printError(tr("The pre-checks found errors; nothing was changed."));
        Q_EMIT finished(ExitFailed);
        return;
    }
    startEngine(false);
}

void RunCommand::startEngine(bool resuming)
{
    m_options.portal = m_session.portal();
    if (m_options.delivery == PackageDelivery::Workstation && !m_serveAddressGiven) {
        // Serve on the address this machine really uses towards the portal.
        auto *probe = new LocalAddressProbe(m_session.portal().url, this);
        connect(probe, &LocalAddressProbe::finished, this, [this, probe, resuming] {
            probe->deleteLater();
            if (probe->hasError()) {
                printError(tr("Cannot tell which address faces the nodes: %1 Name it with --serve-address.")
                               .arg(probe->errorString()));
                Q_EMIT finished(ExitFailed);
                return;
            }
            m_options.serveAddress = probe->localAddress();
            m_serveAddressGiven = true;
            printError(tr("Serving the packages on %1, the address that reaches the portal.")
                           .arg(probe->localAddress().toString()));
            startEngine(resuming);
        });
        probe->start();
        return;
    }
    m_options.journalPath = journalPathOption();
    m_options.clusterId = m_session.clusterId();
    m_engine = new RunEngine(m_session.client(), this);
    m_engine->setHistory(const_cast<DurationHistory *>(&m_session.history()));
    m_engine->setEndpointLookup([this](const QString &node) { return endpointForNode(node); });

    if (resuming) {
        const auto journal = RunJournal::load(m_options.journalPath);
        if (!journal) {
            printError(journal.error());
            Q_EMIT finished(ExitBadInput);
            return;
        }
        if (!journal->clusterId.isEmpty() && journal->clusterId != m_session.clusterId()) {
            printError(tr("The run in %1 belongs to the cluster at %2, not to %3.")
                           .arg(m_options.journalPath, journal->clusterId, m_session.clusterId()));
            Q_EMIT finished(ExitBadInput);
            return;
        }
        if (journal->state == RunState::Completed) {
            printError(tr("The run in %1 has completed already; nothing to resume.").arg(m_options.journalPath));
            Q_EMIT finished(ExitBadInput);
            return;
        }
        m_engine->setOptions(m_options);
        if (Result resumed = m_engine->resumeFrom(*journal); !resumed) {
            printError(resumed.error());
            Q_EMIT finished(ExitBadInput);
            return;
        }
        // The journal's window holds unless told otherwise.
        if (m_at.isValid())
            m_engine->setAnnouncedStart(m_at);
        else if (m_now)
            m_engine->startNow(QStringLiteral("--now"));
    } else {
        const UpgradePlan plan = m_session.plan();
        if (plan.nothingToDo()) {
            printJson(QJsonObject{{QStringLiteral("plan"), planToJson(plan)}});
            printError(tr("Every node is at the target already; nothing to do."));
            Q_EMIT finished(ExitOk);
            return;
        }
        m_options.announcedStart = m_at;
        m_engine->setOptions(m_options);
        if (Result prepared = m_engine->prepare(plan, m_session.target()); !prepared) {
            printError(prepared.error());
            Q_EMIT finished(ExitBadInput);
            return;
        }
    }
    printError(tr("Run %1; journal %2; audit log %3.")
                   .arg(m_engine->journal().runId, m_options.journalPath, m_engine->auditLogPath()));
    connect(m_engine, &RunEngine::activity, this, [](const QString &sentence) { printError(sentence); });
    connect(m_engine, &RunEngine::stepSlow, this, [](int, const QString &sentence) { printError(sentence); });
    if (m_parser.isSet(QStringLiteral("verbose")))
        connect(m_engine, &RunEngine::logLines, this, [this](int step, const QStringList &lines) {
            const QString node = m_engine->step(step).step.node;
            for (const QString &line : lines)
                printError(QStringLiteral("  %1| %2").arg(node, line));
        });
    connect(m_engine, &RunEngine::finished, this, &RunCommand::runFinished);
    if (m_engine->announcedStart().isValid() && !m_engine->journal().startedEarly
        && QDateTime::currentDateTimeUtc() < m_engine->announcedStart()) {
        // The engine holds after staging until the window; say so, and when it opens.
        const QString window = m_engine->announcedStart().toString(Qt::ISODate);
        m_schedule = new ScheduledStart(m_engine, this);
        connect(m_schedule, &ScheduledStart::released, this, [window](bool early) {
            printError(early ? tr("Started before the announced window (%1).").arg(window)
                             : tr("The announced window has opened (%1): the upgrade starts.").arg(window));
        });
        printError(tr("Staging now; no service stops before %1 (the announced window).").arg(window));
    }
    m_engine->start();
}

void RunCommand::runFinished()
{
    auto *verify = new VerifyJob(m_session.client(), this);
    verify->setEndpoints(reachableEndpoints());
    verify->setTargets(targetsOf(m_engine->journal()));
    verify->setJournal(m_engine->journal());
    verify->setWebApi(m_session.discovery()->webApi());
    connect(verify, &VerifyJob::finished, this, [this](VerifyJob *job) {
        job->deleteLater();
        printOutcome(&job->report());
    });
    verify->start();
}

namespace {

// A node left with its FlowTraq service stopped is said in a sentence on stderr, not
// only in the JSON: which node, that its service is stopped, and what each choice does.
void printStoppedServices(const RunJournal &journal, const VerificationReport &verification)
{
    for (const VerificationCell &cell : verification.cells) {
        if (cell.component != Component::Server || !cell.reachable || cell.service != ServiceState::Stopped)
            continue;
        QString error;
        for (const RunStepRecord &record : journal.steps) {
            if (record.step.node == cell.node && record.step.component == Component::Server)
                error = record.error;
        }
        if (error.contains(QLatin1String("service is stopped"))) {
            // The agent's own sentence (an upgrade cut off by a restart) says it all.
            printError(QStringLiteral("%1: %2").arg(cell.node, error));
            continue;
        }
        printError(tr("%1: the FlowTraq service is stopped%2. Retry runs the installer again; Start service "
                      "brings up what is installed.")
                       .arg(cell.node, error.isEmpty() ? QString() : tr(" and the upgrade did not finish (%1)").arg(error)));
    }
}

} // namespace

void RunCommand::printOutcome(const VerificationReport *verification)
{
    QJsonObject json = runReportJson(m_engine->journal(), verification);
    json.insert(QStringLiteral("journal"), m_options.journalPath);
    qint64 packageBytes = 0;
    for (const RunPackage &package : m_engine->journal().packages)
        packageBytes += package.size;
    json.insert(QStringLiteral("delivery"),
                QJsonObject{{QStringLiteral("method"), m_engine->journal().delivery.isEmpty()
                                                            ? toString(m_options.delivery)
                                                            : m_engine->journal().delivery.method},
                            {QStringLiteral("bytes_sent"), m_engine->deliveryBytesSent()},
                            {QStringLiteral("package_bytes"), packageBytes},
                            {QStringLiteral("uploads_left"), QJsonArray::fromStringList(m_engine->journal().delivery.uploads)}});
    printJson(json);
    for (const QString &warning : verification->warnings)
        printError(tr("warning: %1").arg(warning));
    printStoppedServices(m_engine->journal(), *verification);
    int code = runExitCode(*m_engine, verification);
    if (m_parser.isSet(QStringLiteral("report"))) {
        if (Result written = exportRunReport(m_engine->journal(), verification,
                                             m_parser.value(QStringLiteral("report")));
            !written) {
            printError(written.error());
            code = code == ExitOk ? ExitFailed : code;
        }
    }
    Q_EMIT finished(code);
}

int runExitCode(const RunEngine &engine, const VerificationReport *verification)
{
    if (engine.state() != RunState::Completed)
        return ExitFailed;
    for (const RunStepRecord &record : engine.journal().steps) {
        if (record.wave >= 0 && (record.state == RunStepState::Failed || record.state == RunStepState::Skipped))
            return ExitFailed;
    }
    if (verification && verification->anyFailed())
        return ExitFailed;
    if (engine.rebootNeeded() || (verification && verification->rebootNeeded()))
        return ExitRebootNeeded;
    return ExitOk;
}

// ---- verify ------------------------------------------------------------------------------

Result VerifyCommand::parse(const QStringList &arguments)
{
    m_parser.setApplicationDescription(
        tr("Checks every node × component against the target: version before and now, service "
           "running, flows arriving, the Web UI version on the portal. The target comes from the "
           "packages named or from a run's journal. Exit codes: 0 all at the target, 1 not, "
           "2 bad input, 3 a node needs a reboot."));
    CliContext::addConnectionOptions(m_parser);
    CliContext::addPackageOptions(m_parser);
    m_parser.addOption({QStringLiteral("journal"), tr("A run journal: its targets and versions before."),
                        tr("file")});
    m_parser.addOption({QStringLiteral("report"), tr("Also write the report (.json, .html or .pdf); "
                                                     "needs --journal."),
                        tr("file")});
    if (Result parsed = parseArguments(m_parser, arguments); !parsed)
        return parsed;
    const auto packages = packagePaths(m_parser);
    if (!packages)
        return makeError(packages.error());
    m_packagePaths = *packages;
    if (m_parser.isSet(QStringLiteral("journal"))) {
        const auto journal = RunJournal::load(m_parser.value(QStringLiteral("journal")));
        if (!journal)
            return makeError(journal.error());
        m_journal = *journal;
        m_targets = targetsOf(*journal);
    } else if (m_parser.isSet(QStringLiteral("report"))) {
        return makeError(tr("--report needs the run's --journal."));
    }
    if (m_packagePaths.isEmpty() && !m_journal)
        return makeError(tr("Name the target: --server-package FILE (and the others), or --journal FILE."));
    if (m_parser.isSet(QStringLiteral("report"))) {
        if (const auto format = reportFormatForPath(m_parser.value(QStringLiteral("report"))); !format)
            return makeError(format.error());
    }
    return {};
}

void VerifyCommand::start()
{
    startDiscovery();
}

void VerifyCommand::discovered()
{
    if (m_packagePaths.isEmpty()) {
        targetsKnown();
        return;
    }
    inspectPackages(
        this, m_packagePaths,
        [this](const PackageArgument &argument, const PackageChoice &choice) {
            // Two packages of a component (one per system) install the same version.
            if (argument.index == 0 || !m_targets.contains(argument.slot))
                m_targets.insert(argument.slot, choice.version);
        },
        [this](const QStringList &errors) {
            m_packageErrors = errors;
            if (!errors.isEmpty()) {
                for (const QString &error : errors)
                    printError(error);
                Q_EMIT finished(ExitBadInput);
                return;
            }
            targetsKnown();
        },
        // Verify reads only the version a package installs; it runs no installer.
        InstallerSwitches::NotNeeded);
}

void VerifyCommand::targetsKnown()
{
    auto *job = new VerifyJob(m_session.client(), this);
    job->setEndpoints(reachableEndpoints());
    job->setTargets(m_targets);
    job->setWebApi(m_session.discovery()->webApi());
    if (m_journal)
        job->setJournal(*m_journal);
    connect(job, &VerifyJob::finished, this, [this](VerifyJob *done) {
        done->deleteLater();
        const VerificationReport &report = done->report();
        printJson(QJsonObject{{QStringLiteral("verification"), report.toJson()}});
        for (const QString &warning : report.warnings)
            printError(tr("warning: %1").arg(warning));
        for (const VerificationCell &cell : report.cells) {
            if (cell.verdict != Verdict::Upgraded && cell.verdict != Verdict::AlreadyCurrent)
                printError(tr("%1 %2: %3").arg(cell.node, displayName(cell.component), cell.sentence));
            else if (cell.flowKeeping)
                printError(tr("%1 %2: %3").arg(cell.node, displayName(cell.component), cell.flowKeeping->sentence()));
        }
        // Nodes the run never reached are not failures, but not at the target either.
        int code = report.anyFailed() || (!report.allAtTarget() && !report.rebootNeeded()) ? ExitFailed
                   : report.rebootNeeded()                                                  ? ExitRebootNeeded
                                                                                            : ExitOk;
        if (m_parser.isSet(QStringLiteral("report"))) {
            if (Result written = exportRunReport(*m_journal, &report, m_parser.value(QStringLiteral("report")));
                !written) {
                printError(written.error());
                code = code == ExitOk ? ExitFailed : code;
            }
        }
        Q_EMIT finished(code);
    });
    job->start();
}

// ---- report ------------------------------------------------------------------------------

Result ReportCommand::parse(const QStringList &arguments)
{
    m_parser.setApplicationDescription(
        tr("Writes a run's report (plan, timings estimated against actual, each node's outcome, "
           "customizations acknowledged, notice sent) from its journal as JSON, HTML or PDF. With a "
           "cluster named (--sandbox or --portal), every node is verified first and the matrix is "
           "included."));
    CliContext::addConnectionOptions(m_parser);
    m_parser.addOption({QStringLiteral("journal"), tr("The run journal."), tr("file")});
    m_parser.addOption({{QStringLiteral("o"), QStringLiteral("output")},
                        tr("The report file (.json, .html or .pdf)."), tr("file")});
    if (Result parsed = parseArguments(m_parser, arguments); !parsed)
        return parsed;
    if (!m_parser.isSet(QStringLiteral("journal")))
        return makeError(tr("Name the run: --journal FILE."));
    if (!m_parser.isSet(QStringLiteral("output")))
        return makeError(tr("Name the report file: --output FILE (.json, .html or .pdf)."));
    m_output = m_parser.value(QStringLiteral("output"));
    if (const auto format = reportFormatForPath(m_output); !format)
        return makeError(format.error());
    const auto journal = RunJournal::load(m_parser.value(QStringLiteral("journal")));
    if (!journal)
        return makeError(journal.error());
    m_journal = *journal;
    return {};
}

void ReportCommand::start()
{
    if (m_parser.isSet(QStringLiteral("sandbox")) || m_parser.isSet(QStringLiteral("portal"))) {
        startDiscovery();
        return;
    }
    QTimer::singleShot(0, this, [this] { write(nullptr); });
}

void ReportCommand::discovered()
{
    auto *job = new VerifyJob(m_session.client(), this);
    job->setEndpoints(reachableEndpoints());
    job->setTargets(targetsOf(m_journal));
    job->setJournal(m_journal);
    connect(job, &VerifyJob::finished, this, [this](VerifyJob *done) {
        done->deleteLater();
        write(&done->report());
    });
    job->start();
}

void ReportCommand::write(const VerificationReport *verification)
{
    if (Result written = exportRunReport(m_journal, verification, m_output); !written) {
        printError(written.error());
        Q_EMIT finished(ExitFailed);
        return;
    }
    printJson(QJsonObject{{QStringLiteral("report"), m_output}});
    Q_EMIT finished(ExitOk);
}

} // namespace ft::cli

namespace ft::cli {

// Called from createCommand()/commandNames() in commands.cpp.
Command *createRunCommand(const QString &name, QObject *parent)
{
    if (name == QLatin1String("run"))
        return new RunCommand(parent);
    if (name == QLatin1String("verify"))
        return new VerifyCommand(parent);
    if (name == QLatin1String("report"))
        return new ReportCommand(parent);
    return nullptr;
}

QStringList runCommandNames()
{
    return {QStringLiteral("run"), QStringLiteral("verify"), QStringLiteral("report")};
}

} // namespace ft::cli

#include "commands.h"

#include "noticecommands.h"
#include "plan/planexport.h"
#include "runcommands.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QJsonArray>
#include <QTimer>

namespace ft::cli {

void Command::finishLater(int exitCode)
{
    QTimer::singleShot(0, this, [this, exitCode] { Q_EMIT finished(exitCode); });
}

Result DiscoverCommand::parse(const QStringList &arguments)
{
    m_parser.setApplicationDescription(tr("Lists the cluster's nodes with their versions, "
                                          "service state and flow rate."));
    CliContext::addConnectionOptions(m_parser);
    m_parser.addOption({QStringLiteral("timeout"), tr("Seconds to wait for each node (default 5)."),
                        tr("seconds"), QStringLiteral("5")});
    return parseArguments(m_parser, arguments);
}

void DiscoverCommand::start()
{
    if (Result configured = CliContext::configure(m_parser, m_session); !configured) {
        printError(configured.error());
        finishLater(ExitBadInput);
        return;
    }
    bool ok = false;
    const int seconds = m_parser.value(QStringLiteral("timeout")).toInt(&ok);
    if (!ok || seconds < 1 || seconds > 600) {
        printError(tr("--timeout takes a number of seconds from 1 to 600."));
        finishLater(ExitBadInput);
        return;
    }
    ClusterDiscovery *discovery = m_session.discovery();
    discovery->setProbeTimeout(std::chrono::seconds(seconds));
    connect(discovery, &ClusterDiscovery::finished, this, &DiscoverCommand::discovered);
    CliContext::configureWebApi(this, m_parser, m_session, [this, discovery](const Result &webApi) {
        if (!webApi) {
            printError(webApi.error());
            Q_EMIT finished(ExitBadInput);
            return;
        }
        discovery->start();
    });
}

QJsonObject DiscoverCommand::discoveryJson() const
{
    QJsonArray nodes;
    for (const NodeStatus &node : m_session.nodes()) {
        QJsonObject object = node.toJson();
        if (node.untrusted)
            object.insert(QStringLiteral("presented_fingerprint"), node.presentedFingerprint);
        nodes.append(object);
    }
    QJsonObject json{{QStringLiteral("nodes"), nodes},
                     {QStringLiteral("elapsed_ms"), m_session.discovery()->elapsedMilliseconds()}};
    if (!m_session.discovery()->memberListError().isEmpty())
        json.insert(QStringLiteral("member_list_error"), m_session.discovery()->memberListError());
    return json;
}

int DiscoverCommand::discoveryExitCode() const
{
    // Without the portal there is no cluster to talk about.
    const QList<NodeStatus> &nodes = m_session.nodes();
    return !nodes.isEmpty() && nodes.first().reachable ? ExitOk : ExitFailed;
}

void DiscoverCommand::discovered()
{
    printJson(discoveryJson());
    for (const NodeStatus &node : m_session.nodes()) {
        if (!node.reachable)
            printError(tr("%1: %2").arg(node.name, node.unreachableReason));
    }
    Q_EMIT finished(discoveryExitCode());
}

Result PlanCommand::parse(const QStringList &arguments)
{
    m_parser.setApplicationDescription(tr("Discovers the cluster, checks it and the packages, "
                                          "and prints the rolling upgrade plan."));
    CliContext::addConnectionOptions(m_parser);
    CliContext::addPackageOptions(m_parser);
    m_parser.addOption({QStringLiteral("timeout"), tr("Seconds to wait for each node (default 5)."),
                        tr("seconds"), QStringLiteral("5")});
    m_parser.addOption({QStringLiteral("max-workers-down"),
                        tr("Workers upgraded at the same time (default 1)."), tr("n"),
                        QStringLiteral("1")});
    m_parser.addOption({QStringLiteral("drop-flows"), tr("Turn \"Keep flows during the outage\" off for this node (repeat for more); it is on for every Linux node that receives flows."), tr("node")});
    m_parser.addOption({QStringLiteral("start"),
                        tr("When the upgrade is to start (ISO 8601, default now)."), tr("time")});
    m_parser.addOption({QStringLiteral("export"),
                        tr("Also write the plan to a file (.json, .csv or .html)."), tr("file")});
    if (Result parsed = parseArguments(m_parser, arguments); !parsed)
        return parsed;

    const auto packages = packagePaths(m_parser);
    if (!packages)
        return makeError(packages.error());
    if (packages->isEmpty())
        return makeError(tr("Name at least the new server package (--server-package FILE)."));

    PlanOptions options;
    bool ok = false;
    options.maxWorkersDown = m_parser.value(QStringLiteral("max-workers-down")).toInt(&ok);
    if (!ok || options.maxWorkersDown < 1)
        return makeError(tr("--max-workers-down takes a whole number of at least 1."));
    if (m_parser.isSet(QStringLiteral("start"))) {
        options.startTime = QDateTime::fromString(m_parser.value(QStringLiteral("start")), Qt::ISODate);
        if (!options.startTime.isValid())
            return makeError(tr("--start takes an ISO 8601 time such as 2026-12-06T03:00:00Z."));
        options.startTime = options.startTime.toUTC();
    }
    if (m_parser.isSet(QStringLiteral("export"))) {
        if (const auto format = planFormatForPath(m_parser.value(QStringLiteral("export"))); !format)
            return makeError(format.error());
    }
    for (const QString &node : m_parser.values(QStringLiteral("drop-flows")))
        options.dropFlowsOn.insert(node);
    m_session.setPlanOptions(options);
    return {};
}

void PlanCommand::discovered()
{
    if (discoveryExitCode() != ExitOk) {
        printJson(discoveryJson());
        printError(tr("The portal could not be reached: %1")
                       .arg(m_session.nodes().value(0).unreachableReason));
        Q_EMIT finished(ExitFailed);
        return;
    }
    inspectPackages(
        this, packagePaths(m_parser).value_or(QList<PackageArgument>()),
        [this](const PackageArgument &argument, const PackageChoice &choice) {
            m_session.setPackage(argument.slot, choice, argument.index);
        },
        [this](const QStringList &errors) {
            if (!errors.isEmpty()) {
                for (const QString &error : errors)
                    printError(error);
                Q_EMIT finished(ExitBadInput);
                return;
            }
            if (!m_parser.isSet(QStringLiteral("start")))
                return planReady();
            // A given start is priced from the nodes' hourly flow history, as the
            // wizard's plan page does: the quietest and the busiest hour differ.
            connect(&m_session, &UpgradeSession::flowHistoryReady, this, &PlanCommand::planReady,
                    Qt::SingleShotConnection);
            m_session.fetchFlowHistory();
        });
}

UpgradePlan PlanCommand::currentPlan(QString *lossBasis) const
{
    UpgradePlan plan = m_session.plan();
    *lossBasis = QStringLiteral("current_rates");
    if (m_parser.isSet(QStringLiteral("start")) && m_session.hasFlowHistory()
        && !m_session.flowHistory().isEmpty()) {
        plan.totalFlowsLost = m_session.flowsLostAt(plan, plan.startTime);
        *lossBasis = QStringLiteral("history_at_start");
    }
    return plan;
}

bool PlanCommand::exportIfAsked(const UpgradePlan &plan)
{
    if (!m_parser.isSet(QStringLiteral("export")))
        return true;
    if (Result written = exportPlan(plan, m_parser.value(QStringLiteral("export"))); !written) {
        printError(written.error());
        return false;
    }
    return true;
}

void PlanCommand::planReady()
{
    (void)m_session.openHistory();
    const PreCheckReport report = m_session.preChecks();
    QString lossBasis;
    const UpgradePlan plan = currentPlan(&lossBasis);

    QJsonObject json = discoveryJson();
    json.insert(QStringLiteral("prechecks"), report.toJson());
    QJsonObject planJson = planToJson(plan);
    QJsonObject totals = planJson.value(QStringLiteral("totals")).toObject();
    // What flows_lost is made of: today's rates, or the history at the start's hour.
    totals.insert(QStringLiteral("flows_lost_basis"), lossBasis);
    planJson.insert(QStringLiteral("totals"), totals);
    json.insert(QStringLiteral("plan"), planJson);
    printJson(json);

    if (!exportIfAsked(plan)) {
        Q_EMIT finished(ExitFailed);
        return;
    }
    for (const PreCheckFinding &finding : report.findings) {
        if (finding.severity != PreCheckSeverity::Notice)
            printError(QStringLiteral("%1: %2%3")
                           .arg(toString(finding.severity),
                                finding.node.isEmpty() ? QString() : finding.node + QStringLiteral(": "),
                                finding.message));
    }
    Q_EMIT finished(report.hasErrors() ? ExitFailed : ExitOk);
}

Command *createCommand(const QString &name, QObject *parent)
{
    if (Command *command = createRunCommand(name, parent))
        return command;
    if (Command *command = createNoticeCommand(name, parent))
        return command;
    if (name == QLatin1String("discover"))
        return new DiscoverCommand(parent);
    if (name == QLatin1String("plan"))
        return new PlanCommand(parent);
    return nullptr;
}

QStringList commandNames()
{
    return QStringList{QStringLiteral("discover"), QStringLiteral("plan")} + runCommandNames()
           + noticeCommandNames();
}

} // namespace ft::cli

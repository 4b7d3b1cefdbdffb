#include "agentlink/agentjobs.h"

#include "agentlink/trustedcertificates.h"

#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonDocument>

#include <algorithm>

namespace ft {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("ft::AgentJobs", text);
}

Unexpected fieldError(const QString &field)
{
    return makeError(tr("the agent's answer has a bad \"%1\" field").arg(field));
}

QDateTime timeOf(const QJsonValue &value)
{
    return QDateTime::fromString(value.toString(), Qt::ISODate);
}

QByteArray toJson(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

// A string field the call cannot do without.
Expected<QString> requiredString(const QJsonObject &json, const char *field)
{
    const QString value = json.value(QLatin1String(field)).toString();
    if (value.isEmpty())
        return fieldError(QLatin1String(field));
    return value;
}

Expected<QJsonArray> arrayField(const QJsonObject &json, const char *field)
{
    const QJsonValue value = json.value(QLatin1String(field));
    if (!value.isArray())
        return fieldError(QLatin1String(field));
    return value.toArray();
}

QString encodedSegment(const QString &text)
{
    return QString::fromLatin1(QUrl::toPercentEncoding(text));
}

} // namespace

// ---- results ----------------------------------------------------------------------------

QString toString(AgentJobState state)
{
    switch (state) {
    case AgentJobState::Queued: return QStringLiteral("queued");
    case AgentJobState::Running: return QStringLiteral("running");
    case AgentJobState::Succeeded: return QStringLiteral("succeeded");
    case AgentJobState::Failed: return QStringLiteral("failed");
    case AgentJobState::Cancelled: return QStringLiteral("cancelled");
    case AgentJobState::Interrupted: return QStringLiteral("interrupted");
    }
    return {};
}

Expected<AgentJobState> parseAgentJobState(const QString &text)
{
    for (AgentJobState state : {AgentJobState::Queued, AgentJobState::Running,
                                AgentJobState::Succeeded, AgentJobState::Failed,
                                AgentJobState::Cancelled, AgentJobState::Interrupted}) {
        if (text == toString(state))
            return state;
    }
    return makeError(tr("\"%1\" is not a job state").arg(text));
}

bool AgentJobStatus::isTerminal() const
{
    return state != AgentJobState::Queued && state != AgentJobState::Running;
}

Expected<AgentJobStatus> AgentJobStatus::fromAgentJson(const QJsonObject &json)
{
    AgentJobStatus status;
    const auto id = requiredString(json, "id");
    if (!id)
        return makeError(id.error());
    status.id = *id;
    const auto state = parseAgentJobState(json.value(QLatin1String("state")).toString());
    if (!state)
        return fieldError(QStringLiteral("state"));
    status.state = *state;
    status.kind = json.value(QLatin1String("kind")).toString();
    status.component = json.value(QLatin1String("component")).toString();
    status.package = json.value(QLatin1String("package")).toString();
    status.phase = json.value(QLatin1String("phase")).toString();
    status.progress = json.value(QLatin1String("progress")).toDouble();
    status.bytesDone = json.value(QLatin1String("bytes_done")).toInteger();
    status.bytesTotal = json.value(QLatin1String("bytes_total")).toInteger();
    status.created = timeOf(json.value(QLatin1String("created")));
    status.started = timeOf(json.value(QLatin1String("started")));
    status.finished = timeOf(json.value(QLatin1String("finished")));
    const QJsonValue exitCode = json.value(QLatin1String("exit_code"));
    if (exitCode.isDouble())
        status.exitCode = exitCode.toInt();
    status.rebootRequested = json.value(QLatin1String("reboot_requested")).toBool();
    status.versionBefore = json.value(QLatin1String("version_before")).toString();
    status.versionAfter = json.value(QLatin1String("version_after")).toString();
    const QJsonValue restored = json.value(QLatin1String("service_restored"));
    if (restored.isBool())
        status.serviceRestored = restored.toBool();
    status.error = json.value(QLatin1String("error")).toString();

    const QJsonValue phases = json.value(QLatin1String("phases"));
    if (!phases.isUndefined() && !phases.isNull() && !phases.isArray())
        return fieldError(QStringLiteral("phases"));
    for (const QJsonValue &value : phases.toArray()) {
        const QJsonObject entry = value.toObject();
        const QDateTime started = QDateTime::fromString(
            entry.value(QLatin1String("started")).toString(), Qt::ISODateWithMs);
        if (!started.isValid() || entry.value(QLatin1String("phase")).toString().isEmpty())
            return fieldError(QStringLiteral("phases"));
        status.phases.append({entry.value(QLatin1String("phase")).toString(), started});
    }

    const QJsonValue log = json.value(QLatin1String("log"));
    if (!log.isUndefined() && !log.isNull() && !log.isArray())
        return fieldError(QStringLiteral("log"));
    for (const QJsonValue &value : log.toArray()) {
        const QJsonObject entry = value.toObject();
        if (!entry.value(QLatin1String("n")).isDouble())
            return fieldError(QStringLiteral("log"));
        status.log.append({entry.value(QLatin1String("n")).toInteger(),
                           timeOf(entry.value(QLatin1String("t"))),
                           entry.value(QLatin1String("line")).toString()});
    }
    const QJsonValue next = json.value(QLatin1String("next"));
    status.next = next.isDouble() ? next.toInteger()
                  : status.log.isEmpty() ? 0
                                         : status.log.constLast().n + 1;
    return status;
}

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
    for (const QJsonValue &value : *files) {
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

// ---- HealthJob --------------------------------------------------------------------------

HealthJob::HealthJob(AgentClient *client, const AgentEndpoint &endpoint, QObject *parent)
    : AgentJob(client, endpoint, parent)
{
}

AgentClient::Request HealthJob::request() const
{
    AgentClient::Request call;
    call.path = QStringLiteral("/health");
    call.authenticated = false;
    return call;
}

Result HealthJob::parseReply(const QByteArray &body)
{
    const auto json = jsonObject(body);
    if (!json)
        return makeError(json.error());
    m_health.status = json->value(QLatin1String("status")).toString();
    m_health.agentVersion = json->value(QLatin1String("agent_version")).toString();
    m_health.api = json->value(QLatin1String("api")).toInt();
    if (m_health.api != 1)
        return makeError(tr("the agent speaks API version %1; this wizard speaks version 1")
                             .arg(m_health.api));
    return {};
}

// ---- ProbeCertificateJob ----------------------------------------------------------------

ProbeCertificateJob::ProbeCertificateJob(AgentClient *client, const AgentEndpoint &endpoint,
                                         QObject *parent)
    : AgentJob(client, endpoint, parent)
{
}

ProbeCertificateJob::~ProbeCertificateJob()
{
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
    }
}

void ProbeCertificateJob::doStart()
{
    const QUrl url = endpoint().url;
    if (url.scheme() != QLatin1String("https") || url.host().isEmpty()) {
        finishWithError(BadRequest, tr("\"%1\" is not an https:// agent address")
                                        .arg(url.toString()));
        return;
    }
    m_socket = new QSslSocket(this);
    // Nothing is trusted here and nothing is sent: the certificate is only read so
    // that a person can compare its fingerprint with the one the agent printed.
    m_socket->setPeerVerifyMode(QSslSocket::VerifyNone);
    m_socket->setProxy(QNetworkProxy::NoProxy);
    connect(m_socket, &QSslSocket::encrypted, this, [this] {
        m_certificate = m_socket->peerCertificate();
        m_fingerprint = QString::fromLatin1(
            m_certificate.digest(QCryptographicHash::Sha256).toHex());
        m_socket->disconnectFromHost();
        if (m_certificate.isNull())
            finishWithError(ProtocolError, tr("the agent presented no certificate"));
        else
            finishSuccess();
    });
    connect(m_socket, &QSslSocket::errorOccurred, this, [this](QAbstractSocket::SocketError e) {
        if (isFinished())
            return;
        const QString where = TrustedCertificates::addressOf(endpoint().url);
        switch (e) {
        case QAbstractSocket::ConnectionRefusedError:
            finishWithError(Unreachable, tr("cannot connect to %1 (connection refused)")
                                             .arg(where));
            break;
        case QAbstractSocket::HostNotFoundError:
            finishWithError(Unreachable, tr("cannot connect to %1 (host not found)").arg(where));
            break;
        case QAbstractSocket::SslHandshakeFailedError:
        case QAbstractSocket::SslInternalError:
            finishWithError(ProtocolError, tr("no secure connection to %1 (%2)")
                                               .arg(where, m_socket->errorString()));
            break;
        default:
            finishWithError(Unreachable, tr("cannot connect to %1 (%2)")
                                             .arg(where, m_socket->errorString()));
            break;
        }
    });
    m_socket->connectToHostEncrypted(url.host(), quint16(url.port(9650)));
}

void ProbeCertificateJob::abortWork()
{
    if (m_socket)
        m_socket->abort();
}

// ---- FetchNodeJob -----------------------------------------------------------------------

FetchNodeJob::FetchNodeJob(AgentClient *client, const AgentEndpoint &endpoint, QObject *parent)
    : AgentJob(client, endpoint, parent)
{
}

AgentClient::Request FetchNodeJob::request() const
{
    AgentClient::Request call;
    call.path = QStringLiteral("/node");
    return call;
}

Result FetchNodeJob::parseReply(const QByteArray &body)
{
    const auto json = jsonObject(body);
    if (!json)
        return makeError(json.error());
    auto node = NodeStatus::fromAgentJson(*json);
    if (!node)
        return makeError(node.error());
    m_node = std::move(*node);
    m_node.agentUrl = endpoint().url;
    m_node.fingerprint = TrustedCertificates::normalize(endpoint().fingerprint)
                             .value_or(QString());
    if (m_node.name.isEmpty())
        m_node.name = endpoint().nodeName;
    return {};
}

// ---- FetchClusterJob --------------------------------------------------------------------

FetchClusterJob::FetchClusterJob(AgentClient *client, const AgentEndpoint &endpoint,
                                 QObject *parent)
    : AgentJob(client, endpoint, parent)
{
}

AgentClient::Request FetchClusterJob::request() const
{
    AgentClient::Request call;
    call.path = QStringLiteral("/cluster");
    return call;
}

Result FetchClusterJob::parseReply(const QByteArray &body)
{
    const auto json = jsonObject(body);
    if (!json)
        return makeError(json.error());
    auto cluster = ClusterListing::fromAgentJson(*json);
    if (!cluster)
        return makeError(cluster.error());
    m_cluster = std::move(*cluster);
    return {};
}

// ---- FetchFlowHistoryJob ----------------------------------------------------------------

FetchFlowHistoryJob::FetchFlowHistoryJob(AgentClient *client, const AgentEndpoint &endpoint,
                                         int hours, QObject *parent)
    : AgentJob(client, endpoint, parent)
    , m_hourCount(hours)
{
}

AgentClient::Request FetchFlowHistoryJob::request() const
{
    AgentClient::Request call;
    call.path = QStringLiteral("/flows/history");
    call.query.addQueryItem(QStringLiteral("hours"), QString::number(m_hourCount));
    return call;
}

Result FetchFlowHistoryJob::parseReply(const QByteArray &body)
{
    const auto json = jsonObject(body);
    if (!json)
        return makeError(json.error());
    const auto hours = arrayField(*json, "hours");
    if (!hours)
        return makeError(hours.error());
    m_hours.clear();
    for (const QJsonValue &value : *hours) {
        const QJsonObject object = value.toObject();
        FlowHourCount hour{timeOf(object.value(QLatin1String("start"))),
                           object.value(QLatin1String("flows")).toInteger(-1)};
        if (!hour.start.isValid() || hour.flows < 0)
            return fieldError(QStringLiteral("hours"));
        m_hours.append(hour);
    }
    return {};
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

// ---- StartStageJob ----------------------------------------------------------------------

StartStageJob::StartStageJob(AgentClient *client, const AgentEndpoint &endpoint,
                             const StageRequest &stage, QObject *parent)
    : AgentJob(client, endpoint, parent)
    , m_stage(stage)
{
}

AgentClient::Request StartStageJob::request() const
{
    QJsonObject body{
        {QStringLiteral("url"), m_stage.url.toString(QUrl::FullyEncoded)},
        {QStringLiteral("sha256"), m_stage.sha256},
        {QStringLiteral("size"), m_stage.size},
        {QStringLiteral("name"), m_stage.name},
    };
    if (!m_stage.fingerprint.isEmpty())
        body.insert(QStringLiteral("fingerprint"), m_stage.fingerprint);
    if (!m_stage.token.isEmpty())
        body.insert(QStringLiteral("token"), m_stage.token);
    AgentClient::Request call;
    call.verb = "POST";
    call.path = QStringLiteral("/stage");
    call.body = toJson(body);
    return call;
}

Result StartStageJob::parseReply(const QByteArray &body)
{
    const auto json = jsonObject(body);
    if (!json)
        return makeError(json.error());
    const auto id = requiredString(*json, "job");
    if (!id)
        return makeError(id.error());
    m_jobId = *id;
    return {};
}

// ---- ListStagedJob ----------------------------------------------------------------------

ListStagedJob::ListStagedJob(AgentClient *client, const AgentEndpoint &endpoint, QObject *parent)
    : AgentJob(client, endpoint, parent)
{
}

AgentClient::Request ListStagedJob::request() const
{
    AgentClient::Request call;
    call.path = QStringLiteral("/staged");
    return call;
}

Result ListStagedJob::parseReply(const QByteArray &body)
{
    const auto json = jsonObject(body);
    if (!json)
        return makeError(json.error());
    const auto packages = arrayField(*json, "packages");
    if (!packages)
        return makeError(packages.error());
    m_packages.clear();
    for (const QJsonValue &value : *packages) {
        const QJsonObject object = value.toObject();
        StagedPackage package;
        package.name = object.value(QLatin1String("name")).toString();
        package.size = object.value(QLatin1String("size")).toInteger();
        package.sha256 = object.value(QLatin1String("sha256")).toString();
        package.component = object.value(QLatin1String("component")).toString();
        package.version = object.value(QLatin1String("version")).toString();
        if (package.name.isEmpty())
            return fieldError(QStringLiteral("packages"));
        m_packages.append(package);
    }
    return {};
}

// ---- StartUpgradeJob --------------------------------------------------------------------

StartUpgradeJob::StartUpgradeJob(AgentClient *client, const AgentEndpoint &endpoint,
                                 const UpgradeRequest &upgrade, QObject *parent)
    : AgentJob(client, endpoint, parent)
    , m_upgrade(upgrade)
{
}

AgentClient::Request StartUpgradeJob::request() const
{
    AgentClient::Request call;
    call.verb = "POST";
    call.path = QStringLiteral("/upgrade");
    QJsonObject body{
        {QStringLiteral("component"), toString(m_upgrade.component)},
        {QStringLiteral("package"), m_upgrade.package},
        {QStringLiteral("timeout_seconds"), m_upgrade.timeoutSeconds},
    };
    if (!m_upgrade.installerArguments.isEmpty())
        body.insert(QStringLiteral("installer_arguments"), QJsonArray::fromStringList(m_upgrade.installerArguments));
    if (m_upgrade.keepFlows) // only when asked: an older agent refuses fields it does not know
        body.insert(QStringLiteral("keep_flows"), true);
    call.body = toJson(body);
    return call;
}

Result StartUpgradeJob::parseReply(const QByteArray &body)
{
    const auto json = jsonObject(body);
    if (!json)
        return makeError(json.error());
    const auto id = requiredString(*json, "job");
    if (!id)
        return makeError(id.error());
    m_jobId = *id;
    return {};
}

// ---- ListJobsJob ------------------------------------------------------------------------

ListJobsJob::ListJobsJob(AgentClient *client, const AgentEndpoint &endpoint, QObject *parent)
    : AgentJob(client, endpoint, parent)
{
}

AgentClient::Request ListJobsJob::request() const
{
    AgentClient::Request call;
    call.path = QStringLiteral("/jobs");
    return call;
}

Result ListJobsJob::parseReply(const QByteArray &body)
{
    const auto json = jsonObject(body);
    if (!json)
        return makeError(json.error());
    const auto jobs = arrayField(*json, "jobs");
    if (!jobs)
        return makeError(jobs.error());
    m_jobs.clear();
    for (const QJsonValue &value : *jobs) {
        auto status = AgentJobStatus::fromAgentJson(value.toObject());
        if (!status)
            return makeError(status.error());
        m_jobs.append(std::move(*status));
    }
    return {};
}

// ---- FetchJobStatusJob ------------------------------------------------------------------

FetchJobStatusJob::FetchJobStatusJob(AgentClient *client, const AgentEndpoint &endpoint,
                                     const QString &jobId, qint64 since,
                                     std::chrono::milliseconds wait, QObject *parent)
    : AgentJob(client, endpoint, parent)
    , m_jobId(jobId)
    , m_since(since)
    , m_wait(std::clamp(wait, std::chrono::milliseconds(0), std::chrono::milliseconds(30000)))
{
}

AgentClient::Request FetchJobStatusJob::request() const
{
    AgentClient::Request call;
    call.path = QStringLiteral("/jobs/") + encodedSegment(m_jobId);
    call.query.addQueryItem(QStringLiteral("since"), QString::number(m_since));
    if (m_wait.count() > 0)
        call.query.addQueryItem(QStringLiteral("wait"), QString::number(m_wait.count()));
    return call;
}

Result FetchJobStatusJob::parseReply(const QByteArray &body)
{
    const auto json = jsonObject(body);
    if (!json)
        return makeError(json.error());
    auto status = AgentJobStatus::fromAgentJson(*json);
    if (!status)
        return makeError(status.error());
    m_status = std::move(*status);
    return {};
}

std::chrono::milliseconds FetchJobStatusJob::defaultTimeout() const
{
    // The agent holds a long poll for up to `wait`; only silence beyond that is a time-out.
    return m_wait + AgentJob::defaultTimeout();
}

// ---- CancelJobJob -----------------------------------------------------------------------

CancelJobJob::CancelJobJob(AgentClient *client, const AgentEndpoint &endpoint,
                           const QString &jobId, QObject *parent)
    : AgentJob(client, endpoint, parent)
    , m_jobId(jobId)
{
}

AgentClient::Request CancelJobJob::request() const
{
    AgentClient::Request call;
    call.verb = "POST";
    call.path = QStringLiteral("/jobs/") + encodedSegment(m_jobId) + QStringLiteral("/cancel");
    call.body = QByteArray("{}");
    return call;
}

Result CancelJobJob::parseReply(const QByteArray &body)
{
    const auto json = jsonObject(body);
    if (!json)
        return makeError(json.error());
    m_cancelled = json->value(QLatin1String("cancelled")).toBool();
    return {};
}

// ---- ServiceActionJob -------------------------------------------------------------------

ServiceActionJob::ServiceActionJob(AgentClient *client, const AgentEndpoint &endpoint,
                                   Action action, QObject *parent)
    : AgentJob(client, endpoint, parent)
    , m_action(action)
{
    // The agent answers once the service has started or stopped, which takes a while.
    setTimeout(std::max(std::chrono::milliseconds(60000), client ? client->timeout()
                                                                 : std::chrono::milliseconds(0)));
}

AgentClient::Request ServiceActionJob::request() const
{
    AgentClient::Request call;
    call.verb = "POST";
    call.path = QStringLiteral("/service");
    call.body = toJson({{QStringLiteral("action"), m_action == Action::Start
                                                       ? QStringLiteral("start")
                                                       : QStringLiteral("stop")}});
    return call;
}

Result ServiceActionJob::parseReply(const QByteArray &body)
{
    const auto json = jsonObject(body);
    if (!json)
        return makeError(json.error());
    const auto state = parseServiceState(json->value(QLatin1String("state")).toString());
    if (!state)
        return fieldError(QStringLiteral("state"));
    m_state = *state;
    return {};
}

} // namespace ft

#include "agentserver.h"

#include "packages/installcommand.h"

#include "certificate.h"
#include "flowcapture.h"
#include "connectionguard.h"
#include "jobstore.h"
#include "support/logging.h"
#include "nodeinfo.h"
#include "packages/package.h"
#include "servicebackend.h"
#include "stagejob.h"
#include "tokenauth.h"
#include "upgradejob.h"
#include "flowkeeper.h"

#include <QPointer>
#include "leftoverreplay.h"
#include "filestreamer.h"
#include "uploadstore.h"
#include "versionsources.h"
#include "webuibaseline.h"

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QRegularExpression>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QHostAddress>
#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslKey>
#include <QTcpSocket>
#include <QTimer>
#include <QUrlQuery>
#include <QtConcurrent>

#include <spdlog/spdlog.h>

namespace ft::agent {

namespace {

using Status = QHttpServerResponder::StatusCode;

constexpr qint64 kStagingReserveBytes = 16 * 1024 * 1024;
constexpr qint64 kMaxWaitMs = 30000;

QString methodName(QHttpServerRequest::Method method)
{
    switch (method) {
    case QHttpServerRequest::Method::Get: return QStringLiteral("GET");
    case QHttpServerRequest::Method::Post: return QStringLiteral("POST");
    case QHttpServerRequest::Method::Put: return QStringLiteral("PUT");
    case QHttpServerRequest::Method::Delete: return QStringLiteral("DELETE");
    case QHttpServerRequest::Method::Head: return QStringLiteral("HEAD");
    case QHttpServerRequest::Method::Options: return QStringLiteral("OPTIONS");
    case QHttpServerRequest::Method::Patch: return QStringLiteral("PATCH");
    default: return QStringLiteral("OTHER");
    }
}

// The query checks on the request's own query (apirequest.h does the work).
std::optional<HttpError> checkQuery(const QHttpServerRequest &request, const QStringList &allowed)
{
    return ft::agent::checkQuery(request.query(), allowed);
}

std::optional<HttpError> queryInteger(const QHttpServerRequest &request, const QString &key,
                                      qint64 minimum, qint64 maximum, qint64 fallback, qint64 *value)
{
    return ft::agent::queryInteger(request.query(), key, minimum, maximum, fallback, value);
}

std::string portList(const QList<quint16> &ports)
{
    QStringList list;
    for (quint16 port : ports)
        list.append(QString::number(port));
    return list.join(QLatin1Char(',')).toStdString();
}

FlowKeeper::Settings flowKeeperSettings(const AgentConfig &config)
{
    FlowKeeper::Settings settings;
    settings.flowPorts = config.sources.flowPorts;
    settings.spoolCapBytes = config.spoolCapBytes;
    settings.stateDir = config.flowsDir();
    settings.nftProgram = config.nftProgram;
    settings.nftTable = config.nftTable;
    return settings;
}

} // namespace

// One pending answer. The socket may go away while a long poll or a service action
// is pending: writes check it first.
struct AgentServer::Reply
{
    Reply(QHttpServerResponder &&r, QTcpSocket *s, QString what, GuardedServer *g)
        : responder(std::move(r)), socket(s), request(std::move(what)), guard(g) {}

    QHttpServerResponder responder;
    QPointer<QTcpSocket> socket;
    QString request; // "GET /v1/node", for the log
    QPointer<GuardedServer> guard; // its connection's time-outs resume once answered
    bool sent = false;

    void answered()
    {
        if (guard && socket)
            guard->requestFinished(socket);
    }

    bool alive() const { return socket && socket->state() == QAbstractSocket::ConnectedState; }

    void send(int status, const QByteArray &body, const QByteArray &contentType)
    {
        if (sent)
            return;
        sent = true;
        logging::logger()->debug("{} -> {}", request.toStdString(), status);
        if (!alive())
            return;
        responder.write(body, {{"Content-Type", contentType}, {"Cache-Control", "no-store"}},
                        Status(status));
        answered();
    }
    void json(int status, const QJsonObject &object)
    {
        send(status, QJsonDocument(object).toJson(QJsonDocument::Compact), "application/json; charset=utf-8");
    }
    void error(int status, const QString &message)
    {
        json(status, QJsonObject{{QStringLiteral("error"), message}});
    }
    void error(const HttpError &e) { error(e.status, e.message); }
};

AgentServer::AgentServer(const AgentConfig &config, QObject *parent)
    : QAbstractHttpServer(parent)
    , m_config(config)
    , m_store(std::make_unique<JobStore>(config.jobsDir()))
    , m_service(ServiceBackend::create(config))
    , m_staging(std::make_unique<StagingArea>(config.stagingDir))
    , m_uploads(std::make_unique<UploadStore>(QDir(config.stagingDir).filePath(QStringLiteral(".uploads"))))
{
}

AgentServer::~AgentServer() = default;

Expected<QUrl> AgentServer::start()
{
    if (auto opened = m_store->open(); !opened)
        return makeError(opened.error());
    reconcileInterruptedUpgrades();
    if (!QDir().mkpath(m_config.stagingDir))
        return makeError(tr("Cannot create the staging folder %1.").arg(QDir::toNativeSeparators(m_config.stagingDir)));
    // A redirect of the flow ports left by a killed agent goes first: flows must reach the service.
    // Its spool goes to the service once that listens again (never twice: the journal).
    if (const auto recovery = FlowKeeper::recover(flowKeeperSettings(m_config), m_store.get()); recovery.leftover) {
        auto *leftover = new LeftoverReplay(flowKeeperSettings(m_config), *recovery.leftover, m_store.get(), this);
        connect(leftover, &LeftoverReplay::finished, leftover, &QObject::deleteLater);
        leftover->start();
    }
    // Leftovers of downloads cut off by a restart.
    QDir(QDir(m_config.stagingDir).filePath(QStringLiteral(".partial"))).removeRecursively();

    QFile certFile(m_config.certificateFile());
    QFile keyFile(m_config.keyFile());
    if (!certFile.open(QIODevice::ReadOnly) || !keyFile.open(QIODevice::ReadOnly))
        return makeError(tr("Cannot read the agent's certificate or key beside %1; run \"ftupgrade-agent init\".")
                             .arg(QDir::toNativeSeparators(m_config.file)));
    const QSslCertificate certificate(certFile.readAll(), QSsl::Pem);
    const QByteArray keyPem = keyFile.readAll();
    QSslKey key(keyPem, QSsl::Ec, QSsl::Pem);
    if (key.isNull())
        key = QSslKey(keyPem, QSsl::Rsa, QSsl::Pem);
    if (certificate.isNull() || key.isNull())
        return makeError(tr("The agent's certificate or key is not valid PEM."));
    m_fingerprint = certificate.digest(QCryptographicHash::Sha256).toHex();
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    tls.setLocalCertificate(certificate);
    tls.setPrivateKey(key);
    // The wizard authenticates with its bearer token, not a client certificate: asking
    // for one would cost every handshake a request and an empty answer.
    tls.setPeerVerifyMode(QSslSocket::VerifyNone);
    tls.setProtocol(QSsl::SecureProtocols); // TLS 1.2 or later, as sslSetup() would

    if (!m_config.sources.flowPorts.isEmpty()) {
        // The agent's own flow history lives in its state folder: FlowTraq loses its
        // own at every restart.
        m_capture = new FlowCapture(m_config.sources.flowPorts,
                                    QDir(m_config.directory()).filePath(QStringLiteral("state/flowhistory.json")), this);
        if (m_capture->history().isEmpty() && m_config.backend == Backend::Sandbox) {
            // A fresh sandbox node: the weeks the agent would have measured are the
            // sandbox's seeded history (LAYOUT.md).
            QFile seed(QDir(m_config.installDir).filePath(QStringLiteral("data/flowhistory.json")));
            if (seed.open(QIODevice::ReadOnly))
                m_capture->history().seed(QJsonDocument::fromJson(seed.readAll()).object());
        }
        if (auto capturing = m_capture->start(); !capturing)
            logging::logger()->warn("Flow rates not measured: {}", capturing.error().toStdString());
        else
            logging::logger()->info("Counting flows on UDP ports {}",
                                    portList(m_config.sources.flowPorts));
    }

    QHostAddress address;
    if (!address.setAddress(m_config.listen))
        return makeError(tr("\"%1\" is not an IP address to listen on.").arg(m_config.listen));
    // Connections share one TLS context, so the wizard's later calls resume their
    // session from its ticket instead of a full handshake (resumingsslserver.h); each
    // connection is held to the time-outs of API.md, "Connections" (connectionguard.h).
    auto *server = new GuardedServer(m_config.connections, this);
    server->setSslConfiguration(tls);
    if (!server->listen(address, quint16(m_config.port))) {
        delete server;
        return makeError(tr("Cannot listen on %1 port %2 (in use, or not allowed).").arg(m_config.listen).arg(m_config.port));
    }
    const quint16 port = server->serverPort();
    m_guard = server;
    bind(server);
    QUrl url;
    url.setScheme(QStringLiteral("https"));
    url.setHost(address.toString());
    url.setPort(port);
    return url;
}

bool AgentServer::handleRequest(const QHttpServerRequest &request, QTcpSocket *socket)
{
    const QString what = methodName(request.method()) + QLatin1Char(' ') + request.url().path();
    if (m_guard)
        m_guard->requestStarted(socket);
    auto reply = std::make_shared<Reply>(makeResponder(request, socket), socket, what, m_guard);
    route(request, reply);
    return true;
}

void AgentServer::missingHandler(const QHttpServerRequest &request, QTcpSocket *socket)
{
    Reply reply(makeResponder(request, socket), socket, request.url().path(), m_guard);
    reply.error(404, tr("There is no such endpoint."));
}

void AgentServer::route(const QHttpServerRequest &request, const ReplyPtr &reply)
{
    const QString path = request.url().path(QUrl::FullyDecoded);
    const auto method = request.method();
    const bool get = method == QHttpServerRequest::Method::Get;
    const bool post = method == QHttpServerRequest::Method::Post;

    if (path == QLatin1String("/v1/health")) {
        if (!get)
            return reply->error(405, tr("Use GET for this endpoint."));
        return reply->json(200, {{QStringLiteral("status"), QStringLiteral("ok")},
                                 {QStringLiteral("agent_version"), QStringLiteral(FTU_VERSION)},
                                 {QStringLiteral("api"), 1}});
    }

    // Nothing below runs, and nothing is looked up, without the token.
    if (!m_config.token.matches(bearerToken(request.value("Authorization")))) {
        logging::logger()->warn("Refused {} from {}: no or wrong token", reply->request.toStdString(),
                                request.remoteAddress().toString().toStdString());
        if (reply->alive()) {
            reply->sent = true;
            reply->responder.write(QJsonDocument(QJsonObject{{QStringLiteral("error"),
                                                              tr("A valid bearer token is required.")}})
                                       .toJson(QJsonDocument::Compact),
                                   {{"Content-Type", "application/json; charset=utf-8"},
                                    {"WWW-Authenticate", "Bearer"}},
                                   Status::Unauthorized);
            reply->answered();
        }
        return;
    }
    // An upload's chunks are the one body that is not JSON and may be up to 8 MiB.
    const bool uploadChunk = method == QHttpServerRequest::Method::Put
                             && path.startsWith(QLatin1String("/v1/uploads/"));
    if (auto tooLarge = checkBodySize(request, uploadChunk ? kMaxChunkBytes : kMaxBodyBytes))
        return reply->error(*tooLarge);

    // Split before decoding, so an encoded "/" inside a segment stays in that segment.
    const QStringList parts = pathSegments(request.url());
    // ["", "v1", …]
    if (parts.size() < 3 || parts.at(1) != QLatin1String("v1") || path.contains(QLatin1String("//")))
        return reply->error(404, tr("There is no such endpoint."));

    struct Route { QString path; bool isPost; std::function<void()> handler; };
    const QList<Route> routes = {
        {QStringLiteral("/v1/node"), false, [&] { getNode(reply); }},
        {QStringLiteral("/v1/cluster"), false, [&] { getCluster(reply); }},
        {QStringLiteral("/v1/flows/history"), false, [&] { getFlowHistory(request, reply); }},
        {QStringLiteral("/v1/webui/customizations"), false, [&] { getCustomizations(reply); }},
        {QStringLiteral("/v1/webui/file"), false, [&] { getWebUiFile(request, reply); }},
        {QStringLiteral("/v1/stage"), true, [&] { postStage(request, reply); }},
        {QStringLiteral("/v1/staged"), false, [&] { getStaged(reply); }},
        {QStringLiteral("/v1/upgrade"), true, [&] { postUpgrade(request, reply); }},
        {QStringLiteral("/v1/jobs"), false, [&] { getJobs(reply); }},
        {QStringLiteral("/v1/service"), true, [&] { postService(request, reply); }},
        {QStringLiteral("/v1/webui/baseline"), true, [&] { postBaseline(request, reply); }},
    };
    for (const Route &r : routes) {
        if (r.path != path)
            continue;
        if ((r.isPost && !post) || (!r.isPost && !get))
            return reply->error(405, r.isPost ? tr("Use POST for this endpoint.") : tr("Use GET for this endpoint."));
        // Every endpoint, POST included, refuses query parameters it does not know:
        // "POST /v1/stage?debug=1" must not quietly create a job.
        const QStringList allowed = path == QLatin1String("/v1/flows/history") ? QStringList{QStringLiteral("hours")}
                                    : path == QLatin1String("/v1/webui/file")
                                        ? QStringList{QStringLiteral("path"), QStringLiteral("which")}
                                        : QStringList{};
        if (auto bad = checkQuery(request, allowed))
            return reply->error(*bad);
        return r.handler();
    }

    // /v1/uploads, /v1/uploads/U and /v1/uploads/U/file
    if (parts.at(2) == QLatin1String("uploads")) {
        if (parts.size() == 3) {
            if (!post)
                return reply->error(405, tr("Use POST for this endpoint."));
            if (auto bad = checkQuery(request, {}))
                return reply->error(*bad);
            return postUpload(request, reply);
        }
        const QString &id = parts.at(3);
        if (!UploadStore::isValidId(id) || parts.size() > 5)
            return reply->error(404, tr("There is no upload %1.").arg(id));
        if (parts.size() == 4) {
            if (method == QHttpServerRequest::Method::Put) {
                if (auto bad = checkQuery(request, {QStringLiteral("offset")}))
                    return reply->error(*bad);
                return putUpload(id, request, reply);
            }
            if (auto bad = checkQuery(request, {}))
                return reply->error(*bad);
            if (get)
                return getUpload(id, reply);
            if (method == QHttpServerRequest::Method::Delete)
                return deleteUpload(id, reply);
            return reply->error(405, tr("Use GET, PUT or DELETE for this endpoint."));
        }
        if (parts.at(4) == QLatin1String("file")) {
            if (!get)
                return reply->error(405, tr("Use GET for this endpoint."));
            if (auto bad = checkQuery(request, {}))
                return reply->error(*bad);
            return getUploadFile(id, request, reply);
        }
        return reply->error(404, tr("There is no such endpoint."));
    }

    // /v1/jobs/J and /v1/jobs/J/cancel
    if (parts.at(1) == QLatin1String("v1") && parts.at(2) == QLatin1String("jobs") && parts.size() >= 4
        && parts.size() <= 5) {
        const QString &id = parts.at(3);
        if (!JobStore::isValidId(id))
            return reply->error(400, tr("\"%1\" is not a valid job id.").arg(id));
        if (parts.size() == 4) {
            if (!get)
                return reply->error(405, tr("Use GET for this endpoint."));
            if (auto bad = checkQuery(request, {QStringLiteral("since"), QStringLiteral("wait")}))
                return reply->error(*bad);
            return getJob(id, request, reply);
        }
        if (parts.at(4) == QLatin1String("cancel")) {
            if (!post)
                return reply->error(405, tr("Use POST for this endpoint."));
            if (auto bad = checkQuery(request, {}))
                return reply->error(*bad);
            return postCancel(id, request, reply);
        }
    }
    reply->error(404, tr("There is no such endpoint."));
}

void AgentServer::reconcileInterruptedUpgrades()
{
    // From "stopping" to "checking" the service is the upgrade's: an agent killed in
    // between may have left it stopped. Ask the service manager, and let the job say
    // what the node is left with, so no node is down without a sentence saying so.
    static const QStringList serviceTouched{QStringLiteral("stopping"), QStringLiteral("installing"),
                                            QStringLiteral("starting"), QStringLiteral("checking")};
    for (const QString &id : m_store->interruptedAtOpen()) {
        const JobRecord *record = m_store->job(id);
        if (!record || record->kind != QLatin1String("upgrade") || !serviceTouched.contains(record->phase))
            continue;
        // Until the answer is in, GET /v1/jobs/J holds its reply: nobody reads the
        // job's sentence before it says what the node is left with.
        m_reconciling.insert(id);
        ServiceOperation *op = m_service->query(this);
        connect(op, &ServiceOperation::finished, this, [this, id](ServiceOperation *op) {
            op->deleteLater();
            m_reconciling.remove(id);
            const JobRecord *current = m_store->job(id);
            if (!current)
                return;
            JobRecord record = *current;
            const ServiceState state = op->hasError() ? ServiceState::Unknown : op->state();
            if (state == ServiceState::Running) {
                record.error = tr("The installer did not finish (the agent was restarted while it was %1); the "
                                  "FlowTraq service is running. Check the installed version before retrying.")
                                   .arg(record.phase);
            } else {
                record.error = tr("The FlowTraq service is %1 and the installer did not finish (the agent was "
                                  "restarted). Retry runs the installer again; Start service brings up what is "
                                  "installed.")
                                   .arg(state == ServiceState::Stopped ? tr("stopped") : tr("not running (%1)").arg(toString(state)));
                record.serviceRestored = false;
            }
            logging::logger()->warn("Job {}: {}", id.toStdString(), record.error.toStdString());
            (void)m_store->update(record);
            m_store->appendLog(id, record.error);
        });
        op->start();
    }
}

bool AgentServer::upgradeRunning() const
{
    return !m_upgrade.isNull();
}

// ---------------------------------------------------------------- reports

void AgentServer::getNode(const ReplyPtr &reply)
{
    ServiceOperation *op = m_service->query(this);
    connect(op, &ServiceOperation::finished, this, [this, reply](ServiceOperation *op) {
        op->deleteLater();
        ServiceProbe probe;
        probe.state = op->hasError() ? ServiceState::Unknown : op->state();
        probe.detail = op->errorString();
        std::optional<FlowMeasurement> measurement;
        if (m_capture)
            measurement = m_capture->measurement();
        // The version sources run package tools: off the event loop.
        auto *watcher = new QFutureWatcher<QJsonObject>(this);
        connect(watcher, &QFutureWatcher<QJsonObject>::finished, this, [watcher, reply] {
            watcher->deleteLater();
            reply->json(200, watcher->result());
        });
        watcher->setFuture(QtConcurrent::run([config = m_config, probe, busy = upgradeRunning(), measurement] {
            return nodeinfo::nodeReport(config, probe, busy, measurement);
        }));
    });
    op->start();
}

void AgentServer::getCluster(const ReplyPtr &reply)
{
    reply->json(200, nodeinfo::clusterReport(m_config));
}

void AgentServer::getFlowHistory(const QHttpServerRequest &request, const ReplyPtr &reply)
{
    qint64 hours = 0;
    if (auto bad = queryInteger(request, QStringLiteral("hours"), 1, 744, 168, &hours))
        return reply->error(*bad);
    if (m_capture) {
        QJsonObject history = m_capture->history().toJson(int(hours));
        history.insert(QStringLiteral("source"), QStringLiteral("agent_capture"));
        return reply->json(200, history);
    }
    reply->json(200, nodeinfo::flowHistory(m_config, int(hours)));
}

void AgentServer::getCustomizations(const ReplyPtr &reply)
{
    // Hashing the whole Web UI takes a while on big trees: keep the event loop free.
    auto *watcher = new QFutureWatcher<Expected<QJsonObject>>(this);
    connect(watcher, &QFutureWatcher<Expected<QJsonObject>>::finished, this, [watcher, reply] {
        watcher->deleteLater();
        const Expected<QJsonObject> result = watcher->result();
        if (!result)
            return reply->error(404, result.error());
        reply->json(200, *result);
    });
    watcher->setFuture(QtConcurrent::run([config = m_config] { return nodeinfo::webUiCustomizations(config); }));
}

void AgentServer::getWebUiFile(const QHttpServerRequest &request, const ReplyPtr &reply)
{
    const QUrlQuery query = request.query();
    const QString path = query.queryItemValue(QStringLiteral("path"), QUrl::FullyDecoded);
    const QString which = query.hasQueryItem(QStringLiteral("which"))
                              ? query.queryItemValue(QStringLiteral("which"))
                              : QStringLiteral("current");
    if (path.isEmpty())
        return reply->error(400, tr("The query parameter \"path\" is required."));
    if (!isSafeRelativePath(path))
        return reply->error(400, tr("The path \"%1\" is not a plain path inside the Web UI folder.").arg(path));
    if (which != QLatin1String("current") && which != QLatin1String("pristine"))
        return reply->error(400, tr("\"which\" must be current or pristine."));
    auto *watcher = new QFutureWatcher<std::pair<Expected<QByteArray>, int>>(this);
    connect(watcher, &QFutureWatcher<std::pair<Expected<QByteArray>, int>>::finished, this, [watcher, reply] {
        watcher->deleteLater();
        const auto result = watcher->result();
        if (!result.first)
            return reply->error(result.second, result.first.error());
        reply->send(200, *result.first, "application/octet-stream");
    });
    watcher->setFuture(QtConcurrent::run([config = m_config, path, pristine = which == QLatin1String("pristine")] {
        int status = 404;
        Expected<QByteArray> data = nodeinfo::webUiFile(config, path, pristine, &status);
        return std::pair<Expected<QByteArray>, int>(std::move(data), status);
    }));
}

void AgentServer::getStaged(const ReplyPtr &reply)
{
    QJsonArray packages;
    for (const QJsonObject &meta : m_staging->list())
        packages.append(meta);
    reply->json(200, {{QStringLiteral("packages"), packages}});
}

// ---------------------------------------------------------------- stage

void AgentServer::postStage(const QHttpServerRequest &request, const ReplyPtr &reply)
{
    QJsonObject body;
    if (auto bad = readJsonBody(request, &body,
                                {QStringLiteral("url"), QStringLiteral("sha256"), QStringLiteral("size"),
                                 QStringLiteral("name"), QStringLiteral("fingerprint"), QStringLiteral("token"),
                                 QStringLiteral("connect_timeout_ms"), QStringLiteral("contents_checked")},
                                {QStringLiteral("url"), QStringLiteral("sha256"), QStringLiteral("size"),
                                 QStringLiteral("name")})) {
        return reply->error(*bad);
    }
    StageJob::Request stage;
    QString text;
    if (auto bad = stringField(body, QStringLiteral("url"), &text))
        return reply->error(*bad);
    stage.url = QUrl(text, QUrl::StrictMode);
    const QString scheme = stage.url.scheme().toLower();
    if (!stage.url.isValid() || stage.url.host().isEmpty()
        || (scheme != QLatin1String("http") && scheme != QLatin1String("https")))
        return reply->error(400, tr("The url must be an http or https URL with a host."));
    if (auto bad = stringField(body, QStringLiteral("sha256"), &text))
        return reply->error(*bad);
    if (!isSha256Hex(text))
        return reply->error(400, tr("The sha256 must be 64 hexadecimal digits."));
    stage.sha256 = text.toLower().toLatin1();
    if (auto bad = integerField(body, QStringLiteral("size"), &stage.size, 1, qint64(1) << 50))
        return reply->error(*bad);
    if (auto bad = stringField(body, QStringLiteral("name"), &stage.name))
        return reply->error(*bad);
    if (!isPlainFileName(stage.name))
        return reply->error(400, tr("The name \"%1\" must be a plain file name (letters, digits, . _ + -).")
                                     .arg(stage.name));
    if (body.contains(QStringLiteral("fingerprint"))) {
        if (auto bad = stringField(body, QStringLiteral("fingerprint"), &text))
            return reply->error(*bad);
        if (!isSha256Hex(text))
            return reply->error(400, tr("The fingerprint must be 64 hexadecimal digits."));
        if (scheme != QLatin1String("https"))
            return reply->error(400, tr("A fingerprint only makes sense for an https URL."));
        stage.fingerprint = text.toLower().toLatin1();
    }
    if (body.contains(QStringLiteral("token"))) {
        // The source agent's token; it travels only over a pinned HTTPS connection.
        if (auto bad = stringField(body, QStringLiteral("token"), &stage.token))
            return reply->error(*bad);
        if (stage.fingerprint.isEmpty())
            return reply->error(400, tr("A token is only sent to an https URL whose fingerprint is given."));
        if (stage.token.size() > 1024 || stage.token.contains(QLatin1Char('\n')) || stage.token.contains(QLatin1Char('\r')))
            return reply->error(400, tr("The token must be one line of at most 1024 characters."));
    }
    const QJsonValue contentsChecked = body.value(QStringLiteral("contents_checked"));
    if (!contentsChecked.isUndefined() && !contentsChecked.isBool())
        return reply->error(400, tr("\"contents_checked\" must be true or false."));
    stage.contentsChecked = contentsChecked.toBool();
    if (body.contains(QStringLiteral("connect_timeout_ms"))) {
        qint64 ms = 0;
        if (auto bad = integerField(body, QStringLiteral("connect_timeout_ms"), &ms, 100, 600000))
            return reply->error(*bad);
        stage.connectTimeoutMs = int(ms);
    }
    for (const auto &job : std::as_const(m_stageJobs)) {
        if (job && job->packageName() == stage.name)
            return reply->error(409, tr("%1 is already being staged.").arg(stage.name));
    }
    if (m_upgrade) {
        const JobRecord *running = m_store->job(m_upgrade->jobId());
        if (running && running->package == stage.name)
            return reply->error(409, tr("%1 is being installed right now.").arg(stage.name));
    }
    const qint64 free = nodeinfo::freeBytes(m_config.stagingDir);
    if (free >= 0 && free < stage.size + kStagingReserveBytes)
        return reply->error(507, tr("Not enough disk space to stage %1: it needs %2 bytes (plus %3 MiB to spare), "
                                    "the staging folder's disk has %4 bytes free.")
                                     .arg(stage.name).arg(stage.size).arg(kStagingReserveBytes >> 20).arg(free));

    JobRecord record = m_store->create(QStringLiteral("stage"));
    record.package = stage.name;
    record.url = stage.url.toString(QUrl::RemoveUserInfo);
    record.bytesTotal = stage.size;
    if (auto written = m_store->update(record); !written)
        return reply->error(500, written.error());
    auto *job = new StageJob(m_store.get(), record.id, stage, *m_staging, this);
    // The portal's agent asked to stage its own upload (pinned to its own certificate, an
    // upload of exactly these bytes): it takes the file, not a download from itself.
    static const QRegularExpression ownUploadPath(QStringLiteral("^/v1/uploads/(u[0-9a-f]{24})/file$"));
    const auto own = ownUploadPath.match(stage.url.path());
    if (own.hasMatch() && !m_fingerprint.isEmpty() && stage.fingerprint == m_fingerprint) {
        const auto upload = m_uploads->find(own.captured(1));
        if (upload && upload->size == stage.size && upload->sha256 == stage.sha256) {
            job->setLocalFile([uploads = m_uploads.get(), id = upload->id]() -> Expected<QString> {
                const auto now = uploads->find(id);
                if (!now)
                    return makeError(tr("The upload %1 this package was to come from was removed.").arg(id));
                return now->complete ? uploads->dataPath(*now) : QString();
            });
            connect(this, &AgentServer::uploadsChanged, job, &StageJob::checkLocalFile);
        }
    }
    m_stageJobs.insert(record.id, job);
    connect(job, &StageJob::finished, this, [this](StageJob *job) {
        m_stageJobs.remove(job->jobId());
        job->deleteLater();
    });
    job->start();
    logging::logger()->info("Stage job {} started for {}", record.id.toStdString(), stage.name.toStdString());
    reply->json(202, {{QStringLiteral("job"), record.id}});
}

// ---------------------------------------------------------------- upgrade

void AgentServer::postUpgrade(const QHttpServerRequest &request, const ReplyPtr &reply)
{
    QJsonObject body;
    if (auto bad = readJsonBody(request, &body,
                                {QStringLiteral("component"), QStringLiteral("package"), QStringLiteral("timeout_seconds"),
                                 QStringLiteral("installer_arguments"), QStringLiteral("keep_flows")},
                                {QStringLiteral("component"), QStringLiteral("package")})) {
        return reply->error(*bad);
    }
    QString componentText;
    QString package;
    if (auto bad = stringField(body, QStringLiteral("component"), &componentText))
        return reply->error(*bad);
    auto component = parseComponent(componentText);
    if (!component || toString(*component) != componentText)
        return reply->error(400, tr("Unknown component \"%1\" (use server, nbi or webui).").arg(componentText));
    if (auto bad = stringField(body, QStringLiteral("package"), &package))
        return reply->error(*bad);
    if (!isPlainFileName(package))
        return reply->error(400, tr("The package \"%1\" must be a plain file name.").arg(package));
    qint64 timeout = 1800;
    if (body.contains(QStringLiteral("timeout_seconds"))) {
        if (auto bad = integerField(body, QStringLiteral("timeout_seconds"), &timeout, 1, 86400))
            return reply->error(*bad);
    }
    // Silent-install arguments the administrator typed for a vendor installer whose
    // switches are not documented (.exe, .sh/.bin/.run).
    QStringList switches;
    if (body.contains(QStringLiteral("installer_arguments"))) {
        const QJsonValue value = body.value(QStringLiteral("installer_arguments"));
        if (!value.isArray() || value.toArray().size() > 64)
            return reply->error(400, tr("\"installer_arguments\" must be a list of at most 64 strings."));
        for (const auto &argument : value.toArray()) {
            if (!argument.isString() || argument.toString().size() > 1024 || argument.toString().contains(QChar(0)))
                return reply->error(400, tr("Each of \"installer_arguments\" must be a string of at most 1024 characters."));
            switches.append(argument.toString());
        }
    }
    const QJsonValue keepFlows = body.value(QStringLiteral("keep_flows"));
    if (!keepFlows.isUndefined() && !keepFlows.isBool())
        return reply->error(400, tr("\"keep_flows\" must be true or false."));
    if (upgradeRunning())
        return reply->error(409, tr("Another upgrade is running on this node (job %1).").arg(m_upgrade->jobId()));
    for (const auto &job : std::as_const(m_stageJobs)) {
        if (job && job->packageName() == package)
            return reply->error(409, tr("%1 is still being staged.").arg(package));
    }
    auto staged = m_staging->staged(package);
    if (!staged)
        return reply->error(404, staged.error());
    const QString stagedComponent = staged->value(QStringLiteral("component")).toString();
    if (!stagedComponent.isEmpty() && stagedComponent != componentText)
        return reply->error(400, tr("%1 is a %2 package, not a %3 package.").arg(package, stagedComponent, componentText));

    UpgradeJob::Request upgrade;
    upgrade.component = componentText;
    upgrade.packageName = package;
    upgrade.packagePath = QFileInfo(m_staging->packagePath(package)).absoluteFilePath();
    upgrade.sha256 = staged->value(QStringLiteral("sha256")).toString().toLatin1();
    upgrade.targetVersion = staged->value(QStringLiteral("version")).toString();
    upgrade.timeoutSeconds = int(timeout);
    upgrade.installDir = m_config.installDir;
    // The command is split into arguments before the values go in, so no value can
    // add an argument. Each format has its own template (agent.conf [installers]).
    const QString commandTemplate = m_config.installerCommandFor(package);
    if (commandTemplate.trimmed().isEmpty())
        return reply->error(500, tr("The agent has no installer command for %1 (agent.conf [installers]).").arg(package));
    if (commandNeedsSwitches(commandTemplate) && switches.isEmpty())
        return reply->error(400, tr("%1 needs its silent-install arguments (\"installer_arguments\"): the vendor does "
                                    "not document them, and the agent does not guess.")
                                     .arg(package));
    // Nothing from the request may reach the command but as whole arguments: the
    // typed switches may name the install folder and the log, nothing else.
    InstallCommandValues values;
    values.package = QDir::toNativeSeparators(upgrade.packagePath);
    values.install = QDir::toNativeSeparators(m_config.installDir);
    values.component = componentText;
    upgrade.logFile = QDir(m_config.jobsDir()).filePath(QStringLiteral("installer-%1.log").arg(
        QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyyMMdd-HHmmss-zzz"))));
    values.log = QDir::toNativeSeparators(upgrade.logFile);
    for (QString argument : std::as_const(switches)) {
        argument.replace(QLatin1String("{install}"), values.install);
        argument.replace(QLatin1String("{log}"), values.log);
        values.switches.append(argument);
    }
    const Expected<QStringList> expanded = expandInstallCommand(commandTemplate, values);
    if (!expanded)
        return reply->error(500, expanded.error());
    QStringList command = *expanded;
    if (!commandTemplate.contains(QLatin1String("{log}")))
        upgrade.logFile.clear();
    upgrade.program = command.takeFirst();
    if (!upgrade.program.contains(QLatin1Char('/')) && !upgrade.program.contains(QLatin1Char('\\')))
        upgrade.program = siblingExecutable(upgrade.program);
    upgrade.arguments = command;
    upgrade.rebootRequiredFile = QString(m_config.rebootRequiredFile).replace(QLatin1String("{install}"), m_config.installDir);
    upgrade.readVersion = [config = m_config, componentText] {
        const versionsources::ComponentVersion read = versionsources::read(config, componentText);
        for (const versionsources::Reading &reading : read.readings) {
            if (reading.source == read.source && reading.version == read.version)
                return InstalledVersion{read.version, QStringLiteral("%1: %2").arg(reading.source, reading.detail)};
        }
        return InstalledVersion{read.version, read.source};
    };

    JobRecord record = m_store->create(QStringLiteral("upgrade"));
    record.component = componentText;
    record.package = package;
    if (auto written = m_store->update(record); !written)
        return reply->error(500, written.error());
    auto *job = new UpgradeJob(m_store.get(), record.id, upgrade, m_service.get(), this);
    if (keepFlows.toBool() && *component == Component::Server) {
        FlowKeeper::Settings settings = flowKeeperSettings(m_config);
        settings.templatesBefore = [capture = QPointer<FlowCapture>(m_capture)] {
            return capture ? capture->templates().datagrams() : QList<SpooledDatagram>();
        };
        job->setFlowKeeper(new FlowKeeper(settings, job));
    }
    m_upgrade = job;
    connect(job, &UpgradeJob::finished, this, [this, componentText](UpgradeJob *job) {
        if (m_upgrade == job)
            m_upgrade = nullptr;
        if (componentText == QLatin1String("webui"))
            recordBaselineAfterUpgrade(job->jobId());
        job->deleteLater();
    });
    job->start();
    logging::logger()->info("Upgrade job {} started: {} with {}", record.id.toStdString(),
                            componentText.toStdString(), package.toStdString());
    reply->json(202, {{QStringLiteral("job"), record.id}});
}

// ---------------------------------------------------------------- jobs

QJsonObject AgentServer::jobJson(const QString &id, qint64 since) const
{
    const JobRecord *record = m_store->job(id);
    QJsonObject json = record->toJson();
    QJsonArray lines;
    for (const JobLogLine &line : m_store->log(id, since))
        lines.append(line.toJson());
    json.insert(QStringLiteral("log"), lines);
    json.insert(QStringLiteral("next"), qMax(since, record->logLines));
    return json;
}

void AgentServer::getJobs(const ReplyPtr &reply)
{
    QJsonArray jobs;
    for (const JobRecord &record : m_store->jobs())
        jobs.append(record.toJson());
    reply->json(200, {{QStringLiteral("jobs"), jobs}});
}

void AgentServer::getJob(const QString &id, const QHttpServerRequest &request, const ReplyPtr &reply)
{
    qint64 since = 0;
    qint64 wait = 0;
    if (auto bad = queryInteger(request, QStringLiteral("since"), 0, std::numeric_limits<qint32>::max(), 0, &since))
        return reply->error(*bad);
    if (auto bad = queryInteger(request, QStringLiteral("wait"), 0, kMaxWaitMs, 0, &wait))
        return reply->error(*bad);
    const JobRecord *record = m_store->job(id);
    if (!record)
        return reply->error(404, tr("There is no job %1.").arg(id));
    if (m_reconciling.contains(id)) {
        // Cut off by a restart; its sentence is being settled (reconcileInterruptedUpgrades).
        auto *waiter = new QObject(this);
        connect(m_store.get(), &JobStore::changed, waiter, [this, waiter, reply, id, since](const QString &changed) {
            if (changed != id || m_reconciling.contains(id))
                return;
            reply->json(200, jobJson(id, since));
            waiter->deleteLater();
        });
        if (reply->socket)
            connect(reply->socket, &QObject::destroyed, waiter, [waiter] { waiter->deleteLater(); });
        return;
    }
    if (wait == 0 || !record->isActive() || record->logLines > since)
        return reply->json(200, jobJson(id, since));

    // Long poll: answer on the job's next line or state/phase change, or when the wait
    // runs out, whichever comes first; drop it if the caller hangs up.
    auto *waiter = new QObject(this);
    auto answer = [this, waiter, reply, id, since] {
        reply->json(200, jobJson(id, since));
        waiter->deleteLater();
    };
    connect(m_store.get(), &JobStore::changed, waiter, [answer, id](const QString &changed) {
        if (changed == id)
            answer();
    });
    QTimer::singleShot(int(wait), waiter, answer);
    if (reply->socket)
        connect(reply->socket, &QObject::destroyed, waiter, [waiter] { waiter->deleteLater(); });
    if (reply->socket)
        connect(reply->socket, &QAbstractSocket::disconnected, waiter, [waiter] { waiter->deleteLater(); });
}

void AgentServer::postCancel(const QString &id, const QHttpServerRequest &request, const ReplyPtr &reply)
{
    if (!request.body().isEmpty()) {
        QJsonObject body;
        if (auto bad = readJsonBody(request, &body, {}, {}))
            return reply->error(*bad);
    }
    const JobRecord *record = m_store->job(id);
    if (!record)
        return reply->error(404, tr("There is no job %1.").arg(id));
    if (auto stage = m_stageJobs.value(id)) {
        stage->cancel();
        return reply->json(200, {{QStringLiteral("cancelled"), true}});
    }
    if (m_upgrade && m_upgrade->jobId() == id) {
        if (auto cancelled = m_upgrade->cancel(); !cancelled)
            return reply->error(409, cancelled.error());
        return reply->json(200, {{QStringLiteral("cancelled"), true}});
    }
    reply->error(409, tr("Job %1 has already finished (%2).").arg(id, record->state));
}

// ---------------------------------------------------------------- uploads

void AgentServer::postUpload(const QHttpServerRequest &request, const ReplyPtr &reply)
{
    QJsonObject body;
    const QSet<QString> fields{QStringLiteral("name"), QStringLiteral("size"), QStringLiteral("sha256")};
    if (auto bad = readJsonBody(request, &body, fields, fields))
        return reply->error(*bad);
    QString name;
    QString sha;
    qint64 size = 0;
    if (auto bad = stringField(body, QStringLiteral("name"), &name))
        return reply->error(*bad);
    if (!isPlainFileName(name))
        return reply->error(400, tr("The name \"%1\" must be a plain file name (letters, digits, . _ + -).").arg(name));
    if (auto bad = integerField(body, QStringLiteral("size"), &size, 1, qint64(1) << 50))
        return reply->error(*bad);
    if (auto bad = stringField(body, QStringLiteral("sha256"), &sha))
        return reply->error(*bad);
    if (!isSha256Hex(sha))
        return reply->error(400, tr("The sha256 must be 64 hexadecimal digits."));
    const qint64 free = nodeinfo::freeBytes(m_config.stagingDir);
    if (free >= 0 && free < size + kStagingReserveBytes)
        return reply->error(507, tr("Not enough disk space to receive %1: it needs %2 bytes (plus %3 MiB to spare), "
                                    "the staging folder's disk has %4 bytes free.")
                                     .arg(name).arg(size).arg(kStagingReserveBytes >> 20).arg(free));
    auto upload = m_uploads->create(name, size, sha.toLower().toLatin1());
    if (!upload)
        return reply->error(500, upload.error());
    logging::logger()->info("Upload {} of {} ({} bytes) at byte {}", upload->id.toStdString(), name.toStdString(),
                            size, upload->offset);
    reply->json(200, upload->toJson());
}

void AgentServer::getUpload(const QString &id, const ReplyPtr &reply)
{
    auto upload = m_uploads->find(id);
    if (!upload)
        return reply->error(404, tr("There is no upload %1.").arg(id));
    reply->json(200, upload->toJson());
}

void AgentServer::putUpload(const QString &id, const QHttpServerRequest &request, const ReplyPtr &reply)
{
    qint64 offset = 0;
    if (!request.query().hasQueryItem(QStringLiteral("offset")))
        return reply->error(400, tr("The query parameter \"offset\" is required."));
    if (auto bad = queryInteger(request, QStringLiteral("offset"), 0, qint64(1) << 50, 0, &offset))
        return reply->error(*bad);
    const QByteArray contentType = request.value("Content-Type").trimmed().toLower();
    if (contentType != "application/octet-stream")
        return reply->error(415, tr("A chunk must be sent as application/octet-stream."));
    // Written and hashed by the upload's own worker; answered once the chunk is on disk.
    m_uploads->append(id, offset, request.body(), [this, id, reply](const std::variant<Upload, HttpError> &appended) {
        // Also after an error: a mismatched SHA-256 reset the upload, and its streams must stop.
        // Queued: the streams' burst of encryption comes after this answer is on its way, so
        // the uploader's next chunk is not held up by it.
        QMetaObject::invokeMethod(this, &AgentServer::uploadsChanged, Qt::QueuedConnection);
        if (const auto *error = std::get_if<HttpError>(&appended)) {
            if (error->status != 409 && error->status != 404)
                logging::logger()->warn("Upload {}: {}", id.toStdString(), error->message.toStdString());
            return reply->error(*error);
        }
        const Upload &upload = std::get<Upload>(appended);
        if (upload.complete)
            logging::logger()->info("Upload {} of {} complete; SHA-256 matches", id.toStdString(),
                                    upload.name.toStdString());
        reply->json(200, upload.toJson());
    });
}

void AgentServer::getUploadFile(const QString &id, const QHttpServerRequest &request, const ReplyPtr &reply)
{
    auto upload = m_uploads->find(id);
    if (!upload)
        return reply->error(404, tr("There is no upload %1.").arg(id));
    if (!reply->alive())
        return;
    reply->sent = true; // the streamer answers on the socket itself
    if (upload->complete) {
        FileStreamer::serve(reply->socket, m_uploads->dataPath(*upload), request.value("Range"), this);
        return;
    }
    // Still arriving: the other agents fetch it while it arrives, so the upload and the
    // downloads overlap instead of adding up. Each byte goes out once it is on disk; the
    // fetching agent checks size and SHA-256 of the whole file as always, so a copy
    // that turns out corrupt here (reset to byte 0) is a short body there, never staged.
    // The open file stays readable when it is renamed to its final name at completion.
    FileStreamer::serveGrowing(
        reply->socket, m_uploads->partPath(id), upload->size, request.value("Range"),
        [uploads = m_uploads.get(), id]() -> qint64 {
            const auto now = uploads->find(id);
            if (!now)
                return -1;
            return now->complete ? now->size : now->offset;
        },
        this, &AgentServer::uploadsChanged, this);
}

void AgentServer::deleteUpload(const QString &id, const ReplyPtr &reply)
{
    if (!m_uploads->find(id))
        return reply->error(404, tr("There is no upload %1.").arg(id));
    // Chunks of it still being written finish first; the answer comes once its files are gone.
    m_uploads->remove(id, [this, reply](const Result &removed) {
        Q_EMIT uploadsChanged();
        if (!removed)
            return reply->error(500, removed.error());
        reply->json(200, {{QStringLiteral("deleted"), true}});
    });
    // Its streams stop now, not once the chunks under way are written.
    QMetaObject::invokeMethod(this, &AgentServer::uploadsChanged, Qt::QueuedConnection);
}

// ---------------------------------------------------------------- service

void AgentServer::postService(const QHttpServerRequest &request, const ReplyPtr &reply)
{
    QJsonObject body;
    if (auto bad = readJsonBody(request, &body, {QStringLiteral("action")}, {QStringLiteral("action")}))
        return reply->error(*bad);
    QString action;
    if (auto bad = stringField(body, QStringLiteral("action"), &action))
        return reply->error(*bad);
    if (action != QLatin1String("start") && action != QLatin1String("stop"))
        return reply->error(400, tr("The action must be start or stop."));
    if (upgradeRunning())
        return reply->error(409, tr("An upgrade is running on this node; the service is under its control."));
    if (m_serviceActionRunning)
        return reply->error(409, tr("Another service action is still running."));
    m_serviceActionRunning = true;
    ServiceOperation *op = action == QLatin1String("start") ? m_service->startService(this)
                                                            : m_service->stopService(this);
    connect(op, &ServiceOperation::finished, this, [this, reply, action](ServiceOperation *op) {
        op->deleteLater();
        m_serviceActionRunning = false;
        logging::logger()->info("Service {}: {}{}", action.toStdString(), toString(op->state()).toStdString(),
                                op->hasError() ? " (" + op->errorString().toStdString() + ")" : "");
        if (op->hasError())
            return reply->json(500, {{QStringLiteral("error"), op->errorString()},
                                     {QStringLiteral("state"), toString(op->state())}});
        reply->json(200, {{QStringLiteral("state"), toString(op->state())}});
    });
    op->start();
}

// ---------------------------------------------------------------- Web UI baseline

void AgentServer::postBaseline(const QHttpServerRequest &request, const ReplyPtr &reply)
{
    if (!request.body().isEmpty()) {
        QJsonObject body;
        if (auto bad = readJsonBody(request, &body, {}, {}))
            return reply->error(*bad);
    }
    if (upgradeRunning())
        return reply->error(409, tr("An upgrade is running on this node; record the baseline when it is done."));
    if (m_baselineRunning)
        return reply->error(409, tr("A baseline is being recorded already."));
    m_baselineRunning = true;
    auto *watcher = new QFutureWatcher<Expected<QJsonObject>>(this);
    connect(watcher, &QFutureWatcher<Expected<QJsonObject>>::finished, this, [this, watcher, reply] {
        watcher->deleteLater();
        m_baselineRunning = false;
        const Expected<QJsonObject> result = watcher->result();
        if (!result)
            return reply->error(500, result.error());
        logging::logger()->info("Web UI baseline of {} recorded on request ({} files)",
                                result->value(QStringLiteral("version")).toString().toStdString(),
                                result->value(QStringLiteral("files")).toInteger());
        reply->json(200, *result);
    });
    watcher->setFuture(QtConcurrent::run([config = m_config] {
        return webuibaseline::record(config, QStringLiteral("requested"));
    }));
}

void AgentServer::recordBaselineAfterUpgrade(const QString &jobId)
{
    const JobRecord *record = m_store->job(jobId);
    if (!record || record->state != QLatin1String("succeeded"))
        return;
    auto *watcher = new QFutureWatcher<Expected<QJsonObject>>(this);
    connect(watcher, &QFutureWatcher<Expected<QJsonObject>>::finished, this, [watcher] {
        watcher->deleteLater();
        const Expected<QJsonObject> result = watcher->result();
        if (!result)
            logging::logger()->warn("No Web UI baseline after the upgrade: {}", result.error().toStdString());
        else
            logging::logger()->info("Web UI baseline of {} recorded after the upgrade",
                                    result->value(QStringLiteral("version")).toString().toStdString());
    });
    watcher->setFuture(QtConcurrent::run([config = m_config] {
        return webuibaseline::record(config, QStringLiteral("after upgrade"));
    }));
}

} // namespace ft::agent

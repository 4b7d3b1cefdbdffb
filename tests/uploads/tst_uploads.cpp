// Uploads to the portal's agent and staging from there (API.md "Uploads"): the agent's
// rules for chunks, a PackageUploadJob that resumes from the agent's offset after the
// connection is cut mid-upload, and other agents that fetch the finished file with the
// token and the pinned certificate, continuing with Range after a cut.

#include "agentharness.h"

#include "agentlink/agentjobs.h"
#include "agentlink/uploadjobs.h"

#include <QJsonArray>
#include <QSignalSpy>
#include <QElapsedTimer>
#include <QTcpServer>

#include <memory>
#include <QRandomGenerator>
#include <QRegularExpression>

using namespace agenttest;

namespace {

QByteArray randomBytes(qint64 size)
{
    QByteArray data(size, Qt::Uninitialized);
    QRandomGenerator generator(42);
    generator.fillRange(reinterpret_cast<quint32 *>(data.data()), size / 4);
    return data;
}

// A TCP relay in front of an agent that cuts every connection once the bytes that
// went through it in one direction pass a mark (once). TLS passes through untouched,
// so pinning still sees the agent's own certificate.
class CuttingProxy : public QObject
{
public:
    quint16 target = 0;
    qint64 cutAfterUp = -1;   // client → agent bytes
    qint64 cutAfterDown = -1; // agent → client bytes
    qint64 up = 0;
    qint64 down = 0;
    int cuts = 0;
    int downMs = 0;           // after the cut, the link stays down this long

    bool listen()
    {
        connect(&m_server, &QTcpServer::pendingConnectionAvailable, this, [this] { accept(); });
        return m_server.listen(QHostAddress::LocalHost, 0);
    }
    quint16 port() const { return m_server.serverPort(); }

private:
    void accept()
    {
        while (QTcpSocket *client = m_server.nextPendingConnection()) {
            if (cuts > 0 && m_cutAt.elapsed() < downMs) {
                client->abort();
                client->deleteLater();
                continue;
            }
            auto *agent = new QTcpSocket(client);
            agent->connectToHost(QHostAddress::LocalHost, target);
            auto cutAll = [this] {
                ++cuts;
                m_cutAt.start();
                for (QTcpSocket *socket : m_server.findChildren<QTcpSocket *>())
                    socket->abort();
            };
            connect(client, &QTcpSocket::readyRead, this, [this, client, agent, cutAll] {
                if (agent->state() != QAbstractSocket::ConnectedState)
                    return; // sent once connected
                const QByteArray data = client->readAll();
                up += data.size();
                agent->write(data);
                if (cutAfterUp >= 0 && up > cutAfterUp && cuts == 0)
                    cutAll();
            });
            connect(agent, &QTcpSocket::connected, this, [client, agent] { agent->write(client->readAll()); });
            connect(agent, &QTcpSocket::readyRead, this, [this, client, agent, cutAll] {
                const QByteArray data = agent->readAll();
                down += data.size();
                client->write(data);
                if (cutAfterDown >= 0 && down > cutAfterDown && cuts == 0)
                    cutAll();
            });
            connect(agent, &QTcpSocket::disconnected, client, &QTcpSocket::disconnectFromHost);
            connect(client, &QTcpSocket::disconnected, client, &QObject::deleteLater);
            // Children of the server: findChildren reaches both ends.
            client->setParent(&m_server);
        }
    }

    QTcpServer m_server;
    QElapsedTimer m_cutAt;
};

ft::AgentEndpoint endpointOf(const Agent &agent, quint16 port = 0)
{
    ft::AgentEndpoint endpoint;
    endpoint.nodeName = QStringLiteral("portal");
    endpoint.url = agent.url;
    if (port)
        endpoint.url.setPort(port);
    endpoint.fingerprint = QString::fromLatin1(agent.fingerprint);
    endpoint.token = QString::fromLatin1(agent.token);
    return endpoint;
}

QString writeFile(const QTemporaryDir &dir, const QString &name, const QByteArray &data)
{
    const QString path = dir.filePath(name);
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(data) != data.size())
        return {};
    return path;
}

} // namespace

class TestUploads : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void chunkRules_data();
    void chunkRules();
    void wrongHashDiscardsTheBytes();
    void rangeAndToken();
    void uploadResumesAfterCut();
    void otherAgentStagesFromUpload();
    void stagingContinuesWithRangeAfterCut();
    void fileStreamsWhileUploading();
    void resetUploadCutsItsStream();
    void unreachableSourceFailsAfterConnectTimeout();
    void outOfOrderChunks();
    void duplicateAndOverlappingChunks();
    void resumeOffsetIsThePrefixAfterAGap();
    void streamStopsAtThePrefix();
    void parallelUploadResumesAfterCut();
    void sameBytesResumeUnderAnotherName();
    void portalStagesItsOwnUploadFromDisk();
    void concurrentOverlappingChunks();
    void deleteWhileChunksAreWritten();
    void restartWhileChunksAreWritten();

private:
    // PUT one chunk of data at offset; the agent's answer.
    Response put(const QString &id, qint64 offset, const QByteArray &chunk)
    {
        return m_client.request("PUT", QStringLiteral("/v1/uploads/%1?offset=%2").arg(id).arg(offset), chunk,
                                {{"Content-Type", "application/octet-stream"}});
    }
    static QJsonArray ranges(std::initializer_list<std::pair<qint64, qint64>> list)
    {
        QJsonArray array;
        for (const auto &[first, end] : list)
            array.append(QJsonArray{first, end});
        return array;
    }

    QString createUpload(const QByteArray &data, const QString &name);

    Agent m_portal;
    Agent m_worker;
    Client m_client;
    QTemporaryDir m_files;
};

void TestUploads::initTestCase()
{
    QVERIFY2(m_portal.setUp().isEmpty(), "portal setup");
    QCOMPARE(m_portal.start(), QString());
    QString error = m_worker.setUp();
    QVERIFY2(error.isEmpty(), qPrintable(error));
    error = m_worker.start();
    QVERIFY2(error.isEmpty(), qPrintable(error));
    m_client.bind(m_portal);
}

void TestUploads::cleanupTestCase()
{
    m_portal.stop();
    m_worker.stop();
}

QString TestUploads::createUpload(const QByteArray &data, const QString &name)
{
    const Response r = m_client.post(QStringLiteral("/v1/uploads"),
                                     {{QStringLiteral("name"), name},
                                      {QStringLiteral("size"), data.size()},
                                      {QStringLiteral("sha256"), QString::fromLatin1(sha256Hex(data))}});
    if (r.status != 200) {
        qWarning("POST /v1/uploads: %d %s", r.status, r.body.constData());
        return {};
    }
    return r.json.value(QStringLiteral("id")).toString();
}

void TestUploads::chunkRules_data()
{
    QTest::addColumn<QString>("query");
    QTest::addColumn<QByteArray>("contentType");
    QTest::addColumn<int>("bodyBytes");
    QTest::addColumn<bool>("withToken");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("sentence");

    QTest::newRow("no token") << "offset=0" << QByteArray("application/octet-stream") << 100 << false << 401 << "token";
    QTest::newRow("offset at the size") << "offset=4096" << QByteArray("application/octet-stream") << 1 << true << 400
                                        << "at byte 4096 goes past the upload's size";
    QTest::newRow("ends past the size") << "offset=4000" << QByteArray("application/octet-stream") << 97 << true
                                        << 400 << "of 97 bytes at byte 4000 goes past";
    QTest::newRow("no offset") << "" << QByteArray("application/octet-stream") << 100 << true << 400 << "offset";
    QTest::newRow("negative offset") << "offset=-1" << QByteArray("application/octet-stream") << 100 << true << 400
                                     << "offset";
    QTest::newRow("unknown parameter") << "offset=0&x=1" << QByteArray("application/octet-stream") << 100 << true
                                       << 400 << "Unknown query parameter";
    QTest::newRow("json body") << "offset=0" << QByteArray("application/json") << 100 << true << 415
                               << "octet-stream";
    QTest::newRow("empty chunk") << "offset=0" << QByteArray("application/octet-stream") << 0 << true << 400 << "empty";
    QTest::newRow("past the size") << "offset=0" << QByteArray("application/octet-stream") << 5000 << true << 400
                                   << "past the upload's size";
    QTest::newRow("over 8 MiB") << "offset=0" << QByteArray("application/octet-stream") << (8 * 1024 * 1024 + 1)
                                << true << 413 << "larger than 8192 KiB";
}

void TestUploads::chunkRules()
{
    QFETCH(QString, query);
    QFETCH(QByteArray, contentType);
    QFETCH(int, bodyBytes);
    QFETCH(bool, withToken);
    QFETCH(int, status);
    QFETCH(QString, sentence);

    const QByteArray data = randomBytes(4096);
    const QString id = createUpload(data, QStringLiteral("rules.bin"));
    QVERIFY(!id.isEmpty());
    const QString path = QStringLiteral("/v1/uploads/") + id + (query.isEmpty() ? QString() : QStringLiteral("?") + query);
    const Response r = m_client.request("PUT", path, QByteArray(bodyBytes, 'x'), {{"Content-Type", contentType}},
                                        withToken);
    QCOMPARE(r.status, status);
    QVERIFY2(r.json.value(QStringLiteral("error")).toString().contains(sentence), r.body.constData());
    // A refused chunk changes nothing.
    const Response after = m_client.get(QStringLiteral("/v1/uploads/") + id);
    QCOMPARE(after.status, 200);
    QCOMPARE(after.json.value(QStringLiteral("offset")).toInteger(), 0);
    QCOMPARE(after.json.value(QStringLiteral("received")).toArray(), QJsonArray());
}

void TestUploads::wrongHashDiscardsTheBytes()
{
    const QByteArray data = randomBytes(10000);
    const Response created = m_client.post(QStringLiteral("/v1/uploads"),
                                           {{QStringLiteral("name"), QStringLiteral("liar.bin")},
                                            {QStringLiteral("size"), data.size()},
                                            {QStringLiteral("sha256"), QString(64, QLatin1Char('a'))}});
    QCOMPARE(created.status, 200);
    const QString id = created.json.value(QStringLiteral("id")).toString();
    const Response put = m_client.request("PUT", QStringLiteral("/v1/uploads/%1?offset=0").arg(id), data,
                                          {{"Content-Type", "application/octet-stream"}});
    QCOMPARE(put.status, 400);
    QVERIFY(put.json.value(QStringLiteral("error")).toString().contains(QLatin1String(sha256Hex(data))));
    const Response after = m_client.get(QStringLiteral("/v1/uploads/") + id);
    QCOMPARE(after.json.value(QStringLiteral("offset")).toInteger(), 0);
    QCOMPARE(after.json.value(QStringLiteral("complete")).toBool(), false);
    // Bad creation requests.
    QCOMPARE(m_client.post(QStringLiteral("/v1/uploads"), {{QStringLiteral("name"), QStringLiteral("../x")},
                                                           {QStringLiteral("size"), 10},
                                                           {QStringLiteral("sha256"), QString(64, QLatin1Char('a'))}})
                 .status,
             400);
    QCOMPARE(m_client.post(QStringLiteral("/v1/uploads"), {{QStringLiteral("name"), QStringLiteral("x.bin")},
                                                           {QStringLiteral("size"), 10}})
                 .status,
             400);
    QCOMPARE(m_client.get(QStringLiteral("/v1/uploads/u000000000000000000000000")).status, 404);
    QCOMPARE(m_client.get(QStringLiteral("/v1/uploads/..")).status, 404);
}

void TestUploads::rangeAndToken()
{
    const QByteArray data = randomBytes(300000);
    const QString id = createUpload(data, QStringLiteral("range.bin"));
    QVERIFY(!id.isEmpty());
    QCOMPARE(m_client.request("PUT", QStringLiteral("/v1/uploads/%1?offset=0").arg(id), data.left(100000),
                              {{"Content-Type", "application/octet-stream"}}).status, 200);
    QCOMPARE(m_client.request("PUT", QStringLiteral("/v1/uploads/%1?offset=100000").arg(id), data.mid(100000),
                              {{"Content-Type", "application/octet-stream"}}).json.value(QStringLiteral("complete")).toBool(),
             true);
    const Response whole = m_client.get(QStringLiteral("/v1/uploads/%1/file").arg(id));
    QCOMPARE(whole.status, 200);
    QCOMPARE(whole.body, data);
    const Response tail = m_client.request("GET", QStringLiteral("/v1/uploads/%1/file").arg(id), {},
                                           {{"Range", "bytes=299990-"}});
    QCOMPARE(tail.status, 206);
    QCOMPARE(tail.body, data.right(10));
    QCOMPARE(m_client.request("GET", QStringLiteral("/v1/uploads/%1/file").arg(id), {}, {{"Range", "bytes=400000-"}})
                 .status,
             416);
    QCOMPARE(m_client.request("GET", QStringLiteral("/v1/uploads/%1/file").arg(id), {}, {}, false).status, 401);
    // The same file again is the same, finished upload: nothing to send.
    QCOMPARE(createUpload(data, QStringLiteral("range.bin")), id);
}

void TestUploads::uploadResumesAfterCut()
{
    const qint64 size = 6 * 1024 * 1024 + 123;
    const QByteArray data = randomBytes(size);
    const QString path = writeFile(m_files, QStringLiteral("server-resume.ftpkg"), data);
    QVERIFY(!path.isEmpty());

    CuttingProxy proxy;
    proxy.target = quint16(m_portal.url.port());
    proxy.cutAfterUp = 2 * 1024 * 1024 + 500000; // in the middle of the third 1 MiB chunk
    proxy.downMs = 1500; // long enough that Qt's own one retry fails too
    QVERIFY(proxy.listen());

    ft::AgentClient client;
    ft::PackageUploadJob job(&client, endpointOf(m_portal, proxy.port()), path, QStringLiteral("server-resume.ftpkg"),
                             size, QString::fromLatin1(sha256Hex(data)));
    job.setChunkBytes(1024 * 1024);
    job.setStreams(1); // one chunk at a time: the offset it resumes from is known exactly
    QSignalSpy finished(&job, &ft::PackageUploadJob::finished);
    job.start();
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 60000);
    QVERIFY2(!job.hasError(), qPrintable(job.errorString()));
    QCOMPARE(proxy.cuts, 1);
    // It went on from where the agent stood, not from the start.
    QVERIFY(!job.resumedAt().isEmpty());
    QCOMPARE(job.resumedAt().first(), qint64(2 * 1024 * 1024));
    QVERIFY2(job.bytesSent() <= size + 1024 * 1024, qPrintable(QString::number(job.bytesSent())));

    m_client.bind(m_portal);
    const Response state = m_client.get(QStringLiteral("/v1/uploads/") + job.uploadId());
    QCOMPARE(state.json.value(QStringLiteral("complete")).toBool(), true);
    const Response file = m_client.get(QStringLiteral("/v1/uploads/%1/file").arg(job.uploadId()));
    QCOMPARE(sha256Hex(file.body), sha256Hex(data));
    QCOMPARE(job.fileUrl().path(), QStringLiteral("/v1/uploads/%1/file").arg(job.uploadId()));
}

void TestUploads::otherAgentStagesFromUpload()
{
    const QByteArray data = randomBytes(2 * 1024 * 1024);
    const QString path = writeFile(m_files, QStringLiteral("vendor-6.3.bin"), data);
    ft::AgentClient client;
    ft::PackageUploadJob upload(&client, endpointOf(m_portal), path, QStringLiteral("vendor-6.3.bin"), data.size(),
                                QString::fromLatin1(sha256Hex(data)));
    QSignalSpy uploaded(&upload, &ft::PackageUploadJob::finished);
    upload.start();
    QTRY_COMPARE_WITH_TIMEOUT(uploaded.size(), 1, 30000);
    QVERIFY2(!upload.hasError(), qPrintable(upload.errorString()));
    QCOMPARE(upload.bytesSent(), qint64(data.size()));

    Client worker;
    worker.bind(m_worker);
    auto stage = [&](const QJsonObject &extra) {
        QJsonObject body{{QStringLiteral("url"), upload.fileUrl().toString()},
                         {QStringLiteral("sha256"), QString::fromLatin1(sha256Hex(data))},
                         {QStringLiteral("size"), data.size()},
                         {QStringLiteral("name"), QStringLiteral("vendor-6.3.bin")}};
        for (auto it = extra.begin(); it != extra.end(); ++it)
            body.insert(it.key(), it.value());
        return worker.post(QStringLiteral("/v1/stage"), body);
    };
    // A token only goes to a pinned https source.
    QCOMPARE(stage({{QStringLiteral("token"), QString::fromLatin1(m_portal.token)}}).status, 400);
    // Without the portal's token the portal refuses the download.
    Response r = stage({{QStringLiteral("fingerprint"), QString::fromLatin1(m_portal.fingerprint)}});
    QCOMPARE(r.status, 202);
    QStringList lines;
    QJsonObject job = worker.waitForJob(r.json.value(QStringLiteral("job")).toString(), nullptr, &lines);
    QVERIFY2(job.value(QStringLiteral("state")).toString() == QLatin1String("failed"), qPrintable(lines.join('\n')));
    // Another pinned certificate: refused, even with the token.
    r = stage({{QStringLiteral("fingerprint"), QString(64, QLatin1Char('0'))},
               {QStringLiteral("token"), QString::fromLatin1(m_portal.token)}});
    QCOMPARE(r.status, 202);
    job = worker.waitForJob(r.json.value(QStringLiteral("job")).toString());
    QCOMPARE(job.value(QStringLiteral("state")).toString(), QStringLiteral("failed"));
    QVERIFY2(job.value(QStringLiteral("error")).toString().contains(QLatin1String("certificate")), qPrintable(job.value(QStringLiteral("error")).toString()));
    // Token and pin: staged.
    r = stage({{QStringLiteral("fingerprint"), QString::fromLatin1(m_portal.fingerprint)},
               {QStringLiteral("token"), QString::fromLatin1(m_portal.token)}});
    QCOMPARE(r.status, 202);
    job = worker.waitForJob(r.json.value(QStringLiteral("job")).toString());
    QCOMPARE(job.value(QStringLiteral("state")).toString(), QStringLiteral("succeeded"));
    QCOMPARE(sha256Hex(readAll(QDir(m_worker.stagingDir).filePath(QStringLiteral("vendor-6.3.bin")))),
             sha256Hex(data));
    // The token is never written into the worker's job files.
    const QDir jobs(QFileInfo(m_worker.configFile).absoluteDir().filePath(QStringLiteral("jobs")));
    for (const QString &name : jobs.entryList(QDir::Files))
        QVERIFY(!readAll(jobs.filePath(name)).contains(m_portal.token));
}

void TestUploads::stagingContinuesWithRangeAfterCut()
{
    const QByteArray data = randomBytes(12 * 1024 * 1024);
    const QString path = writeFile(m_files, QStringLiteral("big-6.3.bin"), data);
    ft::AgentClient client;
    ft::PackageUploadJob upload(&client, endpointOf(m_portal), path, QStringLiteral("big-6.3.bin"), data.size(),
                                QString::fromLatin1(sha256Hex(data)));
    QSignalSpy uploaded(&upload, &ft::PackageUploadJob::finished);
    upload.start();
    QTRY_COMPARE_WITH_TIMEOUT(uploaded.size(), 1, 30000);
    QVERIFY2(!upload.hasError(), qPrintable(upload.errorString()));

    CuttingProxy proxy;
    proxy.target = quint16(m_portal.url.port());
    proxy.cutAfterDown = 5 * 1024 * 1024;
    QVERIFY(proxy.listen());
    QUrl url = upload.fileUrl();
    url.setPort(proxy.port());

    Client worker;
    worker.bind(m_worker);
    const Response r = worker.post(QStringLiteral("/v1/stage"),
                                   {{QStringLiteral("url"), url.toString()},
                                    {QStringLiteral("sha256"), QString::fromLatin1(sha256Hex(data))},
                                    {QStringLiteral("size"), data.size()},
                                    {QStringLiteral("name"), QStringLiteral("big-6.3.bin")},
                                    {QStringLiteral("fingerprint"), QString::fromLatin1(m_portal.fingerprint)},
                                    {QStringLiteral("token"), QString::fromLatin1(m_portal.token)}});
    QCOMPARE(r.status, 202);
    QStringList lines;
    const QJsonObject job = worker.waitForJob(r.json.value(QStringLiteral("job")).toString(), nullptr, &lines);
    QVERIFY2(job.value(QStringLiteral("state")).toString() == QLatin1String("succeeded"),
             qPrintable(job.value(QStringLiteral("error")).toString()));
    QCOMPARE(proxy.cuts, 1);
    // The second request asked only for the missing part (Range from the byte it had).
    static const QRegularExpression resumed(QStringLiteral("continuing from byte (\\d+)"));
    const auto match = resumed.match(lines.join(QLatin1Char('\n')));
    QVERIFY2(match.hasMatch(), qPrintable(lines.join('\n')));
    QVERIFY(match.captured(1).toLongLong() > 0);
    QVERIFY(match.captured(1).toLongLong() < data.size());
}

namespace {

// GET /v1/uploads/U/file without waiting for it: the body as it arrives.
struct Stream
{
    QNetworkReply *reply = nullptr;
    QByteArray body;
};

// A PUT of one chunk that is not waited for: several are under way at once.
QNetworkReply *putAsync(Client &client, const QString &id, qint64 offset, const QByteArray &chunk)
{
    QUrl url = client.base;
    url.setPath(QStringLiteral("/v1/uploads/%1").arg(id));
    url.setQuery(QStringLiteral("offset=%1").arg(offset));
    QNetworkRequest request(url);
    request.setRawHeader("Authorization", "Bearer " + client.token);
    request.setRawHeader("Content-Type", "application/octet-stream");
    QNetworkReply *reply = client.nam.put(request, chunk);
    const QByteArray pin = client.fingerprint;
    QObject::connect(reply, &QNetworkReply::sslErrors, reply, [reply, pin](const QList<QSslError> &errors) {
        if (reply->sslConfiguration().peerCertificate().digest(QCryptographicHash::Sha256).toHex() == pin)
            reply->ignoreSslErrors(errors);
    });
    return reply;
}

int statusOf(QNetworkReply *reply)
{
    return reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
}

Stream *openStream(Client &client, const QString &id)
{
    QUrl url = client.base;
    url.setPath(QStringLiteral("/v1/uploads/%1/file").arg(id));
    QNetworkRequest request(url);
    request.setRawHeader("Authorization", "Bearer " + client.token);
    auto *stream = new Stream;
    stream->reply = client.nam.get(request);
    const QByteArray pin = client.fingerprint;
    QObject::connect(stream->reply, &QNetworkReply::sslErrors, stream->reply, [stream, pin](const QList<QSslError> &errors) {
        if (stream->reply->sslConfiguration().peerCertificate().digest(QCryptographicHash::Sha256).toHex() == pin)
            stream->reply->ignoreSslErrors(errors);
    });
    QObject::connect(stream->reply, &QNetworkReply::readyRead, stream->reply,
                     [stream] { stream->body += stream->reply->readAll(); });
    return stream;
}

} // namespace

// The nodes fetch an upload while it arrives: each byte goes out once it is on the
// portal's disk, the rest when the next chunk comes, and the whole file in the end.
void TestUploads::fileStreamsWhileUploading()
{
    const QByteArray data = randomBytes(3 * 1024 * 1024);
    const QString id = createUpload(data, QStringLiteral("growing.bin"));
    QVERIFY(!id.isEmpty());
    const qint64 first = 1024 * 1024;
    QCOMPARE(m_client.request("PUT", QStringLiteral("/v1/uploads/%1?offset=0").arg(id), data.left(first),
                              {{"Content-Type", "application/octet-stream"}}).status, 200);
    std::unique_ptr<Stream> stream(openStream(m_client, id));
    // What is there arrives, and no more: the stream waits for the next chunk.
    QTRY_COMPARE_WITH_TIMEOUT(stream->body.size(), first, 20000);
    QCOMPARE(stream->reply->header(QNetworkRequest::ContentLengthHeader).toLongLong(), data.size());
    QTest::qWait(300);
    QCOMPARE(stream->body.size(), first);
    QVERIFY(!stream->reply->isFinished());
    QCOMPARE(m_client.request("PUT", QStringLiteral("/v1/uploads/%1?offset=%2").arg(id).arg(first),
                              data.mid(first, first), {{"Content-Type", "application/octet-stream"}}).status, 200);
    QTRY_COMPARE_WITH_TIMEOUT(stream->body.size(), 2 * first, 20000);
    const Response last = m_client.request("PUT", QStringLiteral("/v1/uploads/%1?offset=%2").arg(id).arg(2 * first),
                                           data.mid(2 * first), {{"Content-Type", "application/octet-stream"}});
    QCOMPARE(last.json.value(QStringLiteral("complete")).toBool(), true);
    QTRY_VERIFY_WITH_TIMEOUT(stream->reply->isFinished(), 20000);
    QCOMPARE(stream->reply->error(), QNetworkReply::NoError);
    QCOMPARE(stream->body, data);
    stream->reply->deleteLater();
}

// An upload whose SHA-256 turns out wrong is reset to byte 0: a stream of it ends short,
// so no fetching agent can take what it got for the file.
void TestUploads::resetUploadCutsItsStream()
{
    QByteArray data = randomBytes(2 * 1024 * 1024);
    data[7] = char(data[7] ^ 0x33); // not the bytes another test uploaded (those would be found complete)
    const QString id = createUpload(data, QStringLiteral("reset.bin"));
    QVERIFY(!id.isEmpty());
    const qint64 half = data.size() / 2;
    QCOMPARE(m_client.request("PUT", QStringLiteral("/v1/uploads/%1?offset=0").arg(id), data.left(half),
                              {{"Content-Type", "application/octet-stream"}}).status, 200);
    std::unique_ptr<Stream> stream(openStream(m_client, id));
    QTRY_COMPARE_WITH_TIMEOUT(stream->body.size(), half, 20000);
    QByteArray wrong = data.mid(half);
    wrong[0] = char(wrong[0] ^ 0x5a);
    QCOMPARE(m_client.request("PUT", QStringLiteral("/v1/uploads/%1?offset=%2").arg(id).arg(half), wrong,
                              {{"Content-Type", "application/octet-stream"}}).status, 400);
    QTRY_VERIFY_WITH_TIMEOUT(stream->reply->isFinished(), 20000);
    QVERIFY(stream->reply->error() != QNetworkReply::NoError);
    QVERIFY(stream->body.size() < data.size());
    stream->reply->deleteLater();
}

// A source that takes the TCP connection but never answers (as a firewall that drops
// the attempt, or a VPN black hole): the stage job fails after the connect time-out,
// naming the address, not after the transfer time-out of a minute.
void TestUploads::unreachableSourceFailsAfterConnectTimeout()
{
    QTcpServer silent; // the kernel accepts; nobody reads or answers
    QVERIFY(silent.listen(QHostAddress::LocalHost, 0));
    Client worker;
    worker.bind(m_worker);
    const QByteArray data = randomBytes(4096);
    const QJsonObject body{{QStringLiteral("url"), QStringLiteral("https://127.0.0.1:%1/p.bin").arg(silent.serverPort())},
                           {QStringLiteral("sha256"), QString::fromLatin1(sha256Hex(data))},
                           {QStringLiteral("size"), data.size()},
                           {QStringLiteral("name"), QStringLiteral("p.bin")},
                           {QStringLiteral("connect_timeout_ms"), 1500}};
    // Out of range or not a number: 400, nothing started.
    for (const QJsonValue &bad : {QJsonValue(5), QJsonValue(700000), QJsonValue(QStringLiteral("1500"))}) {
        QJsonObject refused = body;
        refused.insert(QStringLiteral("connect_timeout_ms"), bad);
        const Response r = worker.post(QStringLiteral("/v1/stage"), refused);
        QCOMPARE(r.status, 400);
        QVERIFY2(r.json.value(QStringLiteral("error")).toString().contains(QLatin1String("connect_timeout_ms")),
                 r.body.constData());
    }
    QElapsedTimer clock;
    clock.start();
    const Response r = worker.post(QStringLiteral("/v1/stage"), body);
    QCOMPARE(r.status, 202);
    const QJsonObject job = worker.waitForJob(r.json.value(QStringLiteral("job")).toString());
    QCOMPARE(job.value(QStringLiteral("state")).toString(), QStringLiteral("failed"));
    const QString error = job.value(QStringLiteral("error")).toString();
    QVERIFY2(error.contains(QStringLiteral("Nothing answered at 127.0.0.1:%1 within 1.5 s").arg(silent.serverPort())),
             qPrintable(error));
    qInfo("failed after %lld ms: %s", clock.elapsed(), qPrintable(error));
    // The connect time-out ended it, long before the transfer time-out would have.
    QVERIFY(clock.elapsed() < 60000);
}

// Chunks may come in any order: the offset is the contiguous prefix, `received` lists
// what is there, and the file is complete (SHA-256 checked) when the gaps close.
void TestUploads::outOfOrderChunks()
{
    QByteArray data = randomBytes(3 * 100000);
    data[1] = 'o';
    const QString id = createUpload(data, QStringLiteral("order.bin"));
    QVERIFY(!id.isEmpty());
    Response r = put(id, 200000, data.mid(200000));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json.value(QStringLiteral("offset")).toInteger(), 0);
    QCOMPARE(r.json.value(QStringLiteral("received")).toArray(), ranges({{200000, 300000}}));
    r = put(id, 0, data.left(100000));
    QCOMPARE(r.json.value(QStringLiteral("offset")).toInteger(), 100000);
    QCOMPARE(r.json.value(QStringLiteral("received")).toArray(), ranges({{0, 100000}, {200000, 300000}}));
    QCOMPARE(r.json.value(QStringLiteral("complete")).toBool(), false);
    r = put(id, 100000, data.mid(100000, 100000));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json.value(QStringLiteral("complete")).toBool(), true);
    QCOMPARE(r.json.value(QStringLiteral("offset")).toInteger(), data.size());
    QCOMPARE(m_client.get(QStringLiteral("/v1/uploads/%1/file").arg(id)).body, data);
}

// A chunk that repeats or overlaps bytes the agent holds: the first copy stays (what was
// hashed and streamed never changes), the new bytes are taken.
void TestUploads::duplicateAndOverlappingChunks()
{
    QByteArray data = randomBytes(200000);
    data[2] = 'd';
    const QString id = createUpload(data, QStringLiteral("overlap.bin"));
    QVERIFY(!id.isEmpty());
    QCOMPARE(put(id, 0, data.left(100000)).status, 200);
    // The same chunk again: accepted, nothing changes.
    Response r = put(id, 0, data.left(100000));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json.value(QStringLiteral("offset")).toInteger(), 100000);
    // Overlapping the held bytes with different ones: those are not written again.
    QByteArray overlapping = data.mid(50000, 100000);
    overlapping[0] = char(overlapping[0] ^ 0x7f);
    overlapping[49999] = char(overlapping[49999] ^ 0x7f);
    r = put(id, 50000, overlapping);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json.value(QStringLiteral("offset")).toInteger(), 150000);
    QCOMPARE(r.json.value(QStringLiteral("received")).toArray(), ranges({{0, 150000}}));
    r = put(id, 150000, data.mid(150000));
    // Had the overlap overwritten the first copy, the SHA-256 would not match.
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json.value(QStringLiteral("complete")).toBool(), true);
    QCOMPARE(m_client.get(QStringLiteral("/v1/uploads/%1/file").arg(id)).body, data);
    // A complete upload takes no more chunks.
    QCOMPARE(put(id, 0, data.left(10)).status, 409);
}

// After a gap the resume offset is the contiguous prefix, also across an agent restart,
// and a PackageUploadJob sends only what is missing.
void TestUploads::resumeOffsetIsThePrefixAfterAGap()
{
    const qint64 chunk = 256 * 1024;
    QByteArray data = randomBytes(4 * chunk);
    data[3] = 'g';
    const QString path = writeFile(m_files, QStringLiteral("gap.bin"), data);
    const QString id = createUpload(data, QStringLiteral("gap.bin"));
    QVERIFY(!id.isEmpty());
    QCOMPARE(put(id, 0, data.left(chunk)).status, 200);
    QCOMPARE(put(id, 2 * chunk, data.mid(2 * chunk, chunk)).status, 200);
    Response r = m_client.get(QStringLiteral("/v1/uploads/") + id);
    QCOMPARE(r.json.value(QStringLiteral("offset")).toInteger(), chunk);
    QCOMPARE(r.json.value(QStringLiteral("received")).toArray(), ranges({{0, chunk}, {2 * chunk, 3 * chunk}}));

    // The ranges are on disk: a restarted agent knows them.
    m_portal.stop();
    QCOMPARE(m_portal.start(), QString());
    m_client.bind(m_portal);
    r = m_client.get(QStringLiteral("/v1/uploads/") + id);
    QCOMPARE(r.json.value(QStringLiteral("offset")).toInteger(), chunk);
    QCOMPARE(r.json.value(QStringLiteral("received")).toArray(), ranges({{0, chunk}, {2 * chunk, 3 * chunk}}));

    ft::AgentClient client;
    ft::PackageUploadJob job(&client, endpointOf(m_portal), path, QStringLiteral("gap.bin"), data.size(),
                             QString::fromLatin1(sha256Hex(data)));
    job.setChunkBytes(chunk);
    QSignalSpy finished(&job, &ft::PackageUploadJob::finished);
    job.start();
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 30000);
    QVERIFY2(!job.hasError(), qPrintable(job.errorString()));
    QCOMPARE(job.uploadId(), id);
    QCOMPARE(job.resumedAt(), QList<qint64>{chunk});
    QCOMPARE(job.bytesSent(), 2 * chunk); // the two missing chunks, not the held one
    QCOMPARE(m_client.get(QStringLiteral("/v1/uploads/%1/file").arg(id)).body, data);
}

// A download of an upload under way gets the contiguous prefix and nothing past it,
// even when later bytes are on the agent's disk already.
void TestUploads::streamStopsAtThePrefix()
{
    const qint64 chunk = 512 * 1024;
    QByteArray data = randomBytes(3 * chunk);
    data[4] = 's';
    const QString id = createUpload(data, QStringLiteral("prefix.bin"));
    QVERIFY(!id.isEmpty());
    QCOMPARE(put(id, 2 * chunk, data.mid(2 * chunk)).status, 200);
    std::unique_ptr<Stream> stream(openStream(m_client, id));
    QTRY_VERIFY_WITH_TIMEOUT(stream->reply->header(QNetworkRequest::ContentLengthHeader).isValid(), 20000);
    QTest::qWait(300);
    QCOMPARE(stream->body.size(), 0);
    QCOMPARE(put(id, 0, data.left(chunk)).status, 200);
    QTRY_COMPARE_WITH_TIMEOUT(stream->body.size(), chunk, 20000);
    QTest::qWait(300);
    QCOMPARE(stream->body.size(), chunk); // the bytes after the gap wait for it to close
    QCOMPARE(stream->body, data.left(chunk));
    QCOMPARE(put(id, chunk, data.mid(chunk, chunk)).json.value(QStringLiteral("complete")).toBool(), true);
    QTRY_VERIFY_WITH_TIMEOUT(stream->reply->isFinished(), 20000);
    QCOMPARE(stream->reply->error(), QNetworkReply::NoError);
    QCOMPARE(stream->body, data);
    stream->reply->deleteLater();
}

// Several chunks under way when the connection is cut: the job lets them end, asks
// where the upload stands and goes on from there; the file is whole and verified.
void TestUploads::parallelUploadResumesAfterCut()
{
    const qint64 size = 6 * 1024 * 1024 + 77;
    QByteArray data = randomBytes(size);
    data[5] = 'p';
    const QString path = writeFile(m_files, QStringLiteral("parallel.bin"), data);
    CuttingProxy proxy;
    proxy.target = quint16(m_portal.url.port());
    proxy.cutAfterUp = 3 * 1024 * 1024;
    proxy.downMs = 1500;
    QVERIFY(proxy.listen());
    ft::AgentClient client;
    ft::PackageUploadJob job(&client, endpointOf(m_portal, proxy.port()), path, QStringLiteral("parallel.bin"), size,
                             QString::fromLatin1(sha256Hex(data)));
    job.setChunkBytes(512 * 1024);
    job.setStreams(4);
    QSignalSpy finished(&job, &ft::PackageUploadJob::finished);
    job.start();
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 60000);
    QVERIFY2(!job.hasError(), qPrintable(job.errorString()));
    QCOMPARE(proxy.cuts, 1);
    QVERIFY(!job.resumedAt().isEmpty());
    // At most the chunks under way at the cut went twice.
    QVERIFY2(job.bytesSent() <= size + 4 * 512 * 1024, qPrintable(QString::number(job.bytesSent())));
    const Response file = m_client.get(QStringLiteral("/v1/uploads/%1/file").arg(job.uploadId()));
    QCOMPARE(sha256Hex(file.body), sha256Hex(data));
}

// The same bytes (SHA-256 and size) left on the portal by any earlier run are resumed,
// whatever name that run gave them: no second copy is sent.
void TestUploads::sameBytesResumeUnderAnotherName()
{
    const qint64 chunk = 256 * 1024;
    QByteArray data = randomBytes(3 * chunk);
    data[6] = 'n';
    const QString id = createUpload(data, QStringLiteral("server-old-name.ftpkg"));
    QVERIFY(!id.isEmpty());
    QCOMPARE(put(id, 0, data.left(chunk)).status, 200);
    const QString path = writeFile(m_files, QStringLiteral("server-new-name.ftpkg"), data);
    ft::AgentClient client;
    ft::PackageUploadJob job(&client, endpointOf(m_portal), path, QStringLiteral("server-new-name.ftpkg"), data.size(),
                             QString::fromLatin1(sha256Hex(data)));
    job.setChunkBytes(chunk);
    QSignalSpy finished(&job, &ft::PackageUploadJob::finished);
    job.start();
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 30000);
    QVERIFY2(!job.hasError(), qPrintable(job.errorString()));
    QCOMPARE(job.uploadId(), id);
    QCOMPARE(job.resumedAt(), QList<qint64>{chunk});
    QCOMPARE(job.bytesSent(), 2 * chunk);
    // Another size with the same name is another upload.
    QVERIFY(createUpload(data.left(chunk), QStringLiteral("server-old-name.ftpkg")) != id);
}

// The portal's agent asked to stage its own upload does not download it from itself: it
// waits for the last byte and takes the verified file from its disk.
void TestUploads::portalStagesItsOwnUploadFromDisk()
{
    const qint64 chunk = 256 * 1024;
    QByteArray data = randomBytes(2 * chunk);
    data[8] = 'l';
    const QString id = createUpload(data, QStringLiteral("vendor-own.bin"));
    QVERIFY(!id.isEmpty());
    QCOMPARE(put(id, 0, data.left(chunk)).status, 200);
    QUrl url = m_portal.url;
    url.setPath(QStringLiteral("/v1/uploads/%1/file").arg(id));
    QJsonObject body{{QStringLiteral("url"), url.toString()},
                      {QStringLiteral("sha256"), QString::fromLatin1(sha256Hex(data))},
                      {QStringLiteral("size"), data.size()},
                      {QStringLiteral("name"), QStringLiteral("vendor-own.bin")},
                      {QStringLiteral("fingerprint"), QString::fromLatin1(m_portal.fingerprint)},
                      {QStringLiteral("token"), QString::fromLatin1(m_portal.token)}};
    const Response r = m_client.post(QStringLiteral("/v1/stage"), body);
    QCOMPARE(r.status, 202);
    const QString jobId = r.json.value(QStringLiteral("job")).toString();
    QTest::qWait(300);
    QCOMPARE(m_client.get(QStringLiteral("/v1/jobs/") + jobId).json.value(QStringLiteral("state")).toString(),
             QStringLiteral("running")); // the rest has not arrived
    QCOMPARE(put(id, chunk, data.mid(chunk)).json.value(QStringLiteral("complete")).toBool(), true);
    QStringList lines;
    const QJsonObject job = m_client.waitForJob(jobId, nullptr, &lines);
    QVERIFY2(job.value(QStringLiteral("state")).toString() == QLatin1String("succeeded"), qPrintable(lines.join('\n')));
    QVERIFY2(lines.join('\n').contains(QLatin1String("from this agent's own upload")), qPrintable(lines.join('\n')));
    QCOMPARE(readAll(QDir(m_portal.stagingDir).filePath(QStringLiteral("vendor-own.bin"))), data);
    // The upload can go; the staged package stays.
    QCOMPARE(m_client.request("DELETE", QStringLiteral("/v1/uploads/") + id).status, 200);
    QCOMPARE(readAll(QDir(m_portal.stagingDir).filePath(QStringLiteral("vendor-own.bin"))), data);
}

QTEST_GUILESS_MAIN(TestUploads)
// Many chunks at once, overlapping each other and repeated, in no particular order,
// while a stream reads the file: each byte is written once, the stream gets exactly the
// file, the ranges on disk say the same as the answers, and the SHA-256 matches.
void TestUploads::concurrentOverlappingChunks()
{
    const qint64 step = 512 * 1024;
    const qint64 size = 16 * step + 333;
    QByteArray data = randomBytes(size);
    data[6] = 'c';
    const QString id = createUpload(data, QStringLiteral("concurrent.bin"));
    QVERIFY(!id.isEmpty());
    std::unique_ptr<Stream> stream(openStream(m_client, id));
    QList<qint64> offsets;
    for (qint64 at = 0; at < size; at += step)
        offsets.append(at);
    std::reverse(offsets.begin(), offsets.end()); // the prefix closes last
    offsets.append({0, 3 * step, 7 * step});      // duplicates
    QList<QNetworkReply *> replies;
    for (const qint64 at : offsets)
        replies.append(putAsync(m_client, id, at, data.mid(at, 3 * step))); // each overlaps the next two
    QTRY_VERIFY_WITH_TIMEOUT(std::all_of(replies.cbegin(), replies.cend(), [](auto *r) { return r->isFinished(); }),
                             60000);
    int complete = 0;
    for (QNetworkReply *reply : std::as_const(replies)) {
        const int status = statusOf(reply);
        const QJsonObject json = QJsonDocument::fromJson(reply->readAll()).object();
        // A chunk that was still queued when the last byte arrived finds it complete.
        QVERIFY2(status == 200 || status == 409, qPrintable(QString::number(status)));
        if (status == 200 && json.value(QStringLiteral("complete")).toBool())
            ++complete;
        reply->deleteLater();
    }
    QCOMPARE(complete, 1);
    const Response r = m_client.get(QStringLiteral("/v1/uploads/") + id);
    QCOMPARE(r.json.value(QStringLiteral("complete")).toBool(), true);
    QCOMPARE(r.json.value(QStringLiteral("received")).toArray(), ranges({{0, size}}));
    QTRY_VERIFY_WITH_TIMEOUT(stream->reply->isFinished(), 30000);
    QCOMPARE(stream->reply->error(), QNetworkReply::NoError);
    QCOMPARE(stream->body.size(), size);
    QVERIFY(stream->body == data);
    stream->reply->deleteLater();
    QVERIFY(QFile::exists(m_portal.stagingDir + QStringLiteral("/.uploads/%1.data").arg(id)));
    QVERIFY(!QFile::exists(m_portal.stagingDir + QStringLiteral("/.uploads/%1.ranges").arg(id)));
}

// DELETE while chunks are being written: the upload is gone from that moment (404),
// the chunks under way end without an error of the agent's own, no file of it is left
// (none recreated by a chunk that finished late), and the same bytes start over.
void TestUploads::deleteWhileChunksAreWritten()
{
    const qint64 chunk = 4 * 1024 * 1024;
    const qint64 size = 8 * chunk; // the last two never come: the stream cannot end whole
    QByteArray data = randomBytes(size);
    data[7] = 'd';
    const QString id = createUpload(data, QStringLiteral("deleted.bin"));
    QVERIFY(!id.isEmpty());
    QCOMPARE(put(id, 0, data.left(chunk)).status, 200);
    std::unique_ptr<Stream> stream(openStream(m_client, id));
    QList<QNetworkReply *> replies;
    for (qint64 at = chunk; at < 6 * chunk; at += chunk)
        replies.append(putAsync(m_client, id, at, data.mid(at, chunk)));
    // Once the agent has written one of them (the others are usually still under way).
    QTRY_VERIFY_WITH_TIMEOUT(m_client.get(QStringLiteral("/v1/uploads/") + id)
                                     .json.value(QStringLiteral("offset")).toInteger() > chunk,
                             30000);
    QCOMPARE(m_client.request("DELETE", QStringLiteral("/v1/uploads/") + id).status, 200);
    QCOMPARE(m_client.get(QStringLiteral("/v1/uploads/") + id).status, 404);
    QTRY_VERIFY_WITH_TIMEOUT(std::all_of(replies.cbegin(), replies.cend(), [](auto *r) { return r->isFinished(); }),
                             60000);
    for (QNetworkReply *reply : std::as_const(replies)) {
        const int status = statusOf(reply);
        QVERIFY2(status == 200 || status == 404, qPrintable(QString::number(status)));
        reply->deleteLater();
    }
    QCOMPARE(put(id, 0, data.left(10)).status, 404);
    // The stream of the removed upload was cut short.
    QTRY_VERIFY_WITH_TIMEOUT(stream->reply->isFinished(), 30000);
    QVERIFY(stream->body.size() < size);
    stream->reply->deleteLater();
    const QStringList left = QDir(m_portal.stagingDir + QStringLiteral("/.uploads")).entryList({id + QStringLiteral(".*")});
    QVERIFY2(left.isEmpty(), qPrintable(left.join(QLatin1Char(' '))));
    const QString again = createUpload(data, QStringLiteral("deleted.bin"));
    QVERIFY(!again.isEmpty());
    QVERIFY(again != id);
    QCOMPARE(m_client.get(QStringLiteral("/v1/uploads/") + again).json.value(QStringLiteral("offset")).toInteger(), 0);
    QCOMPARE(m_client.request("DELETE", QStringLiteral("/v1/uploads/") + again).status, 200);
}

// The agent stops while chunks are being written: what it answered is on disk, what
// it reports after the restart is in the file (the prefix streams as the bytes sent),
// and the upload resumes from there to a verified file.
void TestUploads::restartWhileChunksAreWritten()
{
    const qint64 chunk = 2 * 1024 * 1024;
    const qint64 size = 8 * chunk + 5;
    QByteArray data = randomBytes(size);
    data[8] = 'r';
    const QString path = writeFile(m_files, QStringLiteral("restart.bin"), data);
    const QString id = createUpload(data, QStringLiteral("restart.bin"));
    QVERIFY(!id.isEmpty());
    QList<QNetworkReply *> replies;
    for (qint64 at = 0; at < 6 * chunk; at += chunk)
        replies.append(putAsync(m_client, id, at, data.mid(at, chunk)));
    QTRY_VERIFY_WITH_TIMEOUT(replies.first()->isFinished(), 30000);
    QCOMPARE(statusOf(replies.first()), 200);
    m_portal.stop();
    for (QNetworkReply *reply : std::as_const(replies))
        reply->deleteLater();
    QCOMPARE(m_portal.start(), QString());
    m_client.bind(m_portal);
    const Response r = m_client.get(QStringLiteral("/v1/uploads/") + id);
    QCOMPARE(r.status, 200);
    const qint64 offset = r.json.value(QStringLiteral("offset")).toInteger();
    QVERIFY2(offset >= chunk && offset <= 6 * chunk, qPrintable(QString::number(offset)));
    const Response prefix = m_client.request("GET", QStringLiteral("/v1/uploads/%1/file").arg(id), {},
                                             {{"Range", "bytes=0-" + QByteArray::number(offset - 1)}});
    QCOMPARE(prefix.status, 206);
    QVERIFY(prefix.body == data.left(offset));

    ft::AgentClient client;
    ft::PackageUploadJob job(&client, endpointOf(m_portal), path, QStringLiteral("restart.bin"), size,
                             QString::fromLatin1(sha256Hex(data)));
    job.setChunkBytes(chunk);
    QSignalSpy finished(&job, &ft::PackageUploadJob::finished);
    job.start();
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 60000);
    QVERIFY2(!job.hasError(), qPrintable(job.errorString()));
    QCOMPARE(job.uploadId(), id);
    QVERIFY(job.bytesSent() <= size - offset);
    QCOMPARE(sha256Hex(m_client.get(QStringLiteral("/v1/uploads/%1/file").arg(id)).body), sha256Hex(data));
}

#include "tst_uploads.moc"

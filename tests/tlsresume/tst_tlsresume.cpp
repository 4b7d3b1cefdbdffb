#include "agentlink/agentjobs.h"
#include "agentlink/pinnedhttps.h"
#include "agentlink/tlssessioncache.h"
#include "agentlink/trustedcertificates.h"

#include <QDir>
#include <QFile>
#include <QPointer>
#include <QProcess>
#include <QSignalSpy>
#include <QSslCertificate>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QtTest>

using namespace ft;

namespace {

QString tool(const QString &name)
{
    return QStringLiteral(FT_BIN_DIR "/") + name;
}

const QString kToken = QStringLiteral("tls-resume-token-0123456789");

// Relays each connection to the agent and counts the bytes the agent sends on it: a
// resumed TLS 1.3 handshake carries no certificate, so it is shorter by at least the
// certificate's size.
class CountingRelay : public QTcpServer
{
public:
    explicit CountingRelay(quint16 target) : m_target(target)
    {
        connect(this, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *client = nextPendingConnection()) {
                const int index = int(m_bytesFromAgent.size());
                m_bytesFromAgent.append(0);
                auto *agent = new QTcpSocket(client);
                agent->connectToHost(QHostAddress::LocalHost, m_target);
                connect(client, &QTcpSocket::readyRead, agent, [client, agent] { agent->write(client->readAll()); });
                connect(agent, &QTcpSocket::readyRead, client, [this, client, agent, index] {
                    const QByteArray chunk = agent->readAll();
                    m_bytesFromAgent[index] += chunk.size();
                    client->write(chunk);
                });
                connect(client, &QTcpSocket::disconnected, client, &QObject::deleteLater);
                connect(agent, &QTcpSocket::disconnected, client, &QTcpSocket::disconnectFromHost);
            }
        });
    }

    // Bytes the agent sent on each connection, in the order they were opened.
    QList<qint64> m_bytesFromAgent;

private:
    quint16 m_target;
};

} // namespace

class TestTlsResume : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QProcess m_agent;
    QString m_fingerprint;
    int m_certificateBytes = 0;
    std::unique_ptr<CountingRelay> m_relay;

    AgentEndpoint endpoint(const QString &fingerprint) const
    {
        AgentEndpoint endpoint;
        endpoint.nodeName = QStringLiteral("node");
        endpoint.url = QUrl(QStringLiteral("https://127.0.0.1:%1").arg(m_relay->serverPort()));
        endpoint.fingerprint = fingerprint;
        endpoint.token = kToken;
        return endpoint;
    }

    // One call from a client of its own (so a connection of its own, as a new wizard
    // session has): the error, and the bytes the agent sent on that connection.
    std::pair<AgentJob::Error, qint64> probe(const QString &fingerprint)
    {
        AgentClient client;
        auto *job = new FetchNodeJob(&client, endpoint(fingerprint));
        job->setAutoDelete(false);
        QSignalSpy finished(job, &AgentJob::finished);
        const qsizetype before = m_relay->m_bytesFromAgent.size();
        job->start();
        [&] { QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 20000); }();
        const AgentJob::Error error = job->error();
        delete job;
        [&] { QTRY_COMPARE(m_relay->m_bytesFromAgent.size(), before + 1); }();
        return {error, m_relay->m_bytesFromAgent.value(before)};
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        if (!QFile::exists(tool(QStringLiteral("ftupgrade-agent"))) || !QFile::exists(tool(QStringLiteral("ftsandbox"))))
            QSKIP("ftupgrade-agent and ftsandbox are not built");
        const QString install = m_dir.filePath(QStringLiteral("node"));
        const QString config = m_dir.filePath(QStringLiteral("agent/agent.conf"));
        QProcess init;
        init.start(tool(QStringLiteral("ftsandbox")),
                   {QStringLiteral("init"), install, QStringLiteral("--version"), QStringLiteral("6.2.1-1200"),
                    QStringLiteral("--role"), QStringLiteral("standalone"), QStringLiteral("--os"), QStringLiteral("linux")});
        QVERIFY(init.waitForFinished(60000) && init.exitCode() == 0);
        init.start(tool(QStringLiteral("ftupgrade-agent")),
                   {QStringLiteral("init"), QStringLiteral("--config"), config, QStringLiteral("--install"), install,
                    QStringLiteral("--backend"), QStringLiteral("sandbox"), QStringLiteral("--listen"),
                    QStringLiteral("127.0.0.1"), QStringLiteral("--port"), QStringLiteral("0"),
                    QStringLiteral("--token"), kToken});
        QVERIFY(init.waitForFinished(60000) && init.exitCode() == 0);
        for (const QByteArray &line : init.readAllStandardOutput().split('\n')) {
            if (line.startsWith("fingerprint:"))
                m_fingerprint = QString::fromLatin1(line.mid(12).trimmed());
        }
        QFile certificate(m_dir.filePath(QStringLiteral("agent/agent.crt")));
        QVERIFY(certificate.open(QIODevice::ReadOnly));
        m_certificateBytes = int(QSslCertificate(certificate.readAll(), QSsl::Pem).toDer().size());
        QVERIFY(m_certificateBytes > 200);

        m_agent.setProgram(tool(QStringLiteral("ftupgrade-agent")));
        m_agent.setArguments({QStringLiteral("run"), QStringLiteral("--config"), config});
        m_agent.start();
        QFile urlFile(m_dir.filePath(QStringLiteral("agent/agent.url")));
        QTRY_VERIFY_WITH_TIMEOUT(urlFile.exists() && urlFile.size() > 0, 20000);
        QVERIFY(urlFile.open(QIODevice::ReadOnly));
        const QUrl url(QString::fromLatin1(urlFile.readAll().trimmed()));
        m_relay = std::make_unique<CountingRelay>(quint16(url.port()));
        QVERIFY(m_relay->listen(QHostAddress::LocalHost, 0));
    }

    void cleanupTestCase()
    {
        m_agent.terminate();
        m_agent.waitForFinished(5000);
    }

    void init() { TlsSessionCache::instance().clear(); }

    void secondCallResumesTheSession()
    {
        const auto [firstError, firstBytes] = probe(m_fingerprint);
        QCOMPARE(firstError, AgentJob::NoError);
        // The pinned call kept the agent's session, under the agent's address and pin.
        const QString key = TlsSessionCache::keyFor(QStringLiteral("127.0.0.1:%1").arg(m_relay->serverPort()),
                                                    *TrustedCertificates::normalize(m_fingerprint));
        QVERIFY(TlsSessionCache::instance().session(key));

        const auto [secondError, secondBytes] = probe(m_fingerprint);
        QCOMPARE(secondError, AgentJob::NoError);
        // Resumed: the agent did not send its certificate (nor sign) again.
        QVERIFY2(secondBytes + m_certificateBytes <= firstBytes,
                 qPrintable(QStringLiteral("first connection %1 bytes, second %2, certificate %3")
                                .arg(firstBytes).arg(secondBytes).arg(m_certificateBytes)));

        // Without the ticket the handshake is a full one again.
        TlsSessionCache::instance().clear();
        const auto [thirdError, thirdBytes] = probe(m_fingerprint);
        QCOMPARE(thirdError, AgentJob::NoError);
        QVERIFY2(thirdBytes >= secondBytes + m_certificateBytes,
                 qPrintable(QStringLiteral("without a ticket %1 bytes, resumed %2").arg(thirdBytes).arg(secondBytes)));
    }

    void ticketIsKeptOnlyUnderThePin()
    {
        // A call under another pin is refused and keeps no ticket for that pin.
        const QString otherPin = QString(64, QLatin1Char('a'));
        const auto [error, bytes] = probe(otherPin);
        Q_UNUSED(bytes);
        QCOMPARE(error, AgentJob::CertificateMismatch);
        QCOMPARE(TlsSessionCache::instance().size(), 0);
    }

    void keptConnectionIsReusedAndReopened()
    {
        // One client (one wizard session): the second call rides on the connection the
        // first answer left open; once the agent's side is gone, the next call opens a new
        // connection by itself and succeeds.
        AgentClient client;
        const auto call = [&] {
            auto *job = new FetchNodeJob(&client, endpoint(m_fingerprint));
            job->setAutoDelete(false);
            QSignalSpy finished(job, &AgentJob::finished);
            job->start();
            [&] { QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 20000); }();
            const AgentJob::Error error = job->error();
            delete job;
            return error;
        };
        const qsizetype before = m_relay->m_bytesFromAgent.size();
        QCOMPARE(call(), AgentJob::NoError);
        QCOMPARE(m_relay->m_bytesFromAgent.size(), before + 1);
        // Parked while idle: a bare descriptor, no socket object (and so no notifier that
        // every wake-up of the event loop would poll).
        QCOMPARE(client.connectionPool()->size(), 1);
        QTRY_VERIFY(client.findChildren<QTcpSocket *>().isEmpty());
        QCOMPARE(call(), AgentJob::NoError);
        QCOMPARE(m_relay->m_bytesFromAgent.size(), before + 1);
        for (QTcpSocket *socket : m_relay->findChildren<QTcpSocket *>(Qt::FindDirectChildrenOnly))
            socket->abort();
        QCOMPARE(call(), AgentJob::NoError);
        QCOMPARE(m_relay->m_bytesFromAgent.size(), before + 2);
    }

    void resumedSessionIsCheckedAgainstThePin()
    {
        // A session the agent would resume, filed under another pin (as if the cache had
        // been mixed up): the agent accepts the ticket, so the handshake succeeds without
        // a certificate; the call must still refuse, because the session's certificate is
        // not the pinned one, and send nothing.
        QCOMPARE(probe(m_fingerprint).first, AgentJob::NoError);
        const QString address = QStringLiteral("127.0.0.1:%1").arg(m_relay->serverPort());
        const QString otherPin = QString(64, QLatin1Char('b'));
        const auto session =
            TlsSessionCache::instance().session(TlsSessionCache::keyFor(address, *TrustedCertificates::normalize(m_fingerprint)));
        QVERIFY(session);
        TlsSessionCache::instance().storeSession(TlsSessionCache::keyFor(address, otherPin), session);

        AgentClient client;
        auto *job = new FetchNodeJob(&client, endpoint(otherPin));
        job->setAutoDelete(false);
        QSignalSpy finished(job, &AgentJob::finished);
        job->start();
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 20000);
        QCOMPARE(job->error(), AgentJob::CertificateMismatch);
        QVERIFY2(job->errorString().contains(TrustedCertificates::formatForPeople(*TrustedCertificates::normalize(m_fingerprint))),
                 qPrintable(job->errorString()));
        delete job;
    }
};

QTEST_GUILESS_MAIN(TestTlsResume)
#include "tst_tlsresume.moc"

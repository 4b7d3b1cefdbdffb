#include "packages/packageserver.h"
#include "packages/sha256.h"

#include <QCryptographicHash>
#include <QFile>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QSignalSpy>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslKey>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QtTest>

using namespace ft;

class TestPackageServer : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_file;
    QByteArray m_content;

    QNetworkReply *get(QNetworkAccessManager &network, const QUrl &url, const QByteArray &range = {},
                       const QByteArray &verb = "GET")
    {
        QNetworkRequest request(url);
        if (!range.isEmpty())
            request.setRawHeader("Range", range);
        return network.sendCustomRequest(request, verb);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_file = m_dir.filePath(QStringLiteral("server-6.3.0-1500.ftpkg"));
        m_content.resize(5 * 1024 * 1024 + 123);
        for (qsizetype i = 0; i < m_content.size(); ++i)
            m_content[i] = char((i * 7919) % 251);
        QFile file(m_file);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(m_content);
    }

    void servesAddedFileUnderUnguessablePath()
    {
        PackageServer server;
        QVERIFY(server.listen().has_value());
        QVERIFY(server.port() != 0);
        const auto url = server.addFile(m_file);
        QVERIFY(url.has_value());
        QCOMPARE(url->host(), QStringLiteral("127.0.0.1"));
        QVERIFY(url->path().startsWith(QStringLiteral("/packages/")));
        QVERIFY(url->path().endsWith(QStringLiteral("/server-6.3.0-1500.ftpkg")));
        const QString token = url->path().section(QLatin1Char('/'), 2, 2);
        QCOMPARE(token.size(), 32);
        // The same file keeps its URL; another server instance makes another token.
        QCOMPARE(*server.addFile(m_file), *url);
        PackageServer other;
        QVERIFY(other.listen().has_value());
        QVERIFY(other.addFile(m_file)->path() != url->path());

        QNetworkAccessManager network;
        QNetworkReply *reply = get(network, *url);
        QSignalSpy done(&server, &PackageServer::transferFinished);
        QTRY_VERIFY_WITH_TIMEOUT(reply->isFinished(), 20000);
        QCOMPARE(reply->error(), QNetworkReply::NoError);
        QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
        QCOMPARE(reply->header(QNetworkRequest::ContentLengthHeader).toLongLong(), m_content.size());
        const QByteArray body = reply->readAll();
        QCOMPARE(body.size(), m_content.size());
        QVERIFY(body == m_content);
        QTRY_COMPARE(done.count(), 1);
        QCOMPARE(done.at(0).at(0).toString(), QStringLiteral("server-6.3.0-1500.ftpkg"));
        QCOMPARE(done.at(0).at(1).toLongLong(), m_content.size());
        QCOMPARE(done.at(0).at(2).toBool(), true);
        QCOMPARE(server.bytesSent(), m_content.size());
        delete reply;
    }

    void ranges_data()
    {
        QTest::addColumn<QByteArray>("range");
        QTest::addColumn<int>("status");
        QTest::addColumn<qint64>("first");
        QTest::addColumn<qint64>("length");
        QTest::newRow("from offset") << QByteArray("bytes=1000-") << 206 << qint64(1000)
                                     << qint64(5 * 1024 * 1024 + 123 - 1000);
        QTest::newRow("closed") << QByteArray("bytes=10-19") << 206 << qint64(10) << qint64(10);
        QTest::newRow("suffix") << QByteArray("bytes=-100") << 206 << qint64(5 * 1024 * 1024 + 23)
                                << qint64(100);
        QTest::newRow("past the end") << QByteArray("bytes=99999999-") << 416 << qint64(0) << qint64(0);
        QTest::newRow("garbage") << QByteArray("lines=1-2") << 416 << qint64(0) << qint64(0);
    }

    void ranges()
    {
        QFETCH(QByteArray, range);
        QFETCH(int, status);
        QFETCH(qint64, first);
        QFETCH(qint64, length);
        PackageServer server;
        QVERIFY(server.listen().has_value());
        const auto url = server.addFile(m_file);
        QNetworkAccessManager network;
        QNetworkReply *reply = get(network, *url, range);
        QTRY_VERIFY_WITH_TIMEOUT(reply->isFinished(), 20000);
        QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), status);
        if (status == 206)
            QVERIFY(reply->readAll() == m_content.mid(first, length));
        delete reply;
    }

    void headHasNoBody()
    {
        PackageServer server;
        QVERIFY(server.listen().has_value());
        const auto url = server.addFile(m_file);
        QNetworkAccessManager network;
        QNetworkReply *reply = get(network, *url, {}, "HEAD");
        QTRY_VERIFY_WITH_TIMEOUT(reply->isFinished(), 20000);
        QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
        QCOMPARE(reply->header(QNetworkRequest::ContentLengthHeader).toLongLong(), m_content.size());
        QVERIFY(reply->readAll().isEmpty());
        delete reply;
    }

    void refusesEverythingElse_data()
    {
        QTest::addColumn<QByteArray>("request");
        QTest::addColumn<QByteArray>("statusLine");
        QTest::newRow("unknown token") << QByteArray("GET /packages/0123456789abcdef0123456789abcdef/"
                                                     "server-6.3.0-1500.ftpkg HTTP/1.1\r\n\r\n")
                                       << QByteArray("HTTP/1.1 404");
        QTest::newRow("traversal") << QByteArray("GET /packages/../../etc/passwd HTTP/1.1\r\n\r\n")
                                   << QByteArray("HTTP/1.1 404");
        QTest::newRow("root") << QByteArray("GET / HTTP/1.1\r\n\r\n") << QByteArray("HTTP/1.1 404");
        QTest::newRow("post") << QByteArray("POST /x HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
                              << QByteArray("HTTP/1.1 405");
        QTest::newRow("not http") << QByteArray("HELLO\r\n\r\n") << QByteArray("HTTP/1.1 400");
    }

    void refusesEverythingElse()
    {
        QFETCH(QByteArray, request);
        QFETCH(QByteArray, statusLine);
        PackageServer server;
        QVERIFY(server.listen().has_value());
        QVERIFY(server.addFile(m_file).has_value());
        QTcpSocket socket;
        socket.connectToHost(QHostAddress::LocalHost, server.port());
        QVERIFY(socket.waitForConnected(5000));
        socket.write(request);
        QByteArray answer;
        QTRY_VERIFY_WITH_TIMEOUT((answer += socket.readAll(), socket.state() == QAbstractSocket::UnconnectedState),
                                 10000);
        answer += socket.readAll();
        QVERIFY2(answer.startsWith(statusLine), answer.constData());
        QVERIFY(!answer.contains(m_content.left(64)));
    }

    void refusesMissingFiles()
    {
        PackageServer server;
        QVERIFY(!server.addFile(m_file).has_value()); // not listening yet
        QVERIFY(server.listen().has_value());
        QVERIFY(!server.addFile(m_dir.filePath(QStringLiteral("nope.ftpkg"))).has_value());
        QVERIFY(!server.addFile(m_dir.path()).has_value());
    }

    // HTTPS with a self-signed certificate: the client pins its SHA-256.
    void https()
    {
        const QString cert = m_dir.filePath(QStringLiteral("cert.pem"));
        const QString key = m_dir.filePath(QStringLiteral("key.pem"));
        QProcess openssl;
        openssl.start(QStringLiteral("openssl"),
                      {QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"), QStringLiteral("rsa:2048"),
                       QStringLiteral("-nodes"), QStringLiteral("-keyout"), key, QStringLiteral("-out"), cert,
                       QStringLiteral("-days"), QStringLiteral("2"), QStringLiteral("-subj"), QStringLiteral("/CN=test")});
        if (!openssl.waitForFinished(60000) || openssl.exitCode() != 0)
            QSKIP("the openssl tool is not available");
        QFile certFile(cert);
        QFile keyFile(key);
        QVERIFY(certFile.open(QIODevice::ReadOnly) && keyFile.open(QIODevice::ReadOnly));
        const QSslCertificate certificate(certFile.readAll(), QSsl::Pem);
        QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
        tls.setLocalCertificate(certificate);
        tls.setPrivateKey(QSslKey(keyFile.readAll(), QSsl::Rsa, QSsl::Pem));

        PackageServer server;
        QVERIFY(server.fingerprint().isEmpty());
        server.setTlsConfiguration(tls);
        QVERIFY(server.listen().has_value());
        QCOMPARE(server.fingerprint(),
                 QString::fromLatin1(certificate.digest(QCryptographicHash::Sha256).toHex()));
        const auto url = server.addFile(m_file);
        QCOMPARE(url->scheme(), QStringLiteral("https"));

        QNetworkAccessManager network;
        QNetworkReply *reply = get(network, *url);
        // Self-signed: accepted only because it is exactly the expected certificate.
        reply->ignoreSslErrors({QSslError(QSslError::SelfSignedCertificate, certificate),
                                QSslError(QSslError::HostNameMismatch, certificate)});
        QTRY_VERIFY_WITH_TIMEOUT(reply->isFinished(), 20000);
        QCOMPARE(reply->error(), QNetworkReply::NoError);
        QVERIFY(reply->readAll() == m_content);
        delete reply;

        // Plain HTTP to the HTTPS port gets nothing.
        QTcpSocket socket;
        socket.connectToHost(QHostAddress::LocalHost, server.port());
        QVERIFY(socket.waitForConnected(5000));
        socket.write("GET " + url->path(QUrl::FullyEncoded).toLatin1() + " HTTP/1.1\r\n\r\n");
        socket.waitForReadyRead(2000);
        QVERIFY(!socket.readAll().contains(m_content.left(64)));
    }

    // Many parallel downloads of one file, each complete and identical.
    void parallelClients()
    {
        PackageServer server;
        QVERIFY(server.listen().has_value());
        const auto url = server.addFile(m_file);
        QNetworkAccessManager network;
        QList<QNetworkReply *> replies;
        for (int i = 0; i < 8; ++i)
            replies.append(get(network, *url));
        for (QNetworkReply *reply : replies) {
            QTRY_VERIFY_WITH_TIMEOUT(reply->isFinished(), 30000);
            QCOMPARE(reply->error(), QNetworkReply::NoError);
            QCOMPARE(QCryptographicHash::hash(reply->readAll(), QCryptographicHash::Sha256),
                     QCryptographicHash::hash(m_content, QCryptographicHash::Sha256));
            delete reply;
        }
        QTRY_COMPARE(server.completedTransfers(), 8);
        QCOMPARE(server.activeTransfers(), 0);
    }

    // A client that stops reading is not buffered for: the server stays far below
    // the file's size in what it has queued.
    void slowReaderIsNotBuffered()
    {
        const QString big = m_dir.filePath(QStringLiteral("big.ftpkg"));
        {
            QFile file(big);
            QVERIFY(file.open(QIODevice::WriteOnly));
            for (int i = 0; i < 48; ++i)
                file.write(m_content.left(1024 * 1024));
        }
        PackageServer server;
        QVERIFY(server.listen().has_value());
        const auto url = server.addFile(big);
        QTcpSocket socket;
        socket.setReadBufferSize(64 * 1024);
        socket.connectToHost(QHostAddress::LocalHost, server.port());
        QVERIFY(socket.waitForConnected(5000));
        socket.write("GET " + url->path(QUrl::FullyEncoded).toLatin1() + " HTTP/1.1\r\n\r\n");
        QTest::qWait(500);
        QCOMPARE(server.activeTransfers(), 1);
        QVERIFY(server.bytesSent() == 0); // counted at the end; nothing finished
        socket.abort();
        QTRY_COMPARE(server.activeTransfers(), 0);
        QVERIFY(server.bytesSent() < 24LL * 1024 * 1024);
    }
};

QTEST_GUILESS_MAIN(TestPackageServer)
#include "tst_packageserver.moc"

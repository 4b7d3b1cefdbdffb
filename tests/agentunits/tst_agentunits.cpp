// The agent's building blocks without a network: token hashing, the certificate, the
// job store's persistence and restart rule, request validation, installer progress.

#include "agentconfig.h"
#include "apirequest.h"
#include "certificate.h"
#include "fasthash.h"
#include "jobstore.h"
#include "servicebackend.h"
#include "tokenauth.h"
#include "upgradejob.h"

#include <QCryptographicHash>
#include <QSettings>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSignalSpy>
#include <QSslCertificate>
#include <QSslKey>
#include <QTemporaryDir>
#include <QTest>

using namespace ft;
using namespace ft::agent;

class TestAgentUnits : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void tokenHashMatchesOnlyTheToken();
    void tokenHashIsSalted();
    void bearerToken_data();
    void bearerToken();
    void certificateIsSelfSignedWithPrivateKey();
    void jobStorePersistsAndInterruptsRunningJobs();
    void jobStoreLogNumbersContinueAfterRestart();
    void plainFileName_data();
    void plainFileName();
    void installerProgress_data();
    void installerProgress();
    void upgradeCancelledBeforeStopTouchesNothing();
    void fastHashMatchesQtHash();
    void installerCommandsPerFormatFromAgentConf();
};

void TestAgentUnits::tokenHashMatchesOnlyTheToken()
{
    const TokenHash hash = TokenHash::make("correct horse battery staple");
    QVERIFY(hash.matches("correct horse battery staple"));
    QVERIFY(!hash.matches("correct horse battery stapl"));
    QVERIFY(!hash.matches("correct horse battery staplf"));
    QVERIFY(!hash.matches(""));
    QVERIFY(!hash.hash.contains("correct"));
    QCOMPARE(hash.hash.size(), 64);
    TokenHash broken = hash;
    broken.hash.chop(2);
    QVERIFY(!broken.matches("correct horse battery staple"));
}

void TestAgentUnits::tokenHashIsSalted()
{
    const TokenHash a = TokenHash::make("same token value");
    const TokenHash b = TokenHash::make("same token value");
    QVERIFY(a.salt != b.salt);
    QVERIFY(a.hash != b.hash);
    QCOMPARE(a.hash, QCryptographicHash::hash(QByteArray::fromHex(a.salt) + "same token value",
                                              QCryptographicHash::Sha256).toHex());
    QVERIFY(generateToken() != generateToken());
    QVERIFY(generateToken().size() >= 40);
}

void TestAgentUnits::bearerToken_data()
{
    QTest::addColumn<QByteArray>("header");
    QTest::addColumn<QByteArray>("token");
    QTest::newRow("bearer") << QByteArray("Bearer abc123") << QByteArray("abc123");
    QTest::newRow("lower case scheme") << QByteArray("bearer abc123") << QByteArray("abc123");
    QTest::newRow("spaces") << QByteArray("  Bearer   abc123  ") << QByteArray("abc123");
    QTest::newRow("basic") << QByteArray("Basic YWxhZGRpbjpvcGVuc2VzYW1l") << QByteArray();
    QTest::newRow("empty") << QByteArray() << QByteArray();
    QTest::newRow("scheme only") << QByteArray("Bearer ") << QByteArray();
}

void TestAgentUnits::bearerToken()
{
    QFETCH(QByteArray, header);
    QFETCH(QByteArray, token);
    QCOMPARE(ft::agent::bearerToken(header), token);
}

void TestAgentUnits::certificateIsSelfSignedWithPrivateKey()
{
    QTemporaryDir dir;
    const QString cert = dir.filePath(QStringLiteral("agent.crt"));
    const QString key = dir.filePath(QStringLiteral("agent.key"));
    auto written = writeSelfSignedCertificate(cert, key, {QStringLiteral("node7.example")});
    QVERIFY2(written, qPrintable(written.error()));

    QCOMPARE(QFileInfo(key).permissions() & (QFile::ReadGroup | QFile::ReadOther | QFile::WriteGroup | QFile::WriteOther),
             QFile::Permissions());
    QFile certFile(cert);
    QVERIFY(certFile.open(QIODevice::ReadOnly));
    const QByteArray pem = certFile.readAll();
    const QSslCertificate parsed(pem, QSsl::Pem);
    QVERIFY(!parsed.isNull());
    QCOMPARE(parsed.issuerInfo(QSslCertificate::CommonName), parsed.subjectInfo(QSslCertificate::CommonName));
    QVERIFY(!parsed.subjectInfo(QSslCertificate::CommonName).isEmpty());
    QVERIFY(parsed.expiryDate() > QDateTime::currentDateTimeUtc().addYears(9));
    const auto names = parsed.subjectAlternativeNames();
    QVERIFY(names.values(QSsl::IpAddressEntry).contains(QStringLiteral("127.0.0.1")));
    QVERIFY(names.values(QSsl::DnsEntry).contains(QStringLiteral("localhost")));
    QVERIFY(names.values(QSsl::DnsEntry).contains(QStringLiteral("node7.example")));

    auto fingerprint = certificateFingerprintOfFile(cert);
    QVERIFY(fingerprint);
    QCOMPARE(*fingerprint, parsed.digest(QCryptographicHash::Sha256).toHex());

    QFile keyFile(key);
    QVERIFY(keyFile.open(QIODevice::ReadOnly));
    const QSslKey parsedKey(keyFile.readAll(), QSsl::Ec);
    QVERIFY(!parsedKey.isNull());
    QCOMPARE(parsedKey.algorithm(), QSsl::Ec);
    QCOMPARE(parsed.publicKey().algorithm(), QSsl::Ec);

    // A second certificate is a different one.
    const QString cert2 = dir.filePath(QStringLiteral("b.crt"));
    QVERIFY(writeSelfSignedCertificate(cert2, dir.filePath(QStringLiteral("b.key")), {}));
    QVERIFY(*certificateFingerprintOfFile(cert2) != *fingerprint);
    QVERIFY(!certificateFingerprint("not a certificate"));
}

void TestAgentUnits::jobStorePersistsAndInterruptsRunningJobs()
{
    QTemporaryDir dir;
    QString runningId;
    QString doneId;
    {
        JobStore store(dir.path());
        QVERIFY(store.open());
        QSignalSpy changed(&store, &JobStore::changed);
        JobRecord running = store.create(QStringLiteral("upgrade"));
        running.state = QStringLiteral("running");
        running.phase = QStringLiteral("installing");
        running.component = QStringLiteral("server");
        running.versionBefore = QStringLiteral("6.2.1-1200");
        QVERIFY(store.update(running));
        store.appendLog(running.id, QStringLiteral("[ 10%] Copying bin/flowtraq-server"), QStringLiteral("stdout"));
        QVERIFY(changed.count() >= 2);
        runningId = running.id;

        JobRecord done = store.create(QStringLiteral("stage"));
        done.state = QStringLiteral("succeeded");
        done.phase = QStringLiteral("done");
        QVERIFY(store.update(done));
        doneId = done.id;
        QVERIFY(store.hasActive(QStringLiteral("upgrade")));
    }
    QVERIFY(QFileInfo::exists(dir.filePath(runningId + QStringLiteral(".json"))));

    JobStore reopened(dir.path());
    QVERIFY(reopened.open());
    const JobRecord *running = reopened.job(runningId);
    QVERIFY(running);
    QCOMPARE(running->state, QStringLiteral("interrupted"));
    QCOMPARE(running->phase, QStringLiteral("installing"));
    QCOMPARE(running->versionBefore, QStringLiteral("6.2.1-1200"));
    QVERIFY(running->error.contains(QStringLiteral("restarted")));
    QVERIFY(running->finished.isValid());
    QVERIFY(!reopened.hasActive(QStringLiteral("upgrade")));
    QCOMPARE(reopened.job(doneId)->state, QStringLiteral("succeeded"));
    const auto log = reopened.log(runningId, 0);
    QCOMPARE(log.size(), 2);
    QCOMPARE(log.first().line, QStringLiteral("[ 10%] Copying bin/flowtraq-server"));
    QCOMPARE(log.first().stream, QStringLiteral("stdout"));
    QCOMPARE(reopened.jobs().size(), 2);
}

void TestAgentUnits::jobStoreLogNumbersContinueAfterRestart()
{
    QTemporaryDir dir;
    QString id;
    {
        JobStore store(dir.path());
        QVERIFY(store.open());
        JobRecord job = store.create(QStringLiteral("stage"));
        job.state = QStringLiteral("failed");
        QVERIFY(store.update(job));
        id = job.id;
        for (int i = 0; i < 3; ++i)
            store.appendLog(id, QStringLiteral("line %1").arg(i));
    }
    // A torn last line (crash mid-write) is skipped.
    QFile log(dir.filePath(id + QStringLiteral(".log")));
    QVERIFY(log.open(QIODevice::Append));
    log.write("{\"n\": 3, \"li");
    log.close();

    JobStore store(dir.path());
    QVERIFY(store.open());
    QCOMPARE(store.job(id)->logLines, 3);
    QCOMPARE(store.log(id, 1).size(), 2);
    QCOMPARE(store.log(id, 1).first().n, 1);
    QVERIFY(!JobStore::isValidId(QStringLiteral("../x")));
    QVERIFY(!JobStore::isValidId(QString()));
    QVERIFY(JobStore::isValidId(id));
}

void TestAgentUnits::plainFileName_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<bool>("plain");
    QTest::newRow("package") << "server-6.3.0-1500.ftpkg" << true;
    QTest::newRow("msi") << "FlowTraq_Server_x64.msi" << true;
    QTest::newRow("parent") << ".." << false;
    QTest::newRow("traversal") << "../etc/passwd" << false;
    QTest::newRow("slash") << "a/b.ftpkg" << false;
    QTest::newRow("backslash") << "a\\b.ftpkg" << false;
    QTest::newRow("hidden") << ".hidden" << false;
    QTest::newRow("double dot inside") << "a..b" << false;
    QTest::newRow("absolute") << "/tmp/x" << false;
    QTest::newRow("drive") << "C:x" << false;
    QTest::newRow("space") << "a b" << false;
    QTest::newRow("empty") << "" << false;
    QTest::newRow("trailing dot") << "name." << false;
    QTest::newRow("too long") << QString(129, QLatin1Char('a')) << false;
}

void TestAgentUnits::plainFileName()
{
    QFETCH(QString, name);
    QFETCH(bool, plain);
    QCOMPARE(isPlainFileName(name), plain);
}

void TestAgentUnits::installerProgress_data()
{
    QTest::addColumn<QString>("line");
    QTest::addColumn<bool>("found");
    QTest::addColumn<double>("share");
    QTest::newRow("40%") << "[ 40%] Copying bin/flowtraq-server" << true << 0.4;
    QTest::newRow("100%") << "[100%] Done" << true << 1.0;
    QTest::newRow("plain") << "Installing FlowTraq" << false << 0.0;
    QTest::newRow("error") << "error: disk full" << false << 0.0;
}

void TestAgentUnits::installerProgress()
{
    QFETCH(QString, line);
    QFETCH(bool, found);
    QFETCH(double, share);
    bool hit = false;
    QCOMPARE(UpgradeJob::progressFromLine(line, &hit), share);
    QCOMPARE(hit, found);
}

void TestAgentUnits::upgradeCancelledBeforeStopTouchesNothing()
{
    QTemporaryDir dir;
    QFile version(dir.filePath(QStringLiteral("VERSION")));
    QVERIFY(version.open(QIODevice::WriteOnly));
    version.write("6.2.1-1200\n");
    version.close();
    QFile package(dir.filePath(QStringLiteral("server.ftpkg")));
    QVERIFY(package.open(QIODevice::WriteOnly));
    package.write("not really a package");
    package.close();

    AgentConfig config;
    config.backend = Backend::Sandbox;
    config.installDir = dir.path();
    auto service = ServiceBackend::create(config);
    JobStore store(dir.filePath(QStringLiteral("jobs")));
    QVERIFY(store.open());
    JobRecord record = store.create(QStringLiteral("upgrade"));
    QVERIFY(store.update(record));

    UpgradeJob::Request request;
    request.component = QStringLiteral("server");
    request.packageName = QStringLiteral("server.ftpkg");
    request.packagePath = package.fileName();
    request.sha256 = QByteArray(64, 'a');
    request.installDir = dir.path();
    request.program = QStringLiteral("/bin/false"); // must never run
    UpgradeJob job(&store, record.id, request, service.get());
    QSignalSpy finished(&job, &UpgradeJob::finished);
    job.start();
    QVERIFY(job.cancel()); // still queued: a safe point
    QCOMPARE(finished.count(), 0); // never inside cancel()
    QTRY_COMPARE(finished.count(), 1);
    QTest::qWait(100); // anything queued by start() has run by now
    QCOMPARE(finished.count(), 1);

    const JobRecord *done = store.job(record.id);
    QCOMPARE(done->state, QStringLiteral("cancelled"));
    QVERIFY(done->error.contains(QStringLiteral("nothing changed")));
    for (const JobLogLine &line : store.log(record.id, 0))
        QVERIFY2(!line.line.contains(QStringLiteral("Stopping")), qPrintable(line.line));
    QVERIFY(!job.cancel()); // finished: refused
}

void TestAgentUnits::fastHashMatchesQtHash()
{
    QByteArray data;
    for (int i = 0; i < 300000; ++i)
        data.append(QByteArray::number(qint64(i) * 7919)); // 64-bit: i * 7919 overflows an int
    Sha256 streaming;
    for (qsizetype at = 0; at < data.size(); at += 4093)
        streaming.addData(QByteArrayView(data.constData() + at, qMin<qsizetype>(4093, data.size() - at)));
    const QByteArray expected = QCryptographicHash::hash(data, QCryptographicHash::Sha256).toHex();
    QCOMPARE(streaming.hexResult(), expected);

    QTemporaryDir dir;
    QFile file(dir.filePath(QStringLiteral("blob")));
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(data);
    file.close();
    QCOMPARE(*sha256OfFileFast(file.fileName()), expected);
    QVERIFY(!sha256OfFileFast(dir.filePath(QStringLiteral("missing"))));
    Sha256 empty;
    QCOMPARE(empty.hexResult(), QByteArray("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
}

// Each vendor format has its own installer command: the backend's default, or what
// agent.conf's [installers] says; a .ftpkg keeps installer_command.
void TestAgentUnits::installerCommandsPerFormatFromAgentConf()
{
    QTemporaryDir dir;
    const QString file = dir.filePath(QStringLiteral("agent.conf"));
    {
        QSettings ini(file, QSettings::IniFormat);
        ini.setValue(QStringLiteral("agent/backend"), QStringLiteral("windows"));
        ini.setValue(QStringLiteral("agent/installer_command"), QStringLiteral("custom-ftpkg {package}"));
        ini.setValue(QStringLiteral("installers/exe"), QStringLiteral("{package} /S /D={install}"));
        ini.setValue(QStringLiteral("auth/token_salt"), QStringLiteral("c2FsdA=="));
        ini.setValue(QStringLiteral("auth/token_sha256"), QStringLiteral("aGFzaA=="));
    }
    const auto config = AgentConfig::load(file);
    QVERIFY2(config, qPrintable(config.error()));
    QCOMPARE(config->installerCommandFor(QStringLiteral("FlowTraq-6.3.msi")),
             QStringLiteral("msiexec /i {package} /qn /norestart /l*v {log}"));
    QCOMPARE(config->installerCommandFor(QStringLiteral("setup.EXE")), QStringLiteral("{package} /S /D={install}"));
    QCOMPARE(config->installerCommandFor(QStringLiteral("flowtraq.deb")), QStringLiteral("dpkg --log={log} -i {package}"));
    QCOMPARE(config->installerCommandFor(QStringLiteral("server.ftpkg")), QStringLiteral("custom-ftpkg {package}"));
    QVERIFY(config->rebootRequiredFile.isEmpty()); // Windows: exit codes say it

    // Saved and loaded again, the override stays.
    QVERIFY(config->save());
    const auto again = AgentConfig::load(file);
    QVERIFY(again);
    QCOMPARE(again->installerCommandFor(QStringLiteral("setup.exe")), QStringLiteral("{package} /S /D={install}"));
}

QTEST_GUILESS_MAIN(TestAgentUnits)
#include "tst_agentunits.moc"

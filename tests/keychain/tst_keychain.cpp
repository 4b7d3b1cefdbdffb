// Round trips through the real OS keychain (gnome-keyring's Secret Service under
// dbus-run-session in CI; see .ci/test). Without a reachable keychain the test fails:
// CI always provides one, so a skip would only hide a broken set-up.

#include "agentlink/credentialstore.h"

#include <QSignalSpy>
#include <QTest>
#include <QUuid>

#include <memory>

using ft::CredentialJob;
using ft::CredentialStore;
using ft::KeychainCredentialStore;

namespace {

// Runs one job to its end. Checks on the way that finished comes exactly once and
// never inside start().
struct Outcome
{
    CredentialJob::Error error = CredentialJob::OtherError;
    QString errorString;
    QString token;
    bool finishedInsideStart = true;
    int finishedCount = 0;
};

Outcome run(CredentialJob *job)
{
    Outcome outcome;
    job->setAutoDelete(false);
    std::unique_ptr<CredentialJob> owner(job);
    QSignalSpy spy(job, &CredentialJob::finished);
    job->start();
    outcome.finishedInsideStart = spy.count() != 0;
    if (!spy.wait(20000) && spy.isEmpty())
        return outcome;
    QTest::qWait(50); // a second finished would show up here
    outcome.finishedCount = int(spy.count());
    outcome.error = job->error();
    outcome.errorString = job->errorString();
    outcome.token = job->token();
    return outcome;
}

} // namespace

class tst_Keychain : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void names();
    void roundTrip_data();
    void roundTrip();
    void overwrite();
    void readMissingIsNotFound();
    void deleteMissingChangesNothing();
    void keysAreSeparate();

private:
    QString key(const QString &suffix) const { return m_prefix + suffix; }

    // A service name of its own, so the test never touches the wizard's real entries.
    std::unique_ptr<KeychainCredentialStore> m_store;
    QString m_prefix;
    QStringList m_written;
};

void tst_Keychain::initTestCase()
{
    if (qEnvironmentVariableIsEmpty("DBUS_SESSION_BUS_ADDRESS"))
        QFAIL("No D-Bus session bus, so no keychain. Run this test as .ci/test does: "
              "dbus-run-session -- sh -c 'eval \"$(printf ci | gnome-keyring-daemon "
              "--daemonize --unlock --components=secrets)\"; ctest -R keychain'");

    const QString unique = QUuid::createUuid().toString(QUuid::WithoutBraces);
    m_store = std::make_unique<KeychainCredentialStore>(
        KeychainCredentialStore::defaultService() + QStringLiteral(" (test ") + unique
        + QLatin1Char(')'));
    m_prefix = CredentialStore::clusterKey(QStringLiteral("portal-%1.test:9650").arg(unique))
               + QLatin1Char('/');

    // One write up front tells a missing or locked keychain apart from a broken test.
    const Outcome probe = run(m_store->writeToken(key(QStringLiteral("probe")),
                                                  QStringLiteral("probe")));
    m_written.append(key(QStringLiteral("probe")));
    QVERIFY2(probe.error == CredentialJob::NoError,
             qPrintable(QStringLiteral("The keychain is not usable: %1 Run under "
                                       "dbus-run-session with an unlocked gnome-keyring "
                                       "(see .ci/test).")
                            .arg(probe.errorString)));
}

void tst_Keychain::cleanupTestCase()
{
    if (!m_store)
        return;
    for (const QString &written : std::as_const(m_written))
        run(m_store->deleteToken(written));
}

void tst_Keychain::names()
{
    QCOMPARE(KeychainCredentialStore::defaultService(), QStringLiteral("FlowTraq Upgrade Wizard"));
    QCOMPARE(KeychainCredentialStore().service(), QStringLiteral("FlowTraq Upgrade Wizard"));
    QCOMPARE(CredentialStore::clusterKey(QStringLiteral(" Portal.Example:9650 ")),
             QStringLiteral("cluster:portal.example:9650"));
}

void tst_Keychain::roundTrip_data()
{
    QTest::addColumn<QString>("token");

    QTest::newRow("hex token") << QStringLiteral("3f9a0c1d5e7b2a4c6e8f0a1b3c5d7e9f");
    QTest::newRow("punctuation") << QStringLiteral("a+b/c=d&e;f\"g'h\\i %j");
    QTest::newRow("unicode") << QStringLiteral("jeton-ünïcødé-令牌-🔑");
    QTest::newRow("4 KiB") << QString(4096, QLatin1Char('x'));
    QTest::newRow("newline inside") << QStringLiteral("line one\nline two");
}

void tst_Keychain::roundTrip()
{
    QFETCH(QString, token);
    const QString k = key(QStringLiteral("roundtrip-") + QString::fromLatin1(QTest::currentDataTag()));

    const Outcome written = run(m_store->writeToken(k, token));
    m_written.append(k);
    QVERIFY(!written.finishedInsideStart);
    QCOMPARE(written.finishedCount, 1);
    QVERIFY2(written.error == CredentialJob::NoError, qPrintable(written.errorString));
    QVERIFY(written.errorString.isEmpty());

    const Outcome read = run(m_store->readToken(k));
    QVERIFY(!read.finishedInsideStart);
    QCOMPARE(read.finishedCount, 1);
    QVERIFY2(read.error == CredentialJob::NoError, qPrintable(read.errorString));
    QCOMPARE(read.token, token);

    const Outcome deleted = run(m_store->deleteToken(k));
    QCOMPARE(deleted.finishedCount, 1);
    QVERIFY2(deleted.error == CredentialJob::NoError, qPrintable(deleted.errorString));

    const Outcome gone = run(m_store->readToken(k));
    QCOMPARE(gone.error, CredentialJob::NotFound);
    QVERIFY(gone.token.isEmpty());
}

void tst_Keychain::overwrite()
{
    const QString k = key(QStringLiteral("overwrite"));
    m_written.append(k);
    QCOMPARE(run(m_store->writeToken(k, QStringLiteral("first"))).error, CredentialJob::NoError);
    QCOMPARE(run(m_store->readToken(k)).token, QStringLiteral("first"));
    QCOMPARE(run(m_store->writeToken(k, QStringLiteral("second"))).error, CredentialJob::NoError);

    const Outcome read = run(m_store->readToken(k));
    QVERIFY2(read.error == CredentialJob::NoError, qPrintable(read.errorString));
    QCOMPARE(read.token, QStringLiteral("second"));
}

void tst_Keychain::readMissingIsNotFound()
{
    const QString k = key(QStringLiteral("never-written"));
    const Outcome read = run(m_store->readToken(k));
    QVERIFY(!read.finishedInsideStart);
    QCOMPARE(read.finishedCount, 1);
    QCOMPARE(read.error, CredentialJob::NotFound);
    QVERIFY(read.token.isEmpty());
    // A sentence for people: it names the key and says what happened.
    QVERIFY2(read.errorString.contains(QLatin1String("not found")), qPrintable(read.errorString));
    QVERIFY2(read.errorString.contains(k), qPrintable(read.errorString));
}

void tst_Keychain::deleteMissingChangesNothing()
{
    const QString kept = key(QStringLiteral("kept"));
    m_written.append(kept);
    QCOMPARE(run(m_store->writeToken(kept, QStringLiteral("keep me"))).error,
             CredentialJob::NoError);

    const Outcome deleted = run(m_store->deleteToken(key(QStringLiteral("absent"))));
    QCOMPARE(deleted.finishedCount, 1);
    QVERIFY(deleted.error == CredentialJob::NoError || deleted.error == CredentialJob::NotFound);

    QCOMPARE(run(m_store->readToken(kept)).token, QStringLiteral("keep me"));
}

void tst_Keychain::keysAreSeparate()
{
    const QString a = key(QStringLiteral("cluster-a"));
    const QString b = key(QStringLiteral("cluster-b"));
    m_written << a << b;
    QCOMPARE(run(m_store->writeToken(a, QStringLiteral("token a"))).error, CredentialJob::NoError);
    QCOMPARE(run(m_store->writeToken(b, QStringLiteral("token b"))).error, CredentialJob::NoError);
    QCOMPARE(run(m_store->readToken(a)).token, QStringLiteral("token a"));
    QCOMPARE(run(m_store->readToken(b)).token, QStringLiteral("token b"));

    // Another service name does not see them.
    KeychainCredentialStore other(m_store->service() + QStringLiteral(" other"));
    QCOMPARE(run(other.readToken(a)).error, CredentialJob::NotFound);

    QCOMPARE(run(m_store->deleteToken(a)).error, CredentialJob::NoError);
    QCOMPARE(run(m_store->readToken(a)).error, CredentialJob::NotFound);
    QCOMPARE(run(m_store->readToken(b)).token, QStringLiteral("token b"));
}

QTEST_GUILESS_MAIN(tst_Keychain)
#include "tst_keychain.moc"

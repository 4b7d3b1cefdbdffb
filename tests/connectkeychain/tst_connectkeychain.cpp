// The Connect page when the system keychain says no. A real gnome-keyring in a D-Bus
// session of the test's own (locked-keyring.sh): a connection is remembered while the
// keyring is open; then the keyring is locked, and since no unlock prompt can be shown,
// every unlock is refused, as when the administrator cancels it. The real wizard is
// driven against a real sandbox agent:
// - choosing the saved connection says the token could not be read because the keyring
//   is locked, and says so after the certificate check has answered too;
// - "Remember this connection" with a refused keychain keeps the page, says why, and
//   lets the administrator go on without saving.

#include "agentlink/connectionprofile.h"
#include "agentlink/credentialstore.h"
#include "agentlink/trustedcertificates.h"
#include "pages/connectpage.h"
#include "pages/upgradewizard.h"
#include "session/sandboxcluster.h"
#include "session/upgradesession.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDBusConnection>
#include <QDBusMessage>
#include <QDBusObjectPath>
#include <QDBusReply>
#include <QDir>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace ft;

namespace {

struct Read
{
    CredentialJob::Error error = CredentialJob::OtherError;
    QString errorString;
    QString token;
};

Read readToken(const QString &key)
{
    KeychainCredentialStore store;
    CredentialJob *job = store.readToken(key);
    job->setAutoDelete(false);
    std::unique_ptr<CredentialJob> owner(job);
    QSignalSpy done(job, &CredentialJob::finished);
    job->start();
    if (!done.wait(20000))
        return {};
    return {job->error(), job->errorString(), job->token()};
}

// Locks the default collection, as gnome-keyring does when the session locks; locking
// never prompts.
bool lockKeyring()
{
    QDBusConnection bus = QDBusConnection::sessionBus();
    QDBusMessage alias = QDBusMessage::createMethodCall(
        QStringLiteral("org.freedesktop.secrets"), QStringLiteral("/org/freedesktop/secrets"),
        QStringLiteral("org.freedesktop.Secret.Service"), QStringLiteral("ReadAlias"));
    alias << QStringLiteral("default");
    const QDBusReply<QDBusObjectPath> collection = bus.call(alias);
    if (!collection.isValid() || collection.value().path() == QLatin1String("/"))
        return false;
    QDBusMessage lock = QDBusMessage::createMethodCall(
        QStringLiteral("org.freedesktop.secrets"), QStringLiteral("/org/freedesktop/secrets"),
        QStringLiteral("org.freedesktop.Secret.Service"), QStringLiteral("Lock"));
    lock << QVariant::fromValue(QList<QDBusObjectPath>{collection.value()});
    return bus.call(lock).type() == QDBusMessage::ReplyMessage;
}

} // namespace

class tst_ConnectKeychain : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void remembersWhileTheKeyringIsOpen();
    void lockedKeyringIsNotNotFound();
    void refusedReadStaysOnScreen();
    void refusedWriteKeepsThePage();

private:
    std::unique_ptr<ui::UpgradeWizard> newWizard();
    void screenshot(QWidget *widget, const QString &name);
    QString portalAddress() const { return TrustedCertificates::addressOf(m_cluster.portal()->agentUrl); }

    QTemporaryDir m_dir;
    SandboxClusterFile m_cluster;
    std::unique_ptr<UpgradeSession> m_session;
};

void tst_ConnectKeychain::initTestCase()
{
    if (qEnvironmentVariableIsEmpty("FT_OWN_KEYRING"))
        QFAIL("Run this test through tests/connectkeychain/locked-keyring.sh (ctest -R connectkeychain_locked): "
              "it needs a gnome-keyring of its own that it may lock.");
    QVERIFY(m_dir.isValid());
    // As the wizard's main() does: without an organization QSettings refuses to save.
    QCoreApplication::setOrganizationName(QStringLiteral("FlowTraq Upgrade"));
    QSettings::setDefaultFormat(QSettings::IniFormat);
    QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, m_dir.filePath(QStringLiteral("settings")));

    SandboxLaunchJob job;
    job.setToolDirectory(QStringLiteral(FT_BIN_DIR));
    job.setDirectory(m_dir.filePath(QStringLiteral("cluster")));
    job.setArguments({QStringLiteral("--workers"), QStringLiteral("1")});
    QSignalSpy finished(&job, &SandboxLaunchJob::finished);
    job.start();
    QVERIFY(finished.wait(120000));
    QVERIFY2(!job.hasError(), qPrintable(job.errorString()));
    m_cluster = job.cluster();
    QVERIFY(m_cluster.portal());
}

void tst_ConnectKeychain::cleanupTestCase()
{
    if (QFile::exists(m_dir.filePath(QStringLiteral("cluster/cluster.json"))))
        QVERIFY(stopSandboxCluster(m_dir.filePath(QStringLiteral("cluster")), QStringLiteral(FT_BIN_DIR)));
}

std::unique_ptr<ui::UpgradeWizard> tst_ConnectKeychain::newWizard()
{
    m_session = std::make_unique<UpgradeSession>();
    for (const SandboxNode &node : m_cluster.nodes)
        m_session->addKnownFingerprint(node.agentUrl, node.agentFingerprint);
    auto wizard = std::make_unique<ui::UpgradeWizard>(m_session.get());
    wizard->show();
    return wizard;
}

void tst_ConnectKeychain::screenshot(QWidget *widget, const QString &name)
{
    const QString folder = qEnvironmentVariable("FT_SCREENSHOT_DIR");
    if (folder.isEmpty())
        return;
    QDir().mkpath(folder);
    QVERIFY(widget->grab().save(QDir(folder).filePath(name + QStringLiteral(".png"))));
}

void tst_ConnectKeychain::remembersWhileTheKeyringIsOpen()
{
    auto wizard = newWizard();
    auto *page = wizard->findChild<ui::ConnectPage *>(QStringLiteral("connectPage"));
    page->preset(portalAddress(), m_cluster.token);
    auto *trust = wizard->findChild<QCheckBox *>(QStringLiteral("trustCertificate"));
    QTRY_VERIFY_WITH_TIMEOUT(trust->isChecked(), 10000); // known fingerprint
    wizard->findChild<QCheckBox *>(QStringLiteral("rememberConnection"))->setChecked(true);
    wizard->findChild<QLineEdit *>(QStringLiteral("profileName"))->setText(QStringLiteral("Lab cluster"));
    QTest::mouseClick(wizard->button(QWizard::NextButton), Qt::LeftButton);
    // The page is left once the token is in the keychain, not before.
    auto *keychain = wizard->findChild<QLabel *>(QStringLiteral("keychainStatus"));
    QTRY_VERIFY2_WITH_TIMEOUT(wizard->currentId() == int(ui::UpgradeWizard::DiscoverPageId),
                              qPrintable(keychain->text() + QLatin1Char('|')
                                         + wizard->findChild<QLabel *>(QStringLiteral("connectStatus"))->text()),
                              20000);
    const Read read = readToken(CredentialStore::clusterKey(portalAddress()));
    QCOMPARE(int(read.error), int(CredentialJob::NoError));
    QCOMPARE(read.token, m_cluster.token);
    QCOMPARE(ConnectionProfiles().list().size(), 1);
    QCOMPARE(ConnectionProfiles().list().constFirst().name, QStringLiteral("Lab cluster"));
}

void tst_ConnectKeychain::lockedKeyringIsNotNotFound()
{
    QVERIFY(lockKeyring());
    // libsecret says "not found" for both; the store tells them apart.
    const Read locked = readToken(CredentialStore::clusterKey(portalAddress()));
    QCOMPARE(int(locked.error), int(CredentialJob::AccessDenied));
    QVERIFY2(locked.errorString.contains(QStringLiteral("locked")), qPrintable(locked.errorString));
    QVERIFY(locked.token.isEmpty());
    const Read missing = readToken(CredentialStore::clusterKey(QStringLiteral("nowhere.example:9650")));
    QCOMPARE(int(missing.error), int(CredentialJob::NotFound));
}

void tst_ConnectKeychain::refusedReadStaysOnScreen()
{
    auto wizard = newWizard();
    auto *profiles = wizard->findChild<QComboBox *>(QStringLiteral("profiles"));
    QCOMPARE(profiles->count(), 2); // "New connection", "Lab cluster"
    // The administrator picks the saved connection with the keyboard.
    profiles->setFocus();
    QTest::keyClick(profiles, Qt::Key_Down);
    QCOMPARE(profiles->currentText(), QStringLiteral("Lab cluster"));

    auto *keychain = wizard->findChild<QLabel *>(QStringLiteral("keychainStatus"));
    auto *status = wizard->findChild<QLabel *>(QStringLiteral("connectStatus"));
    auto *fingerprint = wizard->findChild<QLabel *>(QStringLiteral("fingerprint"));
    // Both answers in: the certificate check and the refused keychain.
    QTRY_VERIFY_WITH_TIMEOUT(!fingerprint->text().isEmpty(), 10000);
    QTRY_VERIFY_WITH_TIMEOUT(keychain->text().contains(QStringLiteral("could not be read")), 20000);
    QTRY_VERIFY(status->text().contains(QStringLiteral("matches")));
    QVERIFY(keychain->isVisible());
    QVERIFY2(keychain->text().contains(QStringLiteral("locked")), qPrintable(keychain->text()));
    QVERIFY(status->isVisible());
    auto *token = wizard->findChild<QLineEdit *>(QStringLiteral("token"));
    QVERIFY(token->text().isEmpty());
    QVERIFY(!wizard->button(QWizard::NextButton)->isEnabled());
    // It stays, whatever else the page says meanwhile, until the administrator acts.
    QTest::mouseClick(wizard->findChild<QPushButton *>(QStringLiteral("checkCertificate")), Qt::LeftButton);
    QTest::qWait(500);
    QTRY_VERIFY(status->text().contains(QStringLiteral("matches")));
    QVERIFY(keychain->isVisible());
    screenshot(wizard.get(), QStringLiteral("keychain-read-refused"));
    QTest::keyClicks(token, m_cluster.token);
    QVERIFY(!keychain->isVisible());
    QVERIFY(wizard->button(QWizard::NextButton)->isEnabled());
}

void tst_ConnectKeychain::refusedWriteKeepsThePage()
{
    auto wizard = newWizard();
    auto *page = wizard->findChild<ui::ConnectPage *>(QStringLiteral("connectPage"));
    page->preset(portalAddress(), m_cluster.token);
    auto *trust = wizard->findChild<QCheckBox *>(QStringLiteral("trustCertificate"));
    QTRY_VERIFY_WITH_TIMEOUT(trust->isChecked(), 10000);
    auto *remember = wizard->findChild<QCheckBox *>(QStringLiteral("rememberConnection"));
    remember->setChecked(true);
    wizard->findChild<QLineEdit *>(QStringLiteral("profileName"))->setText(QStringLiteral("Lab, again"));
    auto *next = wizard->button(QWizard::NextButton);
    QTest::mouseClick(next, Qt::LeftButton);
    auto *keychain = wizard->findChild<QLabel *>(QStringLiteral("keychainStatus"));
    QTRY_VERIFY_WITH_TIMEOUT(keychain->text().contains(QStringLiteral("not remembered")), 20000);
    // Still here, where the administrator asked to remember it, with the reason.
    QCOMPARE(wizard->currentId(), int(ui::UpgradeWizard::ConnectPageId));
    QVERIFY(keychain->isVisible());
    QVERIFY2(keychain->text().contains(QStringLiteral("locked")), qPrintable(keychain->text()));
    screenshot(wizard.get(), QStringLiteral("keychain-write-refused"));
    // Nothing half-saved: no profile without its token.
    QCOMPARE(ConnectionProfiles().list().size(), 1);
    // Next again asks the keychain again, and is refused again.
    QTRY_VERIFY(next->isEnabled());
    QTest::mouseClick(next, Qt::LeftButton);
    QTest::qWait(300);
    QTRY_VERIFY_WITH_TIMEOUT(next->isEnabled(), 20000);
    QCOMPARE(wizard->currentId(), int(ui::UpgradeWizard::ConnectPageId));
    QVERIFY(keychain->text().contains(QStringLiteral("not remembered")));
    // Going on without saving is the administrator's choice.
    remember->setChecked(false);
    QVERIFY(!keychain->isVisible());
    QTest::mouseClick(next, Qt::LeftButton);
    QCOMPARE(wizard->currentId(), int(ui::UpgradeWizard::DiscoverPageId));
    QCOMPARE(ConnectionProfiles().list().size(), 1);
}

QTEST_MAIN(tst_ConnectKeychain)
#include "tst_connectkeychain.moc"

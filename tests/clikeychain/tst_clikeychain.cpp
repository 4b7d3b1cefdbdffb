// The CLI takes the FlowTraq Web API password from the keychain entry the wizard's
// "Remember the credentials" saved (same service, same key), when
// $FLOWTRAQ_WEBAPI_PASSWORD is not set. Runs against a real gnome-keyring (see
// .ci/test) and a real sandbox cluster's Web API.

#include "sandboxfixture.h"

#include "agentlink/credentialstore.h"
#include "webapi/webapiinfo.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

using namespace ft;
using namespace fixture;

namespace {

struct CliResult
{
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
    QJsonObject json() const { return QJsonDocument::fromJson(out).object(); }
};

// Runs one keychain job to its end; the error ("" when none).
QString runJob(CredentialJob *job)
{
    job->setAutoDelete(false);
    std::unique_ptr<CredentialJob> owner(job);
    QSignalSpy spy(job, &CredentialJob::finished);
    job->start();
    if (!spy.wait(20000) && spy.isEmpty())
        return QStringLiteral("no answer from the keychain");
    return job->error() == CredentialJob::NoError ? QString() : job->errorString();
}

// The portal's server version sources in a discover answer: "source=version" each.
QStringList serverSources(const QJsonObject &discover)
{
    QStringList result;
    for (const QJsonValue &node : discover.value(QStringLiteral("nodes")).toArray()) {
        if (node.toObject().value(QStringLiteral("name")).toString() != QLatin1String("portal"))
            continue;
        const QJsonObject server = node.toObject().value(QStringLiteral("components")).toObject()
                                       .value(QStringLiteral("server")).toObject();
        for (const QJsonValue &source : server.value(QStringLiteral("sources")).toArray()) {
            const QJsonObject object = source.toObject();
            result.append(object.value(QStringLiteral("source")).toString() + QLatin1Char('=')
                          + object.value(QStringLiteral("version")).toString());
        }
    }
    return result;
}

} // namespace

class TestCliKeychain : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_home;
    Cluster m_cluster;
    WebApiSettings m_webApi; // the cluster's, with its real password
    KeychainCredentialStore m_store; // the wizard's own service

    CliResult cli(const QStringList &arguments, const std::optional<QString> &password) const
    {
        QProcess process;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("XDG_DATA_HOME"), m_home.filePath(QStringLiteral("data")));
        env.insert(QStringLiteral("XDG_CONFIG_HOME"), m_home.filePath(QStringLiteral("config")));
        env.remove(QStringLiteral("FTUPGRADE_TOKEN"));
        env.remove(QStringLiteral("FLOWTRAQ_WEBAPI_PASSWORD"));
        if (password)
            env.insert(QStringLiteral("FLOWTRAQ_WEBAPI_PASSWORD"), *password);
        process.setProcessEnvironment(env);
        process.start(tool(QStringLiteral("ftupgrade-cli")), arguments);
        CliResult result;
        if (!process.waitForFinished(60000)) {
            process.kill();
            process.waitForFinished(5000);
        }
        result.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
        result.out = process.readAllStandardOutput();
        result.err = process.readAllStandardError();
        return result;
    }

    QStringList discover(const QStringList &extra) const
    {
        return QStringList{QStringLiteral("discover"), QStringLiteral("--sandbox"), m_cluster.directory(),
                           QStringLiteral("--webapi"), m_webApi.portal.toString(),
                           QStringLiteral("--webapi-fingerprint"), m_webApi.fingerprint}
               + extra;
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (qEnvironmentVariableIsEmpty("DBUS_SESSION_BUS_ADDRESS"))
            QFAIL("No D-Bus session bus, so no keychain. Run this test as .ci/test does (dbus-run-session "
                  "with an unlocked gnome-keyring).");
        QVERIFY(m_home.isValid());
        if (!QFile::exists(tool(QStringLiteral("ftupgrade-cli"))))
            QSKIP("ftupgrade-cli is not built");
        QVERIFY(m_cluster.up({QStringLiteral("--workers"), QStringLiteral("1")}));
        m_webApi = m_cluster.file().webApi;
        QVERIFY2(m_webApi.isConfigured() && !m_webApi.password.isEmpty(), "the sandbox cluster has no Web API");
    }

    void cleanupTestCase()
    {
        if (m_webApi.isConfigured())
            runJob(m_store.deleteToken(m_webApi.keychainKey()));
    }

    // Nothing in the environment and nothing in the keychain: one sentence, exit 2.
    void neitherSaysHow()
    {
        runJob(m_store.deleteToken(m_webApi.keychainKey()));
        const CliResult result = cli(discover({QStringLiteral("--webapi-user"), m_webApi.user}), std::nullopt);
        QCOMPARE(result.exitCode, 2);
        const QString err = QString::fromUtf8(result.err);
        QVERIFY2(err.contains(QStringLiteral("FLOWTRAQ_WEBAPI_PASSWORD")) && err.contains(QStringLiteral("keychain")),
                 qPrintable(err));
        // One sentence (Qt's own warnings, such as QStandardPaths', aside).
        QStringList sentences = err.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        sentences.removeIf([](const QString &line) { return line.startsWith(QLatin1String("QStandardPaths")); });
        QCOMPARE(sentences.size(), 1);
    }

    // What the wizard's "Remember" saved is what the CLI reads: the Web API answers.
    void readsWhatTheWizardSaved()
    {
        QCOMPARE(runJob(m_store.writeToken(m_webApi.keychainKey(), m_webApi.secretText())), QString());
        for (const QStringList &user : {QStringList{QStringLiteral("--webapi-user"), m_webApi.user}, QStringList()}) {
            const CliResult result = cli(discover(user), std::nullopt);
            QVERIFY2(result.exitCode == 0, result.err.constData());
            const QStringList sources = serverSources(result.json());
            QVERIFY2(sources.contains(QStringLiteral("webapi=6.2.1-1200")), qPrintable(sources.join(QLatin1Char(' '))));
        }
        // Another user than the one saved: said, not guessed.
        const CliResult other = cli(discover({QStringLiteral("--webapi-user"), QStringLiteral("someone-else")}),
                                    std::nullopt);
        QCOMPARE(other.exitCode, 2);
        QVERIFY2(other.err.contains("someone-else"), other.err.constData());
    }

    // The environment wins over the keychain: a wrong password there is used (and fails).
    void environmentWins()
    {
        QCOMPARE(runJob(m_store.writeToken(m_webApi.keychainKey(), m_webApi.secretText())), QString());
        const CliResult wrong = cli(discover({QStringLiteral("--webapi-user"), m_webApi.user}),
                                    QStringLiteral("not the password"));
        QVERIFY(!serverSources(wrong.json()).contains(QStringLiteral("webapi=6.2.1-1200")));
        const CliResult right = cli(discover({QStringLiteral("--webapi-user"), m_webApi.user}), m_webApi.password);
        QVERIFY2(right.exitCode == 0, right.err.constData());
        QVERIFY(serverSources(right.json()).contains(QStringLiteral("webapi=6.2.1-1200")));
    }
};

QTEST_GUILESS_MAIN(TestCliKeychain)
#include "tst_clikeychain.moc"

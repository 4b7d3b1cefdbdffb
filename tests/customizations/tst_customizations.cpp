// The Web UI customization guard against a real sandbox portal whose Web UI the test
// changes (a modified, an added and a deleted text file, binary files, names with
// spaces and non-ASCII characters): the report and the diffs through the real agent
// and the real client, the reference backup, and the wizard's page (the
// acknowledgement gating Next, the backup written from the page, nothing customized,
// no Web UI upgrade).

#include "guard/customizationreview.h"
#include "pages/customizationspage.h"
#include "widgets/diffview.h"
#include "discover/discovery.h"
#include "session/sandboxcluster.h"
#include "session/upgradesession.h"
#include "pages/upgradewizard.h"

#include <QCheckBox>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QProcess>
#include <QPushButton>
#include <QScopeGuard>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QTextBlock>
#include <QTextLayout>
#include <QHeaderView>
#include <QSplitter>
#include <QTreeWidget>

using namespace ft;

namespace {

const QString kAddedText = QStringLiteral("custom/Notizen für Größe (draft).txt");
const QString kAddedBinary = QStringLiteral("img/logo acme ©.png");

QByteArray readAll(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

bool writeAll(const QString &path, const QByteArray &bytes)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile file(path);
    return file.open(QIODevice::WriteOnly | QIODevice::Truncate) && file.write(bytes) == bytes.size();
}

// With FT_SCREENSHOT_DIR set, the page is saved there as a PNG.
void screenshot(QWidget *widget, const QString &name)
{
    const QString folder = qEnvironmentVariable("FT_SCREENSHOT_DIR");
    if (!folder.isEmpty() && QDir().mkpath(folder))
        widget->grab().save(QDir(folder).filePath(name + QStringLiteral(".png")));
}

bool isText(const QByteArray &bytes)
{
    return !bytes.left(8192).contains('\0');
}

// `diff -u` with labels, as GNU diffutils prints it.
QString gnuDiff(const QString &oldFile, const QString &newFile, const QString &oldLabel,
                const QString &newLabel)
{
    QProcess diff;
    diff.start(QStringLiteral("diff"), {QStringLiteral("-u"), QStringLiteral("--label"), oldLabel,
                                        QStringLiteral("--label"), newLabel, oldFile, newFile});
    diff.waitForFinished(10000);
    return QString::fromUtf8(diff.readAllStandardOutput());
}

// The names in a zip, and one member's bytes, read back by Python's zipfile.
QJsonObject readZip(const QString &archive)
{
    QProcess python;
    python.start(QStringLiteral("/usr/bin/python3"),
                 {QStringLiteral("-c"),
                  QStringLiteral("import json, sys, zipfile, base64\n"
                                 "z = zipfile.ZipFile(sys.argv[1])\n"
                                 "print(json.dumps({n: base64.b64encode(z.read(n)).decode() "
                                 "for n in z.namelist()}))\n"),
                  archive});
    python.waitForFinished(20000);
    return QJsonDocument::fromJson(python.readAllStandardOutput()).object();
}

} // namespace

class tst_Customizations : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void cleanup() { restore(); } // every test starts from the pristine Web UI
    void reportListsEveryChange();
    void diffOfEachFile_data();
    void diffOfEachFile();
    void referenceBackupFromCore();
    void pageGatesNextUntilAcknowledged();
    void pageWritesReferenceBackup();
    void pageWithoutCustomizationsLetsUserOn();
    void pageWithoutWebUiUpgradeLetsUserOn();
    void pageWhenFilesCannotBeCheckedNeedsAcknowledgement();
    void diffViewColoursLines();

private:
    void customize();
    void restore();
    void prepareSession(UpgradeSession &session, Component package);
    AgentEndpoint portalEndpoint() const;
    QString webUi(const QString &path = {}) const { return QDir(m_webUi).filePath(path); }
    QString packagePath(Component component) const
    {
        return m_dir.filePath(QStringLiteral("%1-6.3.0.ftpkg").arg(toString(component)));
    }

    QTemporaryDir m_dir;
    SandboxClusterFile m_cluster;
    QString m_webUi;
    QString m_modifiedText;
    QString m_deletedText;
    QString m_modifiedBinary; // empty when the sandbox ships no binary file
    QHash<QString, QByteArray> m_originals; // pristine bytes of what the test changes
};

void tst_Customizations::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QStandardPaths::setTestModeEnabled(true);
    QSettings::setDefaultFormat(QSettings::IniFormat);
    QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, m_dir.filePath(QStringLiteral("settings")));

    SandboxLaunchJob job;
    job.setToolDirectory(QStringLiteral(FT_BIN_DIR));
    job.setDirectory(m_dir.filePath(QStringLiteral("cluster")));
    job.setArguments({QStringLiteral("--workers"), QStringLiteral("1"), QStringLiteral("--webui-files"),
                      QStringLiteral("40")});
    for (Component component : {Component::Server, Component::WebUi})
        job.addPackage({QStringLiteral("--version"), QStringLiteral("6.3.0-1500"),
                        QStringLiteral("--component"), toString(component), QStringLiteral("-o"),
                        packagePath(component)});
    QSignalSpy finished(&job, &SandboxLaunchJob::finished);
    job.start();
    QVERIFY(finished.wait(120000));
    QVERIFY2(!job.hasError(), qPrintable(job.errorString()));
    m_cluster = job.cluster();
    m_webUi = m_dir.filePath(QStringLiteral("cluster/nodes/portal/webui"));
    QVERIFY(QFileInfo(m_webUi).isDir());

    // Pick the files to change from what the sandbox installed.
    QStringList files;
    QDirIterator it(m_webUi, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext())
        files << QDir(m_webUi).relativeFilePath(it.next());
    files.sort();
    files.removeAll(QStringLiteral("VERSION"));
    for (const QString &path : std::as_const(files)) {
        const QByteArray bytes = readAll(webUi(path));
        if (!isText(bytes)) {
            if (m_modifiedBinary.isEmpty())
                m_modifiedBinary = path;
        } else if (m_modifiedText.isEmpty() && bytes.count('\n') >= 4) {
            m_modifiedText = path;
        } else if (m_deletedText.isEmpty()) {
            m_deletedText = path;
        }
        m_originals.insert(path, bytes);
    }
    QVERIFY2(!m_modifiedText.isEmpty() && !m_deletedText.isEmpty(), qPrintable(files.join(u',')));
}

void tst_Customizations::cleanupTestCase()
{
    if (QFile::exists(m_dir.filePath(QStringLiteral("cluster/cluster.json"))))
        QVERIFY(stopSandboxCluster(m_dir.filePath(QStringLiteral("cluster")), QStringLiteral(FT_BIN_DIR)));
}

AgentEndpoint tst_Customizations::portalEndpoint() const
{
    const SandboxNode *portal = m_cluster.portal();
    AgentEndpoint endpoint;
    endpoint.nodeName = portal->name;
    endpoint.url = portal->agentUrl;
    endpoint.fingerprint = portal->agentFingerprint;
    endpoint.token = m_cluster.token;
    return endpoint;
}

void tst_Customizations::customize()
{
    QList<QByteArray> lines = m_originals.value(m_modifiedText).split('\n');
    lines[1] = "/* ACME: our own colours */ changed line";
    lines.insert(3, "inserted by the site's web team");
    QVERIFY(writeAll(webUi(m_modifiedText), lines.join('\n')));
    QVERIFY(QFile::remove(webUi(m_deletedText)) || !QFile::exists(webUi(m_deletedText)));
    QVERIFY(writeAll(webUi(kAddedText), "Eigene Hinweise für die Größe\nzweite Zeile\n"));
    QVERIFY(writeAll(webUi(kAddedBinary), QByteArray("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16) + QByteArray(300, '\x01')));
    if (!m_modifiedBinary.isEmpty())
        QVERIFY(writeAll(webUi(m_modifiedBinary), m_originals.value(m_modifiedBinary) + QByteArray(8, '\0')));
}

void tst_Customizations::restore()
{
    for (const QString &path : {m_modifiedText, m_deletedText, m_modifiedBinary}) {
        if (!path.isEmpty())
            QVERIFY(writeAll(webUi(path), m_originals.value(path)));
    }
    QFile::remove(webUi(kAddedText));
    QFile::remove(webUi(kAddedBinary));
    QDir(webUi(QStringLiteral("custom"))).removeRecursively();
}

void tst_Customizations::prepareSession(UpgradeSession &session, Component package)
{
    for (const SandboxNode &node : m_cluster.nodes)
        session.addKnownFingerprint(node.agentUrl, node.agentFingerprint);
    session.setPortal(portalEndpoint());
    QSignalSpy discovered(session.discovery(), &ClusterDiscovery::finished);
    session.discovery()->start();
    QVERIFY(discovered.wait(30000));
    QCOMPARE(int(session.nodes().size()), 2);
    const auto choice = PackageChoice::fromFile(packagePath(package));
    QVERIFY2(choice, qPrintable(choice.error()));
    session.setPackage(package, *choice);
}

void tst_Customizations::reportListsEveryChange()
{
    customize();
    if (QTest::currentTestFailed())
        return;
    AgentClient client;
    auto *job = new FetchCustomizationsJob(&client, portalEndpoint());
    QSignalSpy finished(job, &AgentJob::finished);
    job->setAutoDelete(false);
    job->start();
    QVERIFY(finished.wait(30000));
    QVERIFY2(job->error() == AgentJob::NoError, qPrintable(job->errorString()));
    const WebUiCustomizations report = job->customizations();
    delete job;

    QCOMPARE(report.version.toString(), QStringLiteral("6.2.1-1200"));
    QHash<QString, WebUiCustomizedFile> byPath;
    for (const WebUiCustomizedFile &file : report.files)
        byPath.insert(file.path, file);
    QCOMPARE(int(byPath.size()), m_modifiedBinary.isEmpty() ? 4 : 5);

    const WebUiCustomizedFile modified = byPath.value(m_modifiedText);
    QCOMPARE(toString(modified.change), QStringLiteral("modified"));
    QVERIFY(modified.text);
    QCOMPARE(modified.size, QFileInfo(webUi(m_modifiedText)).size());
    QVERIFY(qAbs(modified.modified.secsTo(QFileInfo(webUi(m_modifiedText)).lastModified())) <= 1);
    QVERIFY(!modified.pristineSha256.isEmpty());
    QVERIFY(modified.sha256 != modified.pristineSha256);

    const WebUiCustomizedFile deleted = byPath.value(m_deletedText);
    QCOMPARE(toString(deleted.change), QStringLiteral("deleted"));
    QVERIFY(deleted.sha256.isEmpty());

    // The name with spaces and non-ASCII characters comes through intact.
    QVERIFY2(byPath.contains(kAddedText), qPrintable(byPath.keys().join(u'|')));
    QCOMPARE(toString(byPath.value(kAddedText).change), QStringLiteral("added"));
    QVERIFY(byPath.value(kAddedText).text);
    QCOMPARE(toString(byPath.value(kAddedBinary).change), QStringLiteral("added"));
    QVERIFY(!byPath.value(kAddedBinary).text);
    QCOMPARE(byPath.value(kAddedBinary).size, qint64(316));
    if (!m_modifiedBinary.isEmpty())
        QVERIFY(!byPath.value(m_modifiedBinary).text);
}

void tst_Customizations::diffOfEachFile_data()
{
    QTest::addColumn<QString>("which");
    QTest::newRow("modified text") << QStringLiteral("modified");
    QTest::newRow("deleted text") << QStringLiteral("deleted");
    QTest::newRow("added text, non-ASCII name") << QStringLiteral("added");
    QTest::newRow("added binary") << QStringLiteral("binary");
}

void tst_Customizations::diffOfEachFile()
{
    QFETCH(QString, which);
    customize();
    if (QTest::currentTestFailed())
        return;
    AgentClient client;
    // The file as the report describes it.
    auto *report = new FetchCustomizationsJob(&client, portalEndpoint());
    report->setAutoDelete(false);
    QSignalSpy reported(report, &AgentJob::finished);
    report->start();
    QVERIFY(reported.wait(30000));
    QCOMPARE(report->error(), AgentJob::NoError);
    const QString path = which == QLatin1String("modified") ? m_modifiedText
                         : which == QLatin1String("deleted") ? m_deletedText
                         : which == QLatin1String("added")   ? kAddedText
                                                             : kAddedBinary;
    std::optional<WebUiCustomizedFile> file;
    for (const WebUiCustomizedFile &candidate : report->customizations().files) {
        if (candidate.path == path)
            file = candidate;
    }
    delete report;
    QVERIFY(file);

    CustomizationDiffJob job(&client, portalEndpoint(), *file);
    QSignalSpy finished(&job, &CustomizationDiffJob::finished);
    job.start();
    QCOMPARE(finished.count(), 0); // never from inside start()
    QVERIFY(finished.wait(30000));
    QCOMPARE(finished.count(), 1);
    QVERIFY2(!job.hasError(), qPrintable(job.errorString()));

    if (which == QLatin1String("binary")) {
        QVERIFY(job.diff().isEmpty());
        QVERIFY(job.current().isEmpty()); // not fetched: nothing to read in it
        return;
    }
    // The same diff GNU diff prints for the same two files.
    const QString pristineFile = m_dir.filePath(QStringLiteral("pristine-copy"));
    QVERIFY(writeAll(pristineFile, m_originals.value(path)));
    QString expected;
    if (which == QLatin1String("modified")) {
        QCOMPARE(job.pristine(), m_originals.value(m_modifiedText));
        QCOMPARE(job.current(), readAll(webUi(path)));
        expected = gnuDiff(pristineFile, webUi(path), QStringLiteral("pristine/") + path,
                           QStringLiteral("current/") + path);
        QVERIFY(job.diff().contains(QStringLiteral("+inserted by the site's web team")));
    } else if (which == QLatin1String("deleted")) {
        QCOMPARE(job.pristine(), m_originals.value(m_deletedText));
        expected = gnuDiff(pristineFile, QStringLiteral("/dev/null"), QStringLiteral("pristine/") + path,
                           QStringLiteral("/dev/null"));
    } else {
        QVERIFY(job.pristine().isEmpty());
        expected = gnuDiff(QStringLiteral("/dev/null"), webUi(path), QStringLiteral("/dev/null"),
                           QStringLiteral("current/") + path);
        QVERIFY(job.diff().contains(QStringLiteral("+Eigene Hinweise für die Größe")));
    }
    QVERIFY(!expected.isEmpty());
    QCOMPARE(job.diff(), expected);
}

void tst_Customizations::referenceBackupFromCore()
{
    customize();
    if (QTest::currentTestFailed())
        return;
    AgentClient client;
    auto *report = new FetchCustomizationsJob(&client, portalEndpoint());
    report->setAutoDelete(false);
    QSignalSpy reported(report, &AgentJob::finished);
    report->start();
    QVERIFY(reported.wait(30000));
    QCOMPARE(report->error(), AgentJob::NoError);
    const WebUiCustomizations customizations = report->customizations();
    delete report;

    const QString archive = m_dir.filePath(QStringLiteral("core backup.zip"));
    BackupInfo info;
    info.targetVersion = QStringLiteral("6.3.0-1500");
    CustomizationBackupJob job(&client, portalEndpoint(), customizations, archive, info);
    QSignalSpy finished(&job, &CustomizationBackupJob::finished);
    job.start();
    QVERIFY(finished.wait(30000));
    QVERIFY2(!job.hasError(), qPrintable(job.errorString()));

    const QJsonObject members = readZip(archive);
    QVERIFY2(members.contains(QStringLiteral("README.txt")), qPrintable(QJsonDocument(members).toJson()));
    QCOMPARE(QByteArray::fromBase64(members.value(m_modifiedText).toString().toLatin1()),
             readAll(webUi(m_modifiedText)));
    QCOMPARE(QByteArray::fromBase64(members.value(kAddedText).toString().toLatin1()),
             readAll(webUi(kAddedText)));
    QCOMPARE(QByteArray::fromBase64(members.value(kAddedBinary).toString().toLatin1()),
             readAll(webUi(kAddedBinary)));
    QVERIFY(!members.contains(m_deletedText)); // a deleted file has no content
    const QString readme = QString::fromUtf8(QByteArray::fromBase64(members.value(QStringLiteral("README.txt")).toString().toLatin1()));
    QVERIFY(readme.contains(m_deletedText));
    QVERIFY(readme.contains(QStringLiteral("6.2.1-1200")));

    // A second run does not replace the archive without being told to.
    CustomizationBackupJob again(&client, portalEndpoint(), customizations, archive, info);
    QSignalSpy againFinished(&again, &CustomizationBackupJob::finished);
    again.start();
    QVERIFY(againFinished.wait(30000));
    QVERIFY(again.hasError());
}

void tst_Customizations::pageGatesNextUntilAcknowledged()
{
    customize();
    if (QTest::currentTestFailed())
        return;
    UpgradeSession session;
    prepareSession(session, Component::WebUi);
    if (QTest::currentTestFailed())
        return;

    ui::UpgradeWizard wizard(&session);
    wizard.setStartId(ui::UpgradeWizard::CustomizationsPageId);
    wizard.resize(1100, 760);
    wizard.show();
    QVERIFY(QTest::qWaitForWindowExposed(&wizard));
    QCOMPARE(wizard.currentId(), int(ui::UpgradeWizard::CustomizationsPageId));

    auto *page = wizard.findChild<ui::CustomizationsPage *>(QStringLiteral("customizationsPage"));
    auto *next = wizard.button(QWizard::NextButton);
    auto *list = wizard.findChild<QTreeWidget *>(QStringLiteral("customizationList"));
    auto *acknowledge = wizard.findChild<QCheckBox *>(QStringLiteral("acknowledgeCustomizations"));
    auto *caution = wizard.findChild<QLabel *>(QStringLiteral("customizationCaution"));
    auto *diffView = wizard.findChild<ui::DiffView *>(QStringLiteral("diffView"));
    QVERIFY(page && next && list && acknowledge && caution && diffView);

    QTRY_VERIFY_WITH_TIMEOUT(page->state() == ui::CustomizationsPage::State::Customized, 30000);
    const int count = m_modifiedBinary.isEmpty() ? 4 : 5;
    QCOMPARE(list->topLevelItemCount(), count);
    QVERIFY(caution->isVisible());
    QVERIFY(caution->text().contains(QStringLiteral("will be lost")));
    QVERIFY(caution->text().contains(QStringLiteral("not safe")));
    QVERIFY(acknowledge->isVisible());
    QCOMPARE(acknowledge->text(),
             QStringLiteral("I &understand these %1 customizations will be overwritten").arg(count));
    QVERIFY(!acknowledge->isChecked());
    QVERIFY(!next->isEnabled());

    // The diff of the modified file beside the list.
    for (int row = 0; row < list->topLevelItemCount(); ++row) {
        if (list->topLevelItem(row)->text(0) == m_modifiedText)
            list->setCurrentItem(list->topLevelItem(row));
    }
    QTRY_VERIFY_WITH_TIMEOUT(diffView->showsDiff(), 20000);
    QVERIFY(diffView->toPlainText().contains(QStringLiteral("+/* ACME: our own colours */ changed line")));
    screenshot(&wizard, QStringLiteral("5-customizations"));

    // The File column has room for a path beside the three short ones; as narrow as on
    // 1024×768 at 150 %, the diff goes below the list, which keeps the whole width. The
    // date column holds a date, the time is in its tooltip.
    auto *splitter = qobject_cast<QSplitter *>(list->parentWidget());
    QVERIFY(splitter);
    QVERIFY2(list->header()->sectionSize(0) >= list->viewport()->width() / 3,
             qPrintable(QString::number(list->header()->sectionSize(0))));
    QCOMPARE(list->topLevelItem(0)->text(3).contains(QLatin1Char(':')), false);
    wizard.resize(ui::UpgradeWizard::kMinimumWidth, ui::UpgradeWizard::kMinimumHeight);
    QTRY_COMPARE(splitter->orientation(), Qt::Vertical);
    QTRY_VERIFY2(list->header()->sectionSize(0) >= list->viewport()->width() / 3,
                 qPrintable(QString::number(list->header()->sectionSize(0))));
    screenshot(&wizard, QStringLiteral("5-customizations-narrow"));

    QTest::mouseClick(acknowledge, Qt::LeftButton, {}, QPoint(8, acknowledge->height() / 2));
    QVERIFY(acknowledge->isChecked());
    QVERIFY(next->isEnabled());
    acknowledge->setChecked(false);
    QVERIFY(!next->isEnabled());
    acknowledge->setChecked(true);
    QTest::mouseClick(next, Qt::LeftButton);
    QCOMPARE(wizard.currentId(), int(ui::UpgradeWizard::NoticePageId));
    QStringList acknowledged = session.customizationsAcknowledged();
    acknowledged.sort();
    QCOMPARE(int(acknowledged.size()), count);
    QVERIFY(acknowledged.contains(kAddedText));
    QVERIFY(acknowledged.contains(m_deletedText));
}

void tst_Customizations::pageWritesReferenceBackup()
{
    customize();
    if (QTest::currentTestFailed())
        return;
    UpgradeSession session;
    prepareSession(session, Component::WebUi);
    if (QTest::currentTestFailed())
        return;
    ui::UpgradeWizard wizard(&session);
    wizard.setStartId(ui::UpgradeWizard::CustomizationsPageId);
    wizard.show();
    auto *page = wizard.findChild<ui::CustomizationsPage *>(QStringLiteral("customizationsPage"));
    QTRY_VERIFY_WITH_TIMEOUT(page->state() == ui::CustomizationsPage::State::Customized, 30000);
    QVERIFY(wizard.findChild<QPushButton *>(QStringLiteral("saveReferenceBackup"))->isEnabled());

    const QString archive = m_dir.filePath(QStringLiteral("page backup.tar.gz"));
    QSignalSpy finished(page, &ui::CustomizationsPage::backupFinished);
    page->saveReferenceBackup(archive);
    QVERIFY(finished.wait(30000));
    QVERIFY2(finished.at(0).at(0).toBool(), qPrintable(finished.at(0).at(1).toString()));
    QVERIFY(wizard.findChild<QLabel *>(QStringLiteral("backupStatus"))->text().contains(QStringLiteral("saved")));

    QProcess tar;
    tar.start(QStringLiteral("tar"), {QStringLiteral("-tzf"), archive});
    QVERIFY(tar.waitForFinished(20000));
    const QStringList names = QString::fromUtf8(tar.readAllStandardOutput()).split(u'\n', Qt::SkipEmptyParts);
    QVERIFY2(names.contains(m_modifiedText), qPrintable(names.join(u'|')));
    QVERIFY(names.contains(kAddedText));
    QVERIFY(names.contains(QStringLiteral("README.txt")));

    // Refused over an existing file unless told; the page says why.
    QSignalSpy again(page, &ui::CustomizationsPage::backupFinished);
    page->saveReferenceBackup(archive);
    QVERIFY(again.wait(30000));
    QVERIFY(!again.at(0).at(0).toBool());
    QVERIFY(again.at(0).at(1).toString().contains(QStringLiteral("not saved")));
}

void tst_Customizations::pageWithoutCustomizationsLetsUserOn()
{
    restore();
    UpgradeSession session;
    prepareSession(session, Component::WebUi);
    if (QTest::currentTestFailed())
        return;
    ui::UpgradeWizard wizard(&session);
    wizard.setStartId(ui::UpgradeWizard::CustomizationsPageId);
    wizard.show();
    auto *page = wizard.findChild<ui::CustomizationsPage *>(QStringLiteral("customizationsPage"));
    auto *next = wizard.button(QWizard::NextButton);
    QVERIFY(!next->isEnabled()); // still asking
    QTRY_VERIFY_WITH_TIMEOUT(page->state() == ui::CustomizationsPage::State::NoCustomizations, 30000);
    QVERIFY(next->isEnabled());
    QVERIFY(!wizard.findChild<QCheckBox *>(QStringLiteral("acknowledgeCustomizations"))->isVisible());
    QVERIFY(wizard.findChild<QLabel *>(QStringLiteral("customizationStatus"))->text().contains(QStringLiteral("No customizations")));
    QTest::mouseClick(next, Qt::LeftButton);
    QCOMPARE(wizard.currentId(), int(ui::UpgradeWizard::NoticePageId));
    QVERIFY(session.customizationsAcknowledged().isEmpty());
}

void tst_Customizations::pageWithoutWebUiUpgradeLetsUserOn()
{
    customize();
    if (QTest::currentTestFailed())
        return;
    UpgradeSession session;
    prepareSession(session, Component::Server); // no Web UI package
    if (QTest::currentTestFailed())
        return;
    ui::UpgradeWizard wizard(&session);
    wizard.setStartId(ui::UpgradeWizard::CustomizationsPageId);
    wizard.show();
    auto *page = wizard.findChild<ui::CustomizationsPage *>(QStringLiteral("customizationsPage"));
    QVERIFY(page->state() == ui::CustomizationsPage::State::NotUpgraded);
    QVERIFY(wizard.button(QWizard::NextButton)->isEnabled());
    QVERIFY(wizard.findChild<QLabel *>(QStringLiteral("customizationStatus"))->text().contains(QStringLiteral("not being upgraded")));
    QVERIFY(!wizard.findChild<QTreeWidget *>(QStringLiteral("customizationList"))->isVisible());
    restore();
}

void tst_Customizations::pageWhenFilesCannotBeCheckedNeedsAcknowledgement()
{
    // No baseline of the installed Web UI: neither the agent's own recording nor the
    // sandbox's pristine manifest. The page says so, lists what the package replaces,
    // and records a baseline on request.
    const QString manifest = m_dir.filePath(QStringLiteral("cluster/nodes/portal/manifests/webui-6.2.1-1200.sha256"));
    const QString aside = manifest + QStringLiteral(".aside");
    const QString baseline = m_dir.filePath(QStringLiteral("cluster/nodes/portal/agent/state/baselines/webui-6.2.1-1200.sha256"));
    QVERIFY(QFile::rename(manifest, aside));
    auto putBack = qScopeGuard([&] {
        QFile::rename(aside, manifest);
        QFile::remove(baseline); // later tests compare with the sandbox's manifest again
    });

    UpgradeSession session;
    prepareSession(session, Component::WebUi);
    if (QTest::currentTestFailed())
        return;
    ui::UpgradeWizard wizard(&session);
    wizard.setStartId(ui::UpgradeWizard::CustomizationsPageId);
    wizard.show();
    auto *page = wizard.findChild<ui::CustomizationsPage *>(QStringLiteral("customizationsPage"));
    auto *next = wizard.button(QWizard::NextButton);
    auto *acknowledge = wizard.findChild<QCheckBox *>(QStringLiteral("acknowledgeCustomizations"));
    auto *record = wizard.findChild<QPushButton *>(QStringLiteral("recordBaseline"));
    auto *replaced = wizard.findChild<QTreeWidget *>(QStringLiteral("replacedFiles"));
    QVERIFY(page && next && acknowledge && record && replaced);
    QTRY_VERIFY_WITH_TIMEOUT(page->state() == ui::CustomizationsPage::State::NoBaseline, 30000);
    const QString status = wizard.findChild<QLabel *>(QStringLiteral("customizationStatus"))->text();
    QVERIFY2(status.contains(QStringLiteral("No baseline")), qPrintable(status));
    QVERIFY(status.contains(QStringLiteral("6.2.1-1200")));
    // The files the new package will replace, read from the package itself.
    QVERIFY(replaced->isVisible());
    QTRY_VERIFY_WITH_TIMEOUT(replaced->topLevelItemCount() > 10, 20000); // read off the GUI thread
    QVERIFY(replaced->headerItem()->text(0).contains(QStringLiteral("replaces")));
    QVERIFY(record->isVisible());
    QVERIFY(acknowledge->isVisible());
    QVERIFY(!next->isEnabled());
    acknowledge->setChecked(true);
    QVERIFY(next->isEnabled());

    // Recording the baseline now: the agent keeps it, and the Web UI as it is now has
    // no customizations compared with it.
    QTest::mouseClick(record, Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(page->state() == ui::CustomizationsPage::State::NoCustomizations, 30000);
    QVERIFY(QFile::exists(baseline));
    QVERIFY(!QFile::exists(manifest)); // the sandbox's manifest was not what was used
    QVERIFY(next->isEnabled());
    QVERIFY(!record->isVisible());
}

void tst_Customizations::diffViewColoursLines()
{
    ui::DiffView view;
    view.setDiff(QStringLiteral("--- pristine/a.css\n+++ current/a.css\n@@ -1,2 +1,2 @@\n"
                                " same\n--- a removed line that starts with dashes\n+added\n"));
    QVERIFY(view.showsDiff());
    QVERIFY(view.isReadOnly());
    const auto formatOf = [&view](int blockNumber) {
        const QList<QTextLayout::FormatRange> formats =
            view.document()->findBlockByNumber(blockNumber).layout()->formats();
        return formats.isEmpty() ? QTextCharFormat() : formats.first().format;
    };
    QCOMPARE(formatOf(0).fontWeight(), int(QFont::Bold)); // file label
    const QColor removed = formatOf(4).foreground().color();
    const QColor added = formatOf(5).foreground().color();
    QVERIFY(formatOf(2).background().style() != Qt::NoBrush); // hunk header
    QVERIFY(formatOf(3).foreground().style() == Qt::NoBrush); // context
    QVERIFY(removed.red() > removed.green());
    QVERIFY(added.green() > added.red());
    QVERIFY(formatOf(4).fontWeight() != int(QFont::Bold)); // not mistaken for a label

    // A message is plain text, not coloured as a diff.
    view.showMessage(QStringLiteral("-not a removed line"));
    QVERIFY(!view.showsDiff());
    QVERIFY(formatOf(0).foreground().style() == Qt::NoBrush);
}

QTEST_MAIN(tst_Customizations)
#include "tst_customizations.moc"

// The notice page of the real wizard over a real sandbox cluster: the draft follows
// the fields live, the exports (.eml, .ics, clipboard, mail client) do what they say,
// saving over a file asks first, a failed write says why and keeps the draft, and the
// session records what was done for the run's report.

#include "discover/discovery.h"
#include "pages/noticepage.h"
#include "session/sandboxcluster.h"
#include "session/upgradesession.h"
#include "pages/upgradewizard.h"

#include <QApplication>
#include <QClipboard>
#include <QDesktopServices>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QTextBrowser>
#include <QTimer>
#include <QScopeGuard>

using namespace ft;

namespace {

const QDateTime kStart(QDate(2026, 12, 6), QTime(3, 0), Qt::UTC);

QByteArray readAll(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

// Runs Python's own parsers on an export and returns what they read.
QJsonObject parseWithPython(const QString &script, const QString &path)
{
    QProcess python;
    python.start(QStringLiteral("/usr/bin/python3"), {QStringLiteral("-c"), script, path});
    python.waitForFinished(20000);
    const QJsonObject result = QJsonDocument::fromJson(python.readAllStandardOutput()).object();
    if (result.isEmpty())
        qWarning().noquote() << python.readAllStandardError();
    return result;
}

const char kEmailScript[] = R"(
import email, json, sys
from email import policy
msg = email.message_from_bytes(open(sys.argv[1], 'rb').read(), policy=policy.default)
print(json.dumps({
  'subject': str(msg['Subject']), 'from': str(msg['From']), 'to': str(msg['To']),
  'unsent': str(msg['X-Unsent']), 'type': msg.get_content_type(),
  'text': msg.get_body(('plain',)).get_content(),
  'html': msg.get_body(('html',)).get_content()}))
)";

const char kCalendarScript[] = R"(
import icalendar, json, sys
cal = icalendar.Calendar.from_ical(open(sys.argv[1], 'rb').read())
ev = [c for c in cal.walk() if c.name == 'VEVENT'][0]
print(json.dumps({'start': ev.decoded('DTSTART').isoformat(),
                  'end': ev.decoded('DTEND').isoformat(),
                  'summary': str(ev.get('SUMMARY')), 'description': str(ev.get('DESCRIPTION'))}))
)";

// Answers the next message box that opens with `button`, and says what it read.
class BoxAnswerer : public QObject
{
public:
    explicit BoxAnswerer(QMessageBox::StandardButton button)
        : m_button(button)
    {
        auto *timer = new QTimer(this);
        connect(timer, &QTimer::timeout, this, [this, timer] {
            auto *box = qobject_cast<QMessageBox *>(QApplication::activeModalWidget());
            if (!box)
                return;
            text = box->text();
            timer->stop();
            box->button(m_button)->click();
        });
        timer->start(20);
    }
    QString text;

private:
    QMessageBox::StandardButton m_button;
};

} // namespace

// Takes the place of the desktop's mail client (QDesktopServices::setUrlHandler).
class MailClient : public QObject
{
    Q_OBJECT
public:
    QList<QUrl> opened;
public Q_SLOTS:
    void open(const QUrl &url) { opened.append(url); }
};

class tst_NoticePage : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void init();
    void cleanup();
    void draftFollowsFields();
    void savesEmlAndIcs();
    void savingOverAFileAsksFirst();
    void failedWriteSaysWhyAndKeepsDraft();
    void copiesTextAndHtml();
    void opensMailClientOrOffersEml();

private:
    template<typename T>
    T *child(const char *name) const
    {
        T *widget = m_wizard->findChild<T *>(QLatin1String(name));
        if (!widget)
            qWarning() << "no child" << name;
        return widget;
    }
    void fillFields(const QString &contact = QStringLiteral("Jörg in the NOC, +1 555 0100"));

    QTemporaryDir m_dir;
    SandboxClusterFile m_cluster;
    UpgradeSession *m_session = nullptr;
    ui::UpgradeWizard *m_wizard = nullptr;
    ui::NoticePage *m_page = nullptr;
};

void tst_NoticePage::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QStandardPaths::setTestModeEnabled(true);
    QSettings::setDefaultFormat(QSettings::IniFormat);
    QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, m_dir.filePath(QStringLiteral("settings")));

    SandboxLaunchJob job;
    job.setToolDirectory(QStringLiteral(FT_BIN_DIR));
    job.setDirectory(m_dir.filePath(QStringLiteral("cluster")));
    job.setArguments({QStringLiteral("--workers"), QStringLiteral("2"), QStringLiteral("--flows"),
                      QStringLiteral("w1=50"), QStringLiteral("--webui-files"), QStringLiteral("20")});
    job.addPackage({QStringLiteral("--version"), QStringLiteral("6.3.0-1500"), QStringLiteral("--component"),
                    QStringLiteral("server"), QStringLiteral("-o"), m_dir.filePath(QStringLiteral("server.ftpkg"))});
    QSignalSpy finished(&job, &SandboxLaunchJob::finished);
    job.start();
    QVERIFY(finished.wait(120000));
    QVERIFY2(!job.hasError(), qPrintable(job.errorString()));
    m_cluster = job.cluster();
}

void tst_NoticePage::cleanupTestCase()
{
    if (QFile::exists(m_dir.filePath(QStringLiteral("cluster/cluster.json"))))
        QVERIFY(stopSandboxCluster(m_dir.filePath(QStringLiteral("cluster")), QStringLiteral(FT_BIN_DIR)));
}

void tst_NoticePage::init()
{
    m_session = new UpgradeSession;
    const SandboxNode *portal = m_cluster.portal();
    QVERIFY(portal);
    for (const SandboxNode &node : m_cluster.nodes)
        m_session->addKnownFingerprint(node.agentUrl, node.agentFingerprint);
    m_session->setPortal({portal->name, portal->agentUrl, portal->agentFingerprint, m_cluster.token});
    QSignalSpy discovered(m_session->discovery(), &ClusterDiscovery::finished);
    m_session->discovery()->start();
    QVERIFY(discovered.wait(30000));
    QCOMPARE(int(m_session->nodes().size()), 3);
    const auto choice = PackageChoice::fromFile(m_dir.filePath(QStringLiteral("server.ftpkg")));
    QVERIFY2(choice, qPrintable(choice.error()));
    m_session->setPackage(Component::Server, *choice);
    PlanOptions options = m_session->planOptions();
    options.startTime = kStart;
    m_session->setPlanOptions(options);

    m_wizard = new ui::UpgradeWizard(m_session);
    m_wizard->setStartId(ui::UpgradeWizard::NoticePageId);
    m_wizard->resize(1100, 760);
    m_wizard->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_wizard));
    m_page = child<ui::NoticePage>("noticePage");
    QVERIFY(m_page);
    QCOMPARE(m_wizard->currentId(), int(ui::UpgradeWizard::NoticePageId));
}

void tst_NoticePage::cleanup()
{
    delete m_wizard;
    m_wizard = nullptr;
    delete m_session;
    m_session = nullptr;
    QSettings().clear(); // remembered fields would leak into the next test
}

void tst_NoticePage::fillFields(const QString &contact)
{
    child<QLineEdit>("noticeRecipients")->setText(QStringLiteral("FlowTraq users <users@example.org>, Doe, Jane <jane@example.org>"));
    child<QLineEdit>("noticeSender")->setText(QStringLiteral("NOC <noc@example.org>"));
    child<QLineEdit>("noticeContact")->setText(contact);
}

void tst_NoticePage::draftFollowsFields()
{
    auto *preview = child<QTextBrowser>("noticePreview");
    auto *text = child<QPlainTextEdit>("noticeText");
    auto *problem = child<QLabel>("noticeProblem");
    auto *saveEml = child<QPushButton>("saveEml");
    // The page never holds the upgrade up.
    QVERIFY(m_wizard->button(QWizard::NextButton)->isEnabled());

    // Drafted from the plan at once: the window, the workers, the flow gap on w1.
    QVERIFY(m_page->draft());
    QVERIFY(text->toPlainText().contains(QStringLiteral("w1")));
    QVERIFY(text->toPlainText().contains(QStringLiteral("2026")));
    QVERIFY(!saveEml->isEnabled()); // no sender yet

    fillFields();
    QVERIFY(m_page->draft());
    if (const QString folder = qEnvironmentVariable("FT_SCREENSHOT_DIR"); !folder.isEmpty() && QDir().mkpath(folder))
        m_wizard->grab().save(QDir(folder).filePath(QStringLiteral("6-notice.png")));
    QVERIFY(preview->toPlainText().contains(QStringLiteral("Jörg in the NOC")));
    QVERIFY(text->toPlainText().contains(QStringLiteral("Jörg in the NOC")));
    QCOMPARE(int(m_page->draft()->recipients.size()), 2);
    QCOMPARE(m_page->draft()->recipients.at(1).displayName, QStringLiteral("Doe, Jane"));
    QVERIFY(saveEml->isEnabled());
    QVERIFY(!child<QLabel>("noticeSubject")->text().isEmpty());

    // A bad sender: the page says what to fix, keeps the last preview, holds the exports.
    child<QLineEdit>("noticeSender")->setText(QStringLiteral("not an address"));
    QVERIFY(!m_page->draft());
    QVERIFY(problem->isVisible());
    QVERIFY(problem->text().contains(QStringLiteral("Sender")));
    QVERIFY(!saveEml->isEnabled());
    QVERIFY(preview->toPlainText().contains(QStringLiteral("Jörg in the NOC")));
    child<QLineEdit>("noticeSender")->setText(QStringLiteral("noc@example.org"));
    QVERIFY(m_page->draft());
    QVERIFY(!problem->isVisible());
}

void tst_NoticePage::savesEmlAndIcs()
{
    fillFields();
    const QString eml = m_dir.filePath(QStringLiteral("out/notice.eml"));
    const QString ics = m_dir.filePath(QStringLiteral("out/notice.ics"));
    QDir().mkpath(m_dir.filePath(QStringLiteral("out")));
    QFile::remove(eml);
    QFile::remove(ics);
    QVERIFY(m_page->save(ui::NoticePage::Export::Eml, eml));
    QVERIFY(m_page->save(ui::NoticePage::Export::Ics, ics));

    const QJsonObject mail = parseWithPython(QLatin1String(kEmailScript), eml);
    QCOMPARE(mail.value(QStringLiteral("subject")).toString(), m_page->draft()->subject);
    QVERIFY(mail.value(QStringLiteral("from")).toString().contains(QStringLiteral("noc@example.org")));
    QVERIFY(mail.value(QStringLiteral("to")).toString().contains(QStringLiteral("jane@example.org")));
    QCOMPARE(mail.value(QStringLiteral("unsent")).toString(), QStringLiteral("1"));
    QCOMPARE(mail.value(QStringLiteral("type")).toString(), QStringLiteral("multipart/alternative"));
    QVERIFY(mail.value(QStringLiteral("text")).toString().contains(QStringLiteral("Jörg in the NOC")));
    QVERIFY(mail.value(QStringLiteral("html")).toString().contains(QStringLiteral("Jörg in the NOC")));

    const QJsonObject calendar = parseWithPython(QLatin1String(kCalendarScript), ics);
    QCOMPARE(QDateTime::fromString(calendar.value(QStringLiteral("start")).toString(), Qt::ISODate), kStart);
    QVERIFY(QDateTime::fromString(calendar.value(QStringLiteral("end")).toString(), Qt::ISODate) > kStart);
    QCOMPARE(calendar.value(QStringLiteral("summary")).toString(), m_page->draft()->subject);

    // What was done is kept for the run's report.
    QVERIFY(m_session->noticeSent().contains(QStringLiteral("draft exported to ")));
    QVERIFY(m_session->noticeSent().contains(QDir::toNativeSeparators(eml)));
    QVERIFY(m_session->noticeSent().contains(QDir::toNativeSeparators(ics)));
}

void tst_NoticePage::savingOverAFileAsksFirst()
{
    fillFields();
    const QString path = m_dir.filePath(QStringLiteral("existing.eml"));
    QFile::remove(path);
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("keep me");
    file.close();

    {
        BoxAnswerer no(QMessageBox::No);
        QVERIFY(!m_page->save(ui::NoticePage::Export::Eml, path));
        QVERIFY(no.text.contains(QStringLiteral("already exists")));
    }
    QCOMPARE(readAll(path), QByteArray("keep me"));
    QVERIFY(child<QLabel>("noticeStatus")->text().contains(QStringLiteral("kept")));
    QVERIFY(m_session->noticeSent().isEmpty());

    {
        BoxAnswerer yes(QMessageBox::Yes);
        QVERIFY(m_page->save(ui::NoticePage::Export::Eml, path));
        QVERIFY(!yes.text.isEmpty());
    }
    QVERIFY(readAll(path).contains("X-Unsent: 1"));
}

void tst_NoticePage::failedWriteSaysWhyAndKeepsDraft()
{
    fillFields();
    const QString before = child<QPlainTextEdit>("noticeText")->toPlainText();
    const QString path = m_dir.filePath(QStringLiteral("no such folder/notice.ics"));
    QVERIFY(!m_page->save(ui::NoticePage::Export::Ics, path));
    auto *status = child<QLabel>("noticeStatus");
    QVERIFY2(status->text().contains(QStringLiteral("does not exist")), qPrintable(status->text()));
    QVERIFY(!QFile::exists(path));
    // The draft and the fields are as they were.
    QCOMPARE(child<QPlainTextEdit>("noticeText")->toPlainText(), before);
    QVERIFY(child<QLineEdit>("noticeContact")->text().contains(QStringLiteral("Jörg")));
    QVERIFY(m_page->draft());
    QVERIFY(m_session->noticeSent().isEmpty());
}

void tst_NoticePage::copiesTextAndHtml()
{
    fillFields();
    QTest::mouseClick(child<QPushButton>("copyNotice"), Qt::LeftButton);
    const QMimeData *mime = QApplication::clipboard()->mimeData();
    QVERIFY(mime);
    QVERIFY(mime->hasText());
    QVERIFY(mime->hasHtml());
    QCOMPARE(mime->text(), m_page->draft()->textBody);
    QCOMPARE(mime->html(), m_page->draft()->htmlBody);
    QVERIFY(m_session->noticeSent().contains(QStringLiteral("clipboard")));
}

void tst_NoticePage::opensMailClientOrOffersEml()
{
    MailClient mailClient;
    QDesktopServices::setUrlHandler(QStringLiteral("mailto"), &mailClient, "open");
    auto guard = qScopeGuard([] { QDesktopServices::unsetUrlHandler(QStringLiteral("mailto")); });

    fillFields(QStringLiteral("the NOC"));
    QTest::mouseClick(child<QPushButton>("openMailClient"), Qt::LeftButton);
    QCOMPARE(int(mailClient.opened.size()), 1);
    const QUrl url = mailClient.opened.first();
    QCOMPARE(url.scheme(), QStringLiteral("mailto"));
    QVERIFY(url.toString().contains(QStringLiteral("users@example.org")));
    QVERIFY(url.toString(QUrl::FullyEncoded).size() <= kMailtoSafeLength);
    QVERIFY(m_session->noticeSent().contains(QStringLiteral("mail client")));

    // Too long for a mail link: the .eml is offered instead, and nothing is opened.
    fillFields(QStringLiteral("the NOC ") + QString(2500, u'x'));
    {
        BoxAnswerer cancel(QMessageBox::Cancel);
        QTest::mouseClick(child<QPushButton>("openMailClient"), Qt::LeftButton);
        QVERIFY(cancel.text.contains(QStringLiteral(".eml")));
    }
    QCOMPARE(int(mailClient.opened.size()), 1);
}

QTEST_MAIN(tst_NoticePage)
#include "tst_noticepage.moc"

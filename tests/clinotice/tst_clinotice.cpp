// `ftupgrade-cli customizations` and `ftupgrade-cli notify` as a script runs them,
// against a real sandbox cluster: their JSON, their exit codes, and the .eml/.ics
// that notify writes, read back by Python's email and icalendar parsers.

#include "session/sandboxcluster.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QScopeGuard>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace ft;

namespace {

struct Run
{
    int exitCode = -1;
    QJsonObject json;
    QString errors;
};

QByteArray readAll(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

const char kEmailScript[] = R"(
import email, json, sys
from email import policy
msg = email.message_from_bytes(open(sys.argv[1], 'rb').read(), policy=policy.default)
print(json.dumps({
  'subject': str(msg['Subject']), 'from': str(msg['From']),
  'to': [a.addr_spec for a in msg['To'].addresses], 'unsent': str(msg['X-Unsent']),
  'type': msg.get_content_type(),
  'text': msg.get_body(('plain',)).get_content(),
  'html': msg.get_body(('html',)).get_content()}))
)";

const char kCalendarScript[] = R"(
import icalendar, json, sys
cal = icalendar.Calendar.from_ical(open(sys.argv[1], 'rb').read())
ev = [c for c in cal.walk() if c.name == 'VEVENT'][0]
print(json.dumps({'start': ev.decoded('DTSTART').isoformat(),
                  'end': ev.decoded('DTEND').isoformat(),
                  'summary': str(ev.get('SUMMARY')), 'description': str(ev.get('DESCRIPTION')),
                  'organizer': str(ev.get('ORGANIZER'))}))
)";

} // namespace

class tst_CliNotice : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void customizationsNone();
    void customizationsSome();
    void customizationsCannotCheck();
    void customizationsBadInput_data();
    void customizationsBadInput();
    void notifyWritesEmlAndIcs();
    void notifyKeepsExistingFiles();
    void notifyBadInput_data();
    void notifyBadInput();

private:
    Run cli(const QStringList &arguments) const;
    QJsonObject python(const char *script, const QString &path) const;
    QString clusterDir() const { return m_dir.filePath(QStringLiteral("cluster")); }
    QString serverPackage() const { return m_dir.filePath(QStringLiteral("server-6.3.0.ftpkg")); }
    QStringList notifyArguments(const QString &out) const;

    QTemporaryDir m_dir;
    QString m_webUi;
};

void tst_CliNotice::initTestCase()
{
    QVERIFY(m_dir.isValid());
    SandboxLaunchJob job;
    job.setToolDirectory(QStringLiteral(FT_BIN_DIR));
    job.setDirectory(clusterDir());
    job.setArguments({QStringLiteral("--workers"), QStringLiteral("2"), QStringLiteral("--flows"),
                      QStringLiteral("w2=40"), QStringLiteral("--webui-files"), QStringLiteral("30")});
    job.addPackage({QStringLiteral("--version"), QStringLiteral("6.3.0-1500"), QStringLiteral("--component"),
                    QStringLiteral("server"), QStringLiteral("-o"), serverPackage()});
    QSignalSpy finished(&job, &SandboxLaunchJob::finished);
    job.start();
    QVERIFY(finished.wait(120000));
    QVERIFY2(!job.hasError(), qPrintable(job.errorString()));
    m_webUi = QDir(clusterDir()).filePath(QStringLiteral("nodes/portal/webui"));
}

void tst_CliNotice::cleanupTestCase()
{
    if (QFile::exists(QDir(clusterDir()).filePath(QStringLiteral("cluster.json"))))
        QVERIFY(stopSandboxCluster(clusterDir(), QStringLiteral(FT_BIN_DIR)));
}

Run tst_CliNotice::cli(const QStringList &arguments) const
{
    QProcess process;
    // The CLI's settings, history and logs stay inside the test.
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(QStringLiteral("HOME"), m_dir.filePath(QStringLiteral("home")));
    environment.insert(QStringLiteral("XDG_CONFIG_HOME"), m_dir.filePath(QStringLiteral("home/config")));
    environment.insert(QStringLiteral("XDG_DATA_HOME"), m_dir.filePath(QStringLiteral("home/data")));
    environment.insert(QStringLiteral("XDG_STATE_HOME"), m_dir.filePath(QStringLiteral("home/state")));
    environment.remove(QStringLiteral("FTUPGRADE_TOKEN"));
    process.setProcessEnvironment(environment);
    process.start(QDir(QStringLiteral(FT_BIN_DIR)).filePath(QStringLiteral("ftupgrade-cli")), arguments);
    Run run;
    if (!process.waitForFinished(60000)) {
        process.kill();
        process.waitForFinished();
        run.errors = QStringLiteral("ftupgrade-cli did not finish");
        return run;
    }
    run.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    run.json = QJsonDocument::fromJson(process.readAllStandardOutput()).object();
    run.errors = QString::fromLocal8Bit(process.readAllStandardError());
    return run;
}

QJsonObject tst_CliNotice::python(const char *script, const QString &path) const
{
    QProcess process;
    process.start(QStringLiteral("/usr/bin/python3"), {QStringLiteral("-c"), QLatin1String(script), path});
    process.waitForFinished(20000);
    const QJsonObject result = QJsonDocument::fromJson(process.readAllStandardOutput()).object();
    if (result.isEmpty())
        qWarning().noquote() << process.readAllStandardError();
    return result;
}

void tst_CliNotice::customizationsNone()
{
    const Run run = cli({QStringLiteral("customizations"), QStringLiteral("--sandbox"), clusterDir()});
    QVERIFY2(run.exitCode == 0, qPrintable(QString::number(run.exitCode) + run.errors));
    QCOMPARE(run.json.value(QStringLiteral("count")).toInt(), 0);
    QCOMPARE(run.json.value(QStringLiteral("files")).toArray().size(), 0);
    QCOMPARE(run.json.value(QStringLiteral("version")).toString(), QStringLiteral("6.2.1-1200"));
}

void tst_CliNotice::customizationsSome()
{
    // A modified text file and an added file with spaces and non-ASCII in its name.
    QStringList texts;
    for (const QFileInfo &info : QDir(m_webUi).entryInfoList({QStringLiteral("*.css"), QStringLiteral("*.js"),
                                                              QStringLiteral("*.html")}, QDir::Files, QDir::Name))
        texts << info.fileName();
    if (texts.isEmpty()) {
        // Fall back on any file of the tree that reads as text.
        for (const QFileInfo &info : QDir(m_webUi).entryInfoList(QDir::Files, QDir::Name)) {
            if (info.fileName() != QLatin1String("VERSION") && !readAll(info.filePath()).contains('\0'))
                texts << info.fileName();
        }
    }
    QVERIFY(!texts.isEmpty());
    const QString modified = texts.first();
    const QByteArray original = readAll(QDir(m_webUi).filePath(modified));
    const QString added = QStringLiteral("Ünser Logo (neu).svg");
    auto restore = qScopeGuard([&] {
        QFile file(QDir(m_webUi).filePath(modified));
        if (file.open(QIODevice::WriteOnly | QIODevice::Truncate))
            file.write(original);
        QFile::remove(QDir(m_webUi).filePath(added));
    });
    {
        QFile file(QDir(m_webUi).filePath(modified));
        QVERIFY(file.open(QIODevice::Append));
        file.write("\n/* site tweak */\n");
        QFile extra(QDir(m_webUi).filePath(added));
        QVERIFY(extra.open(QIODevice::WriteOnly));
        extra.write("<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n");
    }

    const QString backup = m_dir.filePath(QStringLiteral("cli backup.zip"));
    const Run run = cli({QStringLiteral("customizations"), QStringLiteral("--sandbox"), clusterDir(),
                         QStringLiteral("--diffs"), QStringLiteral("--backup"), backup});
    QVERIFY2(run.exitCode == 1, qPrintable(QString::number(run.exitCode) + run.errors));
    QCOMPARE(run.json.value(QStringLiteral("count")).toInt(), 2);
    QHash<QString, QJsonObject> files;
    for (const QJsonValue &value : run.json.value(QStringLiteral("files")).toArray())
        files.insert(value[QStringLiteral("path")].toString(), value.toObject());
    QVERIFY2(files.contains(modified), qPrintable(QJsonDocument(run.json).toJson()));
    QVERIFY(files.contains(added));
    QCOMPARE(files.value(modified).value(QStringLiteral("change")).toString(), QStringLiteral("modified"));
    QCOMPARE(files.value(added).value(QStringLiteral("change")).toString(), QStringLiteral("added"));
    QCOMPARE(files.value(added).value(QStringLiteral("size")).toInteger(),
             QFileInfo(QDir(m_webUi).filePath(added)).size());
    QVERIFY(files.value(modified).value(QStringLiteral("diff")).toString().contains(QStringLiteral("+/* site tweak */")));
    QVERIFY(files.value(added).value(QStringLiteral("diff")).toString().startsWith(QStringLiteral("--- /dev/null")));
    QVERIFY(run.errors.contains(QStringLiteral("overwritten")));
    // The backup named in the JSON exists and holds the files.
    QCOMPARE(run.json.value(QStringLiteral("backup")).toString(), QFileInfo(backup).absoluteFilePath());
    QProcess unzip;
    unzip.start(QStringLiteral("/usr/bin/python3"),
                {QStringLiteral("-c"), QStringLiteral("import sys, zipfile; print('\\n'.join(zipfile.ZipFile(sys.argv[1]).namelist()))"),
                 backup});
    QVERIFY(unzip.waitForFinished(20000));
    const QString names = QString::fromUtf8(unzip.readAllStandardOutput());
    QVERIFY2(names.contains(added) && names.contains(modified) && names.contains(QStringLiteral("README")),
             qPrintable(names));

    // The backup is not replaced without --force (4: not done), and is with it.
    const Run again = cli({QStringLiteral("customizations"), QStringLiteral("--sandbox"), clusterDir(),
                           QStringLiteral("--backup"), backup});
    QCOMPARE(again.exitCode, 4);
    const Run forced = cli({QStringLiteral("customizations"), QStringLiteral("--sandbox"), clusterDir(),
                            QStringLiteral("--backup"), backup, QStringLiteral("--force")});
    QCOMPARE(forced.exitCode, 1);
}

void tst_CliNotice::customizationsCannotCheck()
{
    // Nothing listens there: not "none" (0) and not "some" (1), but 4.
    const QString token = m_dir.filePath(QStringLiteral("token"));
    QFile file(token);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("a-token-of-at-least-sixteen-characters\n");
    file.close();
    const Run run = cli({QStringLiteral("customizations"), QStringLiteral("--portal"), QStringLiteral("127.0.0.1:1"),
                         QStringLiteral("--fingerprint"), QString(64, u'a'), QStringLiteral("--token-file"), token});
    QVERIFY2(run.exitCode == 4, qPrintable(QString::number(run.exitCode) + run.errors));
    QVERIFY(!run.errors.isEmpty());
}

void tst_CliNotice::customizationsBadInput_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::newRow("no cluster") << QStringList{};
    QTest::newRow("unknown option") << QStringList{QStringLiteral("--bogus")};
    QTest::newRow("backup not an archive") << QStringList{QStringLiteral("--sandbox"), QStringLiteral("SANDBOX"),
                                                          QStringLiteral("--backup"), QStringLiteral("x.rar")};
    QTest::newRow("bad timeout") << QStringList{QStringLiteral("--sandbox"), QStringLiteral("SANDBOX"),
                                                QStringLiteral("--timeout"), QStringLiteral("0")};
}

void tst_CliNotice::customizationsBadInput()
{
    QFETCH(QStringList, arguments);
    arguments.replaceInStrings(QStringLiteral("SANDBOX"), clusterDir());
    const Run run = cli(QStringList{QStringLiteral("customizations")} + arguments);
    QCOMPARE(run.exitCode, 2);
    QVERIFY(!run.errors.isEmpty());
}

QStringList tst_CliNotice::notifyArguments(const QString &out) const
{
    return {QStringLiteral("notify"), QStringLiteral("--sandbox"), clusterDir(),
            QStringLiteral("--server-package"), serverPackage(),
            QStringLiteral("--start"), QStringLiteral("2026-12-06T03:00:00Z"),
            QStringLiteral("--drop-flows"), QStringLiteral("w2"), // its flows are not kept: a flow gap
            QStringLiteral("--time-zone"), QStringLiteral("Europe/Amsterdam"),
            QStringLiteral("--out"), out,
            QStringLiteral("--to"), QStringLiteral("FlowTraq users <users@example.org>"),
            QStringLiteral("--to"), QStringLiteral("ops@example.org; Jörg Müller <joerg@example.org>"),
            QStringLiteral("--from"), QStringLiteral("Network Operations <noc@example.org>"),
            QStringLiteral("--contact"), QStringLiteral("Jörg in the NOC, +1 555 0100")};
}

void tst_CliNotice::notifyWritesEmlAndIcs()
{
    const QString out = m_dir.filePath(QStringLiteral("notice out"));
    const Run run = cli(notifyArguments(out));
    QVERIFY2(run.exitCode == 0, qPrintable(QString::number(run.exitCode) + run.errors));
    const QString eml = QDir(out).filePath(QStringLiteral("notice.eml"));
    const QString ics = QDir(out).filePath(QStringLiteral("notice.ics"));
    QCOMPARE(run.json.value(QStringLiteral("eml")).toString(), eml);
    QCOMPARE(run.json.value(QStringLiteral("ics")).toString(), ics);
    const QString subject = run.json.value(QStringLiteral("subject")).toString();
    QVERIFY(!subject.isEmpty());
    const QDateTime start(QDate(2026, 12, 6), QTime(3, 0), Qt::UTC);
    QCOMPARE(QDateTime::fromString(run.json.value(QStringLiteral("window_start")).toString(), Qt::ISODate), start);

    const QJsonObject mail = python(kEmailScript, eml);
    QCOMPARE(mail.value(QStringLiteral("subject")).toString(), subject);
    QVERIFY(mail.value(QStringLiteral("from")).toString().contains(QStringLiteral("noc@example.org")));
    QCOMPARE(int(mail.value(QStringLiteral("to")).toArray().size()), 3);
    QVERIFY(mail.value(QStringLiteral("to")).toArray().contains(QStringLiteral("joerg@example.org")));
    QCOMPARE(mail.value(QStringLiteral("unsent")).toString(), QStringLiteral("1"));
    QCOMPARE(mail.value(QStringLiteral("type")).toString(), QStringLiteral("multipart/alternative"));
    const QString text = mail.value(QStringLiteral("text")).toString();
    QVERIFY(text.contains(QStringLiteral("Jörg in the NOC")));
    // What users notice, from the plan: the workers one at a time, w2's flow gap.
    QVERIFY2(text.contains(QStringLiteral("w1")) && text.contains(QStringLiteral("w2")), qPrintable(text));
    QVERIFY(text.contains(QStringLiteral("Flow data")));
    QVERIFY(mail.value(QStringLiteral("html")).toString().contains(QStringLiteral("Jörg in the NOC")));

    const QJsonObject calendar = python(kCalendarScript, ics);
    QCOMPARE(QDateTime::fromString(calendar.value(QStringLiteral("start")).toString(), Qt::ISODate), start);
    const QDateTime end = QDateTime::fromString(calendar.value(QStringLiteral("end")).toString(), Qt::ISODate);
    QVERIFY(end > start);
    QCOMPARE(end, QDateTime::fromString(run.json.value(QStringLiteral("window_end")).toString(), Qt::ISODate));
    QCOMPARE(calendar.value(QStringLiteral("summary")).toString(), subject);
    QVERIFY(calendar.value(QStringLiteral("description")).toString().contains(QStringLiteral("Jörg in the NOC")));
    QVERIFY(calendar.value(QStringLiteral("organizer")).toString().contains(QStringLiteral("noc@example.org")));
}

void tst_CliNotice::notifyKeepsExistingFiles()
{
    const QString out = m_dir.filePath(QStringLiteral("existing"));
    QVERIFY(QDir().mkpath(out));
    const QString ics = QDir(out).filePath(QStringLiteral("notice.ics"));
    QFile file(ics);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("keep me");
    file.close();

    const Run run = cli(notifyArguments(out));
    QCOMPARE(run.exitCode, 1);
    QVERIFY(run.errors.contains(QStringLiteral("already exists")));
    QCOMPARE(readAll(ics), QByteArray("keep me"));
    // Both or neither: the .eml was not written either.
    QVERIFY(!QFile::exists(QDir(out).filePath(QStringLiteral("notice.eml"))));

    const Run forced = cli(notifyArguments(out) << QStringLiteral("--force"));
    QVERIFY2(forced.exitCode == 0, qPrintable(forced.errors));
    QVERIFY(readAll(ics).startsWith("BEGIN:VCALENDAR"));
}

void tst_CliNotice::notifyBadInput_data()
{
    QTest::addColumn<QString>("drop");     // an option left out (with its value)
    QTest::addColumn<QStringList>("extra");
    QTest::addColumn<QString>("says");
    QTest::newRow("no start") << QStringLiteral("--start") << QStringList{} << QStringLiteral("--start");
    QTest::newRow("no out") << QStringLiteral("--out") << QStringList{} << QStringLiteral("--out");
    QTest::newRow("no sender") << QStringLiteral("--from") << QStringList{} << QStringLiteral("--from");
    QTest::newRow("no package") << QStringLiteral("--server-package") << QStringList{} << QStringLiteral("package");
    QTest::newRow("bad recipient") << QString() << QStringList{QStringLiteral("--to"), QStringLiteral("nobody")}
                                   << QStringLiteral("--to");
    QTest::newRow("bad zone") << QString() << QStringList{QStringLiteral("--time-zone"), QStringLiteral("Mars/Olympus")}
                              << QStringLiteral("--time-zone");
}

void tst_CliNotice::notifyBadInput()
{
    QFETCH(QString, drop);
    QFETCH(QStringList, extra);
    QFETCH(QString, says);
    const QString out = m_dir.filePath(QStringLiteral("bad-%1").arg(QTest::currentDataTag()).replace(u' ', u'-'));
    QStringList arguments = notifyArguments(out);
    if (!drop.isEmpty()) {
        const qsizetype at = arguments.indexOf(drop);
        arguments.remove(at, 2);
    }
    const Run run = cli(arguments + extra);
    QCOMPARE(run.exitCode, 2);
    QVERIFY2(run.errors.contains(says), qPrintable(run.errors));
    QVERIFY(!QFileInfo::exists(out)); // nothing written
}

QTEST_GUILESS_MAIN(tst_CliNotice)
#include "tst_clinotice.moc"

#include "notice/calendarexport.h"
#include "notice/commitment.h"
#include "notice/mailexport.h"
#include "notice/notice.h"
#include "notice/noticefacts.h"
#include "notice/noticetemplate.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>
#include <QUrlQuery>

using namespace ft;

namespace {

const QString kTemplates = QStringLiteral(FT_SOURCE_DIR "/resources/templates");

// Parses an .eml with Python's email package (default policy) and reports what a
// mail client would see, plus the raw line checks.
const char kEmlScript[] = R"PY(
import sys, json, email
from email import policy
from email.header import decode_header, make_header
raw = open(sys.argv[1], 'rb').read()
msg = email.message_from_bytes(raw, policy=policy.default)
legacy = email.message_from_bytes(raw, policy=policy.compat32)
lines = raw.split(b'\r\n')
defects = [str(d) for part in msg.walk() for d in part.defects]
for name in ('subject', 'from', 'to', 'date', 'message-id'):
    if msg[name] is not None:
        defects += [str(d) for d in msg[name].defects]
def mailboxes(header):
    return [[a.display_name, a.addr_spec] for a in header.addresses] if header else []
print(json.dumps({
    'bare_lf': b'\n' in raw.replace(b'\r\n', b''),
    'max_line': max(len(l) for l in lines),
    'ascii_only': all(b < 128 for b in raw),
    'subject': str(msg['subject']),
    'from': mailboxes(msg['from']),
    'to': mailboxes(msg['to']),
    'date': msg['date'].datetime.isoformat(),
    'message_id': str(msg['message-id']),
    'x_unsent': str(msg['x-unsent']),
    'mime_version': str(msg['mime-version']),
    'content_type': msg.get_content_type(),
    'parts': [[p.get_content_type(), p.get_content_charset(),
               str(p['content-transfer-encoding']), p.get_content().replace('\r\n', '\n')]
              for p in msg.iter_parts()],
    # RFC 2047 decoding of the raw To field, which drops the whitespace between two
    # encoded-words as RFC 2047 6.2 says (the phrase parser above keeps it: gh-128110).
    'to_decoded': str(make_header(decode_header(legacy['to']))) if legacy['to'] else '',
    'defects': defects,
}))
)PY";

// Parses an .ics with the icalendar package and reports the event.
const char kIcsScript[] = R"PY(
import sys, json
from icalendar import Calendar
raw = open(sys.argv[1], 'rb').read()
lines = raw.split(b'\r\n')
utf8_lines = True
for l in lines:
    try:
        l.decode('utf-8', 'strict')
    except UnicodeDecodeError:
        utf8_lines = False
cal = Calendar.from_ical(raw)
events = list(cal.walk('VEVENT'))
ev = events[0]
org = ev.get('organizer')
print(json.dumps({
    'bare_lf': b'\n' in raw.replace(b'\r\n', b''),
    'max_octets': max(len(l) for l in lines),
    'utf8_lines': utf8_lines,
    'events': len(events),
    'version': str(cal['version']),
    'prodid': str(cal['prodid']),
    'uid': str(ev['uid']),
    'dtstart': ev.decoded('dtstart').isoformat(),
    'dtend': ev.decoded('dtend').isoformat(),
    'dtstamp': ev.decoded('dtstamp').isoformat(),
    'summary': str(ev['summary']),
    'description': str(ev['description']),
    'organizer': str(org) if org is not None else None,
    'organizer_cn': str(org.params.get('CN')) if org is not None else None,
    'transp': str(ev['transp']),
}))
)PY";

QDateTime cet(int day, int hour, int minute)
{
    return QDateTime(QDate(2026, 12, day), QTime(hour, minute), QTimeZone("Europe/Amsterdam"));
}

} // namespace

class TestNotice : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void valuesFromAKnownPlan();
    void factsFromAnUpgradePlan();
    void draftFromShippedTemplates();
    void htmlValuesAreEscaped();
    void builtInTemplatesMatchTheShippedFiles();
    void renderSemantics_data();
    void renderSemantics();
    void badTemplatesGiveClearErrors_data();
    void badTemplatesGiveClearErrors();
    void customSubjectTemplate();
    void badFactsAndFields_data();
    void badFactsAndFields();
    void emlParsedByPython();
    void emlFoldsLongHeaders();
    void icsParsedByIcalendar();
    void mailtoUrlIsPercentEncoded();
    void saveRefusesToOverwrite();
    void shortOutageAndEditedBody();
    void lessNoticeThanChosenIsSaid();

private:
    NoticeFacts knownPlan() const;
    NoticeFields knownFields() const;
    NoticeDraft knownDraft();
    QJsonObject runPython(const char *script, const QByteArray &input, const QString &suffix);

    NoticeTemplates m_templates;
    QTemporaryDir m_dir;
};

void TestNotice::initTestCase()
{
    QVERIFY(m_dir.isValid());
    auto templates = NoticeTemplates::load(kTemplates);
    QVERIFY2(templates, qPrintable(templates ? QString() : templates.error()));
    m_templates = *templates;
}

NoticeFacts TestNotice::knownPlan() const
{
    NoticeFacts facts;
    facts.windowStart = cet(5, 22, 0);
    facts.windowEnd = cet(6, 1, 30);
    facts.adminZone = QTimeZone("Europe/Amsterdam");
    facts.clusterName = QStringLiteral("Acme <main> cluster");
    facts.targetVersion = QStringLiteral("8.4.0");
    // Deliberately out of order: the notice sorts by time.
    facts.periods = {
            {ImpactPeriod::PortalDown, cet(5, 22, 40), cet(5, 22, 55), {QStringLiteral("portal")}},
            {ImpactPeriod::WorkersSlow, cet(5, 22, 20), cet(5, 22, 35), {QStringLiteral("w2")}},
            {ImpactPeriod::WorkersSlow, cet(5, 22, 5), cet(5, 22, 20), {QStringLiteral("w1")}},
            {ImpactPeriod::WorkersSlow, cet(6, 0, 10), cet(6, 0, 25), {QStringLiteral("w3")}},
            {ImpactPeriod::NbiDown, cet(5, 23, 0), cet(5, 23, 5), {QStringLiteral("portal")}},
            {ImpactPeriod::WebUiDown, cet(5, 23, 5), cet(5, 23, 15), {QStringLiteral("portal")}},
    };
    facts.flowGaps = {{QStringLiteral("portal"), 6, cet(5, 22, 40)},
                      {QStringLiteral("w1"), 4, cet(5, 22, 5)}};
    return facts;
}

NoticeFields TestNotice::knownFields() const
{
    NoticeFields fields;
    fields.recipients = {QStringLiteral("Ünïcode Users <users@example.org>"),
                         QStringLiteral("noc@example.org"), QStringLiteral("  ")};
    fields.sender = QStringLiteral("Jörg Admin <jorg.admin@example.org>");
    fields.contact = QStringLiteral("NOC desk, +31 20 555 0100 & chat #flowtraq");
    return fields;
}

NoticeDraft TestNotice::knownDraft()
{
    auto draft = draftNotice(knownPlan(), knownFields(), m_templates);
    if (!draft)
        qWarning("%s", qPrintable(draft.error()));
    return draft ? *draft : NoticeDraft{};
}

QJsonObject TestNotice::runPython(const char *script, const QByteArray &input,
                                  const QString &suffix)
{
    const QString scriptPath = m_dir.filePath(QStringLiteral("check.py"));
    const QString inputPath = m_dir.filePath(QStringLiteral("notice") + suffix);
    QFile scriptFile(scriptPath);
    QFile inputFile(inputPath);
    if (!scriptFile.open(QIODevice::WriteOnly) || !inputFile.open(QIODevice::WriteOnly))
        return {};
    scriptFile.write(script);
    inputFile.write(input);
    scriptFile.close();
    inputFile.close();
    // Debian's interpreter: python3-icalendar is installed for it, not for others on PATH.
    QProcess python;
    python.start(QStringLiteral("/usr/bin/python3"), {scriptPath, inputPath});
    if (!python.waitForFinished(30000)) {
        python.kill();
        python.waitForFinished();
        return {};
    }
    const QByteArray error = python.readAllStandardError();
    if (!error.isEmpty())
        qWarning("python: %s", error.constData());
    return QJsonDocument::fromJson(python.readAllStandardOutput()).object();
}

void TestNotice::valuesFromAKnownPlan()
{
    const auto values = noticeValues(knownPlan(), knownFields());
    QVERIFY2(values, qPrintable(values ? QString() : values.error()));
    const QVariantMap &v = *values;
    QCOMPARE(v.value("window_start").toString(), QStringLiteral("Sat 5 Dec 2026 22:00 CET"));
    QCOMPARE(v.value("window_end").toString(), QStringLiteral("Sun 6 Dec 2026 01:30 CET"));
    QCOMPARE(v.value("window_start_utc").toString(), QStringLiteral("Sat 5 Dec 2026 21:00 UTC"));
    QCOMPARE(v.value("window_end_utc").toString(), QStringLiteral("Sun 6 Dec 2026 00:30 UTC"));
    QCOMPARE(v.value("window_date").toString(), QStringLiteral("Saturday 5 December 2026"));
    QCOMPARE(v.value("window_duration").toString(), QStringLiteral("3 h 30 min"));
    QCOMPARE(v.value("time_zone").toString(), QStringLiteral("Europe/Amsterdam"));
    QCOMPARE(v.value("time_zone_abbrev").toString(), QStringLiteral("CET"));
    QCOMPARE(v.value("utc_offset").toString(), QStringLiteral("UTC+01:00"));
    QCOMPARE(v.value("ends_next_day").toBool(), true);
    QCOMPARE(v.value("sender_name").toString(), QStringLiteral("Jörg Admin"));
    QCOMPARE(v.value("has_contact").toBool(), true);

    const QVariantList slow = v.value("slow_queries").toList();
    QCOMPARE(slow.size(), 3);
    QCOMPARE(slow.at(0).toMap().value("nodes").toString(), QStringLiteral("w1"));
    QCOMPARE(slow.at(0).toMap().value("when").toString(), QStringLiteral("22:05–22:20"));
    QCOMPARE(slow.at(0).toMap().value("start_utc").toString(),
             QStringLiteral("Sat 5 Dec 2026 21:05 UTC"));
    QCOMPARE(slow.at(0).toMap().value("duration").toString(), QStringLiteral("15 min"));
    QCOMPARE(slow.at(1).toMap().value("nodes").toString(), QStringLiteral("w2"));
    QCOMPARE(slow.at(2).toMap().value("when").toString(), QStringLiteral("Sun 00:10–Sun 00:25"));
    QCOMPARE(v.value("portal_down").toList().size(), 1);
    QCOMPARE(v.value("webui_down").toList().at(0).toMap().value("when").toString(),
             QStringLiteral("23:05–23:15"));
    QCOMPARE(v.value("nbi_down").toList().at(0).toMap().value("start").toString(),
             QStringLiteral("Sat 5 Dec 2026 23:00 CET"));

    const QVariantList gaps = v.value("flow_gaps").toList();
    QCOMPARE(gaps.size(), 2);
    QCOMPARE(gaps.at(0).toMap().value("node").toString(), QStringLiteral("w1"));
    QCOMPARE(gaps.at(0).toMap().value("minutes").toString(), QStringLiteral("4"));
    QCOMPARE(gaps.at(0).toMap().value("start_time").toString(), QStringLiteral("22:05"));
    QCOMPARE(gaps.at(1).toMap().value("node").toString(), QStringLiteral("portal"));

    // Every placeholder a template may use has a value (lists: in each item).
    for (const QString &name : NoticeTemplate::placeholders()) {
        if (name.contains(QLatin1Char('.'))) {
            const QString list = name.section(QLatin1Char('.'), 0, 0);
            const QVariantList items = v.value(list).toList();
            QVERIFY2(!items.isEmpty(), qPrintable(list));
            QVERIFY2(items.first().toMap().contains(name.section(QLatin1Char('.'), 1)),
                     qPrintable(name));
        } else {
            QVERIFY2(v.contains(name), qPrintable(name));
        }
    }

    // A summer window shows summer time, and a window within one day has no day names.
    NoticeFacts summer = knownPlan();
    summer.windowStart = QDateTime(QDate(2026, 7, 4), QTime(6, 0), QTimeZone("Europe/Amsterdam"));
    summer.windowEnd = summer.windowStart.addSecs(90 * 60);
    summer.periods
            = {{ImpactPeriod::PortalDown, summer.windowStart, summer.windowStart.addSecs(600), {}}};
    summer.flowGaps.clear();
    const auto july = noticeValues(summer, {});
    QVERIFY(july);
    QCOMPARE(july->value("window_start").toString(), QStringLiteral("Sat 4 Jul 2026 06:00 CEST"));
    QCOMPARE(july->value("window_start_utc").toString(),
             QStringLiteral("Sat 4 Jul 2026 04:00 UTC"));
    QCOMPARE(july->value("utc_offset").toString(), QStringLiteral("UTC+02:00"));
    QCOMPARE(july->value("ends_next_day").toBool(), false);
    QCOMPARE(july->value("has_flow_gaps").toBool(), false);
    QCOMPARE(july->value("has_contact").toBool(), false);
    QCOMPARE(july->value("portal_down").toList().at(0).toMap().value("when").toString(),
             QStringLiteral("06:00–06:10"));
}

// A plan as the planner makes it: staging, three workers one at a time, the portal's
// server, the NBI, then the Web UI; one worker already current.
void TestNotice::factsFromAnUpgradePlan()
{
    const qint64 minute = 60 * 1000;
    const auto step = [&](const QString &node, NodeRole role, Component component,
                          qint64 offsetMinutes, qint64 outageMinutes, bool flows) {
        PlanStep s;
        s.node = node;
        s.role = role;
        s.component = component;
        s.toVersion = *Version::parse(QStringLiteral("8.4.0"));
        s.estimate.outageMs = outageMinutes * minute;
        s.estimate.totalMs = (outageMinutes + 1) * minute;
        s.impact.receivesFlows = flows;
        s.startOffsetMs = offsetMinutes * minute;
        return s;
    };
    UpgradePlan plan;
    plan.startTime = QDateTime(QDate(2026, 12, 5), QTime(21, 0), QTimeZone::utc());
    plan.stageDurationMs = 5 * minute;
    plan.waves = {
            {QStringLiteral("Worker w1"),
             {step("w1", NodeRole::Worker, Component::Server, 5, 4, true)},
             5 * minute,
             5 * minute},
            {QStringLiteral("Worker w2"),
             {step("w2", NodeRole::Worker, Component::Server, 10, 4, false)},
             10 * minute,
             5 * minute},
            {QStringLiteral("Worker w10"),
             {step("w10", NodeRole::Worker, Component::Server, 15, 4, true)},
             15 * minute,
             5 * minute},
            {QStringLiteral("Portal server"),
             {step("portal", NodeRole::Portal, Component::Server, 20, 6, true)},
             20 * minute,
             7 * minute},
            {QStringLiteral("NBI"),
             {step("portal", NodeRole::Portal, Component::Nbi, 27, 2, false)},
             27 * minute,
             3 * minute},
            {QStringLiteral("Web UI"),
             {step("portal", NodeRole::Portal, Component::WebUi, 30, 3, false)},
             30 * minute,
             4 * minute},
    };
    PlanStep current = step("w3", NodeRole::Worker, Component::Server, 0, 4, true);
    current.skipped = true;
    plan.skipped = {current};
    plan.wallTimeMs = 34 * minute;

    NoticeFactsOptions options;
    options.adminZone = QTimeZone("America/New_York");
    options.clusterName = QStringLiteral("Lab");
    const NoticeFacts facts = noticeFactsFromPlan(plan, options);
    QCOMPARE(facts.windowStart, plan.startTime);
    QCOMPARE(facts.windowEnd, plan.startTime.addSecs(34 * 60));
    QCOMPARE(facts.targetVersion, QStringLiteral("8.4.0"));
    QCOMPARE(facts.clusterName, QStringLiteral("Lab"));

    // The three workers, one after the other, are one period of slower queries.
    QCOMPARE(facts.periods.size(), 4);
    const auto period = [&](ImpactPeriod::Kind kind) {
        for (const ImpactPeriod &p : facts.periods) {
            if (p.kind == kind)
                return p;
        }
        return ImpactPeriod{};
    };
    const ImpactPeriod slow = period(ImpactPeriod::WorkersSlow);
    QCOMPARE(slow.nodes, (QStringList{"w1", "w2", "w10"}));
    QCOMPARE(slow.start, plan.startTime.addSecs(5 * 60));
    QCOMPARE(slow.end, plan.startTime.addSecs(19 * 60));
    QCOMPARE(period(ImpactPeriod::PortalDown).start, plan.startTime.addSecs(20 * 60));
    QCOMPARE(period(ImpactPeriod::PortalDown).end, plan.startTime.addSecs(26 * 60));
    QCOMPARE(period(ImpactPeriod::NbiDown).nodes, QStringList{"portal"});
    QCOMPARE(period(ImpactPeriod::WebUiDown).end, plan.startTime.addSecs(33 * 60));

    // Flow gaps only where flows arrive, none for the skipped, current w3.
    QCOMPARE(facts.flowGaps.size(), 3);
    QCOMPARE(facts.flowGaps.at(0).node, QStringLiteral("w1"));
    QCOMPARE(facts.flowGaps.at(0).minutes, 4);
    QCOMPARE(facts.flowGaps.at(1).node, QStringLiteral("w10"));
    QCOMPARE(facts.flowGaps.at(2).node, QStringLiteral("portal"));
    QCOMPARE(facts.flowGaps.at(2).start, plan.startTime.addSecs(20 * 60));

    // A chosen start (a quiet window) moves everything with it; the notice reads well.
    options.start = QDateTime(QDate(2026, 12, 6), QTime(3, 0), QTimeZone("America/New_York"));
    const NoticeFacts moved = noticeFactsFromPlan(plan, options);
    QCOMPARE(moved.windowStart, QDateTime(QDate(2026, 12, 6), QTime(8, 0), QTimeZone::utc()));
    const auto draft = draftNotice(moved, knownFields(), m_templates);
    QVERIFY2(draft, qPrintable(draft ? QString() : draft.error()));
    QCOMPARE(draft->subject,
             QStringLiteral("FlowTraq maintenance on Sunday 6 December 2026, 03:00–03:34 EST"));
    QVERIFY2(
            draft->textBody.contains(QStringLiteral(
                    "- 03:05–03:19: queries are slower and results may be incomplete while workers "
                    "are upgraded (w1, w2, w10).")),
            qPrintable(draft->textBody));
    QVERIFY(draft->textBody.contains(QStringLiteral("(America/New_York, UTC-05:00)")));
    QVERIFY(draft->textBody.contains(QStringLiteral("- w10: about 4 minutes from 03:15")));
}

void TestNotice::draftFromShippedTemplates()
{
    const NoticeDraft draft = knownDraft();
    QCOMPARE(draft.subject,
             QStringLiteral("FlowTraq maintenance on Saturday 5 December 2026, 22:00–01:30 (next "
                            "day) CET"));
    QCOMPARE(draft.recipients.size(), 2);
    QCOMPARE(draft.recipients.at(0).displayName, QStringLiteral("Ünïcode Users"));
    QCOMPARE(draft.recipients.at(1).address, QStringLiteral("noc@example.org"));
    QVERIFY(draft.sender.has_value());
    QCOMPARE(draft.windowStart, QDateTime(QDate(2026, 12, 5), QTime(21, 0), QTimeZone::utc()));

    const QString text = draft.textBody;
    QVERIFY2(!text.contains(QLatin1String("{{")) && !text.contains(QLatin1String("}}")),
             qPrintable(text));
    QVERIFY2(text.startsWith(QLatin1String("Hello,\n")),
             qPrintable(text)); // the comment leaves no line
    QVERIFY2(!text.contains(QLatin1String("\n\n\n")), qPrintable(text));
    QVERIFY(text.contains(
            QStringLiteral("Acme <main> cluster will be upgraded to FlowTraq 8.4.0")));
    QVERIFY(text.contains(QStringLiteral(
            "Sat 5 Dec 2026 22:00 CET to Sun 6 Dec 2026 01:30 CET (Europe/Amsterdam, UTC+01:00)")));
    QVERIFY(text.contains(QStringLiteral("Sat 5 Dec 2026 21:00 UTC to Sun 6 Dec 2026 00:30 UTC")));
    QVERIFY(text.contains(QStringLiteral("Duration:   about 3 h 30 min")));
    // The labels stay in the plain text (and so in the .ics), as in the HTML.
    QVERIFY(text.contains(QStringLiteral("Local time: Sat 5 Dec 2026 22:00 CET")));
    QVERIFY(text.contains(QStringLiteral("UTC:        Sat 5 Dec 2026 21:00 UTC")));

    // What users see, in time order whatever its kind, one line each.
    const QStringList expectedOrder = {
            QStringLiteral("- 22:05–22:20: queries are slower and results may be incomplete while "
                           "workers are upgraded (w1)."),
            QStringLiteral("- 22:20–22:35: queries are slower and results may be incomplete while "
                           "workers are upgraded (w2)."),
            QStringLiteral("- 22:40–22:55: FlowTraq is not available while the portal is "
                           "upgraded: no queries"),
            QStringLiteral(
                    "- 23:00–23:05: the northbound interface (NBI) on portal is not available."),
            QStringLiteral("- 23:05–23:15: the FlowTraq Web UI is not available"),
            QStringLiteral("- Sun 00:10–Sun 00:25: queries are slower and results may be "
                           "incomplete while workers are upgraded (w3)."),
            QStringLiteral("- w1: about 4 minutes from 22:05"),
            QStringLiteral("- portal: about 6 minutes from 22:40"),
            QStringLiteral("Questions: NOC desk, +31 20 555 0100 & chat #flowtraq"),
            QStringLiteral("Regards,\nJörg Admin\n"),
    };
    qsizetype at = 0;
    for (const QString &expected : expectedOrder) {
        const qsizetype found = text.indexOf(expected, at);
        QVERIFY2(found >= 0,
                 qPrintable(QStringLiteral("missing or out of order: %1\n---\n%2")
                                    .arg(expected, text)));
        at = found + expected.size();
    }

    // Nothing about flow gaps or contact when the plan and fields have none.
    NoticeFacts quiet = knownPlan();
    quiet.flowGaps.clear();
    quiet.periods.clear();
    const auto plain = draftNotice(quiet, {}, m_templates);
    QVERIFY2(plain, qPrintable(plain ? QString() : plain.error()));
    QVERIFY(!plain->textBody.contains(QLatin1String("Flow data")));
    QVERIFY(!plain->textBody.contains(QLatin1String("Questions")));
    QVERIFY(!plain->textBody.contains(QLatin1String("- ")));
    QVERIFY2(!plain->textBody.contains(QLatin1String("\n\n\n")), qPrintable(plain->textBody));
    QVERIFY(plain->textBody.contains(QLatin1String("Acme <main> cluster")));

    // Flow gaps without other impacts: one blank line between the blocks, not more.
    quiet.flowGaps = knownPlan().flowGaps;
    const auto gapsOnly = draftNotice(quiet, knownFields(), m_templates);
    QVERIFY(gapsOnly);
    QVERIFY(!gapsOnly->textBody.contains(QLatin1String("What you will notice")));
    QVERIFY(gapsOnly->textBody.contains(
            QLatin1String("about 3 h 30 min\n\nFlow data will not be collected")));
    QVERIFY2(!gapsOnly->textBody.contains(QLatin1String("\n\n\n")), qPrintable(gapsOnly->textBody));
    QVERIFY(!gapsOnly->htmlBody.contains(QLatin1String("<ul>\n</ul>")));
}

void TestNotice::htmlValuesAreEscaped()
{
    const NoticeDraft draft = knownDraft();
    const QString html = draft.htmlBody;
    QVERIFY(html.contains(QStringLiteral("<p>Acme &lt;main&gt; cluster will be upgraded")));
    QVERIFY(!html.contains(QStringLiteral("<main>")));
    QVERIFY(html.contains(QStringLiteral("NOC desk, +31 20 555 0100 &amp; chat #flowtraq")));
    QVERIFY(html.contains(QStringLiteral("<li><b>22:05–22:20</b>: queries are slower")));
    QVERIFY(html.contains(QStringLiteral("<li>portal: about 6 minutes from 22:40</li>")));
    QVERIFY(!html.contains(QLatin1String("{{")));

    // The plain text keeps the same values unescaped.
    QVERIFY(draft.textBody.contains(QStringLiteral("& chat")));
}

void TestNotice::builtInTemplatesMatchTheShippedFiles()
{
    const auto builtIn = NoticeTemplates::load();
    QVERIFY2(builtIn, qPrintable(builtIn ? QString() : builtIn.error()));
    QCOMPARE(builtIn->text.source(), m_templates.text.source());
    QCOMPARE(builtIn->html.source(), m_templates.html.source());
    QCOMPARE(builtIn->subject.source(), m_templates.subject.source());
    QCOMPARE(builtIn->html.kind(), NoticeTemplate::Kind::Html);

    const auto missing = NoticeTemplates::load(m_dir.filePath(QStringLiteral("nowhere")));
    QVERIFY(!missing);
    QVERIFY2(missing.error().contains(QStringLiteral("notice-subject.txt")),
             qPrintable(missing.error()));
}

void TestNotice::renderSemantics_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("html");
    QTest::addColumn<bool>("flag");
    QTest::addColumn<QString>("expected");

    const QString block
            = QStringLiteral("A\n{{#has_contact}}\nB {{contact}}\n{{/has_contact}}\nC\n");
    QTest::newRow("standalone section, true")
            << block << false << true << QStringLiteral("A\nB x & <y>\nC\n");
    // Mustache libraries often leave an empty line here; a notice must not.
    QTest::newRow("standalone section, false")
            << block << false << false << QStringLiteral("A\nC\n");
    const QString list = QStringLiteral(
            "Gaps:\n  {{#flow_gaps}}\n  - {{node}} {{minutes}}\n  {{/flow_gaps}}\nEnd");
    QTest::newRow("indented list, items")
            << list << false << true << QStringLiteral("Gaps:\n  - w1 4\n  - w2 6\nEnd");
    QTest::newRow("indented list, empty") << list << false << false << QStringLiteral("Gaps:\nEnd");
    QTest::newRow("inverted") << QStringLiteral("{{^has_contact}}\nnone\n{{/has_contact}}\n")
                              << false << false << QStringLiteral("none\n");
    QTest::newRow("inline section keeps its line")
            << QStringLiteral("a {{#has_contact}}b{{/has_contact}} c\n") << false << false
            << QStringLiteral("a  c\n");
    QTest::newRow("blank line inside a section")
            << QStringLiteral("A\n{{#has_contact}}\n\nB\n{{/has_contact}}\n\nC") << false << true
            << QStringLiteral("A\n\nB\n\nC");
    QTest::newRow("comment alone and inline")
            << QStringLiteral("{{! alone }}\nA {{! inline }}B\n  {{! indented }}  \nC {{contact}}")
            << false << true << QStringLiteral("A B\nC x & <y>");
    QTest::newRow("html escapes values, not the template")
            << QStringLiteral("<p title=\"{{contact}}\">{{contact}} & co</p>") << true << true
            << QStringLiteral("<p title=\"x &amp; &lt;y&gt;\">x &amp; &lt;y&gt; & co</p>");
    QTest::newRow("text leaves values alone")
            << QStringLiteral("{{contact}} {{{contact}}} {{& contact}}") << false << true
            << QStringLiteral("x & <y> x & <y> x & <y>");
}

void TestNotice::renderSemantics()
{
    QFETCH(QString, text);
    QFETCH(bool, html);
    QFETCH(bool, flag);
    QFETCH(QString, expected);
    const auto parsed = NoticeTemplate::parse(
            text, html ? NoticeTemplate::Kind::Html : NoticeTemplate::Kind::PlainText,
            QStringLiteral("t"));
    QVERIFY2(parsed, qPrintable(parsed ? QString() : parsed.error()));
    QVariantList gaps;
    if (flag) {
        gaps << QVariantMap{{"node", "w1"}, {"minutes", "4"}}
             << QVariantMap{{"node", "w2"}, {"minutes", "6"}};
    }
    const QVariantMap values{{"has_contact", flag}, {"contact", "x & <y>"}, {"flow_gaps", gaps}};
    const auto rendered = parsed->render(values);
    QVERIFY2(rendered, qPrintable(rendered ? QString() : rendered.error()));
    QCOMPARE(*rendered, expected);

    // A value the caller forgot is an error, never an empty hole.
    const auto missing = parsed->render({});
    QVERIFY(!missing);
    QVERIFY2(missing.error().contains(QStringLiteral("has no value")), qPrintable(missing.error()));
}

void TestNotice::badTemplatesGiveClearErrors_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("html");
    QTest::addColumn<QStringList>("expected");

    const QString head = QStringLiteral("Hello,\n\n");
    QTest::newRow("typo") << head + QStringLiteral("Starts {{windw_start}}.\n") << false
                          << QStringList{"tpl.txt, line 3", "unknown placeholder {{windw_start}}",
                                         "Did you mean {{window_start}}?"};
    QTest::newRow("typo with spaces")
            << QStringLiteral("{{ clustr_name }}") << false
            << QStringList{"line 1", "{{ clustr_name }}", "{{cluster_name}}"};
    QTest::newRow("unknown, no suggestion")
            << QStringLiteral("a\n{{favourite_colour}}") << false
            << QStringList{"line 2", "unknown placeholder {{favourite_colour}}."};
    QTest::newRow("unclosed at end of line")
            << head + QStringLiteral("From {{window_start\nto x") << false
            << QStringList{"line 3", "\"{{window_start\" is not closed with }}"};
    QTest::newRow("unclosed before another tag")
            << QStringLiteral("{{window_start} to {{window_end}}") << false
            << QStringList{"line 1", "is not closed with }}"};
    QTest::newRow("missing opening brace") << head + QStringLiteral("x {window_end}} y") << false
                                           << QStringList{"line 3", "{window_end}}", "missing {"};
    QTest::newRow("closing brace too many")
            << QStringLiteral("{{window_end}}}") << false
            << QStringList{"line 1", "{{window_end}}} has one closing brace too many"};
    QTest::newRow("section never closed")
            << head + QStringLiteral("{{#flow_gaps}}\n- {{node}}\n") << false
            << QStringList{"line 3", "{{#flow_gaps}} is never closed with {{/flow_gaps}}"};
    QTest::newRow("sections crossed")
            << QStringLiteral("{{#has_contact}}\n{{#flow_gaps}}\n{{/has_contact}}\n{{/flow_gaps}}")
            << false
            << QStringList{"line 3",
                           "{{/has_contact}} does not match {{#flow_gaps}}, opened on line 2"};
    QTest::newRow("closing a section never opened")
            << QStringLiteral("x\n{{/flow_gaps}}") << false
            << QStringList{"line 2", "{{/flow_gaps}} closes a section that was never opened"};
    QTest::newRow("item outside its list")
            << QStringLiteral("{{node}}") << false
            << QStringList{"line 1",
                           "{{node}} can only be used inside a list such as {{#flow_gaps}}"};
    QTest::newRow("item inside an inverted list")
            << QStringLiteral("{{^flow_gaps}}{{node}}{{/flow_gaps}}") << false
            << QStringList{"{{node}} can only be used inside"};
    QTest::newRow("bad name") << QStringLiteral("{{window start}}") << false
                              << QStringList{"{{window start}} is not a valid placeholder"};
    QTest::newRow("empty tag") << QStringLiteral("a {{}} b") << false
                               << QStringList{"{{}} is not a valid placeholder"};
    QTest::newRow("partial") << QStringLiteral("{{> footer}}") << false << QStringList{"partials"};
    QTest::newRow("delimiters") << QStringLiteral("{{=<% %>=}}") << false
                                << QStringList{"delimiters"};
    QTest::newRow("unclosed comment")
            << QStringLiteral("{{! note") << false << QStringList{"line 1", "comment"};
    QTest::newRow("unescaped in HTML") << QStringLiteral("<p>{{{cluster_name}}}</p>") << true
                                       << QStringList{"without HTML escaping", "{{cluster_name}}"};
    QTest::newRow("ampersand in HTML") << QStringLiteral("<p>\n{{& contact}}</p>") << true
                                       << QStringList{"line 2", "without HTML escaping"};
}

void TestNotice::badTemplatesGiveClearErrors()
{
    QFETCH(QString, text);
    QFETCH(bool, html);
    QFETCH(QStringList, expected);
    const auto parsed = NoticeTemplate::parse(
            text, html ? NoticeTemplate::Kind::Html : NoticeTemplate::Kind::PlainText,
            QStringLiteral("tpl.txt"));
    QVERIFY2(!parsed, "the template must be refused");
    for (const QString &part : expected)
        QVERIFY2(parsed.error().contains(part),
                 qPrintable(parsed.error() + QStringLiteral("\n  lacks: ") + part));

    // The same mistake in an edited template file is refused when the file is loaded.
    QTemporaryDir folder;
    QVERIFY(folder.isValid());
    QVERIFY(QFile::copy(kTemplates + QStringLiteral("/notice-subject.txt"),
                        folder.filePath(QStringLiteral("notice-subject.txt"))));
    QVERIFY(QFile::copy(kTemplates + QStringLiteral("/notice.txt"),
                        folder.filePath(QStringLiteral("notice.txt"))));
    QVERIFY(QFile::copy(kTemplates + QStringLiteral("/notice.html"),
                        folder.filePath(QStringLiteral("notice.html"))));
    const QString edited
            = folder.filePath(html ? QStringLiteral("notice.html") : QStringLiteral("notice.txt"));
    QFile file(edited);
    QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
    file.write(text.toUtf8());
    file.close();
    const auto loaded = NoticeTemplates::load(folder.path());
    QVERIFY(!loaded);
    QVERIFY2(loaded.error().contains(edited), qPrintable(loaded.error()));
}

void TestNotice::customSubjectTemplate()
{
    NoticeFields fields = knownFields();
    fields.subjectTemplate = QStringLiteral("Upgrade to {{target_version}}\n  on {{window_date}}");
    const auto draft = draftNotice(knownPlan(), fields, m_templates);
    QVERIFY2(draft, qPrintable(draft ? QString() : draft.error()));
    QCOMPARE(draft->subject, QStringLiteral("Upgrade to 8.4.0 on Saturday 5 December 2026"));

    fields.subjectTemplate = QStringLiteral("Upgrade {{target_versoin}}");
    const auto bad = draftNotice(knownPlan(), fields, m_templates);
    QVERIFY(!bad);
    QVERIFY2(bad.error().contains(
                     QStringLiteral("the subject, line 1: unknown placeholder {{target_versoin}}")),
             qPrintable(bad.error()));
}

void TestNotice::badFactsAndFields_data()
{
    QTest::addColumn<int>("mistake");
    QTest::addColumn<QString>("expected");
    QTest::newRow("recipient") << 0
                               << QStringLiteral("\"users at example\" is not an e-mail address");
    QTest::newRow("sender") << 1
                            << QStringLiteral(
                                       "Sender: \"Admin <admin@>\" is not an e-mail address");
    QTest::newRow("window backwards") << 2 << QStringLiteral("must end after it starts");
    QTest::newRow("no window") << 3
                               << QStringLiteral("needs the maintenance window's start and end");
    QTest::newRow("no zone") << 4 << QStringLiteral("time zone");
    QTest::newRow("period backwards") << 5 << QStringLiteral("\"portal unavailable\" period");
    QTest::newRow("flow gap without minutes") << 6 << QStringLiteral("flow gap on \"w1\"");
}

void TestNotice::badFactsAndFields()
{
    QFETCH(int, mistake);
    QFETCH(QString, expected);
    NoticeFacts facts = knownPlan();
    NoticeFields fields = knownFields();
    switch (mistake) {
    case 0:
        fields.recipients << QStringLiteral("users at example");
        break;
    case 1:
        fields.sender = QStringLiteral("Admin <admin@>");
        break;
    case 2:
        std::swap(facts.windowStart, facts.windowEnd);
        break;
    case 3:
        facts.windowEnd = {};
        break;
    case 4:
        facts.adminZone = {};
        break;
    case 5:
        facts.periods[0].end = facts.periods[0].start.addSecs(-60);
        break;
    case 6:
        facts.flowGaps[1].minutes = 0;
        break;
    }
    const auto draft = draftNotice(facts, fields, m_templates);
    QVERIFY(!draft);
    QVERIFY2(draft.error().contains(expected), qPrintable(draft.error()));
}

void TestNotice::emlParsedByPython()
{
    const NoticeDraft draft = knownDraft();
    MailExportOptions options;
    options.date = QDateTime(QDate(2026, 11, 27), QTime(10, 15, 30), QTimeZone("Europe/Amsterdam"));
    options.messageId = QStringLiteral("notice-1@example.org");
    const auto eml = toEml(draft, options);
    QVERIFY2(eml, qPrintable(eml ? QString() : eml.error()));
    QVERIFY(eml->contains("\r\nDate: Fri, 27 Nov 2026 10:15:30 +0100\r\n"));

    const QJsonObject parsed = runPython(kEmlScript, *eml, QStringLiteral(".eml"));
    QVERIFY2(!parsed.isEmpty(), "python could not parse the .eml");
    QCOMPARE(parsed.value("defects").toArray(), QJsonArray());
    QCOMPARE(parsed.value("bare_lf").toBool(), false);
    QVERIFY2(parsed.value("max_line").toInt() <= 78,
             qPrintable(QString::number(parsed.value("max_line").toInt())));
    QCOMPARE(parsed.value("ascii_only").toBool(), true);
    QCOMPARE(parsed.value("subject").toString(), draft.subject);
    QCOMPARE(parsed.value("from").toArray(),
             (QJsonArray{QJsonArray{QStringLiteral("Jörg Admin"),
                                    QStringLiteral("jorg.admin@example.org")}}));
    QCOMPARE(parsed.value("to").toArray(),
             (QJsonArray{QJsonArray{QStringLiteral("Ünïcode Users"),
                                    QStringLiteral("users@example.org")},
                         QJsonArray{QString(), QStringLiteral("noc@example.org")}}));
    QCOMPARE(parsed.value("date").toString(), QStringLiteral("2026-11-27T10:15:30+01:00"));
    QCOMPARE(parsed.value("message_id").toString(), QStringLiteral("<notice-1@example.org>"));
    QCOMPARE(parsed.value("x_unsent").toString(), QStringLiteral("1"));
    QCOMPARE(parsed.value("mime_version").toString(), QStringLiteral("1.0"));
    QCOMPARE(parsed.value("content_type").toString(), QStringLiteral("multipart/alternative"));

    const QJsonArray parts = parsed.value("parts").toArray();
    QCOMPARE(parts.size(), 2);
    const QJsonArray plain = parts.at(0).toArray();
    QCOMPARE(plain.at(0).toString(), QStringLiteral("text/plain"));
    QCOMPARE(plain.at(1).toString(), QStringLiteral("utf-8"));
    QCOMPARE(plain.at(2).toString(), QStringLiteral("quoted-printable"));
    // The email package hands the text back with \n line breaks.
    QCOMPARE(plain.at(3).toString(), draft.textBody);
    const QJsonArray html = parts.at(1).toArray();
    QCOMPARE(html.at(0).toString(), QStringLiteral("text/html"));
    QCOMPARE(html.at(1).toString(), QStringLiteral("utf-8"));
    QCOMPARE(html.at(3).toString(), draft.htmlBody);

    // No sender, no draft: From is mandatory.
    NoticeDraft anonymous = draft;
    anonymous.sender.reset();
    const auto refused = toEml(anonymous);
    QVERIFY(!refused);
    QVERIFY(refused.error().contains(QStringLiteral("sender")));
}

void TestNotice::emlFoldsLongHeaders()
{
    NoticeDraft draft = knownDraft();
    // A long non-ASCII subject, a long ASCII one, many recipients and awkward names.
    const QStringList subjects = {
            QStringLiteral(
                    "Wartung: FlowTraq-Aktualisierung für alle Benutzer – Abfragen langsamer, "
                    "Ergebnisse unvollständig, Web-Oberfläche nicht erreichbar 😀 ✓"),
            QStringLiteral(
                    "Planned maintenance of the FlowTraq cluster with a rather long subject line "
                    "that needs folding at spaces to stay within the limit"),
            QStringLiteral("=?not-an-encoded-word?= but looks like one"),
    };
    for (int i = 0; i < 12; ++i) {
        draft.recipients.append(Mailbox{
                i % 3 == 0 ? QStringLiteral("Team, \"Ops\" %1").arg(i)
                        : i % 3 == 1
                        ? QStringLiteral("Équipe réseau numéro %1 très longue équipe de nuit")
                                  .arg(i)
                        : QString(),
                QStringLiteral("user%1@example.org").arg(i)});
    }
    for (const QString &subject : subjects) {
        draft.subject = subject;
        const auto eml = toEml(draft);
        QVERIFY(eml);
        const QJsonObject parsed = runPython(kEmlScript, *eml, QStringLiteral(".eml"));
        QVERIFY2(!parsed.isEmpty(), "python could not parse the .eml");
        QCOMPARE(parsed.value("defects").toArray(), QJsonArray());
        QVERIFY2(parsed.value("max_line").toInt() <= 78,
                 qPrintable(QString::number(parsed.value("max_line").toInt()) + QLatin1Char('\n')
                            + QString::fromUtf8(*eml).left(3000)));
        QCOMPARE(parsed.value("subject").toString(), subject);
        const QJsonArray to = parsed.value("to").toArray();
        QCOMPARE(to.size(), draft.recipients.size());
        const QString decoded = parsed.value("to_decoded").toString();
        for (qsizetype i = 0; i < to.size(); ++i) {
            const Mailbox &expected = draft.recipients.at(i);
            // Python 3.11's phrase parser keeps the folding space between two encoded
            // words (CPython gh-128110), so only its words are compared here ...
            QCOMPARE(to.at(i).toArray().at(0).toString().simplified(), expected.displayName);
            QCOMPARE(to.at(i).toArray().at(1).toString(), expected.address);
            // ... and the exact text through plain RFC 2047 decoding.
            if (!expected.displayName.isEmpty()
                && !expected.displayName.contains(QLatin1Char('"'))) {
                const QString shown = expected.displayName + QStringLiteral(" <") + expected.address
                        + QLatin1Char('>');
                QVERIFY2(decoded.contains(shown),
                         qPrintable(decoded + QStringLiteral("\n  lacks: ") + shown));
            }
        }
    }

    // Quoted-printable keeps long lines and trailing spaces intact, within 76 columns.
    const QString body = QString(200, QChar(0x00e9)) + QStringLiteral("end  \n")
            + QStringLiteral("From here\n.\n");
    const QByteArray qp = mime::quotedPrintable(body);
    for (const QByteArray &line : qp.split('\n'))
        QVERIFY2(line.size() <= 77, line.constData()); // 76 + the '\r'
    QVERIFY(qp.contains("end =20\r\n"));
    QVERIFY(qp.contains("\r\n=46rom here\r\n=2E\r\n"));
}

void TestNotice::icsParsedByIcalendar()
{
    NoticeDraft draft = knownDraft();
    draft.sender->displayName = QStringLiteral("Jörg Admin; NOC, \"Ops\"");
    CalendarExportOptions options;
    options.stamp = QDateTime(QDate(2026, 11, 27), QTime(9, 15), QTimeZone::utc());
    options.uid = QStringLiteral("notice-1@example.org");
    const auto ics = toIcs(draft, options);
    QVERIFY2(ics, qPrintable(ics ? QString() : ics.error()));
    QVERIFY(ics->startsWith("BEGIN:VCALENDAR\r\n"));
    QVERIFY(ics->contains("\r\nDTSTART:20261205T210000Z\r\n"));

    const QJsonObject parsed = runPython(kIcsScript, *ics, QStringLiteral(".ics"));
    QVERIFY2(!parsed.isEmpty(), "icalendar could not parse the .ics");
    QCOMPARE(parsed.value("bare_lf").toBool(), false);
    QVERIFY2(parsed.value("max_octets").toInt() <= 75,
             qPrintable(QString::number(parsed.value("max_octets").toInt())));
    QCOMPARE(parsed.value("utf8_lines").toBool(), true); // no fold inside a UTF-8 sequence
    QCOMPARE(parsed.value("events").toInt(), 1);
    QCOMPARE(parsed.value("version").toString(), QStringLiteral("2.0"));
    QCOMPARE(parsed.value("uid").toString(), QStringLiteral("notice-1@example.org"));
    QCOMPARE(parsed.value("dtstart").toString(), QStringLiteral("2026-12-05T21:00:00+00:00"));
    QCOMPARE(parsed.value("dtend").toString(), QStringLiteral("2026-12-06T00:30:00+00:00"));
    QCOMPARE(parsed.value("dtstamp").toString(), QStringLiteral("2026-11-27T09:15:00+00:00"));
    QCOMPARE(parsed.value("summary").toString(), draft.subject);
    QCOMPARE(parsed.value("description").toString(), draft.textBody.trimmed());
    QCOMPARE(parsed.value("organizer").toString(), QStringLiteral("mailto:jorg.admin@example.org"));
    QCOMPARE(parsed.value("organizer_cn").toString(), QStringLiteral("Jörg Admin; NOC, Ops"));
    QCOMPARE(parsed.value("transp").toString(), QStringLiteral("TRANSPARENT"));

    // Escaping and folding on their own: a backslash, separators, and a line of
    // two-, three- and four-byte characters.
    QCOMPARE(ical::escapeText(QStringLiteral("a\\b;c,d\ne")), QStringLiteral("a\\\\b\\;c\\,d\\ne"));
    const QByteArray folded
            = ical::foldLine(QStringLiteral("DESCRIPTION:") + QString(40, QChar(0x00e9))
                             + QString(30, QChar(0x20ac)) + QStringLiteral("😀😀😀😀😀😀"));
    for (const QByteArray &line : folded.split('\n')) {
        QVERIFY(line.size() <= 76);
        QVERIFY(QString::fromUtf8(line).toUtf8() == line);
    }
}

void TestNotice::mailtoUrlIsPercentEncoded()
{
    const NoticeDraft draft = knownDraft();
    const QString url = mailtoUrl(draft);
    QVERIFY(url.startsWith(QStringLiteral("mailto:users@example.org,noc@example.org?subject=")));
    static const QRegularExpression unsafe(QStringLiteral("[^A-Za-z0-9%@,:?=&._~-]"));
    QVERIFY2(!unsafe.match(url).hasMatch(), qPrintable(unsafe.match(url).captured()));
    QVERIFY(url.contains(QStringLiteral("%0D%0A")));
    QVERIFY(url.contains(QStringLiteral("%26%20chat"))); // the contact's '&' cannot end the body

    const QUrl parsed(url, QUrl::StrictMode);
    QVERIFY(parsed.isValid());
    QCOMPARE(parsed.scheme(), QStringLiteral("mailto"));
    const QUrlQuery query(parsed);
    QCOMPARE(query.queryItemValue(QStringLiteral("subject"), QUrl::FullyDecoded), draft.subject);
    QString body = draft.textBody;
    body.replace(QLatin1Char('\n'), QStringLiteral("\r\n"));
    QCOMPARE(query.queryItemValue(QStringLiteral("body"), QUrl::FullyDecoded), body);
}

void TestNotice::saveRefusesToOverwrite()
{
    const QString path = m_dir.filePath(QStringLiteral("saved.eml"));
    QVERIFY(saveNoticeFile(path, "first"));
    const Result refused = saveNoticeFile(path, "second");
    QVERIFY(!refused);
    QVERIFY2(refused.error().contains(QStringLiteral("already exists")),
             qPrintable(refused.error()));
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(file.readAll(), QByteArray("first"));
    file.close();

    QVERIFY(saveNoticeFile(path, "second", true));
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(file.readAll(), QByteArray("second"));
    file.close();

    const Result noFolder
            = saveNoticeFile(m_dir.filePath(QStringLiteral("missing/notice.ics")), "x");
    QVERIFY(!noFolder);
    QVERIFY2(noFolder.error().contains(QStringLiteral("does not exist")),
             qPrintable(noFolder.error()));
    const Result folder = saveNoticeFile(m_dir.path(), "x", true);
    QVERIFY(!folder);
    QVERIFY2(folder.error().contains(QStringLiteral("it is a folder")), qPrintable(folder.error()));

    // A write the system refuses (no file can be created in /proc, even by root) says
    // why; the draft it came from is the caller's and stays as it was.
    const NoticeDraft draft = knownDraft();
    const auto eml = toEml(draft);
    QVERIFY(eml);
    const Result refusedBySystem
            = saveNoticeFile(QStringLiteral("/proc/ftupgrade-notice.eml"), *eml);
    QVERIFY(!refusedBySystem);
    QVERIFY2(refusedBySystem.error().startsWith(
                     QStringLiteral("Cannot save the notice as /proc/ftupgrade-notice.eml: "))
                     && refusedBySystem.error().size() > 55,
             qPrintable(refusedBySystem.error()));
    QVERIFY(!QFile::exists(QStringLiteral("/proc/ftupgrade-notice.eml")));
}

// A 45-second outage reads "about 45 s at 22:43", not "22:43–22:43"; an edited body is
// what the exports carry.
void TestNotice::shortOutageAndEditedBody()
{
    NoticeFacts facts = knownPlan();
    facts.periods = {{ImpactPeriod::WebUiDown, cet(5, 22, 43), cet(5, 22, 43).addSecs(45),
                      {QStringLiteral("portal")}}};
    facts.flowGaps.clear();
    const auto values = noticeValues(facts, knownFields());
    QVERIFY(values);
    QCOMPARE(values->value("impacts").toList().at(0).toMap().value("when").toString(),
             QStringLiteral("about 45 s at 22:43"));
    const auto draft = draftNotice(facts, knownFields(), m_templates);
    QVERIFY2(draft, qPrintable(draft ? QString() : draft.error()));
    QVERIFY2(draft->textBody.contains(QStringLiteral("- about 45 s at 22:43: the FlowTraq Web UI")),
             qPrintable(draft->textBody));

    const NoticeDraft edited = withEditedBody(*draft, QStringLiteral("Hello <all>,\n\nWe upgrade tonight.\nBye"));
    QCOMPARE(edited.textBody, QStringLiteral("Hello <all>,\n\nWe upgrade tonight.\nBye"));
    QVERIFY(edited.htmlBody.contains(QStringLiteral("<p>Hello &lt;all&gt;,</p>")));
    QVERIFY(edited.htmlBody.contains(QStringLiteral("We upgrade tonight.<br>")));
    QCOMPARE(edited.subject, draft->subject);
}

QTEST_GUILESS_MAIN(TestNotice)
// A start sooner than the lead time set on the Plan page breaks what users expect: say
// how much notice they get instead; say nothing when the lead time is kept.
void TestNotice::lessNoticeThanChosenIsSaid()
{
    const QDateTime now(QDate(2026, 11, 30), QTime(22, 16, 30), QTimeZone::utc());
    const qint64 day = 24 * 3600 * 1000LL;
    QVERIFY(shortNoticeWarning(now.addSecs(24 * 3600), now, day).isEmpty());
    QVERIFY(shortNoticeWarning(now.addDays(3), now, day).isEmpty());
    QVERIFY(shortNoticeWarning(now.addSecs(60), now, 0).isEmpty()); // no lead time asked
    QVERIFY(shortNoticeWarning(QDateTime(), now, day).isEmpty());

    const QString soon = shortNoticeWarning(QDateTime(QDate(2026, 11, 30), QTime(23, 0), QTimeZone::utc()), now, day);
    QVERIFY2(soon.contains(QStringLiteral("only 43 min of notice")), qPrintable(soon));
    QVERIFY2(soon.contains(QStringLiteral("less than the 24 h you chose")), qPrintable(soon));
    const QString nearly = shortNoticeWarning(now.addSecs(23 * 3600 + 59 * 60 + 59), now, day);
    QVERIFY2(nearly.contains(QStringLiteral("only 23 h 59 min of notice")), qPrintable(nearly));
    const QString none = shortNoticeWarning(now.addSecs(20), now, day);
    QVERIFY2(none.startsWith(QStringLiteral("Users get no notice")), qPrintable(none));
    QVERIFY2(shortNoticeWarning(now.addSecs(-600), now, day).startsWith(QStringLiteral("Users get no notice")),
             "a window already begun gives no notice");
}

#include "tst_notice.moc"

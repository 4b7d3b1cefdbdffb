#include "verify/runreport.h"

#include "verify/stepstatus.h"

#include "plan/planexport.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QGuiApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QPageSize>
#include <QPdfWriter>
#include <QSaveFile>
#include <QTemporaryFile>
#include <QTextCharFormat>
#include <QTextCursor>
#include <QTextDocument>
#include <QTextOption>
#include <QFont>
#include <QPageLayout>

namespace ft {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::RunReport", text); }

constexpr int kFormat = 1;

QString esc(const QString &text) { return text.toHtmlEscaped(); }

QString time(const QDateTime &time)
{
    return time.isValid() ? time.toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss 'UTC'")) : QString();
}

QString decisionsText(const RunStepRecord &record)
{
    QStringList parts;
    for (const RunDecisionRecord &decision : record.decisions)
        parts.append(QStringLiteral("%1 (%2, %3)").arg(toString(decision.decision), decision.by,
                                                      time(decision.time)));
    return parts.join(QStringLiteral("; "));
}

QString outcomeText(const RunStepRecord &record, const RunJournal &journal)
{
    // The same words as the run page's panes and the Verify page.
    QString text = stepStatus(record, journal.state, journal.stateSentence).text();
    if (record.deferred && record.state != RunStepState::Pending)
        text += QLatin1Char(' ') + tr("(deferred to the end)");
    if (record.rebootNeeded())
        text += QLatin1Char(' ') + tr("— reboot needed");
    else if (record.rebootRequested)
        text += QLatin1Char(' ') + tr("— reboot asked for but not needed (the version changed)");
    return text;
}

QJsonArray differencesJson(const RunJournal &journal)
{
    QJsonArray array;
    for (const RunDifference &difference : journal.differences)
        array.append(difference.toJson());
    return array;
}

} // namespace

QJsonObject runReportJson(const RunJournal &journal, const VerificationReport *verification)
{
    qint64 estimated = 0;
    qint64 actual = 0;
    QJsonArray steps;
    for (const RunStepRecord &record : journal.steps) {
        if (record.wave >= 0) {
            estimated += record.step.estimate.totalMs;
            actual += record.elapsedMs;
        }
        steps.append(QJsonObject{
            {QStringLiteral("node"), record.step.node},
            {QStringLiteral("component"), toString(record.step.component)},
            {QStringLiteral("wave"), record.wave},
            {QStringLiteral("state"), toString(record.state)},
            {QStringLiteral("status"), toString(stepStatus(record, journal.state).kind)},
            {QStringLiteral("status_text"), stepStatus(record, journal.state, journal.stateSentence).text()},
            {QStringLiteral("deferred"), record.deferred},
            {QStringLiteral("version_before"), record.versionBefore},
            {QStringLiteral("version_after"), record.versionAfter},
            {QStringLiteral("target"), record.step.toVersion.toString()},
            {QStringLiteral("estimate_ms"), record.step.estimate.totalMs},
            {QStringLiteral("estimate_basis"), record.step.estimate.basis},
            {QStringLiteral("actual_ms"), record.elapsedMs},
            {QStringLiteral("outage_ms"), record.phases.outageMs()},
            {QStringLiteral("phases"),
             QJsonObject{{QStringLiteral("stopping_ms"), record.phases.stoppingMs},
                         {QStringLiteral("installing_ms"), record.phases.installingMs},
                         {QStringLiteral("starting_ms"), record.phases.startingMs},
                         {QStringLiteral("checking_ms"), record.phases.checkingMs}}},
            {QStringLiteral("started"), record.started.toUTC().toString(Qt::ISODate)},
            {QStringLiteral("finished"), record.finished.toUTC().toString(Qt::ISODate)},
            {QStringLiteral("exit_code"), record.exitCode ? QJsonValue(*record.exitCode) : QJsonValue()},
            {QStringLiteral("reboot_requested"), record.rebootRequested},
            {QStringLiteral("reboot_needed"), record.rebootNeeded()},
            {QStringLiteral("flows_resumed"),
             record.flowsResumed ? QJsonValue(*record.flowsResumed) : QJsonValue()},
            {QStringLiteral("flow_keeping"),
             record.flowKeeping ? QJsonValue(record.flowKeeping->toJson()) : QJsonValue()},
            {QStringLiteral("attempts"), record.attempts},
            {QStringLiteral("agent_job"), record.agentJobId},
            {QStringLiteral("error"), record.error},
            {QStringLiteral("decisions"), decisionsText(record)},
        });
    }
    QJsonObject json{
        {QStringLiteral("format"), kFormat},
        {QStringLiteral("run_id"), journal.runId},
        {QStringLiteral("cluster_id"), journal.clusterId},
        {QStringLiteral("created"), journal.created.toUTC().toString(Qt::ISODate)},
        {QStringLiteral("updated"), journal.updated.toUTC().toString(Qt::ISODate)},
        {QStringLiteral("state"), toString(journal.state)},
        {QStringLiteral("state_sentence"), journal.stateSentence},
        {QStringLiteral("plan"), planToJson(journal.plan)},
        {QStringLiteral("steps"), steps},
        {QStringLiteral("timings"), QJsonObject{{QStringLiteral("estimated_ms"), estimated},
                                                {QStringLiteral("actual_ms"), actual}}},
        {QStringLiteral("customizations_acknowledged"),
         QJsonArray::fromStringList(journal.customizationsAcknowledged)},
        {QStringLiteral("notice_sent"), journal.noticeSent},
        {QStringLiteral("differences"), differencesJson(journal)},
        {QStringLiteral("audit_log"), journal.auditLogPath},
    };
    if (verification)
        json.insert(QStringLiteral("verification"), verification->toJson());
    return json;
}

QString runReportHtml(const RunJournal &journal, const VerificationReport *verification,
                      const QString &title)
{
    QString html;
    const QString heading = title.isEmpty() ? tr("FlowTraq upgrade report") : title;
    html += QStringLiteral("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>%1</title>"
                           "<style>body{font-family:sans-serif;font-size:10pt}"
                           "table{border-collapse:collapse;margin-bottom:1em}"
                           "th,td{border:1px solid #999;padding:3px 6px;text-align:left;vertical-align:top}"
                           "th{background:#eee}.bad{color:#a00}.warn{color:#a60}.good{color:#060}"
                           "</style></head><body>")
                .arg(esc(heading));
    html += QStringLiteral("<h1>%1</h1>").arg(esc(heading));

    qint64 estimated = 0;
    qint64 actual = 0;
    for (const RunStepRecord &record : journal.steps) {
        if (record.wave >= 0) {
            estimated += record.step.estimate.totalMs;
            actual += record.elapsedMs;
        }
    }
    html += QStringLiteral("<table>");
    auto row = [&html](const QString &label, const QString &value) {
        html += QStringLiteral("<tr><th>%1</th><td>%2</td></tr>").arg(esc(label), esc(value));
    };
    row(tr("Run"), journal.runId);
    row(tr("Cluster"), journal.clusterId);
    row(tr("Started"), time(journal.created));
    row(tr("Last change"), time(journal.updated));
    row(tr("Outcome"), journal.stateSentence.isEmpty()
                           ? displayName(journal.state)
                           : displayName(journal.state) + QStringLiteral(": ") + journal.stateSentence);
    row(tr("Steps, estimated"), formatDuration(estimated));
    row(tr("Steps, actual"), formatDuration(actual));
    QStringList packages;
    for (const RunPackage &package : journal.packages)
        packages.append(QStringLiteral("%1 %2 (%3, SHA-256 %4)")
                            .arg(displayName(package.component), package.version, package.fileName,
                                 package.sha256));
    row(tr("Packages"), packages.join(QStringLiteral("; ")));
    row(tr("Notice sent"), journal.noticeSent.isEmpty() ? tr("(none recorded)") : journal.noticeSent);
    if (journal.announcedStart.isValid())
        row(tr("Announced window"), journal.startedEarly
                                        ? tr("from %1 (started earlier, as the administrator confirmed)")
                                              .arg(time(journal.announcedStart))
                                        : tr("from %1").arg(time(journal.announcedStart)));
    html += QStringLiteral("</table>");

    html += QStringLiteral("<h2>%1</h2><table><tr>").arg(esc(tr("Steps")));
    const QStringList headers{tr("Wave"), tr("Node"), tr("Component"), tr("From"), tr("To"),
                              tr("Outcome"), tr("Estimated"), tr("Actual"), tr("Outage"),
                              tr("Exit code"), tr("Decisions"), tr("Notes")};
    QList<QStringList> rows;
    QList<bool> badRows;
    for (const RunStepRecord &record : journal.steps) {
        badRows.append(record.state == RunStepState::Failed
                       || (record.state == RunStepState::Skipped && record.wave >= 0));
        rows.append(QStringList{
            record.wave >= 0 ? QString::number(record.wave + 1) : tr("—"),
            record.step.node,
            displayName(record.step.component),
            record.versionBefore,
            record.wave >= 0 ? record.step.toVersion.toString() : record.versionAfter,
            outcomeText(record, journal),
            record.wave >= 0 ? formatDuration(record.step.estimate.totalMs) : QString(),
            record.elapsedMs > 0 ? formatDuration(record.elapsedMs) : QString(),
            record.phases.outageMs() > 0 ? formatDuration(record.phases.outageMs()) : QString(),
            record.exitCode ? QString::number(*record.exitCode) : QString(),
            decisionsText(record),
            // The outcome says the error already when it is why the step failed.
            outcomeText(record, journal).contains(record.error) ? QString() : record.error,
        });
    }
    // The outcome is the long text and needs the room: the last columns (exit code,
    // decisions, notes) are left out when no step has anything in them.
    QList<int> columns;
    for (int column = 0; column < headers.size(); ++column) {
        bool any = column < 9;
        for (const QStringList &cells : std::as_const(rows))
            any = any || !cells.at(column).isEmpty();
        if (any)
            columns.append(column);
    }
    for (int column : std::as_const(columns))
        html += QStringLiteral("<th>%1</th>").arg(esc(headers.at(column)));
    html += QStringLiteral("</tr>");
    // Versions, durations and numbers are never broken across lines ("6." / "2.1-1200").
    static constexpr bool kWhole[] = {true, true, false, true, true, false, true, true, true, true, false, false};
    for (int row = 0; row < rows.size(); ++row) {
        html += QStringLiteral("<tr class=\"%1\">").arg(badRows.at(row) ? QStringLiteral("bad") : QString());
        for (int column : std::as_const(columns))
            html += (kWhole[column] ? QStringLiteral("<td style=\"white-space:nowrap\">%1</td>")
                                    : QStringLiteral("<td>%1</td>"))
                        .arg(esc(rows.at(row).at(column)));
        html += QStringLiteral("</tr>");
    }
    html += QStringLiteral("</table>");

    // What users were told to expect, step by step (the notice's impacts).
    QStringList impacts;
    for (const RunStepRecord &record : journal.steps) {
        if (record.wave >= 0 && !record.step.impact.sentence.isEmpty())
            impacts.append(QStringLiteral("<li><b>%1</b>: %2</li>")
                               .arg(esc(tr("%1 on %2").arg(displayName(record.step.component), record.step.node)),
                                    esc(record.step.impact.sentence)));
    }
    if (!impacts.isEmpty())
        html += QStringLiteral("<h2>%1</h2><ul>%2</ul>").arg(esc(tr("What users were told to expect")),
                                                            impacts.join(QString()));

    if (verification) {
        html += QStringLiteral("<h2>%1</h2><p>%2</p><table><tr>")
                    .arg(esc(tr("Verification")), esc(tr("Checked %1.").arg(time(verification->checkedAt))));
        for (const QString &header : {tr("Node"), tr("Component"), tr("Before"), tr("Now"), tr("Target"),
                                      tr("Service"), tr("Flows arriving"), tr("Flows during the outage"),
                                      tr("Verdict"), tr("Why")})
            html += QStringLiteral("<th>%1</th>").arg(esc(header));
        html += QStringLiteral("</tr>");
        for (const VerificationCell &cell : verification->cells) {
            const QString cls = cell.verdict == Verdict::Upgraded || cell.verdict == Verdict::AlreadyCurrent
                                    ? QStringLiteral("good")
                                    : cell.verdict == Verdict::RebootNeeded || cell.verdict == Verdict::Skipped
                                            || cell.verdict == Verdict::NotAttempted
                                        ? QStringLiteral("warn")
                                        : QStringLiteral("bad");
            const QStringList cells{
                cell.node,
                displayName(cell.component),
                cell.versionBefore,
                cell.versionNow,
                cell.target,
                displayName(cell.service),
                cell.flowsArriving ? (*cell.flowsArriving ? tr("yes") : tr("no")) : tr("—"),
                cell.flowKeeping ? cell.flowKeeping->figures() : tr("—"),
                displayName(cell.verdict),
                cell.sentence,
            };
            html += QStringLiteral("<tr class=\"%1\">").arg(cls);
            for (const QString &text : cells)
                html += QStringLiteral("<td>%1</td>").arg(esc(text));
            html += QStringLiteral("</tr>");
        }
        html += QStringLiteral("</table>");
        if (!verification->portalWebUiVersion.isEmpty())
            html += QStringLiteral("<p>%1</p>")
                        .arg(esc(tr("Web UI version on the portal: %1.").arg(verification->portalWebUiVersion)));
        for (const QString &warning : verification->warnings)
            html += QStringLiteral("<p class=\"warn\">%1</p>").arg(esc(warning));
    }

    if (!journal.differences.isEmpty()) {
        html += QStringLiteral("<h2>%1</h2><ul>").arg(esc(tr("Found when the run was resumed")));
        for (const RunDifference &difference : journal.differences)
            html += QStringLiteral("<li>%1</li>").arg(esc(difference.text()));
        html += QStringLiteral("</ul>");
    }
    html += QStringLiteral("<h2>%1</h2>").arg(esc(tr("Web UI customizations acknowledged")));
    if (journal.customizationsAcknowledged.isEmpty()) {
        html += QStringLiteral("<p>%1</p>").arg(esc(tr("None.")));
    } else {
        html += QStringLiteral("<ul>");
        for (const QString &item : journal.customizationsAcknowledged)
            html += QStringLiteral("<li>%1</li>").arg(esc(item));
        html += QStringLiteral("</ul>");
    }
    if (!journal.plan.warnings.isEmpty()) {
        html += QStringLiteral("<h2>%1</h2><ul>").arg(esc(tr("Plan warnings")));
        for (const QString &warning : journal.plan.warnings)
            html += QStringLiteral("<li>%1</li>").arg(esc(warning));
        html += QStringLiteral("</ul>");
    }
    html += QStringLiteral("</body></html>\n");
    return html;
}

Expected<ReportFormat> reportFormatForPath(const QString &path)
{
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix == QLatin1String("json"))
        return ReportFormat::Json;
    if (suffix == QLatin1String("html") || suffix == QLatin1String("htm"))
        return ReportFormat::Html;
    if (suffix == QLatin1String("pdf"))
        return ReportFormat::Pdf;
    return makeError(tr("Cannot tell the format of %1: name it .json, .html or .pdf.")
                         .arg(QDir::toNativeSeparators(path)));
}

Result exportRunReport(const RunJournal &journal, const VerificationReport *verification,
                       const QString &path, std::optional<ReportFormat> format)
{
    if (!format) {
        const auto guessed = reportFormatForPath(path);
        if (!guessed)
            return makeError(guessed.error());
        format = *guessed;
    }
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return makeError(tr("Cannot write %1: %2").arg(QDir::toNativeSeparators(path), file.errorString()));
    switch (*format) {
    case ReportFormat::Json:
        file.write(QJsonDocument(runReportJson(journal, verification)).toJson(QJsonDocument::Indented));
        break;
    case ReportFormat::Html:
        file.write(runReportHtml(journal, verification).toUtf8());
        break;
    case ReportFormat::Pdf: {
        if (!qobject_cast<QGuiApplication *>(QCoreApplication::instance())) {
            file.cancelWriting();
            return makeError(tr("A PDF report needs the wizard (or a tool running with a GUI platform); "
                                "write HTML or JSON instead."));
        }
        QPdfWriter writer(&file);
        writer.setPageSize(QPageSize(QPageSize::A4));
        // The step and verification tables are wide: landscape, a smaller type, and
        // lines broken between words only ("FlowTraq Server", never "FlowT raq").
        writer.setPageOrientation(QPageLayout::Landscape);
        writer.setTitle(tr("FlowTraq upgrade report"));
        writer.setCreator(QStringLiteral("FlowTraq Upgrade Wizard"));
        QTextDocument document;
        QTextOption wrap = document.defaultTextOption();
        wrap.setWrapMode(QTextOption::WordWrap);
        document.setDefaultTextOption(wrap);
        QFont font = document.defaultFont();
        font.setPointSizeF(8);
        document.setDefaultFont(font);
        document.setHtml(runReportHtml(journal, verification));
        // No ligatures: with them the PDF's text reads "ﬂows" and "Veriﬁcation", which a
        // search for "flows" or a copy into a terminal does not find. Latin text needs no
        // shaping, so none is done.
        QTextCharFormat noLigatures;
        noLigatures.setFontStyleStrategy(QFont::PreferNoShaping);
        QTextCursor all(&document);
        all.select(QTextCursor::Document);
        all.mergeCharFormat(noLigatures);
        document.print(&writer);
        break;
    }
    }
    if (!file.commit())
        return makeError(tr("Cannot write %1: %2").arg(QDir::toNativeSeparators(path), file.errorString()));
    return {};
}

} // namespace ft

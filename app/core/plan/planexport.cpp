#include "plan/planexport.h"

#include <QCoreApplication>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLocale>
#include <QSaveFile>
#include <QSet>

namespace ft {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::PlanExport", text); }

constexpr int kFormat = 1;

// --- JSON ---------------------------------------------------------------------------

QJsonObject estimateToJson(const DurationEstimate &estimate)
{
    return {
        {QStringLiteral("total_ms"), estimate.totalMs},
        {QStringLiteral("outage_ms"), estimate.outageMs},
        {QStringLiteral("phases"),
         QJsonObject{{QStringLiteral("stopping_ms"), estimate.phases.stoppingMs},
                     {QStringLiteral("installing_ms"), estimate.phases.installingMs},
                     {QStringLiteral("starting_ms"), estimate.phases.startingMs},
                     {QStringLiteral("checking_ms"), estimate.phases.checkingMs}}},
        {QStringLiteral("source"), toString(estimate.source)},
        {QStringLiteral("runs"), estimate.runs},
        {QStringLiteral("basis"), estimate.basis},
    };
}

QJsonObject stepToJson(const PlanStep &step)
{
    QJsonObject object{
        {QStringLiteral("node"), step.node},
        {QStringLiteral("role"), toString(step.role)},
        {QStringLiteral("os"), toString(step.os)},
        {QStringLiteral("component"), toString(step.component)},
        {QStringLiteral("from_version"), step.fromVersion.toString()},
        {QStringLiteral("to_version"), step.toVersion.toString()},
        {QStringLiteral("package"), step.packageFile},
        {QStringLiteral("skipped"), step.skipped},
    };
    if (step.skipped) {
        object.insert(QStringLiteral("skip_reason"), step.skipReason);
        return object;
    }
    object.insert(QStringLiteral("start_offset_ms"), step.startOffsetMs);
    object.insert(QStringLiteral("estimate"), estimateToJson(step.estimate));
    object.insert(QStringLiteral("impact"),
                  QJsonObject{{QStringLiteral("receives_flows"), step.impact.receivesFlows},
                              {QStringLiteral("flows_per_second"), step.impact.flowsPerSecond},
                              {QStringLiteral("flows_lost"), step.impact.flowsLost},
                              {QStringLiteral("keep_flows"), step.impact.keepFlows},
                              {QStringLiteral("sentence"), step.impact.sentence}});
    return object;
}

Unexpected badField(const QString &field)
{
    return makeError(tr("The plan has a bad \"%1\" field.").arg(field));
}

Expected<Version> versionField(const QJsonObject &object, const char *field)
{
    const QString text = object.value(QLatin1String(field)).toString();
    if (text.isEmpty())
        return Version();
    return Version::parse(text);
}

Expected<PlanStep> stepFromJson(const QJsonObject &object)
{
    PlanStep step;
    step.node = object.value(QLatin1String("node")).toString();
    if (step.node.isEmpty())
        return badField(QStringLiteral("node"));
    const auto role = parseNodeRole(object.value(QLatin1String("role")).toString());
    const auto os = parseOsKind(object.value(QLatin1String("os")).toString());
    const auto component = parseComponent(object.value(QLatin1String("component")).toString());
    const auto from = versionField(object, "from_version");
    const auto to = versionField(object, "to_version");
    if (!role || !os || !component || !from || !to)
        return makeError(tr("The plan's step for %1 cannot be read.").arg(step.node.left(80)));
    step.role = *role;
    step.os = *os;
    step.component = *component;
    step.fromVersion = *from;
    step.toVersion = *to;
    step.packageFile = object.value(QLatin1String("package")).toString();
    step.skipped = object.value(QLatin1String("skipped")).toBool();
    step.skipReason = object.value(QLatin1String("skip_reason")).toString();
    step.startOffsetMs = object.value(QLatin1String("start_offset_ms")).toInteger();

    const QJsonObject estimate = object.value(QLatin1String("estimate")).toObject();
    const QJsonObject phases = estimate.value(QLatin1String("phases")).toObject();
    step.estimate.totalMs = estimate.value(QLatin1String("total_ms")).toInteger();
    step.estimate.outageMs = estimate.value(QLatin1String("outage_ms")).toInteger();
    step.estimate.phases = {phases.value(QLatin1String("stopping_ms")).toInteger(),
                            phases.value(QLatin1String("installing_ms")).toInteger(),
                            phases.value(QLatin1String("starting_ms")).toInteger(),
                            phases.value(QLatin1String("checking_ms")).toInteger()};
    const QString source = estimate.value(QLatin1String("source")).toString(QStringLiteral("default"));
    if (source != toString(EstimateSource::Default) && source != toString(EstimateSource::Measured))
        return badField(QStringLiteral("source"));
    step.estimate.source = source == toString(EstimateSource::Measured) ? EstimateSource::Measured
                                                                         : EstimateSource::Default;
    step.estimate.runs = estimate.value(QLatin1String("runs")).toInt();
    step.estimate.basis = estimate.value(QLatin1String("basis")).toString();

    const QJsonObject impact = object.value(QLatin1String("impact")).toObject();
    step.impact.receivesFlows = impact.value(QLatin1String("receives_flows")).toBool();
    step.impact.flowsPerSecond = impact.value(QLatin1String("flows_per_second")).toDouble();
    step.impact.flowsLost = impact.value(QLatin1String("flows_lost")).toInteger();
    step.impact.keepFlows = impact.value(QLatin1String("keep_flows")).toBool();
    step.impact.sentence = impact.value(QLatin1String("sentence")).toString();
    return step;
}

// --- CSV ----------------------------------------------------------------------------

// A cell a spreadsheet would run as a formula (=, +, -, @, tab, CR first), unless
// it is a plain number. Node names come from the nodes' configuration: "=2+5" or
// "=HYPERLINK(…)" must land as text.
bool looksLikeFormula(const QString &text)
{
    static const QString triggers = QStringLiteral("=+-@\t\r");
    if (text.isEmpty() || !triggers.contains(text.front()))
        return false;
    bool number = false;
    text.toDouble(&number);
    return !number;
}

QString csvField(const QString &text)
{
    // OWASP's advice for CSV injection: a leading apostrophe, and the cell quoted.
    if (looksLikeFormula(text)) {
        QString quoted = QLatin1Char('\'') + text;
        quoted.replace(QLatin1String("\""), QLatin1String("\"\""));
        return QLatin1Char('"') + quoted + QLatin1Char('"');
    }
    if (!text.contains(QLatin1Char(',')) && !text.contains(QLatin1Char('"'))
        && !text.contains(QLatin1Char('\n')) && !text.contains(QLatin1Char('\r')))
        return text;
    QString quoted = text;
    quoted.replace(QLatin1String("\""), QLatin1String("\"\""));
    return QLatin1Char('"') + quoted + QLatin1Char('"');
}

QString seconds(qint64 ms)
{
    return QString::number(double(ms) / 1000.0, 'f', ms % 1000 == 0 ? 0 : 3);
}

QString componentsText(const QList<Component> &components)
{
    QStringList names;
    for (Component component : components)
        names.append(toString(component));
    return names.join(QLatin1Char('+'));
}

// --- HTML ---------------------------------------------------------------------------

QString esc(const QString &text) { return text.toHtmlEscaped(); }

QString clock(const UpgradePlan &plan, qint64 offsetMs)
{
    if (!plan.startTime.isValid())
        return formatDuration(offsetMs);
    return plan.startTime.addMSecs(offsetMs).toUTC().toString(QStringLiteral("ddd yyyy-MM-dd HH:mm"))
           + QStringLiteral(" UTC");
}

const char *const kStyle = R"(
body { font-family: sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { border: 1px solid #bbb; padding: .3em .6em; text-align: left; vertical-align: top; }
th { background: #eee; }
td.num { text-align: right; white-space: nowrap; }
.warn { color: #8a4b00; }
.muted { color: #666; }
)";

} // namespace

QJsonObject planToJson(const UpgradePlan &plan)
{
    QJsonArray stage;
    for (const StageEntry &entry : plan.stage) {
        QJsonArray components;
        for (Component component : entry.components)
            components.append(toString(component));
        stage.append(QJsonObject{{QStringLiteral("node"), entry.node},
                                 {QStringLiteral("components"), components},
                                 {QStringLiteral("packages"),
                                  QJsonArray::fromStringList(entry.packageFiles)},
                                 {QStringLiteral("bytes"), entry.bytes}});
    }
    QJsonArray waves;
    for (const PlanWave &wave : plan.waves) {
        QJsonArray steps;
        for (const PlanStep &step : wave.steps)
            steps.append(stepToJson(step));
        waves.append(QJsonObject{{QStringLiteral("title"), wave.title},
                                 {QStringLiteral("start_offset_ms"), wave.startOffsetMs},
                                 {QStringLiteral("duration_ms"), wave.durationMs},
                                 {QStringLiteral("steps"), steps}});
    }
    QJsonArray skipped;
    for (const PlanStep &step : plan.skipped)
        skipped.append(stepToJson(step));

    return {
        {QStringLiteral("format"), kFormat},
        {QStringLiteral("start_time"), plan.startTime.toUTC().toString(Qt::ISODate)},
        {QStringLiteral("max_workers_down"), plan.maxWorkersDown},
        {QStringLiteral("canary"), plan.canaryNode},
        {QStringLiteral("stage"), QJsonObject{{QStringLiteral("duration_ms"), plan.stageDurationMs},
                                              {QStringLiteral("basis"), plan.stageBasis},
                                              {QStringLiteral("nodes"), stage}}},
        {QStringLiteral("waves"), waves},
        {QStringLiteral("skipped"), skipped},
        {QStringLiteral("warnings"), QJsonArray::fromStringList(plan.warnings)},
        {QStringLiteral("totals"),
         QJsonObject{{QStringLiteral("wall_time_ms"), plan.wallTimeMs},
                     {QStringLiteral("mixed_version_start_ms"), plan.mixedVersionStartMs},
                     {QStringLiteral("mixed_version_window_ms"), plan.mixedVersionWindowMs},
                     {QStringLiteral("flows_lost"), plan.totalFlowsLost}}},
    };
}

Expected<UpgradePlan> planFromJson(const QJsonObject &json)
{
    if (json.value(QLatin1String("format")).toInt() != kFormat)
        return makeError(tr("The plan has an unknown format (expected \"format\": %1).").arg(kFormat));
    UpgradePlan plan;
    plan.startTime = QDateTime::fromString(json.value(QLatin1String("start_time")).toString(),
                                           Qt::ISODate);
    plan.maxWorkersDown = json.value(QLatin1String("max_workers_down")).toInt(1);
    plan.canaryNode = json.value(QLatin1String("canary")).toString();

    const QJsonObject stage = json.value(QLatin1String("stage")).toObject();
    plan.stageDurationMs = stage.value(QLatin1String("duration_ms")).toInteger();
    plan.stageBasis = stage.value(QLatin1String("basis")).toString();
    for (const auto &value : stage.value(QLatin1String("nodes")).toArray()) {
        const QJsonObject object = value.toObject();
        StageEntry entry;
        entry.node = object.value(QLatin1String("node")).toString();
        if (entry.node.isEmpty())
            return badField(QStringLiteral("stage"));
        for (const auto &component : object.value(QLatin1String("components")).toArray()) {
            const auto parsed = parseComponent(component.toString());
            if (!parsed)
                return badField(QStringLiteral("stage"));
            entry.components.append(*parsed);
        }
        for (const auto &file : object.value(QLatin1String("packages")).toArray())
            entry.packageFiles.append(file.toString());
        entry.bytes = object.value(QLatin1String("bytes")).toInteger();
        plan.stage.append(entry);
    }

    for (const auto &value : json.value(QLatin1String("waves")).toArray()) {
        const QJsonObject object = value.toObject();
        PlanWave wave;
        wave.title = object.value(QLatin1String("title")).toString();
        wave.startOffsetMs = object.value(QLatin1String("start_offset_ms")).toInteger();
        wave.durationMs = object.value(QLatin1String("duration_ms")).toInteger();
        for (const auto &stepValue : object.value(QLatin1String("steps")).toArray()) {
            auto step = stepFromJson(stepValue.toObject());
            if (!step)
                return makeError(step.error());
            wave.steps.append(*step);
        }
        if (wave.steps.isEmpty())
            return badField(QStringLiteral("waves"));
        plan.waves.append(wave);
    }
    for (const auto &value : json.value(QLatin1String("skipped")).toArray()) {
        auto step = stepFromJson(value.toObject());
        if (!step)
            return makeError(step.error());
        plan.skipped.append(*step);
    }
    for (const auto &value : json.value(QLatin1String("warnings")).toArray())
        plan.warnings.append(value.toString());

    const QJsonObject totals = json.value(QLatin1String("totals")).toObject();
    plan.wallTimeMs = totals.value(QLatin1String("wall_time_ms")).toInteger();
    plan.mixedVersionStartMs = totals.value(QLatin1String("mixed_version_start_ms")).toInteger(-1);
    plan.mixedVersionWindowMs = totals.value(QLatin1String("mixed_version_window_ms")).toInteger();
    plan.totalFlowsLost = totals.value(QLatin1String("flows_lost")).toInteger();
    return plan;
}

QByteArray planToCsv(const UpgradePlan &plan)
{
    const QStringList header{
        QStringLiteral("phase"),           QStringLiteral("wave"),
        QStringLiteral("node"),            QStringLiteral("role"),
        QStringLiteral("os"),              QStringLiteral("component"),
        QStringLiteral("from_version"),    QStringLiteral("to_version"),
        QStringLiteral("package"),         QStringLiteral("start_offset_s"),
        QStringLiteral("duration_s"),      QStringLiteral("outage_s"),
        QStringLiteral("estimate_source"), QStringLiteral("estimate_basis"),
        QStringLiteral("flows_lost"),      QStringLiteral("impact"),
        QStringLiteral("skip_reason"),
    };
    QStringList lines{header.join(QLatin1Char(','))};
    auto addRow = [&lines](const QStringList &fields) {
        QStringList escaped;
        escaped.reserve(fields.size());
        for (const QString &field : fields)
            escaped.append(csvField(field));
        lines.append(escaped.join(QLatin1Char(',')));
    };

    for (const StageEntry &entry : plan.stage)
        addRow({QStringLiteral("stage"), QString(), entry.node, QString(), QString(),
                componentsText(entry.components), QString(), QString(),
                entry.packageFiles.join(QLatin1Char(' ')), QStringLiteral("0"),
                seconds(plan.stageDurationMs), QStringLiteral("0"),
                toString(EstimateSource::Default), plan.stageBasis, QStringLiteral("0"),
                QString(), QString()});
    for (qsizetype w = 0; w < plan.waves.size(); ++w) {
        for (const PlanStep &step : plan.waves.at(w).steps)
            addRow({QStringLiteral("upgrade"), QString::number(w + 1), step.node,
                    toString(step.role), toString(step.os), toString(step.component),
                    step.fromVersion.toString(), step.toVersion.toString(), step.packageFile,
                    seconds(step.startOffsetMs), seconds(step.estimate.totalMs),
                    seconds(step.estimate.outageMs), toString(step.estimate.source),
                    step.estimate.basis, QString::number(step.impact.flowsLost),
                    step.impact.sentence, QString()});
    }
    for (const PlanStep &step : plan.skipped)
        addRow({QStringLiteral("skipped"), QString(), step.node, toString(step.role),
                toString(step.os), toString(step.component), step.fromVersion.toString(),
                step.toVersion.toString(), step.packageFile, QString(), QString(), QString(),
                QString(), QString(), QString(), QString(), step.skipReason});
    return (lines.join(QStringLiteral("\r\n")) + QStringLiteral("\r\n")).toUtf8();
}

QString planToHtml(const UpgradePlan &plan, const QString &title)
{
    const QLocale locale;
    const QString heading = title.isEmpty() ? tr("FlowTraq upgrade plan") : title;
    QString html;
    html += QStringLiteral("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n<title>%1</title>\n"
                           "<style>%2</style></head>\n<body>\n<h1>%1</h1>\n")
                .arg(esc(heading), QLatin1String(kStyle));

    // Summary
    html += QStringLiteral("<table>\n");
    auto summaryRow = [&html](const QString &label, const QString &value) {
        html += QStringLiteral("<tr><th>%1</th><td>%2</td></tr>\n").arg(esc(label), esc(value));
    };
    summaryRow(tr("Start"), clock(plan, 0));
    summaryRow(tr("Total time"), formatDuration(plan.wallTimeMs));
    summaryRow(tr("Steps"), locale.toString(plan.stepCount()));
    summaryRow(tr("Workers down at a time"), locale.toString(plan.maxWorkersDown));
    summaryRow(tr("Mixed server versions for"),
               plan.mixedVersionStartMs < 0 ? tr("no time")
                                            : formatDuration(plan.mixedVersionWindowMs));
    summaryRow(tr("Flow records lost (estimate)"), locale.toString(plan.totalFlowsLost));
    html += QStringLiteral("</table>\n");

    if (plan.nothingToDo())
        html += QStringLiteral("<p>%1</p>\n")
                    .arg(esc(tr("Every node already runs the chosen versions; there is nothing to "
                                "upgrade.")));
    for (const QString &warning : plan.warnings)
        html += QStringLiteral("<p class=\"warn\">%1</p>\n").arg(esc(warning));

    // Staging
    if (!plan.stage.isEmpty()) {
        html += QStringLiteral("<h2>%1</h2>\n<p>%2</p>\n<table>\n<tr><th>%3</th><th>%4</th><th>%5</th></tr>\n")
                    .arg(esc(tr("1. Staging, before any service stops")),
                         esc(tr("About %1: %2")
                                 .arg(formatDuration(plan.stageDurationMs), plan.stageBasis)),
                         esc(tr("Node")), esc(tr("Packages")), esc(tr("Size")));
        for (const StageEntry &entry : plan.stage)
            html += QStringLiteral("<tr><td>%1</td><td>%2</td><td class=\"num\">%3</td></tr>\n")
                        .arg(esc(entry.node),
                             esc(entry.packageFiles.join(QStringLiteral(", "))),
                             esc(locale.formattedDataSize(entry.bytes, 1,
                                                          QLocale::DataSizeIecFormat)));
        html += QStringLiteral("</table>\n");
    }

    // Steps
    if (!plan.waves.isEmpty()) {
        html += QStringLiteral("<h2>%1</h2>\n<table>\n<tr>").arg(esc(tr("2. Rolling upgrade")));
        for (const QString &column :
             {tr("#"), tr("Wave"), tr("Node"), tr("Role"), tr("Component"), tr("From"), tr("To"),
              tr("Starts"), tr("Takes"), tr("Down"), tr("Flows lost"), tr("What users notice"),
              tr("Estimate from")})
            html += QStringLiteral("<th>%1</th>").arg(esc(column));
        html += QStringLiteral("</tr>\n");
        int number = 0;
        for (const PlanWave &wave : plan.waves) {
            for (const PlanStep &step : wave.steps) {
                html += QStringLiteral("<tr><td class=\"num\">%1</td><td>%2</td><td>%3</td>"
                                       "<td>%4</td><td>%5</td><td>%6</td><td>%7</td>"
                                       "<td>%8</td><td class=\"num\">%9</td>")
                            .arg(++number)
                            .arg(esc(wave.title), esc(step.node), esc(displayName(step.role)),
                                 esc(displayName(step.component)),
                                 esc(step.fromVersion.toString()), esc(step.toVersion.toString()),
                                 esc(clock(plan, step.startOffsetMs)),
                                 esc(formatDuration(step.estimate.totalMs)));
                html += QStringLiteral("<td class=\"num\">%1</td><td class=\"num\">%2</td>"
                                       "<td>%3</td><td>%4</td></tr>\n")
                            .arg(esc(formatDuration(step.estimate.outageMs)),
                                 esc(locale.toString(step.impact.flowsLost)),
                                 esc(step.impact.sentence),
                                 esc(step.estimate.source == EstimateSource::Measured
                                         ? tr("measured") : tr("default")));
            }
        }
        html += QStringLiteral("</table>\n");
    }

    // Skipped
    if (!plan.skipped.isEmpty()) {
        html += QStringLiteral("<h2>%1</h2>\n<table>\n<tr><th>%2</th><th>%3</th><th>%4</th></tr>\n")
                    .arg(esc(tr("Skipped")), esc(tr("Node")), esc(tr("Component")),
                         esc(tr("Why")));
        for (const PlanStep &step : plan.skipped)
            html += QStringLiteral("<tr><td>%1</td><td>%2</td><td>%3</td></tr>\n")
                        .arg(esc(step.node), esc(displayName(step.component)),
                             esc(step.skipReason));
        html += QStringLiteral("</table>\n");
    }

    // Provenance: each distinct basis once, in plan order.
    QStringList bases;
    if (!plan.stage.isEmpty())
        bases.append(tr("Staging: %1").arg(plan.stageBasis));
    for (const PlanWave &wave : plan.waves) {
        for (const PlanStep &step : wave.steps) {
            const QString basis = tr("%1 on %2: %3")
                                      .arg(displayName(step.component), step.node,
                                           step.estimate.basis);
            if (!bases.contains(basis))
                bases.append(basis);
        }
    }
    if (!bases.isEmpty()) {
        html += QStringLiteral("<h2>%1</h2>\n<ul>\n").arg(esc(tr("Where the estimates come from")));
        for (const QString &basis : std::as_const(bases))
            html += QStringLiteral("<li>%1</li>\n").arg(esc(basis));
        html += QStringLiteral("</ul>\n<p class=\"muted\">%1</p>\n")
                    .arg(esc(tr("Flows lost are each node's flow rate at discovery times its "
                                "estimated downtime.")));
    }
    html += QStringLiteral("</body></html>\n");
    return html;
}

Expected<PlanFormat> planFormatForPath(const QString &path)
{
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix == QLatin1String("json"))
        return PlanFormat::Json;
    if (suffix == QLatin1String("csv"))
        return PlanFormat::Csv;
    if (suffix == QLatin1String("html") || suffix == QLatin1String("htm"))
        return PlanFormat::Html;
    return makeError(tr("Cannot tell the format of %1: name it .json, .csv or .html.")
                         .arg(QFileInfo(path).fileName()));
}

Result exportPlan(const UpgradePlan &plan, const QString &path, std::optional<PlanFormat> format)
{
    if (!format) {
        const auto guessed = planFormatForPath(path);
        if (!guessed)
            return makeError(guessed.error());
        format = *guessed;
    }
    QByteArray bytes;
    switch (*format) {
    case PlanFormat::Json:
        bytes = QJsonDocument(planToJson(plan)).toJson(QJsonDocument::Indented);
        break;
    case PlanFormat::Csv: bytes = planToCsv(plan); break;
    case PlanFormat::Html: bytes = planToHtml(plan).toUtf8(); break;
    }
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return makeError(tr("Cannot write the plan to %1: %2").arg(path, file.errorString()));
    if (file.write(bytes) != bytes.size() || !file.commit())
        return makeError(tr("Cannot write the plan to %1: %2").arg(path, file.errorString()));
    return {};
}

} // namespace ft

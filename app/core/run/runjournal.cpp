#include "run/runjournal.h"

#include "model/upgradetarget.h"
#include "plan/planexport.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSaveFile>
#include <QSet>
#include <QUuid>

namespace ft {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::RunJournal", text); }

template<typename E, size_t N>
struct Names
{
    std::pair<E, const char *> entries[N];
};

constexpr Names<RunState, 11> runStateNames{{{RunState::Idle, "idle"},
                                            {RunState::Reconciling, "reconciling"},
                                            {RunState::Staging, "staging"},
                                            {RunState::Running, "running"},
                                            {RunState::Pausing, "pausing"},
                                            {RunState::Paused, "paused"},
                                            {RunState::WaitingForDecision, "waiting_for_decision"},
                                            {RunState::Aborting, "aborting"},
                                            {RunState::Completed, "completed"},
                                            {RunState::Halted, "halted"},
                                            {RunState::Aborted, "aborted"}}};
constexpr Names<RunStepState, 7> stepStateNames{{{RunStepState::Pending, "pending"},
                                                 {RunStepState::Starting, "starting"},
                                                 {RunStepState::Running, "running"},
                                                 {RunStepState::Succeeded, "succeeded"},
                                                 {RunStepState::Failed, "failed"},
                                                 {RunStepState::Skipped, "skipped"},
                                                 {RunStepState::AlreadyCurrent, "already_current"}}};
constexpr Names<RunDecision, 5> decisionNames{{{RunDecision::Retry, "retry"},
                                               {RunDecision::Skip, "skip"},
                                               {RunDecision::Defer, "defer"},
                                               {RunDecision::Abort, "abort"},
                                               {RunDecision::StartService, "start-service"}}};
constexpr Names<FailurePolicy, 4> policyNames{{{FailurePolicy::Ask, "ask"},
                                               {FailurePolicy::Halt, "halt"},
                                               {FailurePolicy::Skip, "skip"},
                                               {FailurePolicy::Defer, "defer"}}};

template<typename E, size_t N>
QString nameOf(const Names<E, N> &names, E value)
{
    for (const auto &[entry, name] : names.entries) {
        if (entry == value)
            return QString::fromLatin1(name);
    }
    return {};
}

template<typename E, size_t N>
Expected<E> parse(const Names<E, N> &names, const QString &text, const QString &what)
{
    for (const auto &[entry, name] : names.entries) {
        if (text == QLatin1String(name))
            return entry;
    }
    QStringList known;
    for (const auto &entry : names.entries)
        known.append(QString::fromLatin1(entry.second));
    return makeError(tr("Unknown %1 \"%2\" (expected %3).").arg(what, text, known.join(QStringLiteral(", "))));
}

QString isoTime(const QDateTime &time)
{
    return time.isValid() ? time.toUTC().toString(Qt::ISODateWithMs) : QString();
}

QDateTime timeField(const QJsonObject &object, const char *field)
{
    const QString text = object.value(QLatin1String(field)).toString();
    return text.isEmpty() ? QDateTime() : QDateTime::fromString(text, Qt::ISODateWithMs).toUTC();
}

QJsonObject phasesToJson(const PhaseDurations &phases)
{
    return {{QStringLiteral("stopping_ms"), phases.stoppingMs},
            {QStringLiteral("installing_ms"), phases.installingMs},
            {QStringLiteral("starting_ms"), phases.startingMs},
            {QStringLiteral("checking_ms"), phases.checkingMs}};
}

PhaseDurations phasesFromJson(const QJsonObject &object)
{
    PhaseDurations phases;
    phases.stoppingMs = object.value(QLatin1String("stopping_ms")).toInteger();
    phases.installingMs = object.value(QLatin1String("installing_ms")).toInteger();
    phases.startingMs = object.value(QLatin1String("starting_ms")).toInteger();
    phases.checkingMs = object.value(QLatin1String("checking_ms")).toInteger();
    return phases;
}

QJsonArray strings(const QStringList &list)
{
    return QJsonArray::fromStringList(list);
}

QStringList stringList(const QJsonValue &value)
{
    QStringList list;
    for (const auto &item : value.toArray())
        list.append(item.toString());
    return list;
}

// A plan holding just this one step, so the step goes through planToJson's format.
QJsonObject stepJson(const PlanStep &step)
{
    UpgradePlan plan;
    PlanWave wave;
    wave.steps.append(step);
    plan.waves.append(wave);
    return planToJson(plan)
        .value(QLatin1String("waves"))
        .toArray()
        .at(0)
        .toObject()
        .value(QLatin1String("steps"))
        .toArray()
        .at(0)
        .toObject();
}

Expected<PlanStep> stepFromJson(const QJsonObject &object)
{
    UpgradePlan plan;
    QJsonObject planJson = planToJson(plan);
    QJsonObject wave{{QStringLiteral("title"), QString()},
                     {QStringLiteral("steps"), QJsonArray{object}},
                     {QStringLiteral("start_offset_ms"), 0},
                     {QStringLiteral("duration_ms"), 0}};
    planJson.insert(QStringLiteral("waves"), QJsonArray{wave});
    const auto parsed = planFromJson(planJson);
    if (!parsed)
        return makeError(parsed.error());
    if (parsed->waves.isEmpty() || parsed->waves.first().steps.isEmpty())
        return makeError(tr("A journal step has no plan step."));
    return parsed->waves.first().steps.first();
}

} // namespace

QString toString(RunState state) { return nameOf(runStateNames, state); }
QString toString(RunStepState state) { return nameOf(stepStateNames, state); }
QString toString(RunDecision decision) { return nameOf(decisionNames, decision); }
QString toString(FailurePolicy policy) { return nameOf(policyNames, policy); }

QString displayName(RunState state)
{
    switch (state) {
    case RunState::Idle: return tr("Ready");
    case RunState::Reconciling: return tr("Checking the nodes against the journal");
    case RunState::Staging: return tr("Staging packages");
    case RunState::Running: return tr("Upgrading");
    case RunState::Pausing: return tr("Pausing after the running steps");
    case RunState::Paused: return tr("Paused");
    case RunState::WaitingForDecision: return tr("Waiting for a decision");
    case RunState::Aborting: return tr("Aborting after the running steps");
    case RunState::Completed: return tr("Completed");
    case RunState::Halted: return tr("Halted");
    case RunState::Aborted: return tr("Aborted");
    }
    return {};
}

QString displayName(RunStepState state)
{
    switch (state) {
    case RunStepState::Pending: return tr("Waiting");
    case RunStepState::Starting: return tr("Starting");
    case RunStepState::Running: return tr("Running");
    case RunStepState::Succeeded: return tr("Upgraded");
    case RunStepState::Failed: return tr("Failed");
    case RunStepState::Skipped: return tr("Skipped (left on its old version)");
    case RunStepState::AlreadyCurrent: return tr("Already current");
    }
    return {};
}

Expected<RunState> parseRunState(const QString &text) { return parse(runStateNames, text, tr("run state")); }
Expected<RunStepState> parseRunStepState(const QString &text)
{
    return parse(stepStateNames, text, tr("step state"));
}
Expected<RunDecision> parseRunDecision(const QString &text)
{
    return parse(decisionNames, text, tr("decision"));
}
Expected<FailurePolicy> parseFailurePolicy(const QString &text)
{
    return parse(policyNames, text, tr("failure policy"));
}

bool isTerminal(RunStepState state)
{
    return state == RunStepState::Succeeded || state == RunStepState::Skipped
           || state == RunStepState::AlreadyCurrent;
}

QString RunDifference::text() const
{
    if (node.isEmpty())
        return detail;
    return QCoreApplication::translate("ft::RunEngine", "%1 on %2").arg(displayName(component), node)
           + QStringLiteral(": ") + detail;
}

QJsonObject RunDifference::toJson() const
{
    return QJsonObject{
        {QStringLiteral("step"), step},
        {QStringLiteral("node"), node},
        {QStringLiteral("component"), toString(component)},
        {QStringLiteral("journal_state"), journalState},
        {QStringLiteral("found"), found},
        {QStringLiteral("found_version"), foundVersion},
        {QStringLiteral("detail"), detail},
        {QStringLiteral("text"), text()},
    };
}

RunDifference RunDifference::fromJson(const QJsonValue &value)
{
    RunDifference difference;
    if (value.isString()) { // journals written before differences had their fields
        difference.detail = value.toString();
        return difference;
    }
    const QJsonObject json = value.toObject();
    difference.step = json.value(QLatin1String("step")).toInt(-1);
    difference.node = json.value(QLatin1String("node")).toString();
    if (const auto component = parseComponent(json.value(QLatin1String("component")).toString()))
        difference.component = *component;
    difference.journalState = json.value(QLatin1String("journal_state")).toString();
    difference.found = json.value(QLatin1String("found")).toString();
    difference.foundVersion = json.value(QLatin1String("found_version")).toString();
    difference.detail = json.value(QLatin1String("detail")).toString();
    return difference;
}

bool RunStepRecord::rebootNeeded() const
{
    return rebootRequested && !versionAfter.isEmpty() && versionAfter == versionBefore;
}

RunJournal RunJournal::fromPlan(const UpgradePlan &plan, const QList<RunPackage> &packages)
{
    RunJournal journal;
    journal.runId = QUuid::createUuid().toString(QUuid::WithoutBraces);
    journal.created = QDateTime::currentDateTimeUtc();
    journal.updated = journal.created;
    journal.plan = plan;
    journal.packages = packages;
    for (const StageEntry &entry : plan.stage) {
        for (const QString &file : entry.packageFiles) {
            RunStageRecord record;
            record.node = entry.node;
            record.packageFile = file;
            journal.stage.append(record);
        }
    }
    for (int wave = 0; wave < plan.waves.size(); ++wave) {
        for (const PlanStep &step : plan.waves.at(wave).steps) {
            RunStepRecord record;
            record.step = step;
            record.wave = wave;
            record.versionBefore = step.fromVersion.toString();
            journal.steps.append(record);
        }
    }
    for (const PlanStep &step : plan.skipped) {
        RunStepRecord record;
        record.step = step;
        record.wave = -1;
        const bool current = !step.fromVersion.isNull() && !step.toVersion.isNull()
                             && step.fromVersion >= step.toVersion;
        record.state = current ? RunStepState::AlreadyCurrent : RunStepState::Skipped;
        record.versionBefore = step.fromVersion.toString();
        record.versionAfter = step.fromVersion.toString();
        record.error = current ? QString() : step.skipReason;
        journal.steps.append(record);
    }
    return journal;
}

RunPackage RunPackage::fromChoice(Component component, const PackageChoice &choice)
{
    RunPackage package;
    package.component = component;
    package.path = QFileInfo(choice.filePath).absoluteFilePath();
    package.fileName = choice.fileName();
    package.sha256 = choice.sha256;
    package.size = choice.size;
    package.version = choice.version.toString();
    package.installerArguments = choice.installerArguments;
    package.contentsChecked = choice.contentsChecked;
    package.modifiedMs = choice.modifiedMs;
    return package;
}

QJsonObject RunJournal::toJson() const
{
    QJsonArray packagesJson;
    for (const RunPackage &package : packages)
        packagesJson.append(QJsonObject{{QStringLiteral("component"), ft::toString(package.component)},
                                        {QStringLiteral("path"), package.path},
                                        {QStringLiteral("file_name"), package.fileName},
                                        {QStringLiteral("sha256"), package.sha256},
                                        {QStringLiteral("size"), package.size},
                                        {QStringLiteral("version"), package.version},
                                        {QStringLiteral("contents_checked"), package.contentsChecked},
                                        {QStringLiteral("modified_ms"), package.modifiedMs},
                                        {QStringLiteral("installer_arguments"),
                                         QJsonArray::fromStringList(package.installerArguments)}});
    QJsonArray stageJson;
    for (const RunStageRecord &record : stage)
        stageJson.append(QJsonObject{{QStringLiteral("node"), record.node},
                                     {QStringLiteral("package"), record.packageFile},
                                     {QStringLiteral("state"), record.state},
                                     {QStringLiteral("agent_job"), record.agentJobId},
                                     {QStringLiteral("error"), record.error},
                                     {QStringLiteral("bytes"), record.bytes}});
    QJsonArray stepsJson;
    for (const RunStepRecord &record : steps) {
        QJsonArray decisionsJson;
        for (const RunDecisionRecord &decision : record.decisions)
            decisionsJson.append(QJsonObject{{QStringLiteral("decision"), ft::toString(decision.decision)},
                                             {QStringLiteral("time"), isoTime(decision.time)},
                                             {QStringLiteral("by"), decision.by}});
        QJsonObject object{
            {QStringLiteral("plan_step"), stepJson(record.step)},
            {QStringLiteral("wave"), record.wave},
            {QStringLiteral("deferred"), record.deferred},
            {QStringLiteral("state"), ft::toString(record.state)},
            {QStringLiteral("phase"), record.phase},
            {QStringLiteral("progress"), record.progress},
            {QStringLiteral("agent_job"), record.agentJobId},
            {QStringLiteral("log_next"), record.logNext},
            {QStringLiteral("started"), isoTime(record.started)},
            {QStringLiteral("finished"), isoTime(record.finished)},
            {QStringLiteral("phases"), phasesToJson(record.phases)},
            {QStringLiteral("elapsed_ms"), record.elapsedMs},
            {QStringLiteral("version_before"), record.versionBefore},
            {QStringLiteral("version_after"), record.versionAfter},
            {QStringLiteral("exit_code"), record.exitCode ? QJsonValue(*record.exitCode) : QJsonValue()},
            {QStringLiteral("reboot_requested"), record.rebootRequested},
            {QStringLiteral("reboot_needed"), record.rebootNeeded()},
            {QStringLiteral("flows_resumed"),
             record.flowsResumed ? QJsonValue(*record.flowsResumed) : QJsonValue()},
            {QStringLiteral("flow_keeping"),
             record.flowKeeping ? QJsonValue(record.flowKeeping->toJson()) : QJsonValue()},
            {QStringLiteral("error"), record.error},
            {QStringLiteral("last_log_line"), record.lastLogLine},
            {QStringLiteral("attempts"), record.attempts},
            {QStringLiteral("decisions"), decisionsJson},
        };
        stepsJson.append(object);
    }
    QJsonArray differencesJson;
    for (const RunDifference &difference : differences)
        differencesJson.append(difference.toJson());
    return {
        {QStringLiteral("format"), kFormat},
        {QStringLiteral("run_id"), runId},
        {QStringLiteral("cluster_id"), clusterId},
        {QStringLiteral("created"), isoTime(created)},
        {QStringLiteral("updated"), isoTime(updated)},
        {QStringLiteral("state"), ft::toString(state)},
        {QStringLiteral("state_sentence"), stateSentence},
        {QStringLiteral("plan"), planToJson(plan)},
        {QStringLiteral("packages"), packagesJson},
        {QStringLiteral("stage"), stageJson},
        {QStringLiteral("steps"), stepsJson},
        {QStringLiteral("customizations_acknowledged"), strings(customizationsAcknowledged)},
        {QStringLiteral("notice_sent"), noticeSent},
        {QStringLiteral("announced_start"), isoTime(announcedStart)},
        {QStringLiteral("started_early"), startedEarly},
        {QStringLiteral("differences"), differencesJson},
        {QStringLiteral("audit_log"), auditLogPath},
        {QStringLiteral("delivery"), delivery.isEmpty() ? QJsonValue() : QJsonValue(delivery.toJson())},
    };
}

QJsonObject RunDelivery::toJson() const
{
    return {
        {QStringLiteral("method"), method},
        {QStringLiteral("url"), url},
        {QStringLiteral("fingerprint"), fingerprint},
        {QStringLiteral("portal_address_for_nodes"), portalAddressForNodes},
        {QStringLiteral("serve_address"), serveAddress},
        {QStringLiteral("advertised_host"), advertisedHost},
        {QStringLiteral("uploads"), QJsonArray::fromStringList(uploads)},
    };
}

RunDelivery RunDelivery::fromJson(const QJsonObject &json)
{
    RunDelivery delivery;
    delivery.method = json.value(QLatin1String("method")).toString();
    delivery.url = json.value(QLatin1String("url")).toString();
    delivery.fingerprint = json.value(QLatin1String("fingerprint")).toString();
    delivery.portalAddressForNodes = json.value(QLatin1String("portal_address_for_nodes")).toString();
    delivery.serveAddress = json.value(QLatin1String("serve_address")).toString();
    delivery.advertisedHost = json.value(QLatin1String("advertised_host")).toString();
    for (const auto &upload : json.value(QLatin1String("uploads")).toArray())
        delivery.uploads.append(upload.toString());
    return delivery;
}

Expected<RunJournal> RunJournal::fromJson(const QJsonObject &json)
{
    if (json.value(QLatin1String("format")).toInt() != kFormat)
        return makeError(tr("This run journal was written in another format (%1); it cannot be resumed "
                            "by this wizard.")
                             .arg(json.value(QLatin1String("format")).toVariant().toString()));
    RunJournal journal;
    journal.runId = json.value(QLatin1String("run_id")).toString();
    if (journal.runId.isEmpty())
        return makeError(tr("The run journal has no run id."));
    journal.clusterId = json.value(QLatin1String("cluster_id")).toString();
    journal.created = timeField(json, "created");
    journal.updated = timeField(json, "updated");
    const auto state = parseRunState(json.value(QLatin1String("state")).toString());
    if (!state)
        return makeError(state.error());
    journal.state = *state;
    journal.stateSentence = json.value(QLatin1String("state_sentence")).toString();
    const auto plan = planFromJson(json.value(QLatin1String("plan")).toObject());
    if (!plan)
        return makeError(tr("The run journal's plan cannot be read: %1").arg(plan.error()));
    journal.plan = *plan;

    for (const auto &value : json.value(QLatin1String("packages")).toArray()) {
        const QJsonObject object = value.toObject();
        RunPackage package;
        const auto component = parseComponent(object.value(QLatin1String("component")).toString());
        if (!component)
            return makeError(component.error());
        package.component = *component;
        package.path = object.value(QLatin1String("path")).toString();
        package.fileName = object.value(QLatin1String("file_name")).toString();
        package.sha256 = object.value(QLatin1String("sha256")).toString();
        package.size = object.value(QLatin1String("size")).toInteger();
        package.version = object.value(QLatin1String("version")).toString();
        package.contentsChecked = object.value(QLatin1String("contents_checked")).toBool(false);
        package.modifiedMs = object.value(QLatin1String("modified_ms")).toInteger();
        for (const auto &argument : object.value(QLatin1String("installer_arguments")).toArray())
            package.installerArguments.append(argument.toString());
        journal.packages.append(package);
    }
    for (const auto &value : json.value(QLatin1String("stage")).toArray()) {
        const QJsonObject object = value.toObject();
        RunStageRecord record;
        record.node = object.value(QLatin1String("node")).toString();
        record.packageFile = object.value(QLatin1String("package")).toString();
        record.state = object.value(QLatin1String("state")).toString();
        record.agentJobId = object.value(QLatin1String("agent_job")).toString();
        record.error = object.value(QLatin1String("error")).toString();
        record.bytes = object.value(QLatin1String("bytes")).toInteger();
        journal.stage.append(record);
    }
    for (const auto &value : json.value(QLatin1String("steps")).toArray()) {
        const QJsonObject object = value.toObject();
        RunStepRecord record;
        const auto step = stepFromJson(object.value(QLatin1String("plan_step")).toObject());
        if (!step)
            return makeError(step.error());
        record.step = *step;
        record.wave = object.value(QLatin1String("wave")).toInt();
        record.deferred = object.value(QLatin1String("deferred")).toBool();
        const auto stepState = parseRunStepState(object.value(QLatin1String("state")).toString());
        if (!stepState)
            return makeError(stepState.error());
        record.state = *stepState;
        record.phase = object.value(QLatin1String("phase")).toString();
        record.progress = object.value(QLatin1String("progress")).toDouble();
        record.agentJobId = object.value(QLatin1String("agent_job")).toString();
        record.logNext = object.value(QLatin1String("log_next")).toInteger();
        record.started = timeField(object, "started");
        record.finished = timeField(object, "finished");
        record.phases = phasesFromJson(object.value(QLatin1String("phases")).toObject());
        record.elapsedMs = object.value(QLatin1String("elapsed_ms")).toInteger();
        record.versionBefore = object.value(QLatin1String("version_before")).toString();
        record.versionAfter = object.value(QLatin1String("version_after")).toString();
        if (object.value(QLatin1String("exit_code")).isDouble())
            record.exitCode = object.value(QLatin1String("exit_code")).toInt();
        record.rebootRequested = object.value(QLatin1String("reboot_requested")).toBool();
        if (object.value(QLatin1String("flows_resumed")).isBool())
            record.flowsResumed = object.value(QLatin1String("flows_resumed")).toBool();
        record.flowKeeping = FlowKeeping::fromJson(object.value(QLatin1String("flow_keeping")));
        record.error = object.value(QLatin1String("error")).toString();
        record.lastLogLine = object.value(QLatin1String("last_log_line")).toString();
        record.attempts = object.value(QLatin1String("attempts")).toInt();
        for (const auto &decisionValue : object.value(QLatin1String("decisions")).toArray()) {
            const QJsonObject decisionObject = decisionValue.toObject();
            const auto decision = parseRunDecision(decisionObject.value(QLatin1String("decision")).toString());
            if (!decision)
                return makeError(decision.error());
            record.decisions.append({*decision, timeField(decisionObject, "time"),
                                     decisionObject.value(QLatin1String("by")).toString()});
        }
        journal.steps.append(record);
    }
    journal.customizationsAcknowledged = stringList(json.value(QLatin1String("customizations_acknowledged")));
    journal.noticeSent = json.value(QLatin1String("notice_sent")).toString();
    journal.announcedStart = timeField(json, "announced_start");
    journal.startedEarly = json.value(QLatin1String("started_early")).toBool();
    for (const auto &difference : json.value(QLatin1String("differences")).toArray())
        journal.differences.append(RunDifference::fromJson(difference));
    journal.auditLogPath = json.value(QLatin1String("audit_log")).toString();
    journal.delivery = RunDelivery::fromJson(json.value(QLatin1String("delivery")).toObject());
    return journal;
}

Result RunJournal::save(const QString &path) const
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return makeError(tr("Cannot write the run journal %1: %2")
                             .arg(QDir::toNativeSeparators(path), file.errorString()));
    file.write(QJsonDocument(toJson()).toJson(QJsonDocument::Indented));
    if (!file.commit())
        return makeError(tr("Cannot write the run journal %1: %2")
                             .arg(QDir::toNativeSeparators(path), file.errorString()));
    return {};
}

Expected<RunJournal> RunJournal::load(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return makeError(tr("Cannot read the run journal %1: %2")
                             .arg(QDir::toNativeSeparators(path), file.errorString()));
    if (file.size() > 64 * 1024 * 1024)
        return makeError(tr("The run journal %1 is too large to be one.").arg(QDir::toNativeSeparators(path)));
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(file.readAll(), &error);
    if (error.error != QJsonParseError::NoError || !document.isObject())
        return makeError(tr("The run journal %1 is not valid JSON: %2")
                             .arg(QDir::toNativeSeparators(path), error.errorString()));
    return fromJson(document.object());
}

const RunPackage *RunJournal::package(const QString &fileName) const
{
    for (const RunPackage &candidate : packages) {
        if (candidate.fileName == fileName)
            return &candidate;
    }
    return nullptr;
}

std::optional<UnfinishedRun> findUnfinishedRun(const QString &directory, const QString &clusterId)
{
    std::optional<UnfinishedRun> newest;
    const QFileInfoList files = QDir(directory).entryInfoList({QStringLiteral("*.json")}, QDir::Files);
    for (const QFileInfo &file : files) {
        auto journal = RunJournal::load(file.absoluteFilePath());
        if (!journal || journal->clusterId != clusterId)
            continue;
        // Idle: prepared, nothing touched yet; Completed: nothing left to do.
        if (journal->state == RunState::Idle || journal->state == RunState::Completed)
            continue;
        if (!newest || journal->updated > newest->journal.updated)
            newest = UnfinishedRun{file.absoluteFilePath(), *std::move(journal)};
    }
    return newest;
}

int RunJournal::failedNodeCount() const
{
    QSet<QString> nodes;
    for (const RunStepRecord &record : steps) {
        if (record.state == RunStepState::Failed
            || (record.state == RunStepState::Skipped && record.wave >= 0))
            nodes.insert(record.step.node);
    }
    return int(nodes.size());
}

} // namespace ft

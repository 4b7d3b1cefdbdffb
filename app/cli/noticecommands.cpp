#include "noticecommands.h"

#include "notice/calendarexport.h"
#include "notice/mailexport.h"
#include "notice/noticefacts.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QJsonArray>

namespace ft::cli {

// ---- customizations ---------------------------------------------------------------------

Result CustomizationsCommand::parse(const QStringList &arguments)
{
    m_parser.setApplicationDescription(
        tr("Lists the portal's Web UI files that differ from the pristine files of the "
           "installed Web UI version (modified, added, deleted), as JSON. An upgrade of the "
           "Web UI overwrites all of them.\n"
           "Exit codes: 0 no customizations, 1 some customizations, 2 bad input, 4 they "
           "could not be checked (or the backup could not be written)."));
    CliContext::addConnectionOptions(m_parser);
    m_parser.addOption({QStringLiteral("diffs"),
                        tr("Also fetch both versions of each customized text file and add "
                           "its unified diff (\"diff\").")});
    m_parser.addOption({QStringLiteral("backup"),
                        tr("Also write a reference backup of the customized files (.zip, "
                           ".tar.gz or .tgz) with a README saying what they are."),
                        tr("file")});
    m_parser.addOption({QStringLiteral("force"), tr("Replace an existing backup file.")});
    m_parser.addOption({QStringLiteral("timeout"),
                        tr("Seconds to wait for the portal to hash its Web UI (default 120)."),
                        tr("seconds"), QStringLiteral("120")});
    if (Result parsed = parseArguments(m_parser, arguments); !parsed)
        return parsed;
    bool ok = false;
    const int seconds = m_parser.value(QStringLiteral("timeout")).toInt(&ok);
    if (!ok || seconds < 1 || seconds > 3600)
        return makeError(tr("--timeout takes a number of seconds from 1 to 3600."));
    m_timeout = std::chrono::seconds(seconds);
    if (m_parser.isSet(QStringLiteral("backup"))) {
        const QString suffix = QFileInfo(m_parser.value(QStringLiteral("backup"))).fileName().toLower();
        if (!suffix.endsWith(QLatin1String(".zip")) && !suffix.endsWith(QLatin1String(".tar.gz"))
            && !suffix.endsWith(QLatin1String(".tgz")))
            return makeError(tr("--backup takes a file ending in .zip, .tar.gz or .tgz."));
    }
    return {};
}

void CustomizationsCommand::start()
{
    if (Result configured = CliContext::configure(m_parser, m_session); !configured) {
        printError(configured.error());
        finishLater(ExitBadInput);
        return;
    }
    // The Web UI lives on the portal (or the standalone server): the agent we talk to.
    m_endpoint = m_session.portal();
    auto *job = new FetchCustomizationsJob(m_session.client(), m_endpoint, this);
    job->setTimeout(m_timeout);
    connect(job, &AgentJob::finished, this, [this, job] { reportArrived(job); });
    job->start();
}

void CustomizationsCommand::reportArrived(FetchCustomizationsJob *job)
{
    if (job->error() != AgentJob::NoError)
        return fail(job->errorString());
    m_customizations = job->customizations();
    diffNext();
}

void CustomizationsCommand::diffNext()
{
    const QList<WebUiCustomizedFile> &files = m_customizations.files;
    while (m_parser.isSet(QStringLiteral("diffs")) && m_nextDiff < files.size()) {
        const WebUiCustomizedFile &file = files.at(m_nextDiff++);
        if (!file.text)
            continue;
        auto *job = new CustomizationDiffJob(m_session.client(), m_endpoint, file, this);
        connect(job, &CustomizationDiffJob::finished, this, [this](CustomizationDiffJob *done) {
            done->deleteLater();
            if (done->hasError())
                m_diffErrors.insert(done->file().path, done->errorString());
            else
                m_diffs.insert(done->file().path, done->diff());
            diffNext();
        });
        job->start();
        return;
    }
    writeBackup();
}

void CustomizationsCommand::writeBackup()
{
    if (!m_parser.isSet(QStringLiteral("backup")) || m_customizations.files.isEmpty())
        return finishWithReport();
    BackupInfo info;
    info.node = m_endpoint.displayName();
    info.overwrite = m_parser.isSet(QStringLiteral("force"));
    auto *job = new CustomizationBackupJob(m_session.client(), m_endpoint, m_customizations,
                                           QFileInfo(m_parser.value(QStringLiteral("backup"))).absoluteFilePath(),
                                           info, this);
    connect(job, &CustomizationBackupJob::finished, this, [this](CustomizationBackupJob *done) {
        done->deleteLater();
        if (done->hasError())
            return fail(done->errorString());
        finishWithReport();
    });
    job->start();
}

void CustomizationsCommand::finishWithReport()
{
    QJsonArray files;
    for (const WebUiCustomizedFile &file : std::as_const(m_customizations.files)) {
        QJsonObject object = toJson(file);
        if (const auto diff = m_diffs.constFind(file.path); diff != m_diffs.cend())
            object.insert(QStringLiteral("diff"), *diff);
        if (const auto error = m_diffErrors.constFind(file.path); error != m_diffErrors.cend())
            object.insert(QStringLiteral("diff_error"), *error);
        files.append(object);
    }
    QJsonObject json{{QStringLiteral("node"), m_endpoint.displayName()},
                     {QStringLiteral("version"), m_customizations.version.toString()},
                     {QStringLiteral("manifest"), m_customizations.manifest},
                     {QStringLiteral("count"), qint64(files.size())},
                     {QStringLiteral("files"), files}};
    if (m_parser.isSet(QStringLiteral("backup")) && !files.isEmpty())
        json.insert(QStringLiteral("backup"),
                    QFileInfo(m_parser.value(QStringLiteral("backup"))).absoluteFilePath());
    printJson(json);
    if (!files.isEmpty())
        printError(QCoreApplication::translate("ftupgrade-cli",
                                               "%n Web UI file(s) differ from version %1 and "
                                               "will be overwritten by a Web UI upgrade.",
                                               nullptr, int(files.size()))
                       .arg(m_customizations.version.toString()));
    Q_EMIT finished(files.isEmpty() ? int(ExitOk) : int(ExitCustomized));
}

void CustomizationsCommand::fail(const QString &sentence)
{
    printError(sentence);
    Q_EMIT finished(ExitNotChecked);
}

// ---- notify -----------------------------------------------------------------------------

Result NotifyCommand::parse(const QStringList &arguments)
{
    m_parser.addOption({QStringLiteral("out"),
                        tr("The folder to write notice.eml and notice.ics to (made when missing)."),
                        tr("dir")});
    m_parser.addOption({QStringLiteral("to"),
                        tr("A recipient (\"users@example.org\" or \"Name <users@example.org>\"); "
                           "repeat it, or separate them with ';'."),
                        tr("address")});
    m_parser.addOption({QStringLiteral("from"), tr("The sender of the notice (required)."),
                        tr("address")});
    m_parser.addOption({QStringLiteral("contact"),
                        tr("Who users ask: \"the NOC, +1 555 0100, noc@example.org\"."), tr("text")});
    m_parser.addOption({QStringLiteral("cluster-name"),
                        tr("The name users know the system by (default FlowTraq)."), tr("name")});
    m_parser.addOption({QStringLiteral("time-zone"),
                        tr("The IANA time zone the notice's times are in, besides UTC "
                           "(default this computer's)."),
                        tr("zone")});
    m_parser.addOption({QStringLiteral("templates"),
                        tr("A folder with your own notice-subject.txt, notice.txt and notice.html."),
                        tr("dir")});
    m_parser.addOption({QStringLiteral("force"), tr("Replace existing notice files.")});
    Result parsed = PlanCommand::parse(arguments);
    m_parser.setApplicationDescription(
        tr("Drafts the notice to end users from the upgrade plan (discovering the cluster and "
           "reading the packages as 'plan' does) and writes it to --out as notice.eml, an "
           "unsent e-mail, and notice.ics, the window as a calendar entry.\n"
           "Exit codes: 0 written, 1 not written (see the message), 2 bad input."));
    if (!parsed)
        return parsed;

    if (!m_parser.isSet(QStringLiteral("start")))
        return makeError(tr("Say when the upgrade starts: --start 2026-12-06T03:00:00Z."));
    if (!m_parser.isSet(QStringLiteral("out")))
        return makeError(tr("Say where to write the notice: --out DIR."));
    m_outDir = QFileInfo(m_parser.value(QStringLiteral("out"))).absoluteFilePath();
    if (QFileInfo(m_outDir).exists() && !QFileInfo(m_outDir).isDir())
        return makeError(tr("--out %1 is a file, not a folder.").arg(m_outDir));

    for (const QString &value : m_parser.values(QStringLiteral("to"))) {
        for (const QString &recipient : value.split(QLatin1Char(';'), Qt::SkipEmptyParts)) {
            if (const auto mailbox = Mailbox::parse(recipient); !mailbox)
                return makeError(tr("--to: %1").arg(mailbox.error()));
            m_fields.recipients.append(recipient.trimmed());
        }
    }
    m_fields.sender = m_parser.value(QStringLiteral("from")).trimmed();
    if (m_fields.sender.isEmpty())
        return makeError(tr("Say who sends the notice: --from \"NOC <noc@example.org>\" (an "
                            "e-mail needs a sender)."));
    if (const auto sender = Mailbox::parse(m_fields.sender); !sender)
        return makeError(tr("--from: %1").arg(sender.error()));
    m_fields.contact = m_parser.value(QStringLiteral("contact")).trimmed();

    if (m_parser.isSet(QStringLiteral("time-zone"))) {
        m_zone = QTimeZone(m_parser.value(QStringLiteral("time-zone")).toUtf8());
        if (!m_zone.isValid())
            return makeError(tr("--time-zone takes a time zone such as Europe/Amsterdam or UTC."));
    }
    auto templates = NoticeTemplates::load(m_parser.value(QStringLiteral("templates")));
    if (!templates)
        return makeError(templates.error());
    m_templates = *templates;
    return {};
}

void NotifyCommand::planReady()
{
    (void)m_session.openHistory(); // measured durations make the window more accurate
    QString lossBasis;
    const UpgradePlan plan = currentPlan(&lossBasis);
    if (plan.nothingToDo()) {
        printError(tr("Nothing to upgrade: every node is already at the chosen versions, so "
                      "there is nothing to tell the users."));
        Q_EMIT finished(ExitFailed);
        return;
    }
    NoticeFactsOptions options;
    options.start = m_session.planOptions().startTime;
    options.adminZone = m_zone;
    options.clusterName = m_parser.value(QStringLiteral("cluster-name")).trimmed();
    const NoticeFacts facts = noticeFactsFromPlan(plan, options);

    const auto draft = draftNotice(facts, m_fields, *m_templates);
    if (!draft) {
        printError(draft.error());
        Q_EMIT finished(ExitBadInput);
        return;
    }
    const auto eml = toEml(*draft);
    const auto ics = toIcs(*draft);
    for (const QString &error : {eml ? QString() : eml.error(), ics ? QString() : ics.error()}) {
        if (!error.isEmpty()) {
            printError(error);
            Q_EMIT finished(ExitFailed);
            return;
        }
    }

    const QDir out(m_outDir);
    const QString emlPath = out.filePath(QStringLiteral("notice.eml"));
    const QString icsPath = out.filePath(QStringLiteral("notice.ics"));
    const bool overwrite = m_parser.isSet(QStringLiteral("force"));
    // Both or neither: check before writing either.
    for (const QString &path : {emlPath, icsPath}) {
        if (!overwrite && QFileInfo::exists(path)) {
            printError(tr("%1 already exists; nothing was written. Use --force to replace it, "
                          "or choose another --out folder.")
                           .arg(QDir::toNativeSeparators(path)));
            Q_EMIT finished(ExitFailed);
            return;
        }
    }
    // --export is one of the plan's options: write it too, before the notice, so a
    // failure leaves no half result.
    if (!exportIfAsked(plan)) {
        Q_EMIT finished(ExitFailed);
        return;
    }
    if (!QDir().mkpath(m_outDir)) {
        printError(tr("Cannot make the folder %1.").arg(QDir::toNativeSeparators(m_outDir)));
        Q_EMIT finished(ExitFailed);
        return;
    }
    for (const auto &[path, bytes] : {std::pair(emlPath, *eml), std::pair(icsPath, *ics)}) {
        if (Result written = saveNoticeFile(path, bytes, overwrite); !written) {
            printError(written.error());
            Q_EMIT finished(ExitFailed);
            return;
        }
    }

    QJsonArray recipients;
    for (const Mailbox &mailbox : draft->recipients)
        recipients.append(mailbox.toString());
    const QString mailto = mailtoUrl(*draft);
    printJson({{QStringLiteral("subject"), draft->subject},
               {QStringLiteral("window_start"), draft->windowStart.toUTC().toString(Qt::ISODate)},
               {QStringLiteral("window_end"), draft->windowEnd.toUTC().toString(Qt::ISODate)},
               {QStringLiteral("time_zone"), QString::fromUtf8(m_zone.id())},
               {QStringLiteral("recipients"), recipients},
               {QStringLiteral("sender"), draft->sender ? draft->sender->toString() : QString()},
               {QStringLiteral("eml"), emlPath},
               {QStringLiteral("ics"), icsPath},
               {QStringLiteral("mailto_length"), qint64(mailto.size())},
               {QStringLiteral("mailto_fits"), mailto.size() <= kMailtoSafeLength},
               {QStringLiteral("text"), draft->textBody}});
    Q_EMIT finished(ExitOk);
}

Command *createNoticeCommand(const QString &name, QObject *parent)
{
    if (name == QLatin1String("customizations"))
        return new CustomizationsCommand(parent);
    if (name == QLatin1String("notify"))
        return new NotifyCommand(parent);
    return nullptr;
}

QStringList noticeCommandNames()
{
    return {QStringLiteral("customizations"), QStringLiteral("notify")};
}

} // namespace ft::cli

#pragma once

#include "commands.h"
#include "guard/customizationreview.h"
#include "notice/notice.h"
#include "notice/noticetemplate.h"

#include <QHash>
#include <QTimeZone>

#include <optional>

namespace ft::cli {

// customizations: the portal's Web UI files that differ from the pristine manifest of
// the installed version, as JSON. The exit code says whether there are any:
// 0 none, 1 some, 2 bad input, 4 they could not be checked (or the backup not written).
class CustomizationsCommand : public Command
{
    Q_OBJECT

public:
    enum { ExitCustomized = 1, ExitNotChecked = 4 };

    using Command::Command;
    Result parse(const QStringList &arguments) override;
    void start() override;

private:
    void reportArrived(FetchCustomizationsJob *job);
    void diffNext();
    void writeBackup();
    void finishWithReport();
    void fail(const QString &sentence);

    AgentEndpoint m_endpoint;
    WebUiCustomizations m_customizations;
    QHash<QString, QString> m_diffs; // path → unified diff
    QHash<QString, QString> m_diffErrors;
    int m_nextDiff = 0;
    std::chrono::seconds m_timeout{120};
};

// notify: discovers the cluster and reads the packages as `plan` does, drafts the
// notice to end users from the plan, and writes it to --out as notice.eml (an unsent
// e-mail) and notice.ics (the window as a calendar entry). Exit 0 written, 1 not
// (portal unreachable, nothing to upgrade, a file exists without --force, a write
// failed), 2 bad input.
class NotifyCommand : public PlanCommand
{
    Q_OBJECT

public:
    using PlanCommand::PlanCommand;
    Result parse(const QStringList &arguments) override;

protected:
    // Drafts the notice from the plan and writes the files.
    void planReady() override;

private:

    NoticeFields m_fields;
    QTimeZone m_zone = QTimeZone::systemTimeZone();
    std::optional<NoticeTemplates> m_templates;
    QString m_outDir;
};

// The commands of this file, for createCommand()/commandNames().
Command *createNoticeCommand(const QString &name, QObject *parent);
QStringList noticeCommandNames();

} // namespace ft::cli

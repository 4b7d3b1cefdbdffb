#pragma once

#include "agentlink/agentjobs.h"
#include "model/plan.h"

#include <QHash>
#include <QPointer>
#include <QWizardPage>

#include <optional>

class QSplitter;

class QCheckBox;
class QLabel;
class QPushButton;
class QTreeWidget;
class QWidget;

namespace ft {
class CustomizationBackupJob;
class UpgradeSession;
}

namespace ft::ui {

class DiffView;

// Step 5: the Web UI's customizations. Upgrading the Web UI overwrites every file of
// it, so the page lists each file changed, added or deleted since the installed
// version (with a diff of text files), says plainly that the changes will be lost and
// that copying them back is not safe, offers a reference backup, and lets the user on
// only once they acknowledge it. Nothing customized, or no Web UI upgrade: on at once.
class CustomizationsPage : public QWizardPage
{
    Q_OBJECT

public:
    // NoBaseline: the node has no baseline of its installed Web UI, so customized
    // files cannot be told apart from the vendor's; said honestly, with the files the
    // new package replaces and an offer to record a baseline now.
    enum class State { NotUpgraded, Loading, Failed, NoCustomizations, Customized, NoBaseline };

    explicit CustomizationsPage(UpgradeSession *session, QWidget *parent = nullptr);

    void initializePage() override;
    bool isComplete() const override;
    bool validatePage() override;

    State state() const { return m_state; }
    const WebUiCustomizations &customizations() const { return m_customizations; }

    // Writes the reference backup (.zip, .tar.gz or .tgz by its extension) to `path`;
    // the "Save reference backup…" button asks for the path and calls this.
    // backupFinished() follows.
    void saveReferenceBackup(const QString &path, bool overwrite = false);
    bool isSavingBackup() const { return !m_backupJob.isNull(); }

Q_SIGNALS:
    void backupFinished(bool ok, const QString &message);

protected:
    void resizeEvent(QResizeEvent *event) override;

private:
    void fetchReport();
    void reportArrived(FetchCustomizationsJob *job);
    void setState(State state);
    void fillList();
    void fillReplacedFiles();
    void recordBaseline();
    void showSelectedDiff();
    void showDiffFor(const WebUiCustomizedFile &file);
    void chooseBackupPath();
    AgentEndpoint webUiEndpoint() const;

    struct DiffResult
    {
        QString diff;
        QString error;
    };

    UpgradeSession *m_session;
    std::optional<PlanStep> m_step; // the plan's Web UI step
    State m_state = State::NotUpgraded;
    WebUiCustomizations m_customizations;
    QString m_reportError;
    int m_generation = 0; // answers of an earlier visit are ignored
    QPointer<FetchCustomizationsJob> m_reportJob;
    QPointer<CustomizationBackupJob> m_backupJob;
    QHash<QString, DiffResult> m_diffs; // by path, for this visit
    QString m_shownPath;

    QLabel *m_status = nullptr;
    QLabel *m_caution = nullptr;
    QTreeWidget *m_list = nullptr;
    DiffView *m_diffView = nullptr;
    QSplitter *m_splitter = nullptr; // the list beside the diff, or above it when narrow
    QWidget *m_details = nullptr;
    QPushButton *m_saveBackup = nullptr;
    QLabel *m_backupStatus = nullptr;
    QPushButton *m_retry = nullptr;
    QPushButton *m_recordBaseline = nullptr;
    QTreeWidget *m_replaced = nullptr;
    QString m_noBaselineReason;
    QCheckBox *m_acknowledge = nullptr;
};

} // namespace ft::ui

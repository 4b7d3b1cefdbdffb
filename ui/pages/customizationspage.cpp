#include "pages/customizationspage.h"

#include "agentlink/baselinejob.h"

#include "guard/customizationreview.h"
#include "widgets/diffview.h"
#include "widgets/statusicons.h"
#include "session/upgradesession.h"

#include <QCheckBox>
#include <QFutureWatcher>
#include <QtConcurrent/QtConcurrentRun>
#include <QDir>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QResizeEvent>
#include <QSplitter>
#include <QStandardPaths>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <chrono>

namespace ft::ui {

namespace {

constexpr int kPathRole = Qt::UserRole;
// The page's width from which the list and the diff stand side by side, and the height
// they get stacked (logical pixels).
constexpr int kSideBySideWidth = 700;
constexpr int kStackedHeight = 380;

// Hashing a large Web UI on the node takes a while; the default 5 s is for small calls.
constexpr std::chrono::seconds kReportTimeout{120};

QString sizeText(qint64 bytes)
{
    return bytes < 0 ? QString() : QLocale().formattedDataSize(bytes);
}

QString cautionHtml(int count)
{
    return CustomizationsPage::tr(
               "<p><b>%1 will be lost.</b> Upgrading the Web UI replaces every one of its "
               "files with the new version's.</p>"
               "<p><b>Do not copy these files back after the upgrade:</b> that is not safe, "
               "because the new Web UI may have changed the pages, scripts and styles around "
               "them. Keep a reference backup, and after the upgrade make each change again, "
               "by hand, against the new version's files.</p>")
        .arg(count == 1 ? CustomizationsPage::tr("This customization")
                        : CustomizationsPage::tr("These %1 customizations").arg(count));
}

} // namespace

CustomizationsPage::CustomizationsPage(UpgradeSession *session, QWidget *parent)
    : QWizardPage(parent)
    , m_session(session)
{
    setObjectName(QStringLiteral("customizationsPage"));
    setTitle(tr("Web UI customizations"));
    setSubTitle(tr("Files of the Web UI that differ from the installed version's own files. "
                   "The upgrade overwrites all of them."));

    m_status = new QLabel;
    m_status->setObjectName(QStringLiteral("customizationStatus"));
    m_status->setWordWrap(true);
    m_status->setTextFormat(Qt::RichText);

    m_caution = new QLabel;
    m_caution->setObjectName(QStringLiteral("customizationCaution"));
    m_caution->setWordWrap(true);
    m_caution->setTextFormat(Qt::RichText);
    m_caution->setStyleSheet(QStringLiteral("QLabel { background: #fff8c5; border: 1px solid #d4a72c; "
                                            "border-radius: 4px; padding: 6px; color: #4d2d00; }"));

    m_list = new QTreeWidget;
    m_list->setObjectName(QStringLiteral("customizationList"));
    m_list->setColumnCount(4);
    m_list->setHeaderLabels({tr("File"), tr("Change"), tr("Size"), tr("Changed")});
    m_list->setRootIsDecorated(false);
    m_list->setAlternatingRowColors(true);
    m_list->setUniformRowHeights(true);
    m_list->setTextElideMode(Qt::ElideMiddle); // keep both the folder and the file name
    m_list->header()->setStretchLastSection(false);
    m_list->header()->setSectionResizeMode(0, QHeaderView::Stretch);
    for (int column = 1; column < 4; ++column)
        m_list->header()->setSectionResizeMode(column, QHeaderView::ResizeToContents);

    m_diffView = new DiffView;
    m_diffView->setObjectName(QStringLiteral("diffView"));

    m_splitter = new QSplitter(Qt::Horizontal);
    m_splitter->setChildrenCollapsible(false);
    m_splitter->addWidget(m_list);
    m_splitter->addWidget(m_diffView);
    // Half each: the File column needs the room of a path beside three short columns.
    m_splitter->setStretchFactor(0, 1);
    m_splitter->setStretchFactor(1, 1);
    auto *splitter = m_splitter;

    m_saveBackup = new QPushButton(tr("Save &reference backup…"));
    m_saveBackup->setObjectName(QStringLiteral("saveReferenceBackup"));
    m_saveBackup->setToolTip(tr("One .zip or .tar.gz of the customized files, with a README "
                                "saying what they are. For reference only: not to be copied back."));
    m_backupStatus = new QLabel;
    m_backupStatus->setObjectName(QStringLiteral("backupStatus"));
    m_backupStatus->setWordWrap(true);
    m_backupStatus->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto *backupRow = new QHBoxLayout;
    backupRow->addWidget(m_saveBackup);
    backupRow->addWidget(m_backupStatus, 1);

    m_details = new QWidget;
    auto *details = new QVBoxLayout(m_details);
    details->setContentsMargins(0, 0, 0, 0);
    details->addWidget(m_caution);
    details->addWidget(splitter, 1);
    details->addLayout(backupRow);

    m_retry = new QPushButton(tr("&Ask again"));
    m_retry->setObjectName(QStringLiteral("retryCustomizations"));

    m_acknowledge = new QCheckBox;
    m_acknowledge->setObjectName(QStringLiteral("acknowledgeCustomizations"));

    m_recordBaseline = new QPushButton(tr("&Record a baseline now"));
    m_recordBaseline->setObjectName(QStringLiteral("recordBaseline"));
    m_recordBaseline->setToolTip(tr("Only when the Web UI on this node is as the vendor shipped it: "
                                    "its files become the reference that customizations are compared with."));
    m_replaced = new QTreeWidget;
    m_replaced->setObjectName(QStringLiteral("replacedFiles"));
    m_replaced->setColumnCount(1);
    m_replaced->setHeaderLabels({tr("Files the new Web UI package replaces")});
    m_replaced->setRootIsDecorated(false);
    m_replaced->setUniformRowHeights(true);

    auto *statusRow = new QHBoxLayout;
    statusRow->addWidget(m_status, 1);
    statusRow->addWidget(m_retry, 0, Qt::AlignTop);
    statusRow->addWidget(m_recordBaseline, 0, Qt::AlignTop);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(statusRow);
    layout->addWidget(m_details, 1);
    layout->addWidget(m_replaced, 1);
    layout->addWidget(m_acknowledge);

    connect(m_acknowledge, &QCheckBox::toggled, this, &CustomizationsPage::completeChanged);
    connect(m_retry, &QPushButton::clicked, this, &CustomizationsPage::fetchReport);
    connect(m_recordBaseline, &QPushButton::clicked, this, &CustomizationsPage::recordBaseline);
    connect(m_list, &QTreeWidget::currentItemChanged, this, &CustomizationsPage::showSelectedDiff);
    connect(m_saveBackup, &QPushButton::clicked, this, &CustomizationsPage::chooseBackupPath);

    setState(State::NotUpgraded);
}

void CustomizationsPage::initializePage()
{
    m_step = webUiUpgradeStep(m_session->plan());
    m_acknowledge->setChecked(false);
    m_backupStatus->clear();
    if (!m_step) {
        ++m_generation;
        m_customizations = {};
        setState(State::NotUpgraded);
        return;
    }
    fetchReport();
}

bool CustomizationsPage::isComplete() const
{
    switch (m_state) {
    case State::NotUpgraded:
    case State::NoCustomizations:
        return true;
    case State::Loading:
        return false;
    case State::Failed:
    case State::Customized:
    case State::NoBaseline:
        return m_acknowledge->isChecked();
    }
    return false;
}

bool CustomizationsPage::validatePage()
{
    QStringList paths;
    if (m_state == State::Customized) {
        for (const WebUiCustomizedFile &file : std::as_const(m_customizations.files))
            paths.append(file.path);
    }
    m_session->setCustomizationsAcknowledged(paths);
    return true;
}

AgentEndpoint CustomizationsPage::webUiEndpoint() const
{
    for (const NodeStatus &node : m_session->nodes()) {
        if (m_step && node.name == m_step->node)
            return m_session->endpointFor(node);
    }
    return m_session->portal();
}

void CustomizationsPage::fetchReport()
{
    const int generation = ++m_generation;
    if (m_reportJob)
        m_reportJob->cancel();
    m_customizations = {};
    m_diffs.clear();
    m_shownPath.clear();
    setState(State::Loading);

    auto *job = new FetchCustomizationsJob(m_session->client(), webUiEndpoint(), this);
    job->setTimeout(kReportTimeout);
    connect(job, &AgentJob::finished, this, [this, job, generation] {
        if (generation == m_generation)
            reportArrived(job);
    });
    m_reportJob = job;
    job->start();
}

void CustomizationsPage::reportArrived(FetchCustomizationsJob *job)
{
    if (job->error() == AgentJob::NotFound && m_step) {
        // The Web UI being upgraded is installed, so a 404 means no baseline of it.
        m_noBaselineReason = job->errorString();
        setState(State::NoBaseline);
        return;
    }
    if (job->error() != AgentJob::NoError) {
        m_reportError = job->error() == AgentJob::NotFound
                            ? tr("%1 (Without the pristine manifest of the installed Web UI the "
                                 "wizard cannot tell which files were changed.)")
                                  .arg(job->errorString())
                            : job->errorString();
        setState(State::Failed);
        return;
    }
    m_customizations = job->customizations();
    setState(m_customizations.files.isEmpty() ? State::NoCustomizations : State::Customized);
}

void CustomizationsPage::setState(State state)
{
    m_state = state;
    const int count = int(m_customizations.files.size());
    const QString node = m_step ? m_step->node.toHtmlEscaped() : QString();
    switch (state) {
    case State::NoBaseline:
        break; // below, with the list of replaced files
    case State::NotUpgraded:
        m_status->setText(tr("<b>The Web UI is not being upgraded</b> (no Web UI package was "
                             "chosen, or it is already at that version), so its files and any "
                             "customizations stay as they are."));
        break;
    case State::Loading:
        m_status->setText(tr("Asking %1 which Web UI files differ from version %2…")
                              .arg(node, m_step->fromVersion.toString().toHtmlEscaped()));
        break;
    case State::Failed:
        m_status->setText(tr("<b>The Web UI's files could not be checked.</b> %1")
                              .arg(m_reportError.toHtmlEscaped()));
        m_acknowledge->setText(tr("I &understand that any customizations of the Web UI on %1 "
                                  "will be overwritten")
                                   .arg(m_step ? m_step->node : QString()));
        break;
    case State::NoCustomizations:
        m_status->setText(tr("<b>No customizations:</b> every Web UI file on %1 is as Web UI %2 "
                             "installed it. Nothing is lost by the upgrade.")
                              .arg(node, m_customizations.version.toString().toHtmlEscaped()));
        break;
    case State::Customized:
        m_status->setText((count == 1 ? tr("1 file of the Web UI on %2 differs from version %3 as it "
                                           "was installed (manifest %4).")
                                      : tr("%1 files of the Web UI on %2 differ from version %3 as it "
                                           "was installed (manifest %4).").arg(count))
                              .arg(node, m_customizations.version.toString().toHtmlEscaped(),
                                   m_customizations.manifest.toHtmlEscaped()));
        m_caution->setText(cautionHtml(count));
        m_acknowledge->setText(count == 1
                                   ? tr("I &understand this customization will be overwritten")
                                   : tr("I &understand these %1 customizations will be overwritten")
                                         .arg(count));
        break;
    }
    if (state == State::NoBaseline) {
        m_status->setText(tr("<b>No baseline:</b> %1 has no record of Web UI %2 as it was installed, so "
                             "the wizard cannot tell which files were customized. Every file the new "
                             "package replaces is overwritten, customized or not.<br>%3")
                              .arg(node, m_step->fromVersion.toString().toHtmlEscaped(),
                                   m_noBaselineReason.toHtmlEscaped()));
        m_acknowledge->setText(tr("I understand that any customizations of the Web UI on %1 will be overwritten")
                                   .arg(m_step->node));
        fillReplacedFiles();
    }
    m_details->setVisible(state == State::Customized);
    m_replaced->setVisible(state == State::NoBaseline);
    m_recordBaseline->setVisible(state == State::NoBaseline);
    m_recordBaseline->setEnabled(state == State::NoBaseline);
    m_acknowledge->setVisible(state == State::Customized || state == State::Failed || state == State::NoBaseline);
    m_retry->setVisible(state == State::Failed);
    m_saveBackup->setEnabled(state == State::Customized && !m_backupJob);
    fillList();
    Q_EMIT completeChanged();
}

void CustomizationsPage::fillReplacedFiles()
{
    m_replaced->clear();
    const PackageChoice *package = m_session->target().packageFor(Component::WebUi, m_step->os);
    if (!package) {
        m_replaced->setHeaderLabels({tr("The new package's contents cannot be read (%1)").arg(tr("no Web UI package was chosen"))});
        return;
    }
    // A vendor package is read through (a .deb's whole data.tar): off the GUI thread.
    m_replaced->setHeaderLabels({tr("Reading the files of %1…").arg(package->fileName())});
    auto *watcher = new QFutureWatcher<Expected<QStringList>>(this);
    const int generation = m_generation;
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, generation] {
        watcher->deleteLater();
        if (generation != m_generation)
            return;
        const Expected<QStringList> files = watcher->result();
        if (!files) {
            m_replaced->setHeaderLabels({tr("The new package's contents cannot be read (%1)").arg(files.error())});
            return;
        }
        m_replaced->setHeaderLabels({tr("%n file(s) the new Web UI package replaces", nullptr, int(files->size()))});
        for (const QString &path : *files)
            new QTreeWidgetItem(m_replaced, {path});
    });
    watcher->setFuture(QtConcurrent::run(&webUiFilesOfPackage, package->filePath));
}

void CustomizationsPage::recordBaseline()
{
    m_recordBaseline->setEnabled(false);
    auto *job = new RecordBaselineJob(m_session->client(), webUiEndpoint(), this);
    const int generation = m_generation;
    connect(job, &AgentJob::finished, this, [this, job, generation] {
        if (generation != m_generation)
            return;
        if (job->error() != AgentJob::NoError) {
            m_noBaselineReason = tr("The baseline was not recorded: %1").arg(job->errorString());
            setState(State::NoBaseline);
            return;
        }
        // Compared with the baseline just recorded, nothing is customized now.
        fetchReport();
    });
    job->start();
}

void CustomizationsPage::resizeEvent(QResizeEvent *event)
{
    QWizardPage::resizeEvent(event);
    // Side by side only where the list keeps a readable File column beside the diff;
    // narrower (1024×768 at 150 %) the diff goes below the list, and both get the whole
    // width (the page scrolls down, never sideways).
    const Qt::Orientation orientation = width() >= kSideBySideWidth ? Qt::Horizontal : Qt::Vertical;
    if (orientation == m_splitter->orientation())
        return;
    m_splitter->setOrientation(orientation);
    m_splitter->setMinimumHeight(orientation == Qt::Vertical ? kStackedHeight : 0);
    // Stacked, the list gets a third of the height and the diff the rest.
    const int along = orientation == Qt::Vertical ? std::max(m_splitter->height(), kStackedHeight) : m_splitter->width();
    m_splitter->setSizes(orientation == Qt::Vertical ? QList<int>{along / 3, along - along / 3}
                                                     : QList<int>{along / 2, along - along / 2});
}

void CustomizationsPage::fillList()
{
    m_list->clear();
    m_diffView->showMessage(tr("Select a file to see what was changed."));
    for (const WebUiCustomizedFile &file : std::as_const(m_customizations.files)) {
        auto *item = new QTreeWidgetItem(m_list);
        item->setText(0, file.path);
        item->setToolTip(0, file.path);
        item->setData(0, kPathRole, file.path);
        item->setText(1, displayName(file.change));
        item->setText(2, sizeText(file.size));
        item->setTextAlignment(2, Qt::AlignRight | Qt::AlignVCenter);
        if (file.modified.isValid()) {
            // The date in the column, the time in the tooltip: a full date and time
            // does not fit beside the file's path on a small screen.
            const QDateTime local = file.modified.toLocalTime();
            item->setText(3, QLocale().toString(local.date(), QLocale::ShortFormat));
            item->setToolTip(3, QLocale().toString(local, QLocale::LongFormat) + QStringLiteral(" (")
                                    + file.modified.toUTC().toString(Qt::ISODate) + QLatin1Char(')'));
        }
        if (file.change == WebUiCustomizedFile::Change::Deleted)
            item->setIcon(1, warningIcon());
    }
    if (m_list->topLevelItemCount() > 0)
        m_list->setCurrentItem(m_list->topLevelItem(0));
}

void CustomizationsPage::showSelectedDiff()
{
    const QTreeWidgetItem *item = m_list->currentItem();
    if (!item)
        return;
    const QString path = item->data(0, kPathRole).toString();
    for (const WebUiCustomizedFile &file : std::as_const(m_customizations.files)) {
        if (file.path == path)
            return showDiffFor(file);
    }
}

void CustomizationsPage::showDiffFor(const WebUiCustomizedFile &file)
{
    m_shownPath = file.path;
    if (!file.text) {
        QStringList lines{tr("%1 is a binary file: there is no text to compare.").arg(file.path)};
        if (file.change != WebUiCustomizedFile::Change::Deleted)
            lines << tr("Now: %1, SHA-256 %2").arg(sizeText(file.size), file.sha256);
        if (file.change != WebUiCustomizedFile::Change::Added)
            lines << tr("As installed: SHA-256 %1").arg(file.pristineSha256);
        if (file.change == WebUiCustomizedFile::Change::Deleted)
            lines << tr("It was deleted; the upgrade puts the new version's copy back.");
        else
            lines << tr("The reference backup keeps a copy.");
        m_diffView->showMessage(lines.join(QLatin1Char('\n')));
        return;
    }
    if (const auto cached = m_diffs.constFind(file.path); cached != m_diffs.cend()) {
        if (!cached->error.isEmpty())
            m_diffView->showMessage(cached->error);
        else if (cached->diff.isEmpty())
            m_diffView->showMessage(tr("%1 differs only in bytes that do not change its text "
                                       "(for example its encoding).").arg(file.path));
        else
            m_diffView->setDiff(cached->diff);
        return;
    }
    m_diffView->showMessage(tr("Fetching both versions of %1…").arg(file.path));
    auto *job = new CustomizationDiffJob(m_session->client(), webUiEndpoint(), file, this);
    const int generation = m_generation;
    connect(job, &CustomizationDiffJob::finished, this, [this, generation](CustomizationDiffJob *done) {
        done->deleteLater();
        if (generation != m_generation)
            return;
        m_diffs.insert(done->file().path, {done->diff(), done->errorString()});
        if (m_shownPath == done->file().path)
            showDiffFor(done->file());
    });
    job->start();
}

void CustomizationsPage::chooseBackupPath()
{
    const QString folder = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation);
    const QString name = QStringLiteral("webui-customizations-%1-%2.zip")
                             .arg(m_step ? m_step->node : QStringLiteral("portal"),
                                  QDate::currentDate().toString(Qt::ISODate));
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Save reference backup"), QDir(folder).filePath(name),
        tr("Zip archive (*.zip);;Compressed tar archive (*.tar.gz *.tgz)"));
    if (path.isEmpty())
        return;
    // The dialog has already asked before replacing a file.
    saveReferenceBackup(path, true);
}

void CustomizationsPage::saveReferenceBackup(const QString &path, bool overwrite)
{
    if (m_state != State::Customized || m_backupJob)
        return;
    BackupInfo info;
    info.node = m_step ? m_step->node : QString();
    info.webUiVersion = m_customizations.version.toString();
    info.targetVersion = m_step ? m_step->toVersion.toString() : QString();
    info.overwrite = overwrite;
    auto *job = new CustomizationBackupJob(m_session->client(), webUiEndpoint(), m_customizations,
                                           path, info, this);
    m_backupJob = job;
    m_saveBackup->setEnabled(false);
    m_backupStatus->setStyleSheet({});
    m_backupStatus->setText(tr("Fetching the customized files…"));
    connect(job, &CustomizationBackupJob::progress, this, [this](int done, int total) {
        m_backupStatus->setText(tr("Fetched %1 of %2 files…").arg(done).arg(total));
    });
    connect(job, &CustomizationBackupJob::finished, this, [this](CustomizationBackupJob *done) {
        done->deleteLater();
        m_backupJob = nullptr;
        m_saveBackup->setEnabled(m_state == State::Customized);
        const bool ok = !done->hasError();
        const QString message =
            ok ? (done->fileCount() == 1 ? tr("Reference backup of 1 file saved to %2. Keep it for "
                                              "reference; do not copy it back over the new Web UI.")
                                         : tr("Reference backup of %1 files saved to %2. Keep it for "
                                              "reference; do not copy its files back over the new "
                                              "Web UI.")
                                               .arg(done->fileCount()))
                     .arg(QDir::toNativeSeparators(done->archivePath()))
               : tr("The reference backup was not saved: %1").arg(done->errorString());
        m_backupStatus->setStyleSheet(ok ? QString() : QStringLiteral("color: #b3261e"));
        m_backupStatus->setText(message);
        Q_EMIT backupFinished(ok, message);
    });
    job->start();
}

} // namespace ft::ui

#include "pages/noticepage.h"

#include "notice/calendarexport.h"
#include "notice/commitment.h"
#include "notice/mailexport.h"
#include "notice/noticefacts.h"
#include "session/upgradesession.h"

#include <QApplication>
#include <QClipboard>
#include <QDesktopServices>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QResizeEvent>
#include <QStyle>
#include <QSettings>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTextBrowser>
#include <QUrl>
#include <QVBoxLayout>
#include <QWizard>

namespace ft::ui {

namespace {

const char kRecipientsKey[] = "notice/recipients";
const char kSenderKey[] = "notice/sender";
const char kContactKey[] = "notice/contact";

QString defaultFileName(NoticePage::Export kind)
{
    return kind == NoticePage::Export::Eml ? QStringLiteral("flowtraq-upgrade-notice.eml")
                                           : QStringLiteral("flowtraq-upgrade-window.ics");
}

} // namespace

NoticePage::NoticePage(UpgradeSession *session, QWidget *parent)
    : QWizardPage(parent)
    , m_session(session)
{
    setObjectName(QStringLiteral("noticePage"));
    setTitle(tr("Tell the users"));
    setSubTitle(tr("A notice drafted from the plan: when the window is, and what users will "
                   "notice during it. Send it now or later; it does not hold up the upgrade."));

    m_recipients = new QLineEdit;
    m_recipients->setObjectName(QStringLiteral("noticeRecipients"));
    m_recipients->setPlaceholderText(tr("flowtraq-users@example.org, Jane Doe <jane@example.org>"));
    m_sender = new QLineEdit;
    m_sender->setObjectName(QStringLiteral("noticeSender"));
    m_sender->setPlaceholderText(tr("NOC <noc@example.org>"));
    m_contact = new QLineEdit;
    m_contact->setObjectName(QStringLiteral("noticeContact"));
    m_contact->setPlaceholderText(tr("the NOC, +1 555 0100, noc@example.org"));
    m_clusterName = new QLineEdit;
    m_clusterName->setObjectName(QStringLiteral("noticeClusterName"));
    m_clusterName->setPlaceholderText(tr("FlowTraq"));

    auto *fields = new QFormLayout;
    fields->addRow(tr("&To:"), m_recipients);
    fields->addRow(tr("&From:"), m_sender);
    fields->addRow(tr("&Questions to:"), m_contact);
    fields->addRow(tr("&Name users know the system by:"), m_clusterName);

    m_subject = new QLabel;
    m_subject->setObjectName(QStringLiteral("noticeSubject"));
    m_subject->setWordWrap(true);
    m_subject->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_problem = new QLabel;
    m_problem->setObjectName(QStringLiteral("noticeProblem"));
    m_problem->setWordWrap(true);
    m_problem->setTextFormat(Qt::PlainText);
    m_problem->setStyleSheet(QStringLiteral("color: #b3261e"));

    // A start sooner than the lead time chosen on the Plan page: said before anything is sent.
    m_shortNotice = new QLabel;
    m_shortNotice->setObjectName(QStringLiteral("shortNoticeWarning"));
    m_shortNotice->setWordWrap(true);
    m_shortNotice->setTextFormat(Qt::PlainText);
    m_shortNotice->setStyleSheet(QStringLiteral("color: #8a5300"));
    m_shortNotice->hide();

    m_preview = new QTextBrowser;
    m_preview->setObjectName(QStringLiteral("noticePreview"));
    m_preview->setOpenLinks(false);
    m_text = new QPlainTextEdit;
    m_text->setObjectName(QStringLiteral("noticeText"));
    // The template fills the body; the administrator may change it, and the edit is what
    // every export carries.
    m_text->setReadOnly(false);
    m_text->setTabChangesFocus(true);
    m_text->setToolTip(tr("Edit the notice here; your text is kept and exported as it is."));
    m_resetBody = new QPushButton(tr("&Undo my edits"));
    m_resetBody->setObjectName(QStringLiteral("resetNoticeBody"));
    m_resetBody->setAutoDefault(false);
    m_resetBody->hide();
    m_editedNote = new QLabel(tr("Edited by you: the exports carry your text. Changes to the fields "
                                 "above no longer change the body."));
    m_editedNote->setObjectName(QStringLiteral("noticeEditedNote"));
    m_editedNote->setWordWrap(true);
    m_editedNote->hide();
    auto *textTab = new QWidget;
    auto *textLayout = new QVBoxLayout(textTab);
    textLayout->setContentsMargins(0, 0, 0, 0);
    textLayout->addWidget(m_text, 1);
    auto *editedRow = new QHBoxLayout;
    editedRow->addWidget(m_editedNote, 1);
    editedRow->addWidget(m_resetBody);
    textLayout->addLayout(editedRow);
    auto *tabs = new QTabWidget;
    tabs->addTab(m_preview, tr("Preview"));
    tabs->addTab(textTab, tr("Text (editable)"));
    connect(m_text, &QPlainTextEdit::textChanged, this, [this] {
        if (m_settingText)
            return;
        m_bodyEdited = true;
        m_resetBody->show();
        m_editedNote->show();
        if (const auto edited = draft(); edited)
            m_preview->setHtml(edited->htmlBody);
    });
    connect(m_resetBody, &QPushButton::clicked, this, &NoticePage::resetBody);

    // Short labels, so the row fits 1024×768 at 150 %; the file types are in the tooltips.
    m_saveEml = new QPushButton(tr("Save &e-mail draft…"));
    m_saveEml->setObjectName(QStringLiteral("saveEml"));
    m_saveEml->setToolTip(tr("An .eml file: Outlook and Thunderbird open it as an unsent message."));
    m_saveIcs = new QPushButton(tr("Save &calendar entry…"));
    m_saveIcs->setToolTip(tr("An .ics file with the window, for any calendar."));
    m_saveIcs->setObjectName(QStringLiteral("saveIcs"));
    m_copy = new QPushButton(tr("Co&py"));
    m_copy->setObjectName(QStringLiteral("copyNotice"));
    m_copy->setToolTip(tr("Copies the notice with its formatting, to paste into any mail or chat."));
    m_mail = new QPushButton(tr("Open in &mail client"));
    m_mail->setObjectName(QStringLiteral("openMailClient"));

    m_exportButtons = new QGridLayout;
    placeExportButtons(true);

    m_status = new QLabel;
    m_status->setObjectName(QStringLiteral("noticeStatus"));
    m_status->setWordWrap(true);
    m_status->setTextFormat(Qt::PlainText);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(fields);
    layout->addWidget(m_problem);
    layout->addWidget(m_subject);
    layout->addWidget(m_shortNotice);
    layout->addWidget(tabs, 1);
    layout->addLayout(m_exportButtons);
    layout->addWidget(m_status);

    for (QLineEdit *edit : {m_recipients, m_sender, m_contact, m_clusterName})
        connect(edit, &QLineEdit::textChanged, this, &NoticePage::redraft);
    connect(m_saveEml, &QPushButton::clicked, this, [this] { chooseAndSave(Export::Eml); });
    connect(m_saveIcs, &QPushButton::clicked, this, [this] { chooseAndSave(Export::Ics); });
    connect(m_copy, &QPushButton::clicked, this, &NoticePage::copyToClipboard);
    connect(m_mail, &QPushButton::clicked, this, &NoticePage::openInMailClient);
}

void NoticePage::resizeEvent(QResizeEvent *event)
{
    QWizardPage::resizeEvent(event);
    // One row of four buttons where it fits; two rows of two where it would not (1024×768
    // at 150 %), so the page never scrolls sideways. The row's width does not depend on
    // the choice, so the switch cannot flap.
    int oneRow = 3 * std::max(0, m_exportButtons->horizontalSpacing());
    for (const QPushButton *button : {m_saveEml, m_saveIcs, m_copy, m_mail})
        oneRow += button->sizeHint().width();
    const int room = event->size().width() - style()->pixelMetric(QStyle::PM_ScrollBarExtent);
    if ((oneRow <= room) != m_exportButtonsInOneRow)
        placeExportButtons(oneRow <= room);
}

void NoticePage::placeExportButtons(bool oneRow)
{
    m_exportButtonsInOneRow = oneRow;
    const QList<QPushButton *> buttons{m_saveEml, m_saveIcs, m_copy, m_mail};
    for (QPushButton *button : buttons)
        m_exportButtons->removeWidget(button);
    const int columns = oneRow ? 4 : 2;
    for (int i = 0; i < buttons.size(); ++i)
        m_exportButtons->addWidget(buttons.at(i), i / columns, i % columns);
    // The spare room goes to an empty column on the right, so the buttons keep their size.
    for (int column = 0; column <= 4; ++column)
        m_exportButtons->setColumnStretch(column, column == columns ? 1 : 0);
}

bool NoticePage::validatePage()
{
    if (m_committed)
        return true;
    askToCommit();
    return false;
}

QWidget *NoticePage::confirmation() const
{
    return m_confirmation;
}

void NoticePage::askToCommit()
{
    if (m_confirmation)
        return;
    const UpgradePlan plan = m_session->plan();
    QStringList keptFlowNodes;
    for (const PlanWave &wave : plan.waves) {
        for (const PlanStep &step : wave.steps) {
            if (!step.skipped && step.impact.receivesFlows && step.impact.keepFlows
                && !keptFlowNodes.contains(step.node))
                keptFlowNodes.append(step.node);
        }
    }
    const Commitment commitment = describeCommitment(m_facts, plan.totalFlowsLost,
                                                     m_session->flowLossArithmetic(plan),
                                                     QDateTime::currentDateTimeUtc(), keptFlowNodes);
    const QString shortNotice = shortNoticeWarning(commitment.windowStart, QDateTime::currentDateTimeUtc(),
                                                   m_session->noticeLeadMs());
    auto *box = new QMessageBox(QMessageBox::Question, commitment.title,
                                QStringLiteral("<h3>%1</h3>%2%3")
                                    .arg(commitment.title.toHtmlEscaped(), commitment.html,
                                         shortNotice.isEmpty() ? QString()
                                                               : QStringLiteral("<p><b>%1</b></p>").arg(shortNotice.toHtmlEscaped())),
                                QMessageBox::NoButton, this);
    box->setObjectName(QStringLiteral("startConfirmation"));
    box->setTextFormat(Qt::RichText);
    auto *start = box->addButton(commitment.scheduled ? tr("Stage now, start at the window")
                                                      : tr("Start the upgrade"),
                                 QMessageBox::AcceptRole);
    start->setObjectName(QStringLiteral("confirmStart"));
    // Enter and Esc both keep everything as it is; starting takes a deliberate click.
    start->setAutoDefault(false);
    auto *cancel = box->addButton(tr("Not yet"), QMessageBox::RejectRole);
    cancel->setObjectName(QStringLiteral("cancelStart"));
    box->setDefaultButton(cancel);
    box->setEscapeButton(cancel);
    box->setAttribute(Qt::WA_DeleteOnClose);
    m_confirmation = box;
    connect(box, &QMessageBox::finished, this, [this, box, start, commitment] {
        if (box->clickedButton() != start)
            return;
        m_session->setAnnouncedWindow(commitment.windowStart, commitment.windowEnd);
        m_committed = true;
        if (wizard())
            wizard()->next();
    });
    box->open();
}

QStringList NoticePage::splitRecipients(const QString &text)
{
    // Commas may sit inside a display name ("Doe, Jane <jane@…>"): a piece without an
    // address belongs to the one after it.
    static const QRegularExpression separators(QStringLiteral("[,;\\n]"));
    QStringList recipients;
    QString pending;
    for (const QString &piece : text.split(separators)) {
        pending = pending.isEmpty() ? piece : pending + QLatin1Char(',') + piece;
        if (pending.contains(QLatin1Char('@'))) {
            recipients.append(pending.trimmed());
            pending.clear();
        }
    }
    if (!pending.trimmed().isEmpty())
        recipients.append(pending.trimmed()); // draftNotice() names what is wrong with it
    return recipients;
}

void NoticePage::initializePage()
{
    if (!m_templates)
        m_templates = NoticeTemplates::load();

    NoticeFactsOptions options;
    options.start = m_session->planOptions().startTime;
    options.clusterName = m_clusterName->text().trimmed();
    m_facts = noticeFactsFromPlan(m_session->plan(), options);

    // The fields are the same from one upgrade to the next: offer the last ones.
    const QSettings settings;
    const QSignalBlocker blockRecipients(m_recipients);
    const QSignalBlocker blockSender(m_sender);
    const QSignalBlocker blockContact(m_contact);
    if (m_recipients->text().isEmpty())
        m_recipients->setText(settings.value(QLatin1String(kRecipientsKey)).toString());
    if (m_sender->text().isEmpty())
        m_sender->setText(settings.value(QLatin1String(kSenderKey)).toString());
    if (m_contact->text().isEmpty())
        m_contact->setText(settings.value(QLatin1String(kContactKey)).toString());
    redraft();
}

void NoticePage::redraft()
{
    m_facts.clusterName = m_clusterName->text().trimmed();
    if (!m_templates || !*m_templates) {
        m_draft = makeError(m_templates ? (*m_templates).error()
                                        : tr("The notice templates are not loaded yet."));
    } else {
        NoticeFields fields;
        fields.recipients = splitRecipients(m_recipients->text());
        fields.sender = m_sender->text().trimmed();
        fields.contact = m_contact->text().trimmed();
        m_draft = draftNotice(m_facts, fields, **m_templates);
    }

    const bool ok = bool(m_draft);
    m_problem->setText(ok ? QString() : m_draft.error());
    m_problem->setVisible(!ok);
    // A typo in a field keeps the last good preview on screen; only the exports wait.
    if (ok) {
        m_subject->setText(tr("<b>Subject:</b> %1").arg(m_draft->subject.toHtmlEscaped()));
        const QString shortNotice = shortNoticeWarning(m_draft->windowStart, QDateTime::currentDateTimeUtc(),
                                                       m_session->noticeLeadMs());
        m_shortNotice->setText(shortNotice.isEmpty() ? QString()
                                                     : shortNotice + QLatin1Char(' ')
                                                           + tr("Go back to the Plan page for a later start if they need the full notice."));
        m_shortNotice->setVisible(!shortNotice.isEmpty());
        if (!m_bodyEdited) {
            m_preview->setHtml(m_draft->htmlBody);
            m_settingText = true;
            m_text->setPlainText(m_draft->textBody);
            m_settingText = false;
        }
    }
    m_saveEml->setEnabled(ok && m_draft->sender.has_value());
    m_saveEml->setToolTip(ok && !m_draft->sender ? tr("Fill in From: an e-mail needs a sender.")
                                                 : tr("Outlook and Thunderbird open it as an unsent message."));
    m_saveIcs->setEnabled(ok);
    m_copy->setEnabled(ok);
    m_mail->setEnabled(ok && !m_draft->recipients.isEmpty());
}

Expected<NoticeDraft> NoticePage::draft() const
{
    if (!m_draft || !m_bodyEdited)
        return m_draft;
    return withEditedBody(*m_draft, m_text->toPlainText());
}

void NoticePage::resetBody()
{
    m_bodyEdited = false;
    m_resetBody->hide();
    m_editedNote->hide();
    redraft();
}

Expected<QByteArray> NoticePage::contents(Export kind) const
{
    const auto current = draft();
    if (!current)
        return makeError(current.error());
    return kind == Export::Eml ? toEml(*current) : toIcs(*current);
}

void NoticePage::chooseAndSave(Export kind)
{
    const QString folder = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation);
    const QString filter = kind == Export::Eml ? tr("E-mail message (*.eml)")
                                               : tr("Calendar entry (*.ics)");
    // save() asks before replacing, so it can also tell why a write failed.
    const QString path = QFileDialog::getSaveFileName(
        this, kind == Export::Eml ? tr("Save the notice") : tr("Save the calendar entry"),
        QDir(folder).filePath(defaultFileName(kind)), filter, nullptr,
        QFileDialog::DontConfirmOverwrite);
    if (!path.isEmpty())
        save(kind, path);
}

bool NoticePage::save(Export kind, const QString &path)
{
    const auto bytes = contents(kind);
    if (!bytes) {
        showStatus(tr("Not saved: %1").arg(bytes.error()), true);
        return false;
    }
    bool overwrite = false;
    const QFileInfo info(path);
    if (info.exists() && !info.isDir()) {
        const auto answer = QMessageBox::question(
            this, tr("Replace the file?"),
            tr("%1 already exists. Replace it with this notice?")
                .arg(QDir::toNativeSeparators(path)),
            QMessageBox::Yes | QMessageBox::No, QMessageBox::No);
        if (answer != QMessageBox::Yes) {
            showStatus(tr("Not saved: %1 was kept as it is.").arg(QDir::toNativeSeparators(path)),
                       false);
            return false;
        }
        overwrite = true;
    }
    if (Result written = saveNoticeFile(path, *bytes, overwrite); !written) {
        showStatus(written.error(), true);
        return false;
    }
    rememberFields();
    const QString shown = QDir::toNativeSeparators(path);
    recordSent(kind == Export::Eml ? tr("draft exported to %1").arg(shown)
                                   : tr("calendar entry exported to %1").arg(shown));
    showStatus(kind == Export::Eml ? tr("Saved %1. Open it to send it from your mail client.").arg(shown)
                                   : tr("Saved %1.").arg(shown),
               false);
    return true;
}

void NoticePage::copyToClipboard()
{
    if (!m_draft) {
        showStatus(tr("Nothing copied: %1").arg(m_draft.error()), true);
        return;
    }
    const NoticeDraft current = *draft();
    auto *mime = new QMimeData;
    mime->setText(current.textBody);
    mime->setHtml(current.htmlBody);
    QApplication::clipboard()->setMimeData(mime);
    rememberFields();
    recordSent(tr("copied to the clipboard"));
    showStatus(tr("The notice is on the clipboard, with its formatting. Its subject: %1")
                   .arg(m_draft->subject),
               false);
}

void NoticePage::openInMailClient()
{
    if (!m_draft) {
        showStatus(m_draft.error(), true);
        return;
    }
    const QString url = mailtoUrl(*draft());
    if (url.size() > kMailtoSafeLength) {
        const auto answer = QMessageBox::question(
            this, tr("Notice too long for a mail link"),
            tr("This notice makes a mail link of %1 characters; many mail clients cut links "
               "longer than %2 short, and the notice would arrive incomplete.\n\nSave it as an "
               "e-mail draft (.eml) instead? Your mail client opens it as an unsent message.")
                .arg(url.size())
                .arg(kMailtoSafeLength),
            QMessageBox::Save | QMessageBox::Cancel, QMessageBox::Save);
        if (answer == QMessageBox::Save)
            chooseAndSave(Export::Eml);
        return;
    }
    if (!QDesktopServices::openUrl(QUrl(url, QUrl::StrictMode))) {
        showStatus(tr("No mail client opened the notice. Save it as an e-mail draft (.eml) "
                      "instead, or copy it."),
                   true);
        return;
    }
    rememberFields();
    recordSent(tr("opened in the default mail client"));
    showStatus(tr("Handed to your mail client: check it there, then send it."), false);
}

void NoticePage::recordSent(const QString &what)
{
    if (!m_sent.contains(what))
        m_sent.append(what);
    m_session->setNoticeSent(m_sent.join(QStringLiteral("; ")));
}

void NoticePage::showStatus(const QString &text, bool error)
{
    m_status->setStyleSheet(error ? QStringLiteral("color: #b3261e") : QString());
    m_status->setText(text);
}

void NoticePage::rememberFields() const
{
    QSettings settings;
    settings.setValue(QLatin1String(kRecipientsKey), m_recipients->text().trimmed());
    settings.setValue(QLatin1String(kSenderKey), m_sender->text().trimmed());
    settings.setValue(QLatin1String(kContactKey), m_contact->text().trimmed());
}

} // namespace ft::ui

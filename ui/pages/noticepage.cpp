#include "pages/noticepage.h"

#include "notice/calendarexport.h"
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
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSettings>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTextBrowser>
#include <QUrl>
#include <QVBoxLayout>

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

    m_preview = new QTextBrowser;
    m_preview->setObjectName(QStringLiteral("noticePreview"));
    m_preview->setOpenLinks(false);
    m_text = new QPlainTextEdit;
    m_text->setObjectName(QStringLiteral("noticeText"));
    m_text->setReadOnly(true);
    auto *tabs = new QTabWidget;
    tabs->addTab(m_preview, tr("Preview"));
    tabs->addTab(m_text, tr("Plain text"));

    m_saveEml = new QPushButton(tr("Save as &e-mail draft (.eml)…"));
    m_saveEml->setObjectName(QStringLiteral("saveEml"));
    m_saveEml->setToolTip(tr("Outlook and Thunderbird open it as an unsent message."));
    m_saveIcs = new QPushButton(tr("Save &calendar entry (.ics)…"));
    m_saveIcs->setObjectName(QStringLiteral("saveIcs"));
    m_copy = new QPushButton(tr("Co&py"));
    m_copy->setObjectName(QStringLiteral("copyNotice"));
    m_copy->setToolTip(tr("Copies the notice with its formatting, to paste into any mail or chat."));
    m_mail = new QPushButton(tr("Open in &mail client"));
    m_mail->setObjectName(QStringLiteral("openMailClient"));

    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_saveEml);
    buttons->addWidget(m_saveIcs);
    buttons->addWidget(m_copy);
    buttons->addWidget(m_mail);
    buttons->addStretch();

    m_status = new QLabel;
    m_status->setObjectName(QStringLiteral("noticeStatus"));
    m_status->setWordWrap(true);
    m_status->setTextFormat(Qt::PlainText);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(fields);
    layout->addWidget(m_problem);
    layout->addWidget(m_subject);
    layout->addWidget(tabs, 1);
    layout->addLayout(buttons);
    layout->addWidget(m_status);

    for (QLineEdit *edit : {m_recipients, m_sender, m_contact, m_clusterName})
        connect(edit, &QLineEdit::textChanged, this, &NoticePage::redraft);
    connect(m_saveEml, &QPushButton::clicked, this, [this] { chooseAndSave(Export::Eml); });
    connect(m_saveIcs, &QPushButton::clicked, this, [this] { chooseAndSave(Export::Ics); });
    connect(m_copy, &QPushButton::clicked, this, &NoticePage::copyToClipboard);
    connect(m_mail, &QPushButton::clicked, this, &NoticePage::openInMailClient);
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
        m_preview->setHtml(m_draft->htmlBody);
        m_text->setPlainText(m_draft->textBody);
    }
    m_saveEml->setEnabled(ok && m_draft->sender.has_value());
    m_saveEml->setToolTip(ok && !m_draft->sender ? tr("Fill in From: an e-mail needs a sender.")
                                                 : tr("Outlook and Thunderbird open it as an unsent message."));
    m_saveIcs->setEnabled(ok);
    m_copy->setEnabled(ok);
    m_mail->setEnabled(ok && !m_draft->recipients.isEmpty());
}

Expected<QByteArray> NoticePage::contents(Export kind) const
{
    if (!m_draft)
        return makeError(m_draft.error());
    return kind == Export::Eml ? toEml(*m_draft) : toIcs(*m_draft);
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
    auto *mime = new QMimeData;
    mime->setText(m_draft->textBody);
    mime->setHtml(m_draft->htmlBody);
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
    const QString url = mailtoUrl(*m_draft);
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

#pragma once

#include "model/expected.h"
#include "notice/notice.h"
#include "notice/noticetemplate.h"

#include <QPointer>
#include <QWizardPage>

#include <optional>

class QGridLayout;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QTextBrowser;

namespace ft {
class UpgradeSession;
}

namespace ft::ui {

// Step 6: the notice to end users, drafted from the plan (when, for how long, what
// they will notice) and the administrator's fields, with a live preview, and the
// ways to send it: a .eml draft, a .ics calendar entry, the clipboard (text and
// HTML), the default mail client. Sending is optional; the page never blocks Next.
class NoticePage : public QWizardPage
{
    Q_OBJECT

public:
    enum class Export { Eml, Ics };

    explicit NoticePage(UpgradeSession *session, QWidget *parent = nullptr);

    void initializePage() override;
    // Leaving this page starts the run: only after the administrator confirmed what will
    // be stopped and when (an asynchronous dialog; Next is pressed again for them).
    bool validatePage() override;
    // The confirmation dialog while it is open (for tests and screenshots).
    QWidget *confirmation() const;

    // The draft as the fields make it now, or why there is none; with the
    // administrator's edit of the body when there is one.
    Expected<NoticeDraft> draft() const;
    bool isBodyEdited() const { return m_bodyEdited; }
    // Back to the template's text (edits dropped).
    void resetBody();

    // Saves an export to `path`. An existing file is replaced only after the user
    // agrees; a failed write says why on the page and keeps the draft. The buttons
    // ask for the path and call this. True when written.
    bool save(Export kind, const QString &path);
    void copyToClipboard();
    void openInMailClient();

    // Splits "a@x.org, Doe, Jane <j@x.org>; b@x.org" into one entry per address.
    static QStringList splitRecipients(const QString &text);

protected:
    void resizeEvent(QResizeEvent *event) override;

private:
    void placeExportButtons(bool oneRow);

    void redraft();
    void askToCommit();
    void chooseAndSave(Export kind);
    Expected<QByteArray> contents(Export kind) const;
    void recordSent(const QString &what);
    void showStatus(const QString &text, bool error);
    void rememberFields() const;

    UpgradeSession *m_session;
    std::optional<Expected<NoticeTemplates>> m_templates;
    NoticeFacts m_facts;
    Expected<NoticeDraft> m_draft{makeError({})};
    QStringList m_sent; // what was done with the draft, for the run's report

    QLineEdit *m_recipients = nullptr;
    QLineEdit *m_sender = nullptr;
    QLineEdit *m_contact = nullptr;
    QLineEdit *m_clusterName = nullptr;
    QLabel *m_subject = nullptr;
    QLabel *m_problem = nullptr;
    QLabel *m_shortNotice = nullptr;
    QTextBrowser *m_preview = nullptr;
    QPlainTextEdit *m_text = nullptr;
    QPushButton *m_saveEml = nullptr;
    QPushButton *m_saveIcs = nullptr;
    QPushButton *m_copy = nullptr;
    QPushButton *m_mail = nullptr;
    QGridLayout *m_exportButtons = nullptr;
    bool m_exportButtonsInOneRow = true;
    QLabel *m_status = nullptr;
    bool m_committed = false;
    bool m_bodyEdited = false;
    bool m_settingText = false;
    QPushButton *m_resetBody = nullptr;
    QLabel *m_editedNote = nullptr;
    QPointer<QWidget> m_confirmation;
};

} // namespace ft::ui

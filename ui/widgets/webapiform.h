#pragma once

#include "model/expected.h"
#include "webapi/webapiinfo.h"

#include <QGroupBox>

class QCheckBox;
class QLabel;
class QLineEdit;

namespace ft::ui {

// "FlowTraq Web API (optional)": the portal's https address and a FlowTraq user's
// credentials, typed once. The password goes to the system keychain only (never a
// file); typing a portal address that has saved credentials fills them in. The
// version key is offered because the fields of "info" are not documented.
class WebApiForm : public QGroupBox
{
    Q_OBJECT

public:
    explicit WebApiForm(QWidget *parent = nullptr);

    // Nothing typed: the Web API is not used. Otherwise the settings, or one sentence.
    bool isEmpty() const;
    Expected<WebApiSettings> settings() const;
    // Saves the credentials in the keychain (asynchronously; a failure is shown).
    void remember();
    void setStatus(const QString &text);
    // Fills the form (demo mode: the sandbox's Web API); not remembered in the keychain.
    void preset(const WebApiSettings &settings);
    bool remembers() const;

private:
    void loadSaved();

    QLineEdit *m_portal = nullptr;
    QLineEdit *m_user = nullptr;
    QLineEdit *m_password = nullptr;
    QCheckBox *m_sessionKey = nullptr;
    QLineEdit *m_fingerprint = nullptr;
    QLineEdit *m_versionKey = nullptr;
    QCheckBox *m_remember = nullptr;
    QLabel *m_status = nullptr;
};

} // namespace ft::ui

#pragma once

#include "webapi/webapiinfo.h"

#include <QWizardPage>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;

namespace ft {
class UpgradeSession;
}

namespace ft::ui {

class WebApiForm;

// Step 1: the portal's agent. The administrator types its address and the cluster's
// token (or picks a saved connection), looks at the agent's certificate fingerprint
// and trusts it. Nothing is sent to an agent before its certificate is trusted.
class ConnectPage : public QWizardPage
{
    Q_OBJECT

public:
    explicit ConnectPage(UpgradeSession *session, QWidget *parent = nullptr);

    void initializePage() override;
    bool isComplete() const override;
    bool validatePage() override;

    // Fills the page from a sandbox cluster (demo mode): address, token, pin.
    void preset(const QString &address, const QString &token);
    // Fills the FlowTraq Web API box (demo mode: the sandbox portal's Web API).
    void presetWebApi(const WebApiSettings &settings);

private:
    void loadProfiles();
    void applyProfile(int index);
    void checkCertificate();
    void showFingerprint(const QString &fingerprint, const QString &error);
    // Remembering a connection: the token goes to the keychain first; the profile is saved and
    // the page left only once it is there. A refusal keeps the administrator on this page.
    void saveConnectionThenContinue();
    QString connectionIdentity() const;
    void showKeychainMessage(const QString &html);
    void addressEdited();
    void importNodeList();

    UpgradeSession *m_session;
    QComboBox *m_profiles = nullptr;
    QLineEdit *m_address = nullptr;
    QLineEdit *m_token = nullptr;
    QPushButton *m_check = nullptr;
    QLabel *m_fingerprint = nullptr;
    QLabel *m_status = nullptr;
    // The keychain's word (a token that could not be read or saved), apart from m_status so
    // the certificate check never overwrites it; it stays until the administrator acts.
    QLabel *m_keychainStatus = nullptr;
    bool m_saving = false;
    QString m_savedConnection; // connectionIdentity() of the last connection saved
    QCheckBox *m_trust = nullptr;
    QCheckBox *m_remember = nullptr;
    QLineEdit *m_profileName = nullptr;
    QPlainTextEdit *m_nodeList = nullptr; // optional: the administrator's own list of nodes (CSV)
    WebApiForm *m_webApi = nullptr;
    QString m_presentedFingerprint; // what the agent showed, lower-case hex
    QString m_probedAddress;        // the address it was probed at
};

} // namespace ft::ui

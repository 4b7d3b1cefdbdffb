#include "widgets/webapiform.h"

#include "agentlink/credentialstore.h"

#include <QCheckBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>

namespace ft::ui {

WebApiForm::WebApiForm(QWidget *parent)
    : QGroupBox(tr("FlowTraq Web API (optional)"), parent)
{
    setObjectName(QStringLiteral("webApiForm"));
    m_portal = new QLineEdit;
    m_portal->setObjectName(QStringLiteral("webApiPortal"));
    m_portal->setPlaceholderText(tr("https://portal.example.com"));
    m_portal->setToolTip(tr("The portal's web server, where FlowTraq answers /flowtraq/api/v3/. "
                            "The wizard asks it which version really runs (the vendor's own check)."));
    m_user = new QLineEdit;
    m_user->setObjectName(QStringLiteral("webApiUser"));
    m_password = new QLineEdit;
    m_password->setObjectName(QStringLiteral("webApiPassword"));
    m_password->setEchoMode(QLineEdit::Password);
    m_password->setToolTip(tr("Kept in the system keychain, never in a file."));
    // Short check box texts, so the form fits 1024×768 at 150 %; the rest is in the tooltips.
    m_sessionKey = new QCheckBox(tr("Log in for a session key"));
    m_sessionKey->setToolTip(tr("Asks FlowTraq for a session key once, instead of sending the password "
                                "with each request."));
    m_sessionKey->setObjectName(QStringLiteral("webApiSessionKey"));
    m_fingerprint = new QLineEdit;
    m_fingerprint->setObjectName(QStringLiteral("webApiFingerprint"));
    m_fingerprint->setPlaceholderText(tr("SHA-256 of the portal's certificate, if it is self-signed"));
    m_versionKey = new QLineEdit;
    m_versionKey->setObjectName(QStringLiteral("webApiVersionKey"));
    m_versionKey->setPlaceholderText(tr("found automatically"));
    m_versionKey->setToolTip(tr("FlowTraq does not document the fields of its info answer. The wizard "
                                "uses the first key whose name contains \"version\" and shows which; "
                                "name another key here (a.b for nested ones) to use it instead."));
    m_remember = new QCheckBox(tr("Remember them in the system keychain"));
    m_remember->setToolTip(tr("The user and password are kept in the system keychain, never in a file."));
    m_remember->setObjectName(QStringLiteral("webApiRemember"));
    m_remember->setChecked(true);
    m_status = new QLabel;
    m_status->setObjectName(QStringLiteral("webApiStatus"));
    m_status->setWordWrap(true);

    auto *form = new QFormLayout(this);
    form->addRow(tr("Portal &web address:"), m_portal);
    form->addRow(tr("FlowTraq &user:"), m_user);
    form->addRow(tr("&Password:"), m_password);
    form->addRow(QString(), m_sessionKey);
    form->addRow(tr("Certificate &pin:"), m_fingerprint);
    form->addRow(tr("&Version key:"), m_versionKey);
    form->addRow(QString(), m_remember);
    form->addRow(QString(), m_status);

    connect(m_portal, &QLineEdit::editingFinished, this, &WebApiForm::loadSaved);
}

bool WebApiForm::isEmpty() const
{
    return m_portal->text().trimmed().isEmpty() && m_user->text().isEmpty() && m_password->text().isEmpty();
}

Expected<WebApiSettings> WebApiForm::settings() const
{
    WebApiSettings settings;
    QString address = m_portal->text().trimmed();
    if (!address.contains(QLatin1String("://")))
        address.prepend(QStringLiteral("https://"));
    settings.portal = QUrl(address, QUrl::StrictMode);
    settings.user = m_user->text();
    settings.password = m_password->text();
    settings.useSessionKey = m_sessionKey->isChecked();
    settings.fingerprint = m_fingerprint->text().trimmed();
    settings.versionKey = m_versionKey->text().trimmed();
    if (auto valid = settings.validate(); !valid)
        return makeError(valid.error());
    return settings;
}

void WebApiForm::preset(const WebApiSettings &settings)
{
    m_portal->setText(settings.portal.toString());
    m_user->setText(settings.user);
    m_password->setText(settings.password);
    m_fingerprint->setText(settings.fingerprint);
    m_versionKey->setText(settings.versionKey);
    m_sessionKey->setChecked(settings.useSessionKey);
    m_remember->setChecked(false);
    m_status->clear();
}

bool WebApiForm::remembers() const
{
    return m_remember->isChecked();
}

void WebApiForm::setStatus(const QString &text)
{
    m_status->setText(text);
}

void WebApiForm::loadSaved()
{
    if (!m_user->text().isEmpty() || !m_password->text().isEmpty() || m_portal->text().trimmed().isEmpty())
        return;
    WebApiSettings probe;
    QString address = m_portal->text().trimmed();
    if (!address.contains(QLatin1String("://")))
        address.prepend(QStringLiteral("https://"));
    probe.portal = QUrl(address);
    if (probe.portal.host().isEmpty())
        return;
    KeychainCredentialStore store;
    CredentialJob *job = store.readToken(probe.keychainKey(), this);
    connect(job, &CredentialJob::finished, this, [this, probe](CredentialJob *done) {
        if (done->error() != CredentialJob::NoError || !m_user->text().isEmpty())
            return;
        WebApiSettings saved = probe;
        if (!saved.applySecretText(done->token()))
            return;
        m_user->setText(saved.user);
        m_password->setText(saved.password);
        m_fingerprint->setText(saved.fingerprint);
        m_versionKey->setText(saved.versionKey);
        m_sessionKey->setChecked(saved.useSessionKey);
        setStatus(tr("The saved credentials of %1 were filled in from the keychain.").arg(saved.user));
    });
    job->start();
}

void WebApiForm::remember()
{
    const auto current = settings();
    if (!current)
        return;
    KeychainCredentialStore store;
    CredentialJob *job = store.writeToken(current->keychainKey(), current->secretText(), this);
    connect(job, &CredentialJob::finished, this, [this](CredentialJob *done) {
        if (done->error() != CredentialJob::NoError)
            setStatus(tr("The Web API credentials could not be saved in the keychain: %1").arg(done->errorString()));
    });
    job->start();
}

} // namespace ft::ui

#include "pages/connectpage.h"

#include "discover/nodelist.h"
#include "discover/discovery.h"

#include "agentlink/agentjobs.h"
#include "agentlink/connectionprofile.h"
#include "agentlink/credentialstore.h"
#include "agentlink/trustedcertificates.h"
#include "session/upgradesession.h"
#include "widgets/webapiform.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QFile>
#include <QFileDialog>
#include <QPlainTextEdit>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>
#include <QWizard>

namespace ft::ui {

ConnectPage::ConnectPage(UpgradeSession *session, QWidget *parent)
    : QWizardPage(parent)
    , m_session(session)
{
    setObjectName(QStringLiteral("connectPage"));
    setTitle(tr("Connect to the cluster"));
    setSubTitle(tr("Enter the address of the upgrade agent on the FlowTraq portal and the "
                   "cluster's access token. The wizard finds the workers from the portal."));

    m_profiles = new QComboBox;
    m_profiles->setObjectName(QStringLiteral("profiles"));
    m_profiles->setToolTip(tr("Connections saved earlier. Their tokens are in the system keychain."));

    m_address = new QLineEdit;
    m_address->setObjectName(QStringLiteral("portalAddress"));
    m_address->setPlaceholderText(tr("portal.example.com:9650"));
    m_address->setToolTip(tr("Host name or address of the portal, with the agent's port "
                             "(9650 unless it was changed)."));

    m_token = new QLineEdit;
    m_token->setObjectName(QStringLiteral("token"));
    m_token->setEchoMode(QLineEdit::Password);
    m_token->setToolTip(tr("The token printed by 'ftupgrade-agent init' on the nodes. "
                           "It is kept in the system keychain, never in a file."));

    m_check = new QPushButton(tr("&Check certificate"));
    m_check->setObjectName(QStringLiteral("checkCertificate"));
    m_check->setToolTip(tr("Connects to the agent and shows its certificate's fingerprint. "
                           "No token is sent."));

    m_fingerprint = new QLabel;
    m_fingerprint->setObjectName(QStringLiteral("fingerprint"));
    m_fingerprint->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_fingerprint->setWordWrap(true);
    QFont mono = m_fingerprint->font();
    mono.setFamily(QStringLiteral("monospace"));
    mono.setStyleHint(QFont::TypeWriter);
    m_fingerprint->setFont(mono);

    // Short, so it fits a small screen; the status line below says what to compare.
    m_trust = new QCheckBox(tr("I compared it and &trust it"));
    m_trust->setToolTip(tr("Tick only after comparing this fingerprint with the one 'ftupgrade-agent init' "
                           "printed on the portal."));
    m_trust->setObjectName(QStringLiteral("trustCertificate"));
    m_trust->setEnabled(false);

    m_status = new QLabel;
    m_status->setObjectName(QStringLiteral("connectStatus"));
    m_status->setWordWrap(true);

    m_keychainStatus = new QLabel;
    m_keychainStatus->setObjectName(QStringLiteral("keychainStatus"));
    m_keychainStatus->setWordWrap(true);
    m_keychainStatus->setTextFormat(Qt::RichText);
    m_keychainStatus->setVisible(false);

    m_remember = new QCheckBox(tr("&Remember this connection as"));
    m_remember->setObjectName(QStringLiteral("rememberConnection"));
    m_profileName = new QLineEdit;
    m_profileName->setObjectName(QStringLiteral("profileName"));
    m_profileName->setPlaceholderText(tr("Production cluster"));
    m_profileName->setEnabled(false);

    auto *form = new QFormLayout;
    form->addRow(tr("Sa&ved connection:"), m_profiles);
    form->addRow(tr("Portal &agent:"), m_address);
    form->addRow(tr("Access t&oken:"), m_token);
    auto *checkRow = new QHBoxLayout;
    checkRow->addWidget(m_check);
    checkRow->addStretch();
    form->addRow(QString(), checkRow);
    form->addRow(tr("Fingerprint (SHA-256):"), m_fingerprint);
    form->addRow(QString(), m_trust);
    auto *rememberRow = new QHBoxLayout;
    rememberRow->addWidget(m_remember);
    rememberRow->addWidget(m_profileName, 1);
    form->addRow(QString(), rememberRow);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    // Below the form, not in it: a wrapped label in a form row gets the height of its
    // narrowest wrap, with blank space around the text.
    layout->addWidget(m_keychainStatus);
    // The vendor has no API for the member list: the administrator may give one too.
    m_nodeList = new QPlainTextEdit;
    m_nodeList->setObjectName(QStringLiteral("nodeList"));
    m_nodeList->setPlaceholderText(tr("Optional: your own list of the cluster's nodes, one per line as "
                                      "name,host[,agent_port] (CSV), compared with the portal's member list"));
    m_nodeList->setMaximumHeight(90);
    auto *importList = new QPushButton(tr("&Import CSV…"));
    importList->setObjectName(QStringLiteral("importNodeList"));
    connect(importList, &QPushButton::clicked, this, &ConnectPage::importNodeList);
    auto *listRow = new QHBoxLayout;
    listRow->addWidget(m_nodeList, 1);
    listRow->addWidget(importList, 0, Qt::AlignTop);
    layout->addWidget(new QLabel(tr("Nodes you know of:")));
    layout->addLayout(listRow);
    m_webApi = new WebApiForm;
    layout->addWidget(m_webApi);
    layout->addWidget(m_status);
    layout->addStretch();

    registerField(QStringLiteral("portalAddress*"), m_address);
    registerField(QStringLiteral("token*"), m_token);
    registerField(QStringLiteral("certificateTrusted"), m_trust);

    connect(m_profiles, &QComboBox::activated, this, &ConnectPage::applyProfile);
    connect(m_address, &QLineEdit::textEdited, this, &ConnectPage::addressEdited);
    connect(m_check, &QPushButton::clicked, this, &ConnectPage::checkCertificate);
    connect(m_address, &QLineEdit::returnPressed, this, &ConnectPage::checkCertificate);
    connect(m_trust, &QCheckBox::toggled, this, &ConnectPage::completeChanged);
    connect(m_remember, &QCheckBox::toggled, m_profileName, &QWidget::setEnabled);
    // Typing a token, or no longer asking to remember, answers what the keychain said.
    connect(m_token, &QLineEdit::textEdited, this, [this] { showKeychainMessage({}); });
    connect(m_remember, &QCheckBox::toggled, this, [this](bool remember) {
        if (!remember && !m_saving)
            showKeychainMessage({});
    });
}

void ConnectPage::showKeychainMessage(const QString &html)
{
    m_keychainStatus->setText(html);
    m_keychainStatus->setVisible(!html.isEmpty());
}

void ConnectPage::initializePage()
{
    loadProfiles();
}

void ConnectPage::loadProfiles()
{
    m_profiles->clear();
    m_profiles->addItem(tr("New connection"));
    for (const ConnectionProfile &profile : ConnectionProfiles().list())
        m_profiles->addItem(profile.name, QVariant::fromValue(profile.portalUrl));
}

void ConnectPage::applyProfile(int index)
{
    if (index <= 0)
        return;
    const QUrl url = m_profiles->itemData(index).toUrl();
    m_address->setText(TrustedCertificates::addressOf(url));
    m_profileName->setText(m_profiles->itemText(index));
    addressEdited();
    // The token comes from the keychain, asynchronously; the page stays usable. What the
    // keychain says stays on screen beside the token (a locked keyring whose unlock was
    // cancelled must not pass for "no token").
    m_token->clear();
    showKeychainMessage(tr("Reading the saved token from the system keychain…"));
    KeychainCredentialStore store;
    CredentialJob *job = store.readToken(
        CredentialStore::clusterKey(TrustedCertificates::addressOf(url)), this);
    const QString address = TrustedCertificates::addressOf(url);
    connect(job, &CredentialJob::finished, this, [this, address](CredentialJob *done) {
        if (m_address->text().trimmed() != address)
            return; // another connection was chosen meanwhile; its own read answers
        if (done->error() == CredentialJob::NoError) {
            m_token->setText(done->token());
            showKeychainMessage({});
        } else {
            showKeychainMessage(tr("<span style='color:#b00020'><b>The saved token could not be read.</b></span> "
                                   "%1 Type the token, or unlock the keychain and choose the "
                                   "connection again.")
                                    .arg(done->errorString().toHtmlEscaped()));
        }
        Q_EMIT completeChanged();
    });
    job->start();
    checkCertificate();
}

void ConnectPage::preset(const QString &address, const QString &token)
{
    m_address->setText(address);
    m_token->setText(token);
    checkCertificate();
}

void ConnectPage::presetWebApi(const WebApiSettings &settings)
{
    m_webApi->preset(settings);
}

void ConnectPage::addressEdited()
{
    // A new address needs its certificate looked at again.
    m_presentedFingerprint.clear();
    m_probedAddress.clear();
    m_trust->setChecked(false);
    m_trust->setEnabled(false);
    m_fingerprint->clear();
    m_status->clear();
    Q_EMIT completeChanged();
}

void ConnectPage::checkCertificate()
{
    const auto url = parseAgentAddress(m_address->text());
    if (!url) {
        m_status->setText(url.error());
        return;
    }
    m_check->setEnabled(false);
    m_status->setText(tr("Connecting to %1…").arg(TrustedCertificates::addressOf(*url)));
    AgentEndpoint endpoint;
    endpoint.url = *url;
    auto *job = new ProbeCertificateJob(m_session->client(), endpoint, this);
    const QString address = TrustedCertificates::addressOf(*url);
    connect(job, &AgentJob::finished, this, [this, job, address] {
        m_check->setEnabled(true);
        if (TrustedCertificates::addressOf(*parseAgentAddress(m_address->text())) != address)
            return; // the address changed meanwhile
        m_probedAddress = address;
        showFingerprint(job->fingerprint(),
                        job->error() == AgentJob::NoError ? QString() : job->errorString());
    });
    job->start();
}

void ConnectPage::showFingerprint(const QString &fingerprint, const QString &error)
{
    m_presentedFingerprint = fingerprint;
    if (!error.isEmpty()) {
        m_fingerprint->clear();
        m_trust->setEnabled(false);
        m_trust->setChecked(false);
        m_status->setText(error);
        Q_EMIT completeChanged();
        return;
    }
    // Two lines of 32 hex digits: the whole 64 on one line is wider than the page at 150 %,
    // and a fingerprint is never cut or elided.
    const QString shown = TrustedCertificates::formatForPeople(fingerprint);
    m_fingerprint->setText(shown.size() > 32 ? shown.left(32) + QLatin1Char('\n') + shown.mid(32) : shown);
    m_trust->setEnabled(true);

    const auto url = parseAgentAddress(m_address->text());
    const QString pinned = url ? m_session->fingerprintFor(*url) : QString();
    if (pinned.isEmpty()) {
        m_trust->setChecked(false);
        m_status->setText(tr("This is the first connection to this agent. Compare the "
                             "fingerprint with the one 'ftupgrade-agent init' printed on the "
                             "portal before you trust it."));
    } else if (pinned == fingerprint) {
        m_trust->setChecked(true);
        m_status->setText(tr("The certificate matches the fingerprint on record for this agent."));
    } else {
        m_trust->setChecked(false);
        m_status->setText(tr("<b>The certificate changed since you trusted it.</b> Someone may "
                             "be intercepting the connection, or the agent was set up again. "
                             "Trust the new fingerprint only if you know why it changed."));
    }
    Q_EMIT completeChanged();
}

bool ConnectPage::isComplete() const
{
    return QWizardPage::isComplete() && !m_presentedFingerprint.isEmpty() && m_trust->isChecked()
           && !m_saving;
}

bool ConnectPage::validatePage()
{
    const auto url = parseAgentAddress(m_address->text());
    if (!url || TrustedCertificates::addressOf(*url) != m_probedAddress) {
        m_status->setText(url ? tr("Check the certificate of this address first.") : url.error());
        return false;
    }
    if (Result trusted = m_session->trustedCertificates().trust(m_probedAddress,
                                                                 m_presentedFingerprint);
        !trusted) {
        m_status->setText(trusted.error());
        return false;
    }
    QList<ListedNode> listed;
    if (!m_nodeList->toPlainText().trimmed().isEmpty()) {
        auto parsed = parseNodeList(m_nodeList->toPlainText().toUtf8());
        if (!parsed) {
            m_status->setText(parsed.error());
            return false;
        }
        listed = *parsed;
    }
    // The Web API is optional; what is typed there must be right, or nothing changes.
    WebApiSettings webApi;
    if (!m_webApi->isEmpty()) {
        const auto settings = m_webApi->settings();
        if (!settings) {
            m_webApi->setStatus(settings.error());
            return false;
        }
        webApi = *settings;
    }
    if (m_saving)
        return false;
    if (m_remember->isChecked() && m_savedConnection != connectionIdentity()) {
        saveConnectionThenContinue();
        return false;
    }
    m_session->discovery()->setListedNodes(listed);
    m_session->discovery()->setWebApi(webApi);
    if (!m_webApi->isEmpty() && m_webApi->remembers())
        m_webApi->remember();
    AgentEndpoint portal;
    portal.nodeName = tr("portal");
    portal.url = *url;
    portal.fingerprint = m_presentedFingerprint;
    portal.token = m_token->text();
    m_session->setPortal(portal);
    return true;
}

void ConnectPage::importNodeList()
{
    const QString path = QFileDialog::getOpenFileName(this, tr("Import a node list"), QString(),
                                                      tr("CSV files (*.csv *.txt);;All files (*)"));
    if (path.isEmpty())
        return;
    QFile file(path);
    // A node list is a few KiB; more is not a node list.
    if (!file.open(QIODevice::ReadOnly) || file.size() > 1024 * 1024) {
        m_status->setText(tr("Cannot read %1 as a node list (missing, unreadable or over 1 MiB).").arg(path));
        return;
    }
    const QByteArray csv = file.readAll();
    auto parsed = parseNodeList(csv);
    if (!parsed) {
        m_status->setText(parsed.error());
        return;
    }
    m_nodeList->setPlainText(QString::fromUtf8(csv));
    m_status->setText(tr("%n node(s) read from %1.", nullptr, int(parsed->size())).arg(path));
}

QString ConnectPage::connectionIdentity() const
{
    return QStringList{m_probedAddress, m_profileName->text().trimmed(), m_token->text()}.join(QChar(0));
}

void ConnectPage::saveConnectionThenContinue()
{
    m_saving = true;
    Q_EMIT completeChanged(); // no second Next while the keychain answers (it may ask to unlock)
    showKeychainMessage(tr("Saving the token in the system keychain…"));
    const QString identity = connectionIdentity();
    KeychainCredentialStore store;
    CredentialJob *job = store.writeToken(CredentialStore::clusterKey(m_probedAddress), m_token->text(), this);
    connect(job, &CredentialJob::finished, this, [this, identity](CredentialJob *done) {
        m_saving = false;
        Q_EMIT completeChanged();
        if (done->error() != CredentialJob::NoError) {
            showKeychainMessage(tr("<span style='color:#b00020'><b>The connection was not remembered.</b></span> "
                                   "%1 Unlock the keychain and press Next to try again, or untick "
                                   "\"Remember this connection\" to go on without saving it.")
                                    .arg(done->errorString().toHtmlEscaped()));
            return;
        }
        // The profile only once its token is safe: a profile without a token would fail
        // at the next launch.
        ConnectionProfile profile;
        profile.name = m_profileName->text().trimmed().isEmpty() ? m_probedAddress : m_profileName->text().trimmed();
        profile.portalUrl = *parseAgentAddress(m_address->text());
        profile.fingerprint = m_presentedFingerprint;
        if (Result saved = ConnectionProfiles().save(profile); !saved) {
            showKeychainMessage(tr("<span style='color:#b00020'><b>The connection was not remembered.</b></span> %1")
                                    .arg(saved.error().toHtmlEscaped()));
            return;
        }
        m_savedConnection = identity;
        showKeychainMessage(tr("Remembered as \"%1\"; the token is in the system keychain.")
                                .arg(profile.name.toHtmlEscaped()));
        if (identity == connectionIdentity() && wizard() && wizard()->currentPage() == this)
            wizard()->next();
    });
    job->start();
}

} // namespace ft::ui

#include "widgets/deliverychooser.h"

#include "agentlink/localaddressprobe.h"
#include "session/upgradesession.h"

#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QRadioButton>
#include <QVBoxLayout>

namespace ft::ui {

DeliveryChooser::DeliveryChooser(UpgradeSession *session, QWidget *parent)
    : QGroupBox(tr("How the packages reach the nodes"), parent)
    , m_session(session)
{
    setObjectName(QStringLiteral("deliveryChooser"));
    // A radio button does not wrap: its text stays short and the explanation wraps below
    // it, so the page fits 1024×768 at 150 % without scrolling sideways.
    m_portal = new QRadioButton(tr("Through the &portal's agent"));
    m_portal->setObjectName(QStringLiteral("deliveryPortal"));
    auto *portalHint = new QLabel(tr("Uploaded once, the nodes fetch it there; this workstation needs no "
                                     "incoming connection."));
    portalHint->setObjectName(QStringLiteral("deliveryPortalHint"));
    portalHint->setWordWrap(true);
    portalHint->setIndent(24);
    m_portalAddress = new QLineEdit;
    m_portalAddress->setObjectName(QStringLiteral("deliveryPortalAddress"));
    m_portalAddress->setPlaceholderText(tr("optional: host[:port] the nodes use for the portal, behind NAT"));
    m_workstation = new QRadioButton(tr("From this &workstation, on address:"));
    m_workstation->setObjectName(QStringLiteral("deliveryWorkstation"));
    m_address = new QLineEdit;
    m_address->setObjectName(QStringLiteral("deliveryAddress"));
    m_url = new QRadioButton(tr("From a &URL you give (an internal file server):"));
    m_url->setObjectName(QStringLiteral("deliveryUrl"));
    m_urlEdit = new QLineEdit;
    m_urlEdit->setObjectName(QStringLiteral("deliveryUrlEdit"));
    m_urlEdit->setPlaceholderText(QStringLiteral("https://files.example.net/flowtraq/"));
    m_fingerprint = new QLineEdit;
    m_fingerprint->setObjectName(QStringLiteral("deliveryFingerprint"));
    m_fingerprint->setPlaceholderText(tr("optional: SHA-256 of its certificate, to pin"));
    m_note = new QLabel;
    m_note->setObjectName(QStringLiteral("deliveryNote"));
    m_note->setWordWrap(true);

    const DeliveryChoice &choice = session->delivery();
    m_portal->setChecked(choice.method == PackageDelivery::Portal);
    m_workstation->setChecked(choice.method == PackageDelivery::Workstation);
    m_url->setChecked(choice.method == PackageDelivery::Url);
    if (!choice.serveAddress.isNull())
        m_address->setText(choice.serveAddress.toString());
    m_urlEdit->setText(choice.url.toString());
    m_portalAddress->setText(choice.portalAddressForNodes);
    m_fingerprint->setText(choice.fingerprint);

    auto *form = new QFormLayout;
    form->setRowWrapPolicy(QFormLayout::WrapLongRows); // a long label puts its field below it
    form->addRow(tr("Nodes reach the portal at:"), m_portalAddress);
    form->addRow(m_workstation, m_address);
    form->addRow(m_url, m_urlEdit);
    form->addRow(QString(), m_fingerprint);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_portal);
    layout->addWidget(portalHint);
    layout->addLayout(form);
    layout->addWidget(m_note);

    for (QRadioButton *button : {m_portal, m_workstation, m_url})
        connect(button, &QRadioButton::toggled, this, &DeliveryChooser::store);
    for (QLineEdit *edit : {m_address, m_urlEdit, m_fingerprint, m_portalAddress})
        connect(edit, &QLineEdit::textEdited, this, &DeliveryChooser::store);
    store();
}

void DeliveryChooser::refresh()
{
    if (!m_address->text().isEmpty() || m_probe || m_session->portal().url.isEmpty())
        return;
    // The address of ours that a real connection to the portal leaves from.
    m_probe = new LocalAddressProbe(m_session->portal().url, this);
    connect(m_probe, &LocalAddressProbe::finished, this, [this](LocalAddressProbe *probe) {
        probe->deleteLater();
        if (probe->hasError()) {
            m_note->setText(tr("Cannot tell which address of this workstation faces the nodes: %1")
                                .arg(probe->errorString()));
            return;
        }
        if (m_address->text().isEmpty())
            m_address->setText(probe->localAddress().toString());
        store();
    });
    m_probe->start();
}

QString DeliveryChooser::problem() const
{
    return m_session->delivery().problem();
}

void DeliveryChooser::store()
{
    DeliveryChoice choice;
    choice.method = m_workstation->isChecked() ? PackageDelivery::Workstation
                    : m_url->isChecked()       ? PackageDelivery::Url
                                               : PackageDelivery::Portal;
    choice.serveAddress = QHostAddress(m_address->text().trimmed());
    choice.url = QUrl(m_urlEdit->text().trimmed(), QUrl::StrictMode);
    choice.fingerprint = m_fingerprint->text().trimmed().remove(QLatin1Char(':'));
    choice.portalAddressForNodes = m_portalAddress->text().trimmed();
    m_session->setDelivery(choice);
    m_portalAddress->setEnabled(m_portal->isChecked());
    m_address->setEnabled(m_workstation->isChecked());
    m_urlEdit->setEnabled(m_url->isChecked());
    m_fingerprint->setEnabled(m_url->isChecked());
    const QString problem = choice.problem();
    m_note->setText(problem.isEmpty() ? choice.sentence() : problem);
    Q_EMIT changed();
}

} // namespace ft::ui

#pragma once

#include <QGroupBox>
#include <QPointer>

class QLabel;
class QLineEdit;
class QRadioButton;

namespace ft {
class LocalAddressProbe;
class UpgradeSession;
}

namespace ft::ui {

// "How the packages reach the nodes": through the portal's agent (default), from this
// workstation (on the address that reaches the portal, found from a connection to it,
// and changeable), or from a URL the administrator gives. Writes the session's
// DeliveryChoice as it changes.
class DeliveryChooser : public QGroupBox
{
    Q_OBJECT

public:
    explicit DeliveryChooser(UpgradeSession *session, QWidget *parent = nullptr);

    // Looks up the workstation's address facing the portal, unless one is entered.
    void refresh();
    // Why the choice cannot be used, "" when it can.
    QString problem() const;

Q_SIGNALS:
    void changed();

private:
    void store();

    UpgradeSession *m_session;
    QRadioButton *m_portal = nullptr;
    QRadioButton *m_workstation = nullptr;
    QRadioButton *m_url = nullptr;
    QLineEdit *m_address = nullptr;
    QLineEdit *m_portalAddress = nullptr;
    QLineEdit *m_urlEdit = nullptr;
    QLineEdit *m_fingerprint = nullptr;
    QLabel *m_note = nullptr;
    QPointer<LocalAddressProbe> m_probe;
};

} // namespace ft::ui

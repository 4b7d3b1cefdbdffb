#pragma once

#include <QWizardPage>

class QCheckBox;
class QLabel;
class QTreeWidget;

namespace ft {
class UpgradeSession;
}

namespace ft::ui {

class DeliveryChooser;
class PackagePicker;

// Step 3: the packages and the pre-checks. Errors block; warnings need the
// administrator's acknowledgement; notices (e.g. nodes already current) inform.
class PackagesPage : public QWizardPage
{
    Q_OBJECT

public:
    explicit PackagesPage(UpgradeSession *session, QWidget *parent = nullptr);

    void initializePage() override;
    bool isComplete() const override;

    PackagePicker *picker(int slot) const;

private:
    void refreshChecks();

    UpgradeSession *m_session;
    QList<PackagePicker *> m_pickers;
    QTreeWidget *m_checks = nullptr;
    QLabel *m_verdict = nullptr;
    QCheckBox *m_acknowledge = nullptr;
    DeliveryChooser *m_delivery = nullptr;
};

} // namespace ft::ui

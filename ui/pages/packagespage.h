#pragma once

#include <QWizardPage>

class QCheckBox;
class QFormLayout;
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

    // 0 server, 1 NBI, 2 Web UI, 3 the second server package (shown when discovery found
    // Linux and Windows nodes).
    PackagePicker *picker(int slot) const;

private:
    void refreshChecks();
    void showSecondServerSlot();
    // What a cluster of Linux and Windows nodes needs, given the first server package.
    QString mixedClusterHint() const;

    UpgradeSession *m_session;
    QList<PackagePicker *> m_pickers; // server, NBI, Web UI, then the second server package
    QFormLayout *m_form = nullptr;
    QLabel *m_mixedHint = nullptr;
    QTreeWidget *m_checks = nullptr;
    QLabel *m_verdict = nullptr;
    QCheckBox *m_acknowledge = nullptr;
    DeliveryChooser *m_delivery = nullptr;
};

} // namespace ft::ui

#pragma once

#include "verify/verification.h"

#include <QPointer>
#include <QWizardPage>

class QLabel;
class QPushButton;
class QTableWidget;

namespace ft {
class UpgradeSession;
}

namespace ft::ui {

class RunPage;

// Step 8: the truth about every node after the run: node × component, version
// before and now, target, service, flows arriving again, and a verdict. A reboot is
// advised only where the installer asked for one and the version did not change.
class VerifyPage : public QWizardPage
{
    Q_OBJECT

public:
    VerifyPage(UpgradeSession *session, RunPage *runPage, QWidget *parent = nullptr);

    void initializePage() override;
    bool isComplete() const override;

    const VerificationReport &report() const { return m_report; }

private:
    void showDetails(int row);
    void recheck();
    void show(const VerificationReport &report);
    void exportReport();

    UpgradeSession *m_session;
    RunPage *m_runPage;
    VerificationReport m_report;
    bool m_checking = false;
    QLabel *m_summary = nullptr;
    QLabel *m_warnings = nullptr;
    QTableWidget *m_matrix = nullptr;
    QLabel *m_details = nullptr;
    QPushButton *m_recheck = nullptr;
    QPushButton *m_export = nullptr;
    QLabel *m_saved = nullptr;
};

} // namespace ft::ui

#pragma once

#include <QWizardPage>

class QLabel;
class QPushButton;
class QSortFilterProxyModel;
class QTableView;

namespace ft {
class UpgradeSession;
}

namespace ft::ui {

class NodeTableModel;

// Step 2: the nodes. Discovery starts when the page opens and the table fills in as
// probes answer; unreachable nodes say why. Untrusted agents can be trusted here
// after the administrator has seen their fingerprints; nodes can be added by hand.
class DiscoverPage : public QWizardPage
{
    Q_OBJECT

public:
    explicit DiscoverPage(UpgradeSession *session, QWidget *parent = nullptr);

    void initializePage() override;
    bool isComplete() const override;

private:
    void updateSummary();
    void addNodeByHand();
    void trustSelected();
    void showUnfinishedRun();
    void resumeUnfinishedRun();
    QList<int> selectedRows() const;

    UpgradeSession *m_session;
    NodeTableModel *m_model = nullptr;
    QSortFilterProxyModel *m_proxy = nullptr;
    QTableView *m_table = nullptr;
    QLabel *m_summary = nullptr;
    QPushButton *m_rescan = nullptr;
    QPushButton *m_addNode = nullptr;
    QPushButton *m_trust = nullptr;
    QWidget *m_unfinished = nullptr;
    QLabel *m_unfinishedText = nullptr;
};

} // namespace ft::ui

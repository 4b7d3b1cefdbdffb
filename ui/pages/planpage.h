#pragma once

#include "model/plan.h"

#include <QWizardPage>

class QDateTimeEdit;
class QLabel;
class QPushButton;
class QCheckBox;
class QComboBox;
class QTreeWidgetItem;
class QSpinBox;
class QTreeWidget;

namespace ft {
class UpgradeSession;
}

namespace ft::ui {

class TimelineChart;

// Step 4: the rolling plan. Ordered waves with their estimates and what users will
// notice, a timeline of every node's outage, the expected flow loss at the chosen
// start time, and the quietest start in the next week.
class PlanPage : public QWizardPage
{
    Q_OBJECT

public:
    explicit PlanPage(UpgradeSession *session, QWidget *parent = nullptr);

    void initializePage() override;

    const UpgradePlan &plan() const { return m_plan; }

private:
    void rebuild();
    void fillSteps();
    void fillTimeline();
    void updateLoss();
    void useQuietWindow();
    void setLeadHours(int hours);
    void exportPlanToFile();
    void updateKeepFlows();
    // A node's "keep flows" box in the steps table was ticked or cleared.
    void keepFlowsToggled(QTreeWidgetItem *item, int column);

    UpgradeSession *m_session;
    UpgradePlan m_plan;
    QSpinBox *m_maxWorkersDown = nullptr;
    QComboBox *m_canary = nullptr; // "(none)" or a worker upgraded first, with a halt after it
    QDateTimeEdit *m_start = nullptr;
    QPushButton *m_suggest = nullptr;
    QSpinBox *m_leadHours = nullptr; // how long before the start users are told (notice/leadTimeHours)
    QLabel *m_loss = nullptr;
    QLabel *m_summary = nullptr;
    QLabel *m_warnings = nullptr;
    QTreeWidget *m_steps = nullptr;
    QLabel *m_details = nullptr;
    TimelineChart *m_timeline = nullptr;
    QPushButton *m_export = nullptr;
    // "Keep flows during outages": every node that can, with a box per node in the steps.
    QCheckBox *m_keepFlows = nullptr;
    bool m_filling = false;
};

} // namespace ft::ui

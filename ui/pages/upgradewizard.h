#pragma once

#include <QWizard>

namespace ft {
class UpgradeSession;
}

namespace ft::ui {

// The wizard's frame: the page order and its look. Pages hold no logic of their own;
// they read from and call into the UpgradeSession they are given.
class UpgradeWizard : public QWizard
{
    Q_OBJECT

public:
    enum PageId {
        ConnectPageId,
        DiscoverPageId,
        PackagesPageId,
        PlanPageId,
        CustomizationsPageId,
        NoticePageId,
        RunPageId,
        VerifyPageId
    };

    explicit UpgradeWizard(UpgradeSession *session, QWidget *parent = nullptr);

    UpgradeSession *session() const { return m_session; }

    // Closing while a run is under way warns first: the current step still finishes
    // on its node, and the run can be resumed.
    void done(int result) override;
    // Resuming an unfinished run goes from Discover straight to Run.
    int nextId() const override;

private:
    UpgradeSession *m_session;
};

} // namespace ft::ui

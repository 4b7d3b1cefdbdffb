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
    enum PageId { ConnectPageId, DiscoverPageId, PackagesPageId, PlanPageId };

    explicit UpgradeWizard(UpgradeSession *session, QWidget *parent = nullptr);

    UpgradeSession *session() const { return m_session; }

private:
    UpgradeSession *m_session;
};

} // namespace ft::ui

#pragma once

#include <QPointer>
#include <QWizard>

namespace ft {
class UpgradeSession;
}

namespace ft::ui {

class StepList;

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

    // The smallest the window may get: fits a 1024×768 screen even at 150 % (683×512
    // logical pixels, less the title bar). Pages scroll below their own size.
    static constexpr int kMinimumWidth = 640;
    static constexpr int kMinimumHeight = 460;

    explicit UpgradeWizard(UpgradeSession *session, QWidget *parent = nullptr);
    ~UpgradeWizard() override;

    UpgradeSession *session() const { return m_session; }
    StepList *stepList() const { return m_steps; }

    // The demo's cluster is torn down on close: its runs cannot be resumed.
    void setDemo(bool demo) { m_demo = demo; }
    // The command shown in the close dialog to continue the run from a terminal.
    QString resumeCommand() const;
    // The close/quit question while it is open (for tests and screenshots).
    QWidget *closeQuestion() const { return m_closeQuestion; }

    // Closing asks first: before the run nothing is lost but the answers given; during
    // the run the current step still finishes and the run can be resumed.
    void done(int result) override;
    // Resuming an unfinished run goes from Discover straight to Run.
    int nextId() const override;

protected:
    void showEvent(QShowEvent *event) override;

private:
    void wrapInScrollArea(QWizardPage *page);
    void askBeforeClosing(int result);
    void restoreWindowSize();
    void saveWindowSize() const;

    UpgradeSession *m_session;
    StepList *m_steps = nullptr;
    bool m_demo = false;
    bool m_closeConfirmed = false;
    bool m_sizeRestored = false;
    QPointer<QWidget> m_closeQuestion;
};

} // namespace ft::ui

#pragma once

#include <QObject>
#include <QString>
#include <QTemporaryDir>

#include <memory>

namespace ft {
class SandboxLaunchJob;
class UpgradeSession;
namespace ui {
class UpgradeWizard;
}

// Demo mode: a sandbox cluster (portal with the NBI, 5 workers, w1 and w2 receiving
// flows, w5 Windows-like) in a temporary folder, and the new version's packages.
// When it is up the wizard is filled in with it; on exit it is torn down.
class DemoCluster : public QObject
{
    Q_OBJECT

public:
    DemoCluster(UpgradeSession *session, ui::UpgradeWizard *wizard, QObject *parent = nullptr);
    ~DemoCluster() override;

    void start();
    // Stops every process of the cluster (blocking: called after the window is gone).
    void stop();
    QString directory() const { return m_directory.path(); }

Q_SIGNALS:
    void ready();
    void failed(const QString &error);

private:
    void onLaunched(SandboxLaunchJob *job);

    UpgradeSession *m_session;
    ui::UpgradeWizard *m_wizard;
    QTemporaryDir m_directory;
    bool m_started = false;
    QString m_connectSubTitle;
};

} // namespace ft

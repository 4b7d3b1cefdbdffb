#pragma once

#include "model/domain.h"
#include "packages/packageinspection.h"

#include <QPointer>
#include <optional>
#include <QWidget>

class QLabel;
class QLineEdit;
class QPushButton;

namespace ft {
class PackageInspectJob;
class UpgradeSession;
}

namespace ft::ui {

// One package slot (server, NBI or Web UI): a path, a Browse button, and what the
// package turned out to be. A picked file is inspected off the GUI thread; a good one
// becomes the session's package for the slot, a bad one says why and clears it.
class PackagePicker : public QWidget
{
    Q_OBJECT

public:
    // index 1: the component's second package (a cluster mixing Linux and Windows nodes).
    PackagePicker(UpgradeSession *session, Component slot, int index = 0, QWidget *parent = nullptr);

    Component slot() const { return m_slot; }
    int index() const { return m_index; }
    bool isInspecting() const { return m_job != nullptr; }
    QString errorString() const { return m_error; }
    // Picks a file as if chosen in the dialog (demo mode, tests).
    void setPath(const QString &path);
    // Types a version (for a file that does not say) or silent-install arguments, as
    // the administrator would in the fields below the path (tests).
    void setTypedVersion(const QString &version);
    void setSwitches(const QString &switches);

Q_SIGNALS:
    void stateChanged();

private:
    void browse();
    void inspect();
    void onInspected(PackageInspectJob *job);
    void onSwitchesEdited();
    void showChoice();

    UpgradeSession *m_session;
    Component m_slot;
    int m_index = 0;
    QLineEdit *m_path = nullptr;
    QPushButton *m_browse = nullptr;
    QLabel *m_info = nullptr;
    QLineEdit *m_version = nullptr;   // shown when nothing names the version
    QLineEdit *m_switches = nullptr;  // shown for .exe and self-extracting installers
    QWidget *m_versionRow = nullptr;
    QWidget *m_switchesRow = nullptr;
    std::optional<PackageChoice> m_choice; // the last good inspection
    QPointer<PackageInspectJob> m_job;
    QString m_error;
    QString m_inspectedPath; // the path last inspected (or being inspected)
};

} // namespace ft::ui

#pragma once

#include "model/domain.h"
#include "packages/package.h"

#include <QObject>
#include <QString>

#include <optional>

class QTimer;

namespace ft::sandbox {

// `ftsandbox apply`: a package's installer, per LAYOUT.md's table. Progress lines go
// to stdout, `error:` lines to stderr; finished(code) carries the exit code (the
// Windows Installer numbers; the process exits with them, POSIX keeps the low byte).
class Installer : public QObject
{
    Q_OBJECT

public:
    Installer(QString packagePath, const QString &installDir, std::optional<Component> expectedComponent,
              QObject *parent = nullptr);

    // Starts on the next event-loop turn; finished() follows exactly once (never for
    // a `hang` package, which hangs on purpose).
    void start();

    // Finishes a switch a killed installer left half done, or removes its leftovers.
    static Result recoverInterrupted(const QString &installDir);

Q_SIGNALS:
    void finished(int exitCode);

private:
    void run();
    void stageAndContinue();
    void tickSlow();
    void switchIn();
    void finish(int exitCode);
    void fail(int exitCode, const QString &message);
    void say(int percent, const QString &text);
    QString stagingDir() const;

    QString m_packagePath;
    QString m_installDir;
    std::optional<Component> m_expected;
    PackageManifest m_manifest;
    OsKind m_nodeOs = OsKind::Linux;
    QTimer *m_slowTimer = nullptr;
    int m_slowElapsed = 0;
    bool m_finished = false;
};

} // namespace ft::sandbox

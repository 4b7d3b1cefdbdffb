#pragma once

#include "model/domain.h"
#include "model/upgradetarget.h"
#include "packages/vendorpackage.h"

#include <QFutureWatcher>
#include <QObject>
#include <QString>

namespace ft {

// Reads and checks a package file the administrator picked, off the calling thread:
// a .ftpkg's manifest and every payload checksum; a vendor installer's own metadata
// (vendorpackage.h: the file, then its name, then what was typed) and the integrity
// checks its format carries; and the file's SHA-256 and size (computed once here),
// which staging verifies on every node. Job pattern: setPath(), start(),
// finished() once, never inside start().
class PackageInspectJob : public QObject
{
    Q_OBJECT

public:
    explicit PackageInspectJob(QObject *parent = nullptr);
    ~PackageInspectJob() override;

    void setPath(const QString &path) { m_path = path; }
    QString path() const { return m_path; }
    // The slot it was picked for; a package of another component is refused.
    void setSlot(Component slot) { m_slot = slot; }
    Component slot() const { return m_slot; }
    // What the administrator typed for a file that does not say (vendor formats only).
    void setTypedFacts(const TypedFacts &typed) { m_typed = typed; }
    // Silent-install arguments for formats that need them; copied into the choice.
    void setInstallerArguments(const QStringList &arguments) { m_arguments = arguments; }

    void start();

    bool hasError() const { return !m_errorString.isEmpty(); }
    // True when the error is only that nobody says the version: typing it helps.
    bool needsTypedVersion() const { return m_needsVersion; }
    QString errorString() const { return m_errorString; }
    const PackageChoice &choice() const { return m_choice; }

Q_SIGNALS:
    void finished(ft::PackageInspectJob *job);

private:
    struct Outcome
    {
        PackageChoice choice;
        QString error;
        bool needsVersion = false;
    };
    static Outcome inspect(const QString &path, Component slot, const TypedFacts &typed,
                           const QStringList &arguments);

    QString m_path;
    Component m_slot = Component::Server;
    TypedFacts m_typed;
    QStringList m_arguments;
    bool m_needsVersion = false;
    QFutureWatcher<Outcome> m_watcher;
    PackageChoice m_choice;
    QString m_errorString;
};

} // namespace ft

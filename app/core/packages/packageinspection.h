#pragma once

#include "model/domain.h"
#include "model/upgradetarget.h"

#include <QFutureWatcher>
#include <QObject>
#include <QString>

namespace ft {

// Reads and checks a package file the administrator picked, off the calling thread:
// its manifest, its integrity (every payload checksum), and the file's own SHA-256
// and size, which staging verifies on every node. Job pattern: setPath(), start(),
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

    void start();

    bool hasError() const { return !m_errorString.isEmpty(); }
    QString errorString() const { return m_errorString; }
    const PackageChoice &choice() const { return m_choice; }

Q_SIGNALS:
    void finished(ft::PackageInspectJob *job);

private:
    struct Outcome
    {
        PackageChoice choice;
        QString error;
    };
    static Outcome inspect(const QString &path, Component slot);

    QString m_path;
    Component m_slot = Component::Server;
    QFutureWatcher<Outcome> m_watcher;
    PackageChoice m_choice;
    QString m_errorString;
};

} // namespace ft

#pragma once

#include <QFutureWatcher>
#include <QList>
#include <QObject>
#include <QString>

namespace ft {

// One package as a run carries it: the file on this workstation and what the nodes
// will be told about it.
struct ContentsToCheck
{
    QString path;
    QString fileName; // the name it is staged under (its format goes by it)
    QString sha256;   // lower-case hex, as sent to the nodes
    qint64 size = 0;
    // Checked when it was chosen, in the read that gave its SHA-256, when its
    // last-modified time was modifiedMs: while it still is (and the size is the same), it
    // is not read again. Bytes changed without a new time no longer have that SHA-256,
    // which the portal's agent (at the upload's last byte) and every node compare.
    bool checkedWhenChosen = false;
    qint64 modifiedMs = 0;
};

// Checks, off the calling thread, that each package is intact by its own rules (a
// .ftpkg's manifest and payload checksums, a vendor format's own digests) and that its
// size and SHA-256 are the ones the nodes will be given. A .ftpkg is checked and hashed
// in one read, so the digest is of the bytes that passed; a vendor installer is checked,
// then hashed; one checked when it was chosen (and not touched since) is not read
// again. When it passes, nodes that receive exactly these bytes (size and SHA-256
// match) need not read them a second time to check them again. Job pattern: start(),
// finished() once, never inside start().
class PackageContentsCheckJob : public QObject
{
    Q_OBJECT

public:
    explicit PackageContentsCheckJob(const QList<ContentsToCheck> &packages, QObject *parent = nullptr);
    ~PackageContentsCheckJob() override;

    void start();

    bool hasError() const { return !m_errorString.isEmpty(); }
    // One sentence naming the package and what is wrong with it.
    QString errorString() const { return m_errorString; }

    static QString check(const QList<ContentsToCheck> &packages);

Q_SIGNALS:
    void finished(ft::PackageContentsCheckJob *job);

private:
    QList<ContentsToCheck> m_packages;
    QFutureWatcher<QString> m_watcher;
    QString m_errorString;
};

} // namespace ft

#pragma once

#include "model/expected.h"
#include "packagebuilder.h"
#include "packages/vendorpackage.h"

#include <QObject>
#include <QStringList>

namespace ft::sandbox {

// `ftsandbox make-package --format deb|rpm|msi|sh`: the vendor's installer formats,
// made with the real tools, carrying the same payload and modes as a .ftpkg.
//  deb: dpkg-deb; maintainer scripts play the modes; installed per node with
//       dpkg --admindir={install}/dpkg --instdir={install} (run/reboot-required asks
//       for a reboot, Debian's convention).
//  rpm: rpmbuild; normal mode only (rpm --root runs scriptlets in a chroot).
//  msi: wixl; the mode, component and checksums ride in the Property table; installed
//       by `ftsandbox msiexec`, which extracts with msiextract.
//  sh:  a shell script with the .ftpkg appended; silent only with
//       `--unattended --install-dir DIR`.
Result buildVendorPackage(const PackageSpec &spec, PackageFormat format);

// A node folder's own dpkg database (empty), for installing .deb packages into it.
Result initDpkgDatabase(const QString &installDir);

// `ftsandbox msiexec /i PKG /qn /norestart /l*v LOG INSTALLDIR=DIR`: a stand-in for the
// Windows Installer on the Windows-like sandbox nodes, with msiexec's arguments and
// exit codes (0, 1603, 1618, 1620, 1638, 1639 bad command line, 3010). It writes a
// verbose log in UTF-16LE, as msiexec does, and runs the sandbox installer on the
// extracted files. finished(code) once.
class MsiexecStandIn : public QObject
{
    Q_OBJECT

public:
    explicit MsiexecStandIn(QStringList arguments, QObject *parent = nullptr);
    void start();

Q_SIGNALS:
    void finished(int exitCode);

private:
    void run();
    void finish(int code);
    void logLine(const QString &line);

    QStringList m_arguments;
    QString m_package;
    QString m_logFile;
    QString m_installDir;
    QString m_workDir;
    // The Property table's facts the Uninstall entry is made of.
    struct ProductFacts
    {
        QString productCode, upgradeCode, name, version, manufacturer, mode;
    };
    ProductFacts m_product;
    bool m_finished = false;
};

} // namespace ft::sandbox

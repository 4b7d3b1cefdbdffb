#pragma once

#include "model/expected.h"
#include "packagebuilder.h"

#include <QObject>
#include <QStringList>

namespace ft::sandbox {

// `ftsandbox make-package --format exe`: a real Windows program (PE32+) made with
// MinGW's binutils (windres, as, ld), whose VS_VERSIONINFO resource names the product,
// its version ("6.3.0.1500") and the company, as a vendor's installer does; the payload
// (a .ftpkg) is appended after the image as an overlay, the way NSIS and Inno Setup
// installers carry theirs, with an 8-byte length and "FTSBXEXE" at the very end. Run
// on Windows the program only exits with 1: what it installs is played on the sandbox's
// Windows-like nodes by ExeStandIn.
Result buildExe(const PackageSpec &spec);

// `ftsandbox exe PKG [/S] [/D=DIR]`: what that installer does when Windows runs it,
// with NSIS's silent switches (the vendor documents none for its .exe, so they are
// typed on the Packages page): without /S it would show its wizard and refuses (exit
// 2); /D= names the installation folder. It checks the version resource against the
// payload, runs the sandbox installer on it (every mode and exit code of the .ftpkg),
// and records the product in the node's Uninstall key (registry stand-in), as the
// installer's script does. finished(code) once.
class ExeStandIn : public QObject
{
    Q_OBJECT

public:
    explicit ExeStandIn(QStringList arguments, QObject *parent = nullptr);
    void start();

Q_SIGNALS:
    void finished(int exitCode);

private:
    void run();
    void finish(int code);

    QStringList m_arguments;
    QString m_package;
    QString m_installDir;
    QString m_workDir;
    QString m_productName;
    QString m_productVersion;
    QString m_company;
    QString m_mode;
    bool m_finished = false;
};

} // namespace ft::sandbox

#pragma once

#include "model/expected.h"

#include <QHash>
#include <QString>
#include <QStringList>

namespace ft::sandbox {

// The part of the Windows registry a Windows-like sandbox node needs: the Uninstall
// entries the Windows Installer writes for a product, and `reg query` printing them in
// reg.exe's own format, which the agent parses on a real Windows node. The node's
// "machine" is its folder, so the hive is a file in it (LAYOUT.md): registry/HKLM.json,
// {"HKEY_LOCAL_MACHINE\\…\\{GUID}": {"DisplayName": "…", …}, …}, REG_SZ values only.
namespace registry {

// DIR/registry/HKLM.json
QString hiveOf(const QString &installDir);

// What msiexec records for an installed product: its Uninstall entry (DisplayName,
// DisplayVersion, Publisher, InstallLocation, UninstallString, InstallDate) under the
// 32-bit view (the sandbox's MSIs are 32-bit packages), and the UpgradeCode → product
// link. A product with the same UpgradeCode is replaced (a major upgrade).
struct Product
{
    QString productCode;  // "{GUID}"
    QString upgradeCode;
    QString name;
    QString version;      // ProductVersion as the MSI writes it ("6.3.0.1500")
    QString manufacturer;
    QString installLocation;
    bool wow64 = true;    // a 32-bit installer: the WOW6432Node view
    QString uninstallString; // empty: the Windows Installer's "MsiExec.exe /X{code}"
};
Result registerProduct(const QString &hive, const Product &product);

// `ftsandbox reg --hive FILE query KEY [/s]`: reg.exe's output and exit codes (0; 1 with
// "ERROR: …" for a key that does not exist or a bad command line).
int runReg(const QStringList &arguments, QString *out, QString *err);

} // namespace registry
} // namespace ft::sandbox

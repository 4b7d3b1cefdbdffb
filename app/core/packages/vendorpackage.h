#pragma once

#include "model/domain.h"
#include "model/expected.h"
#include "model/version.h"

#include <QHash>
#include <QString>
#include <QStringList>

#include <optional>

namespace ft {

// The install package formats the wizard accepts: the sandbox's own .ftpkg and the
// vendor's installers as an administrator downloads them.
enum class PackageFormat { FtPkg, Msi, Exe, Rpm, Deb, SelfExtracting };

// By the file name's extension (case-insensitive); nothing for an unknown one.
std::optional<PackageFormat> packageFormatOf(const QString &fileName);
// "ftpkg", "msi", "exe", "rpm", "deb", "sh" (for .sh, .bin and .run alike).
QString toString(PackageFormat format);
Expected<PackageFormat> parsePackageFormat(const QString &text);
// "Windows Installer package (.msi)", …
QString displayName(PackageFormat format);
// The OS a format installs on: "windows", "linux", or "any" (.ftpkg says itself).
QString osOf(PackageFormat format);
// The file patterns of every accepted format, for a file dialog.
QStringList acceptedPackagePatterns();
// True for formats whose silent-install arguments the vendor does not document
// (.exe, self-extracting Linux binaries): the administrator types them.
bool needsTypedSwitches(PackageFormat format);

// What a vendor file says about itself. Empty fields: the file does not say.
struct VendorMetadata
{
    QString productName;   // MSI ProductName, RPM/deb package name, PE ProductName
    QString version;       // as the file writes it
    QString manufacturer;  // MSI Manufacturer, RPM Vendor, deb Maintainer, PE CompanyName
    QString architecture;
    QString source;        // "from the MSI", "from the RPM header", …
};

// One reader per format, each with the library that knows the format.
class MsiReader // libmsi: the Property table
{
public:
    static Expected<VendorMetadata> read(const QString &path);
    // Any rows of the Property table (an unset property reads as empty).
    static Expected<QHash<QString, QString>> properties(const QString &path, const QStringList &names);
    // The files it installs: the File table, each placed by its Component's folder in
    // the Directory table ("Program Files/ProQueSys/FlowTraq Server/bin/x.exe").
    static Expected<QStringList> files(const QString &path);
};

class RpmReader // librpm: the package header (its digests are checked on the way)
{
public:
    static Expected<VendorMetadata> read(const QString &path);
    // The files the header lists (directories left out), absolute paths without the
    // leading slash.
    static Expected<QStringList> files(const QString &path);
};

class DebReader // libarchive: the ar archive, then control.tar.* and its control file
{
public:
    static Expected<VendorMetadata> read(const QString &path);
    // Every file of data.tar.* against the package's md5sums (a damaged .deb fails).
    static Result verify(const QString &path);
    // The files of data.tar.* (regular files and links, no directories), without "./".
    static Expected<QStringList> files(const QString &path);
};

class ExeReader // a bounds-checked reader of the PE version resource (VS_VERSIONINFO)
{
public:
    static Expected<VendorMetadata> read(const QString &path);
};

// A self-extracting Linux installer has no standard metadata: nothing to read, on
// purpose. Its facts come from the file name or the administrator.

// What a file name says: "flowtraq-server-6.3.0-1500.msi" → 6.3.0-1500, server.
struct FileNameFacts
{
    std::optional<Version> version;
    std::optional<Component> component;
};
FileNameFacts readFileName(const QString &fileName);

// "FlowTraq Server", "flowtraq-webui", "FlowTraq NBI" → the component; nothing when
// the name does not say.
std::optional<Component> componentFromName(const QString &name);

// A vendor version as a FlowTraq version: a four-part MSI/PE version "6.3.0.1500" is
// read as 6.3.0 build 1500; a deb epoch ("1:") is dropped; an RPM release's leading
// digits are the build.
Expected<Version> versionFromVendor(const QString &text);

// What the administrator typed for a package whose file says nothing.
struct TypedFacts
{
    QString version;
    std::optional<Component> component;
};

// Everything concluded about a package, each fact with where it came from.
struct PackageFacts
{
    PackageFormat format = PackageFormat::FtPkg;
    VendorMetadata metadata;
    Version version;
    QString versionSource;   // "from the MSI", "from the file name", "typed by you"
    Component component = Component::Server;
    QString componentSource;
    QString os;
};

// Reads a vendor file (not .ftpkg) with its format's reader and its file name, and
// settles version and component: the file first, then its name, then what was typed
// (for the component, last of all the slot it was picked for). A file whose metadata
// disagrees with its name is refused with one sentence. Reads only; quick.
Expected<PackageFacts> identifyVendorPackage(const QString &path, Component slot, const TypedFacts &typed);

// The sentence identifyVendorPackage() refuses a file with when nothing names its
// version (the page then asks for it).
QString missingVersionSentence(const QString &fileName);

// The files a package installs, read with its format's reader (.ftpkg: its manifest),
// sorted; a self-extracting installer or an .exe cannot say.
Expected<QStringList> packageFileList(const QString &path);

// The integrity checks a format carries (deb: md5sums; rpm: header and payload
// digests; msi: the database opens). Formats without one pass.
Result verifyVendorPackage(const QString &path);

} // namespace ft

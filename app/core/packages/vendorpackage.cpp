#include "packages/vendorpackage.h"

#include "packages/package.h"

#include <QCoreApplication>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QRegularExpression>

namespace ft {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::VendorPackage", text); }

QString fileLabel(const QString &path) { return QFileInfo(path).fileName(); }

} // namespace

// ---------------------------------------------------------------- formats

std::optional<PackageFormat> packageFormatOf(const QString &fileName)
{
    const QString suffix = QFileInfo(fileName).suffix().toLower();
    if (suffix == QLatin1String("ftpkg"))
        return PackageFormat::FtPkg;
    if (suffix == QLatin1String("msi"))
        return PackageFormat::Msi;
    if (suffix == QLatin1String("exe"))
        return PackageFormat::Exe;
    if (suffix == QLatin1String("rpm"))
        return PackageFormat::Rpm;
    if (suffix == QLatin1String("deb"))
        return PackageFormat::Deb;
    if (suffix == QLatin1String("sh") || suffix == QLatin1String("bin") || suffix == QLatin1String("run"))
        return PackageFormat::SelfExtracting;
    return std::nullopt;
}

QString toString(PackageFormat format)
{
    switch (format) {
    case PackageFormat::FtPkg: return QStringLiteral("ftpkg");
    case PackageFormat::Msi: return QStringLiteral("msi");
    case PackageFormat::Exe: return QStringLiteral("exe");
    case PackageFormat::Rpm: return QStringLiteral("rpm");
    case PackageFormat::Deb: return QStringLiteral("deb");
    case PackageFormat::SelfExtracting: return QStringLiteral("sh");
    }
    return {};
}

Expected<PackageFormat> parsePackageFormat(const QString &text)
{
    for (PackageFormat format : {PackageFormat::FtPkg, PackageFormat::Msi, PackageFormat::Exe, PackageFormat::Rpm,
                                 PackageFormat::Deb, PackageFormat::SelfExtracting}) {
        if (text == toString(format))
            return format;
    }
    return makeError(tr("Unknown package format \"%1\" (use ftpkg, msi, exe, rpm, deb or sh).").arg(text.left(40)));
}

QString displayName(PackageFormat format)
{
    switch (format) {
    case PackageFormat::FtPkg: return tr("sandbox package (.ftpkg)");
    case PackageFormat::Msi: return tr("Windows Installer package (.msi)");
    case PackageFormat::Exe: return tr("Windows installer program (.exe)");
    case PackageFormat::Rpm: return tr("RPM package (.rpm)");
    case PackageFormat::Deb: return tr("Debian package (.deb)");
    case PackageFormat::SelfExtracting: return tr("self-extracting Linux installer (.sh/.bin/.run)");
    }
    return {};
}

QString osOf(PackageFormat format)
{
    switch (format) {
    case PackageFormat::Msi:
    case PackageFormat::Exe: return QStringLiteral("windows");
    case PackageFormat::Rpm:
    case PackageFormat::Deb:
    case PackageFormat::SelfExtracting: return QStringLiteral("linux");
    case PackageFormat::FtPkg: return QStringLiteral("any");
    }
    return QStringLiteral("any");
}

QStringList acceptedPackagePatterns()
{
    return {QStringLiteral("*.msi"), QStringLiteral("*.exe"), QStringLiteral("*.rpm"), QStringLiteral("*.deb"),
            QStringLiteral("*.sh"),  QStringLiteral("*.bin"), QStringLiteral("*.run"), QStringLiteral("*.ftpkg")};
}

bool needsTypedSwitches(PackageFormat format)
{
    return format == PackageFormat::Exe || format == PackageFormat::SelfExtracting;
}

// ---------------------------------------------------------------- names and versions

std::optional<Component> componentFromName(const QString &name)
{
    static const QRegularExpression webUi(QStringLiteral("(^|[^a-z])web[-_ .]?(ui|interface)($|[^a-z])"),
                                          QRegularExpression::CaseInsensitiveOption);
    static const QRegularExpression nbi(QStringLiteral("(^|[^a-z])nbi($|[^a-z])"),
                                        QRegularExpression::CaseInsensitiveOption);
    static const QRegularExpression server(QStringLiteral("(^|[^a-z])server($|[^a-z])"),
                                           QRegularExpression::CaseInsensitiveOption);
    // Checked in this order: "FlowTraq Server NBI" is the NBI, not the server.
    if (webUi.match(name).hasMatch())
        return Component::WebUi;
    if (nbi.match(name).hasMatch())
        return Component::Nbi;
    if (server.match(name).hasMatch())
        return Component::Server;
    return std::nullopt;
}

Expected<Version> versionFromVendor(const QString &text)
{
    QString value = text.trimmed();
    static const QRegularExpression epoch(QStringLiteral("^\\d+:"));
    value.remove(epoch);
    // MSI and PE versions have four numbers and no build separator.
    static const QRegularExpression fourPart(QStringLiteral("^(\\d+\\.\\d+\\.\\d+)\\.(\\d+)$"));
    if (const auto match = fourPart.match(value); match.hasMatch())
        value = match.captured(1) + QLatin1Char('-') + match.captured(2);
    // An RPM/deb release such as "1500.el8" or "1500+deb12u1": its leading digits.
    static const QRegularExpression release(QStringLiteral("^([\\d.]+)-(\\d+)[^\\d].*$"));
    if (const auto match = release.match(value); match.hasMatch())
        value = match.captured(1) + QLatin1Char('-') + match.captured(2);
    return Version::parse(value);
}

FileNameFacts readFileName(const QString &fileName)
{
    FileNameFacts facts;
    QString base = QFileInfo(fileName).fileName();
    if (const auto format = packageFormatOf(base))
        base = base.left(base.lastIndexOf(QLatin1Char('.')));
    // A version is two to four dotted numbers, then maybe a build ("-1500", "_1500",
    // "b1500", " build 1500"); not glued to other digits or dots.
    static const QRegularExpression version(
        QStringLiteral("(?<!\\d)(\\d+(?:\\.\\d+){1,3})(?:(?:[-_]|\\s*build\\s*|b)(\\d+))?(?![\\d])"),
        QRegularExpression::CaseInsensitiveOption);
    const auto match = version.match(base);
    if (match.hasMatch()) {
        const QString text = match.captured(2).isEmpty() ? match.captured(1)
                                                         : match.captured(1) + QLatin1Char('-') + match.captured(2);
        if (const auto parsed = versionFromVendor(text))
            facts.version = *parsed;
        base.remove(match.capturedStart(0), match.capturedLength(0));
    }
    facts.component = componentFromName(base);
    return facts;
}


// ---------------------------------------------------------------- identification

QString missingVersionSentence(const QString &fileName)
{
    return tr("%1 does not say which version it installs, neither inside nor in its file name: type the version.")
        .arg(fileName);
}

namespace {

// Two versions agree when equal, or when one has no build and the numbers match.
bool versionsAgree(const Version &a, const Version &b)
{
    if (a == b)
        return true;
    return (!a.hasBuild() || !b.hasBuild()) && a.parts() == b.parts();
}

Expected<VendorMetadata> readMetadata(PackageFormat format, const QString &path)
{
    switch (format) {
    case PackageFormat::Msi: return MsiReader::read(path);
    case PackageFormat::Rpm: return RpmReader::read(path);
    case PackageFormat::Deb: return DebReader::read(path);
    case PackageFormat::Exe: return ExeReader::read(path);
    case PackageFormat::SelfExtracting:
    case PackageFormat::FtPkg: break;
    }
    return VendorMetadata{};
}

} // namespace

Expected<PackageFacts> identifyVendorPackage(const QString &path, Component slot, const TypedFacts &typed)
{
    const QString file = fileLabel(path);
    const auto format = packageFormatOf(path);
    if (!format || *format == PackageFormat::FtPkg) {
        return makeError(tr("%1 is not a vendor installer (expected .msi, .exe, .rpm, .deb, .sh, .bin or .run).")
                             .arg(file));
    }
    const Expected<VendorMetadata> metadata = readMetadata(*format, path);
    if (!metadata)
        return makeError(metadata.error());

    PackageFacts facts;
    facts.format = *format;
    facts.metadata = *metadata;
    facts.os = osOf(*format);
    const FileNameFacts fromName = readFileName(file);
    const QString nameSource = tr("from the file name");

    std::optional<Version> fromFile;
    if (!metadata->version.isEmpty()) {
        const Expected<Version> parsed = versionFromVendor(metadata->version);
        if (!parsed) {
            return makeError(tr("%1 gives its version as \"%2\" (%3), which is not a version the wizard can compare.")
                                 .arg(file, metadata->version.left(60), metadata->source));
        }
        fromFile = *parsed;
    }
    if (fromFile && fromName.version && !versionsAgree(*fromFile, *fromName.version)) {
        return makeError(tr("%1 was refused: its file name says version %2, but %3 it is version %4; make sure it is "
                            "the right file.")
                             .arg(file, fromName.version->toString(), metadata->source, fromFile->toString()));
    }
    if (fromFile) {
        // The file name may add the build the metadata leaves out.
        facts.version = (!fromFile->hasBuild() && fromName.version) ? *fromName.version : *fromFile;
        facts.versionSource = metadata->source;
    } else if (fromName.version) {
        facts.version = *fromName.version;
        facts.versionSource = nameSource;
    } else if (!typed.version.trimmed().isEmpty()) {
        const Expected<Version> parsed = versionFromVendor(typed.version);
        if (!parsed)
            return makeError(tr("\"%1\" is not a version (expected e.g. 6.3.0-1500).").arg(typed.version.left(40)));
        facts.version = *parsed;
        facts.versionSource = tr("typed by you");
    } else {
        return makeError(missingVersionSentence(file));
    }

    const std::optional<Component> fromProduct = componentFromName(metadata->productName);
    if (fromProduct && fromName.component && *fromProduct != *fromName.component) {
        return makeError(tr("%1 was refused: its file name says it is the %2, but %3 it is the %4; make sure it is "
                            "the right file.")
                             .arg(file, displayName(*fromName.component), metadata->source,
                                  displayName(*fromProduct)));
    }
    if (fromProduct) {
        facts.component = *fromProduct;
        facts.componentSource = metadata->source;
    } else if (fromName.component) {
        facts.component = *fromName.component;
        facts.componentSource = nameSource;
    } else if (typed.component) {
        facts.component = *typed.component;
        facts.componentSource = tr("typed by you");
    } else {
        // Nothing says: the administrator put it in this slot.
        facts.component = slot;
        facts.componentSource = tr("chosen by you (the slot you picked it for)");
    }
    return facts;
}

Expected<QStringList> packageFileList(const QString &path)
{
    const auto format = packageFormatOf(path);
    if (!format)
        return makeError(tr("%1 is not a package format the wizard knows.").arg(fileLabel(path)));
    switch (*format) {
    case PackageFormat::Deb: return DebReader::files(path);
    case PackageFormat::Rpm: return RpmReader::files(path);
    case PackageFormat::Msi: return MsiReader::files(path);
    case PackageFormat::FtPkg: {
        const auto manifest = readPackageManifest(path);
        if (!manifest)
            return makeError(manifest.error());
        QStringList files;
        for (const PackageFile &file : manifest->files)
            files.append(file.path);
        files.sort();
        return files;
    }
    case PackageFormat::Exe:
    case PackageFormat::SelfExtracting: break;
    }
    return makeError(tr("%1 does not list its files (a %2 is a program, not an archive the wizard can read).")
                         .arg(fileLabel(path), displayName(*format)));
}

Result verifyVendorPackage(const QString &path)
{
    const auto format = packageFormatOf(path);
    if (!format)
        return makeError(tr("%1 is not a package format the wizard knows.").arg(fileLabel(path)));
    switch (*format) {
    case PackageFormat::Deb: return DebReader::verify(path);
    case PackageFormat::Rpm: {
        const Expected<VendorMetadata> read = RpmReader::read(path); // rpmReadPackageFile checks the digests
        return read ? Result{} : makeError(read.error());
    }
    case PackageFormat::Msi: {
        const Expected<VendorMetadata> read = MsiReader::read(path);
        return read ? Result{} : makeError(read.error());
    }
    case PackageFormat::Exe:
    case PackageFormat::SelfExtracting:
    case PackageFormat::FtPkg: break;
    }
    return {};
}

} // namespace ft

#include "packages/vendorpackage.h"

// The RPM header through librpm (RpmReader in vendorpackage.h).

#include <QCoreApplication>
#include <QFile>
#include <QFileInfo>

#include <rpm/header.h>
#include <rpm/rpmfi.h>
#include <rpm/rpmlib.h>
#include <rpm/rpmts.h>

#include <mutex>

#include <sys/stat.h>

namespace ft {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::VendorPackage", text); }

QString fileLabel(const QString &path) { return QFileInfo(path).fileName(); }

} // namespace

// ---------------------------------------------------------------- RPM

namespace {

// librpm keeps global state (macros, rpmrc); read its configuration once and let one
// thread use it at a time.
std::mutex &rpmMutex()
{
    static std::mutex mutex;
    return mutex;
}

Result rpmInit()
{
    static bool ok = false;
    static std::once_flag once;
    std::call_once(once, [] { ok = rpmReadConfigFiles(nullptr, nullptr) == 0; });
    if (!ok)
        return makeError(tr("librpm could not read its configuration."));
    return {};
}

struct RpmRead
{
    rpmRC code = RPMRC_FAIL;
    VendorMetadata metadata;
    QStringList files; // the header's file list, directories left out
};

RpmRead readRpmHeader(const QString &path, bool withFiles = false)
{
    RpmRead result;
    rpmts ts = rpmtsCreate();
    // No keyring is configured here: signatures are not checked, digests are.
    rpmtsSetVSFlags(ts, rpmtsVSFlags(ts) | RPMVSF_MASK_NOSIGNATURES);
    FD_t fd = Fopen(QFile::encodeName(path).constData(), "r.ufdio");
    if (!fd || Ferror(fd)) {
        if (fd)
            Fclose(fd);
        rpmtsFree(ts);
        return result;
    }
    Header header = nullptr;
    result.code = rpmReadPackageFile(ts, fd, QFile::encodeName(path).constData(), &header);
    if (header) {
        const auto tag = [&](rpmTagVal which) {
            const char *text = headerGetString(header, which);
            return text ? QString::fromUtf8(text) : QString();
        };
        result.metadata.productName = tag(RPMTAG_NAME);
        const QString version = tag(RPMTAG_VERSION);
        const QString release = tag(RPMTAG_RELEASE);
        result.metadata.version = release.isEmpty() ? version : version + QLatin1Char('-') + release;
        result.metadata.manufacturer = tag(RPMTAG_VENDOR);
        result.metadata.architecture = tag(RPMTAG_ARCH);
        result.metadata.source = tr("from the RPM header");
        if (withFiles) {
            rpmfi files = rpmfiNew(ts, header, RPMTAG_BASENAMES, RPMFI_KEEPHEADER);
            while (files && rpmfiNext(files) >= 0) {
                if (S_ISDIR(rpmfiFMode(files)))
                    continue;
                QString name = QString::fromUtf8(rpmfiFN(files));
                while (name.startsWith(QLatin1Char('/')))
                    name.remove(0, 1);
                result.files.append(name);
            }
            rpmfiFree(files);
        }
        headerFree(header);
    }
    Fclose(fd);
    rpmtsFree(ts);
    return result;
}

} // namespace

Expected<VendorMetadata> RpmReader::read(const QString &path)
{
    if (!QFileInfo(path).isFile())
        return makeError(tr("%1 does not exist.").arg(path));
    std::lock_guard lock(rpmMutex());
    if (Result init = rpmInit(); !init)
        return makeError(init.error());
    const RpmRead read = readRpmHeader(path);
    switch (read.code) {
    case RPMRC_OK:
    case RPMRC_NOKEY:
    case RPMRC_NOTTRUSTED:
        return read.metadata;
    case RPMRC_NOTFOUND:
        return makeError(tr("%1 is not an RPM package.").arg(fileLabel(path)));
    default:
        return makeError(tr("%1 is a damaged RPM package: its header cannot be read or its digest does not match.")
                             .arg(fileLabel(path)));
    }
}

Expected<QStringList> RpmReader::files(const QString &path)
{
    if (!QFileInfo(path).isFile())
        return makeError(tr("%1 does not exist.").arg(path));
    std::lock_guard lock(rpmMutex());
    if (Result init = rpmInit(); !init)
        return makeError(init.error());
    RpmRead read = readRpmHeader(path, true);
    switch (read.code) {
    case RPMRC_OK:
    case RPMRC_NOKEY:
    case RPMRC_NOTTRUSTED:
        read.files.sort();
        return read.files;
    case RPMRC_NOTFOUND:
        return makeError(tr("%1 is not an RPM package.").arg(fileLabel(path)));
    default:
        return makeError(tr("%1 is a damaged RPM package: its header cannot be read or its digest does not match.")
                             .arg(fileLabel(path)));
    }
}

} // namespace ft

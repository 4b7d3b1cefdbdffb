#include "exebuilder.h"

#include "installer.h"
#include "registrystandin.h"

#include "packages/package.h"
#include "packages/vendorpackage.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTimer>
#include <QtEndian>

#include <cstdio>

namespace ft::sandbox {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ftsandbox", text); }

const QByteArray kMagic = QByteArrayLiteral("FTSBXEXE");
constexpr int kTrailer = 16; // 8-byte little-endian payload length, then the magic

Result runMingw(const QString &tool, const QStringList &arguments, const QString &workDir)
{
    const QString program = QStringLiteral("x86_64-w64-mingw32-") + tool;
    const QString found = QStandardPaths::findExecutable(program);
    if (found.isEmpty())
        return makeError(tr("%1 is not installed (Debian: binutils-mingw-w64-x86-64, see .ci/packages.txt).").arg(program));
    QProcess process;
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.setWorkingDirectory(workDir);
    process.start(found, arguments);
    if (!process.waitForFinished(120000) || process.exitStatus() != QProcess::NormalExit || process.exitCode() != 0)
        return makeError(tr("%1 failed: %2").arg(program, QString::fromLocal8Bit(process.readAll()).trimmed().right(1500)));
    return {};
}

QString productNameOf(Component component)
{
    switch (component) {
    case Component::Server: return QStringLiteral("FlowTraq Server");
    case Component::Nbi: return QStringLiteral("FlowTraq NBI");
    case Component::WebUi: return QStringLiteral("FlowTraq Web UI");
    }
    return {};
}

void say(const QString &line, bool error = false)
{
    const QByteArray bytes = line.toUtf8() + '\n';
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), error ? stderr : stdout);
    std::fflush(error ? stderr : stdout);
}

} // namespace

Result buildExe(const PackageSpec &spec)
{
    const QFileInfo output(spec.output);
    if (!QDir().mkpath(output.absolutePath()))
        return makeError(tr("Could not create the folder %1.").arg(output.absolutePath()));
    QTemporaryDir work(output.absolutePath() + QStringLiteral("/.exe-build-XXXXXX"));
    if (!work.isValid())
        return makeError(tr("Could not create a temporary folder beside %1.").arg(spec.output));
    const QDir dir(work.path());
    PackageSpec inner = spec;
    inner.os = QStringLiteral("windows");
    inner.output = dir.filePath(QStringLiteral("payload.ftpkg"));
    if (Result built = buildPackage(inner); !built)
        return built;

    // A PE version has four 16-bit numbers: the build is the fourth, as in the MSI.
    QList<int> numbers = spec.version.parts();
    while (numbers.size() < 3)
        numbers.append(0);
    numbers = numbers.mid(0, 3);
    numbers.append(spec.version.hasBuild() ? spec.version.build() : 0);
    for (int number : numbers) {
        if (number < 0 || number > 65535)
            return makeError(tr("%1 does not fit a Windows version resource (each number at most 65535).")
                                 .arg(spec.version.toString()));
    }
    QStringList dotted;
    QStringList commas;
    for (int number : numbers) {
        dotted.append(QString::number(number));
        commas.append(QString::number(number));
    }
    const QString product = productNameOf(spec.component);
    const QString rc = QStringLiteral(
                           "1 VERSIONINFO\n"
                           "FILEVERSION %1\nPRODUCTVERSION %1\nFILEOS 0x40004\nFILETYPE 0x1\n"
                           "BEGIN\n"
                           "  BLOCK \"StringFileInfo\"\n  BEGIN\n    BLOCK \"040904b0\"\n    BEGIN\n"
                           "      VALUE \"CompanyName\", \"FlowTraq sandbox\"\n"
                           "      VALUE \"FileDescription\", \"%2 installer (sandbox stand-in, mode %4)\"\n"
                           "      VALUE \"ProductName\", \"%2\"\n"
                           "      VALUE \"ProductVersion\", \"%3\"\n"
                           "      VALUE \"FileVersion\", \"%3\"\n"
                           "    END\n  END\n"
                           "  BLOCK \"VarFileInfo\"\n  BEGIN\n    VALUE \"Translation\", 0x409, 1200\n  END\n"
                           "END\n")
                           .arg(commas.join(QLatin1Char(',')), product, dotted.join(QLatin1Char('.')), spec.mode);
    // The program itself: return 1 from the entry point (Windows ends the process with
    // it). It installs nothing on a real Windows machine, on purpose.
    const QByteArray entry = ".text\n.globl start\nstart:\n  movl $1, %eax\n  ret\n";
    for (const auto &[name, text] : {std::pair{QStringLiteral("version.rc"), rc.toUtf8()},
                                     std::pair{QStringLiteral("start.s"), entry}}) {
        QFile file(dir.filePath(name));
        if (!file.open(QIODevice::WriteOnly) || file.write(text) != text.size())
            return makeError(tr("Could not write %1.").arg(file.fileName()));
    }
    if (Result r = runMingw(QStringLiteral("windres"), {QStringLiteral("-O"), QStringLiteral("coff"), QStringLiteral("-i"),
                                                        QStringLiteral("version.rc"), QStringLiteral("-o"), QStringLiteral("version.o")},
                            work.path());
        !r)
        return r;
    if (Result r = runMingw(QStringLiteral("as"), {QStringLiteral("start.s"), QStringLiteral("-o"), QStringLiteral("start.o")}, work.path()); !r)
        return r;
    if (Result r = runMingw(QStringLiteral("ld"), {QStringLiteral("-e"), QStringLiteral("start"), QStringLiteral("--subsystem"),
                                                   QStringLiteral("console"), QStringLiteral("start.o"), QStringLiteral("version.o"),
                                                   QStringLiteral("-o"), QStringLiteral("stub.exe")},
                            work.path());
        !r)
        return r;

    QFile out(spec.output);
    QFile stub(dir.filePath(QStringLiteral("stub.exe")));
    QFile payload(inner.output);
    if (!out.open(QIODevice::WriteOnly | QIODevice::Truncate) || !stub.open(QIODevice::ReadOnly)
        || !payload.open(QIODevice::ReadOnly))
        return makeError(tr("Could not write %1.").arg(spec.output));
    out.write(stub.readAll());
    qint64 length = 0;
    while (!payload.atEnd()) {
        const QByteArray chunk = payload.read(1024 * 1024);
        if (out.write(chunk) != chunk.size())
            return makeError(tr("Could not write %1: %2.").arg(spec.output, out.errorString()));
        length += chunk.size();
    }
    char size[8];
    qToLittleEndian(quint64(length), size);
    out.write(size, 8);
    out.write(kMagic);
    if (!out.flush())
        return makeError(tr("Could not write %1: %2.").arg(spec.output, out.errorString()));
    return {};
}

ExeStandIn::ExeStandIn(QStringList arguments, QObject *parent)
    : QObject(parent)
    , m_arguments(std::move(arguments))
{}

void ExeStandIn::start()
{
    QTimer::singleShot(0, this, [this] { run(); });
}

void ExeStandIn::finish(int code)
{
    if (m_finished)
        return;
    m_finished = true;
    // The installer's script writes its Uninstall entry once the files are in place
    // (reboot-needed replaced nothing, so it records nothing new).
    const bool installed = code == InstallerExit::Success
                           || (code == InstallerExit::RebootRequired && m_mode != QLatin1String("reboot-needed"));
    if (installed && !m_installDir.isEmpty()) {
        registry::Product product;
        product.productCode = m_productName; // NSIS names the key after the product
        product.upgradeCode = m_productName;
        product.name = m_productName;
        product.version = m_productVersion;
        product.manufacturer = m_company;
        product.installLocation = m_installDir;
        product.wow64 = false; // a 64-bit installer writes the 64-bit view
        product.uninstallString = QStringLiteral("\"%1\"").arg(QDir::toNativeSeparators(m_installDir + QStringLiteral("/uninstall.exe")));
        if (Result registered = registry::registerProduct(registry::hiveOf(m_installDir), product); !registered)
            say(QStringLiteral("warning: the product could not be registered: ") + registered.error(), true);
        else
            say(tr("Registered %1 %2 in the Uninstall key").arg(m_productName, m_productVersion));
    }
    if (!m_workDir.isEmpty())
        QDir(m_workDir).removeRecursively();
    Q_EMIT finished(code);
}

void ExeStandIn::run()
{
    constexpr int kUsage = 2;
    bool silent = false;
    for (int i = 0; i < m_arguments.size(); ++i) {
        const QString argument = m_arguments.at(i);
        if (i == 0) {
            m_package = argument;
        } else if (argument == QLatin1String("/S")) {
            silent = true;
        } else if (argument.startsWith(QLatin1String("/D="))) {
            m_installDir = argument.mid(3);
        } else {
            say(QStringLiteral("error: unknown switch \"%1\" (this installer takes /S and /D=DIR)").arg(argument), true);
            finish(kUsage);
            return;
        }
    }
    if (m_package.isEmpty() || !silent || m_installDir.isEmpty()) {
        say(QStringLiteral("error: without /S this installer shows its wizard; for a silent install run it with "
                           "/S /D=DIR"), true);
        finish(kUsage);
        return;
    }
    const auto metadata = ExeReader::read(m_package);
    if (!metadata || metadata->version.isEmpty()) {
        say(QStringLiteral("error: %1 has no version resource").arg(m_package), true);
        finish(InstallerExit::PackageInvalid);
        return;
    }
    m_productName = metadata->productName;
    m_productVersion = metadata->version;
    m_company = metadata->manufacturer;

    // The overlay: the payload's length and the magic at the very end.
    QFile file(m_package);
    if (!file.open(QIODevice::ReadOnly) || file.size() < kTrailer || !file.seek(file.size() - kTrailer)) {
        say(QStringLiteral("error: %1 cannot be read").arg(m_package), true);
        finish(InstallerExit::PackageInvalid);
        return;
    }
    const QByteArray trailer = file.read(kTrailer);
    const qint64 length = qint64(qFromLittleEndian<quint64>(trailer.constData()));
    if (trailer.mid(8) != kMagic || length <= 0 || length > file.size() - kTrailer) {
        say(QStringLiteral("error: %1 carries no payload").arg(m_package), true);
        finish(InstallerExit::PackageInvalid);
        return;
    }
    m_workDir = QDir(m_installDir).filePath(QStringLiteral(".exe-%1").arg(QCoreApplication::applicationPid()));
    QDir(m_workDir).removeRecursively();
    QDir().mkpath(m_workDir);
    const QString ftpkg = QDir(m_workDir).filePath(QStringLiteral("payload.ftpkg"));
    QFile payload(ftpkg);
    if (!payload.open(QIODevice::WriteOnly) || !file.seek(file.size() - kTrailer - length)) {
        say(QStringLiteral("error: cannot extract the payload into %1").arg(m_workDir), true);
        finish(InstallerExit::Failed);
        return;
    }
    for (qint64 left = length; left > 0;) {
        const QByteArray chunk = file.read(qMin<qint64>(left, 1024 * 1024));
        if (chunk.isEmpty() || payload.write(chunk) != chunk.size()) {
            say(QStringLiteral("error: the payload is cut short"), true);
            finish(InstallerExit::PackageInvalid);
            return;
        }
        left -= chunk.size();
    }
    payload.close();
    const auto manifest = readPackageManifest(ftpkg);
    const auto resourceVersion = versionFromVendor(m_productVersion);
    if (!manifest || !resourceVersion || *resourceVersion != manifest->version) {
        say(QStringLiteral("error: the version resource (%1) does not match the payload").arg(m_productVersion), true);
        finish(InstallerExit::PackageInvalid);
        return;
    }
    m_mode = manifest->mode;
    say(tr("%1 %2 setup: installing silently into %3").arg(m_productName, m_productVersion, QDir::toNativeSeparators(m_installDir)));
    auto *installer = new Installer(ftpkg, m_installDir, manifest->component, this);
    connect(installer, &Installer::finished, this, [this](int code) { finish(code); });
    installer->start();
}

} // namespace ft::sandbox

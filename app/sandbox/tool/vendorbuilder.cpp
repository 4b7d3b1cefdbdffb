#include "vendorbuilder.h"

#include "exebuilder.h"
#include "installer.h"
#include "registrystandin.h"
#include "packages/filemanifest.h"
#include "packages/package.h"
#include "sandboxfiles.h"

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTimer>
#include <QUuid>

#include <cstdio>
#include <functional>

namespace ft::sandbox {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ftsandbox", text); }

Result writeText(const QString &path, const QByteArray &data, bool executable = false)
{
    if (!QDir().mkpath(QFileInfo(path).absolutePath()))
        return makeError(tr("Could not create the folder for %1.").arg(path));
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) || file.write(data) != data.size())
        return makeError(tr("Could not write %1: %2.").arg(path, file.errorString()));
    if (executable)
        file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner
                            | QFileDevice::ReadGroup | QFileDevice::ExeGroup | QFileDevice::ReadOther
                            | QFileDevice::ExeOther);
    return {};
}

// Runs a packaging tool to its end (ftsandbox is a command-line tool: blocking is fine).
Result runTool(const QString &program, const QStringList &arguments, const QString &workingDir = {})
{
    const QString found = QStandardPaths::findExecutable(program);
    if (found.isEmpty())
        return makeError(tr("%1 is not installed (Debian: see .ci/packages.txt).").arg(program));
    QProcess process;
    process.setProcessChannelMode(QProcess::MergedChannels);
    if (!workingDir.isEmpty())
        process.setWorkingDirectory(workingDir);
    process.start(found, arguments);
    if (!process.waitForFinished(300000) || process.exitStatus() != QProcess::NormalExit || process.exitCode() != 0) {
        return makeError(tr("%1 failed: %2").arg(program, QString::fromLocal8Bit(process.readAll()).trimmed().right(2000)));
    }
    return {};
}

QString packageName(Component component)
{
    switch (component) {
    case Component::Server: return QStringLiteral("flowtraq-server");
    case Component::Nbi: return QStringLiteral("flowtraq-nbi");
    case Component::WebUi: return QStringLiteral("flowtraq-webui");
    }
    return {};
}

QString versionFileOf(Component component)
{
    return component == Component::Nbi ? QStringLiteral("nbi/VERSION") : QStringLiteral("VERSION");
}

QByteArray shellQuote(const QString &text)
{
    QByteArray quoted = text.toUtf8();
    quoted.replace('\'', "'\\''");
    return '\'' + quoted + '\'';
}

// ---------------------------------------------------------------- deb

// preinst refuses while the daemon runs and plays fail/hang/slow; postinst writes the
// version (not for reboot-needed) and asks for a reboot (reboot, reboot-needed).
QByteArray debPreinst(const PackageSpec &spec)
{
    QByteArray script = "#!/bin/sh\n"
                        "# Sandbox FlowTraq installer script; DPKG_ROOT is the node's folder.\n"
                        "R=\"${DPKG_ROOT:-}\"\n"
                        "case \"$1\" in install|upgrade) ;; *) exit 0 ;; esac\n"
                        "if [ -f \"$R/run/flowtraq.pid\" ] && kill -0 \"$(cat \"$R/run/flowtraq.pid\")\" 2>/dev/null; then\n"
                        "  echo 'error: the FlowTraq service is running: stop the FlowTraq service first' >&2; exit 1\n"
                        "fi\n"
                        "echo '[ 10%] Checking the installation'\n";
    if (spec.mode == QLatin1String("fail"))
        script += "echo '[ 40%] Installing'\necho 'error: the installation failed (sandbox mode fail)' >&2\nexit 1\n";
    else if (spec.mode == QLatin1String("hang"))
        script += "echo 'Installing FlowTraq...'\nwhile :; do sleep 3600; done\n";
    else if (spec.mode == QLatin1String("slow"))
        script += "i=0\nwhile [ $i -lt " + QByteArray::number(spec.slowSeconds)
                  + " ]; do echo \"[ $((10 + i * 80 / " + QByteArray::number(qMax(1, spec.slowSeconds))
                  + "))%] Installing\"; sleep 1; i=$((i + 1)); done\n";
    script += "exit 0\n";
    return script;
}

QByteArray debPostinst(const PackageSpec &spec)
{
    QByteArray script = "#!/bin/sh\n"
                        "R=\"${DPKG_ROOT:-}\"\n"
                        "case \"$1\" in configure) ;; *) exit 0 ;; esac\n";
    if (spec.mode != QLatin1String("reboot-needed")) {
        script += "echo '[ 90%] Recording version " + spec.version.toString().toUtf8() + "'\n";
        script += "mkdir -p \"$(dirname \"$R/" + versionFileOf(spec.component).toUtf8() + "\")\"\n";
        script += "printf '%s\\n' '" + spec.version.toString().toUtf8() + "' > \"$R/"
                  + versionFileOf(spec.component).toUtf8() + ".new\" && mv \"$R/"
                  + versionFileOf(spec.component).toUtf8() + ".new\" \"$R/" + versionFileOf(spec.component).toUtf8()
                  + "\"\n";
    }
    if (spec.mode == QLatin1String("reboot") || spec.mode == QLatin1String("reboot-needed"))
        script += "mkdir -p \"$R/run\" && : > \"$R/run/reboot-required\"\necho 'A reboot is required to finish.'\n";
    script += "echo '[100%] Done'\nexit 0\n";
    return script;
}

Result buildDeb(const PackageSpec &spec, const QString &root, const QStringList &files)
{
    const QString control = QStringLiteral("Package: %1\nVersion: %2\nArchitecture: all\n"
                                           "Maintainer: FlowTraq sandbox <sandbox@example.invalid>\n"
                                           "Description: %3 (sandbox stand-in, mode %4)\n")
                                .arg(packageName(spec.component), spec.version.toString(),
                                     displayName(spec.component), spec.mode);
    const QDir dir(root);
    if (Result w = writeText(dir.filePath(QStringLiteral("DEBIAN/control")), control.toUtf8()); !w)
        return w;
    if (Result w = writeText(dir.filePath(QStringLiteral("DEBIAN/preinst")), debPreinst(spec), true); !w)
        return w;
    if (Result w = writeText(dir.filePath(QStringLiteral("DEBIAN/postinst")), debPostinst(spec), true); !w)
        return w;
    // md5sums: what dpkg -V and the wizard's reader check the files against.
    QByteArray sums;
    for (const QString &file : files) {
        QFile f(dir.filePath(file));
        if (!f.open(QIODevice::ReadOnly))
            return makeError(tr("Could not read %1.").arg(f.fileName()));
        QCryptographicHash md5(QCryptographicHash::Md5);
        md5.addData(&f);
        sums += md5.result().toHex() + "  " + file.toUtf8() + '\n';
    }
    if (Result w = writeText(dir.filePath(QStringLiteral("DEBIAN/md5sums")), sums); !w)
        return w;
    if (spec.mode == QLatin1String("corrupt")) {
        if (Result damaged = damageOneFile(dir.filePath(files.first())); !damaged)
            return damaged;
    }
    // Uncompressed data: a damaged byte is a damaged file, which md5sums catches.
    return runTool(QStringLiteral("dpkg-deb"), {QStringLiteral("--root-owner-group"), QStringLiteral("-Znone"),
                                                QStringLiteral("--build"), root, spec.output});
}

// ---------------------------------------------------------------- rpm

Result buildRpm(const PackageSpec &spec, const QString &root, const QStringList &files)
{
    if (spec.mode != QLatin1String("normal"))
        return makeError(tr("The sandbox makes .rpm packages in mode normal only (rpm --root runs scriptlets in a "
                            "chroot the sandbox node does not have)."));
    // The version file travels as a payload file: no scriptlet is needed.
    if (Result w = writeText(QDir(root).filePath(versionFileOf(spec.component)),
                             spec.version.toString().toUtf8() + '\n');
        !w)
        return w;
    QStringList all = files;
    all.append(versionFileOf(spec.component));
    QTemporaryDir top;
    if (!top.isValid())
        return makeError(tr("Could not create a temporary folder."));
    const QStringList parts = spec.version.toString().split(QLatin1Char('-'));
    QByteArray specText = "Name: " + packageName(spec.component).toUtf8() + "\nVersion: " + parts.value(0).toUtf8()
                          + "\nRelease: " + (parts.size() > 1 ? parts.value(1).toUtf8() : QByteArray("1"))
                          + "\nSummary: " + displayName(spec.component).toUtf8()
                          + " (sandbox stand-in)\nLicense: Proprietary\nVendor: FlowTraq sandbox\nBuildArch: noarch\n"
                            "AutoReqProv: no\n%description\nSandbox stand-in.\n%install\n";
    for (const QString &file : all) {
        specText += "mkdir -p \"%{buildroot}/" + QFileInfo(file).path().toUtf8() + "\"\n";
        specText += "cp -p " + shellQuote(QDir(root).filePath(file)) + " \"%{buildroot}/" + file.toUtf8() + "\"\n";
    }
    specText += "%files\n";
    for (const QString &file : all)
        specText += "\"/" + file.toUtf8() + "\"\n";
    const QString specFile = QDir(top.path()).filePath(QStringLiteral("flowtraq.spec"));
    if (Result w = writeText(specFile, specText); !w)
        return w;
    if (Result built = runTool(QStringLiteral("rpmbuild"),
                               {QStringLiteral("--define"), QStringLiteral("_topdir %1").arg(top.path()),
                                QStringLiteral("--define"), QStringLiteral("_build_id_links none"),
                                QStringLiteral("--quiet"), QStringLiteral("-bb"), specFile});
        !built)
        return built;
    QDirIterator it(QDir(top.path()).filePath(QStringLiteral("RPMS")), {QStringLiteral("*.rpm")}, QDir::Files,
                    QDirIterator::Subdirectories);
    if (!it.hasNext())
        return makeError(tr("rpmbuild wrote no package."));
    const QString built = it.next();
    QFile::remove(spec.output);
    if (!QFile::copy(built, spec.output))
        return makeError(tr("Could not write %1.").arg(spec.output));
    return {};
}

// ---------------------------------------------------------------- msi

QString xmlEscape(const QString &text) { return text.toHtmlEscaped(); }

Result buildMsi(const PackageSpec &spec, const QString &root, const QStringList &files)
{
    // The checksums ride in the Property table, so the stand-in checks what it
    // extracted exactly as the sandbox installer checks a .ftpkg.
    const Expected<FileManifest> hashed = FileManifest::compute(root);
    if (!hashed)
        return makeError(hashed.error());
    QStringList sums;
    for (const QString &file : files) {
        const auto entry = hashed->find(file);
        if (!entry)
            return makeError(tr("Could not hash %1.").arg(file));
        sums.append(QStringLiteral("%1:%2:%3").arg(QString::fromLatin1(entry->sha256)).arg(entry->size).arg(file));
    }
    if (spec.mode == QLatin1String("corrupt")) {
        if (Result damaged = damageOneFile(QDir(root).filePath(files.first())); !damaged)
            return damaged;
    }
    // Directory tree under ProgramFiles/ProQueSys/FlowTraq Server, one component per file.
    struct Node
    {
        QMap<QString, Node> children;
        QStringList files;
    };
    Node tree;
    for (const QString &file : files) {
        Node *node = &tree;
        const QStringList segments = file.split(QLatin1Char('/'));
        for (int i = 0; i + 1 < segments.size(); ++i)
            node = &node->children[segments.at(i)];
        node->files.append(file);
    }
    int counter = 0;
    QStringList componentIds;
    std::function<QString(const Node &, int)> emit = [&](const Node &node, int depth) {
        QString xml;
        const QString indent(depth * 2, QLatin1Char(' '));
        for (const QString &file : node.files) {
            const QString id = QStringLiteral("C%1").arg(++counter);
            componentIds.append(id);
            xml += indent + QStringLiteral("<Component Id=\"%1\" Guid=\"*\"><File Id=\"F%2\" Name=\"%3\" "
                                           "Source=\"%4\" KeyPath=\"yes\"/></Component>\n")
                                .arg(id)
                                .arg(counter)
                                .arg(xmlEscape(QFileInfo(file).fileName()), xmlEscape(file));
        }
        for (auto it = node.children.cbegin(); it != node.children.cend(); ++it) {
            xml += indent + QStringLiteral("<Directory Id=\"D%1\" Name=\"%2\">\n").arg(++counter).arg(xmlEscape(it.key()));
            xml += emit(it.value(), depth + 1);
            xml += indent + QStringLiteral("</Directory>\n");
        }
        return xml;
    };
    const QString body = emit(tree, 5);
    QString refs;
    for (const QString &id : componentIds)
        refs += QStringLiteral("<ComponentRef Id=\"%1\"/>").arg(id);
    const QString productName = spec.component == Component::Nbi ? QStringLiteral("FlowTraq NBI")
                                                                  : QStringLiteral("FlowTraq Server");
    // MSI versions are a.b.c.d: the build goes in the fourth field.
    const QString msiVersion = spec.version.toString().replace(QLatin1Char('-'), QLatin1Char('.'));
    const QString upgradeCode = QUuid::createUuidV5(QUuid(), productName).toString(QUuid::WithoutBraces);
    const QString wxs = QStringLiteral(
                            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                            "<Wix xmlns=\"http://schemas.microsoft.com/wix/2006/wi\">\n"
                            "  <Product Id=\"*\" Name=\"%1\" Language=\"1033\" Version=\"%2\" Manufacturer=\"FlowTraq "
                            "sandbox\" UpgradeCode=\"%3\">\n"
                            "    <Package InstallerVersion=\"200\" Compressed=\"yes\" Comments=\"sandbox stand-in\"/>\n"
                            "    <Media Id=\"1\" Cabinet=\"payload.cab\" EmbedCab=\"yes\"/>\n"
                            "    <Property Id=\"FTSANDBOXCOMPONENT\" Value=\"%4\"/>\n"
                            "    <Property Id=\"FTSANDBOXVERSION\" Value=\"%5\"/>\n"
                            "    <Property Id=\"FTSANDBOXMODE\" Value=\"%6\"/>\n"
                            "    <Property Id=\"FTSANDBOXSLOW\" Value=\"%7\"/>\n"
                            "    <Property Id=\"FTSANDBOXSUMS\" Value=\"%8\"/>\n"
                            "    <Directory Id=\"TARGETDIR\" Name=\"SourceDir\">\n"
                            "      <Directory Id=\"ProgramFilesFolder\">\n"
                            "        <Directory Id=\"VENDORDIR\" Name=\"ProQueSys\">\n"
                            "          <Directory Id=\"INSTALLDIR\" Name=\"FlowTraq Server\">\n"
                            "%9"
                            "          </Directory>\n"
                            "        </Directory>\n"
                            "      </Directory>\n"
                            "    </Directory>\n"
                            "    <Feature Id=\"Main\" Level=\"1\">%10</Feature>\n"
                            "  </Product>\n"
                            "</Wix>\n")
                            .arg(xmlEscape(productName), msiVersion, upgradeCode, toString(spec.component),
                                 spec.version.toString(), spec.mode)
                            .arg(spec.slowSeconds)
                            .arg(xmlEscape(sums.join(QLatin1Char(';'))), body, refs);
    // wixl takes the sources relative to the folder it runs in (absolute ones fail).
    const QString wxsFile = QDir(root).filePath(QStringLiteral(".package.wxs"));
    if (Result w = writeText(wxsFile, wxs.toUtf8()); !w)
        return w;
    return runTool(QStringLiteral("wixl"), {QStringLiteral("-o"), QFileInfo(spec.output).absoluteFilePath(), wxsFile}, root);
}

// ---------------------------------------------------------------- sh

Result buildSh(const PackageSpec &spec)
{
    // The payload is the .ftpkg itself; the script is the vendor-style wrapper with its
    // own silent flag, and hands over to the sandbox installer.
    const QString ftpkg = spec.output + QStringLiteral(".payload.ftpkg");
    PackageSpec inner = spec;
    inner.output = ftpkg;
    inner.os = QStringLiteral("linux");
    if (Result built = buildPackage(inner); !built)
        return built;
    const QString ftsandbox = QCoreApplication::applicationFilePath();
    QByteArray header =
        "#!/bin/sh\n"
        "# " + displayName(spec.component).toUtf8() + " " + spec.version.toString().toUtf8()
        + " installer (sandbox stand-in).\n"
          "# Silent install: sh THIS --unattended --install-dir DIR\n"
          "unattended=0\n"
          "dir=\n"
          "while [ $# -gt 0 ]; do\n"
          "  case \"$1\" in\n"
          "    --unattended) unattended=1 ;;\n"
          "    --install-dir) shift; dir=\"$1\" ;;\n"
          "    --install-dir=*) dir=\"${1#*=}\" ;;\n"
          "    *) echo \"error: unknown option $1\" >&2; exit 2 ;;\n"
          "  esac\n"
          "  shift\n"
          "done\n"
          "if [ \"$unattended\" != 1 ] || [ -z \"$dir\" ]; then\n"
          "  echo 'error: this installer asks questions on a terminal; for a silent install run it with "
          "--unattended --install-dir DIR' >&2\n"
          "  exit 2\n"
          "fi\n"
          "payload=$(mktemp \"${TMPDIR:-/tmp}/flowtraq-installer.XXXXXX\") || exit 1\n"
          "tail -n +__SKIP__ \"$0\" > \"$payload\" || exit 1\n"
          "FTSANDBOX=${FTSANDBOX:-" + shellQuote(ftsandbox) + "}\n"
          "exec \"$FTSANDBOX\" apply \"$payload\" --install \"$dir\" --component " + toString(spec.component).toUtf8()
        + "\n"
          "__PAYLOAD_BELOW__\n";
    const int lines = int(header.count('\n'));
    header.replace("__SKIP__", QByteArray::number(lines + 1));
    QFile out(spec.output);
    QFile in(ftpkg);
    if (!out.open(QIODevice::WriteOnly | QIODevice::Truncate) || !in.open(QIODevice::ReadOnly)) {
        QFile::remove(ftpkg);
        return makeError(tr("Could not write %1.").arg(spec.output));
    }
    out.write(header);
    while (!in.atEnd())
        out.write(in.read(1024 * 1024));
    in.close();
    QFile::remove(ftpkg);
    out.setPermissions(out.permissions() | QFileDevice::ExeOwner | QFileDevice::ExeGroup | QFileDevice::ExeOther);
    return {};
}

} // namespace

Result initDpkgDatabase(const QString &installDir)
{
    const QDir admin(QDir(installDir).filePath(QStringLiteral("dpkg")));
    for (const char *sub : {"info", "updates", "triggers"}) {
        if (!QDir().mkpath(admin.filePath(QLatin1String(sub))))
            return makeError(tr("Could not create %1.").arg(admin.filePath(QLatin1String(sub))));
    }
    QFile status(admin.filePath(QStringLiteral("status")));
    if (!status.exists() && !status.open(QIODevice::WriteOnly))
        return makeError(tr("Could not create %1.").arg(status.fileName()));
    return {};
}

Result buildVendorPackage(const PackageSpec &spec, PackageFormat format)
{
    if (format == PackageFormat::FtPkg)
        return buildPackage(spec);
    if (format == PackageFormat::Exe)
        return buildExe(spec);
    if (format == PackageFormat::SelfExtracting)
        return buildSh(spec);
    if (spec.component == Component::WebUi)
        return makeError(tr("The sandbox makes Web UI packages as .ftpkg or .sh only."));
    const QFileInfo output(spec.output);
    if (!QDir().mkpath(output.absolutePath()))
        return makeError(tr("Could not create the folder %1.").arg(output.absolutePath()));
    QTemporaryDir work(output.absolutePath() + QStringLiteral("/.vendor-build-XXXXXX"));
    if (!work.isValid())
        return makeError(tr("Could not create a temporary folder beside %1.").arg(spec.output));
    PackageSpec payloadSpec = spec;
    payloadSpec.os = format == PackageFormat::Msi ? QStringLiteral("windows") : QStringLiteral("linux");
    const QString root = QDir(work.path()).filePath(QStringLiteral("root"));
    const Expected<QStringList> files = writePayload(payloadSpec, root);
    if (!files)
        return makeError(files.error());
    switch (format) {
    case PackageFormat::Deb: return buildDeb(spec, root, *files);
    case PackageFormat::Rpm: return buildRpm(spec, root, *files);
    case PackageFormat::Msi: return buildMsi(spec, root, *files);
    default: break;
    }
    return makeError(tr("Unknown format."));
}

// ---------------------------------------------------------------- msiexec stand-in

MsiexecStandIn::MsiexecStandIn(QStringList arguments, QObject *parent)
    : QObject(parent)
    , m_arguments(std::move(arguments))
{}

void MsiexecStandIn::start()
{
    QTimer::singleShot(0, this, [this] { run(); });
}

void MsiexecStandIn::logLine(const QString &line)
{
    const QString stamped = QStringLiteral("MSI (s) (%1) [%2]: %3\r\n")
                                .arg(QCoreApplication::applicationPid())
                                .arg(QDateTime::currentDateTime().toString(QStringLiteral("HH:mm:ss:zzz")), line);
    const QByteArray utf8 = line.toUtf8() + '\n';
    std::fwrite(utf8.constData(), 1, size_t(utf8.size()), stdout);
    std::fflush(stdout);
    if (m_logFile.isEmpty())
        return;
    QFile file(m_logFile);
    const bool fresh = !file.exists();
    if (!file.open(QIODevice::WriteOnly | QIODevice::Append))
        return;
    if (fresh)
        file.write("\xff\xfe"); // UTF-16LE, as msiexec writes its verbose log
    file.write(reinterpret_cast<const char *>(stamped.utf16()), stamped.size() * 2);
}

void MsiexecStandIn::finish(int code)
{
    if (m_finished)
        return;
    m_finished = true;
    // Windows Installer publishes the product (its Uninstall entry) in the install
    // transaction; a failed install rolls it back. reboot-needed is the sandbox's
    // "nothing was replaced" mode, so nothing new is published either.
    const bool installed = code == InstallerExit::Success
                           || (code == InstallerExit::RebootRequired && m_product.mode != QLatin1String("reboot-needed"));
    if (installed && !m_product.productCode.isEmpty()) {
        registry::Product product;
        product.productCode = m_product.productCode;
        product.upgradeCode = m_product.upgradeCode;
        product.name = m_product.name;
        product.version = m_product.version;
        product.manufacturer = m_product.manufacturer;
        product.installLocation = m_installDir;
        if (Result registered = registry::registerProduct(registry::hiveOf(m_installDir), product); !registered)
            logLine(QStringLiteral("warning: the product could not be registered: ") + registered.error());
        else
            logLine(QStringLiteral("Registered %1 %2 in the Uninstall key (%3)").arg(product.name, product.version, product.productCode));
    }
    logLine(QStringLiteral("Product: %1 -- Installation completed with status: %2.")
                .arg(QFileInfo(m_package).fileName())
                .arg(code));
    logLine(QStringLiteral("MainEngineThread is returning %1").arg(code));
    if (!m_workDir.isEmpty())
        QDir(m_workDir).removeRecursively();
    Q_EMIT finished(code);
}

void MsiexecStandIn::run()
{
    constexpr int kBadCommandLine = 1639; // ERROR_INVALID_COMMAND_LINE
    bool quiet = false;
    for (int i = 0; i < m_arguments.size(); ++i) {
        const QString argument = m_arguments.at(i);
        const QString lower = argument.toLower();
        if (lower == QLatin1String("/i") && i + 1 < m_arguments.size()) {
            m_package = m_arguments.at(++i);
        } else if (lower == QLatin1String("/qn") || lower == QLatin1String("/quiet")) {
            quiet = true;
        } else if (lower == QLatin1String("/norestart")) {
        } else if (lower.startsWith(QLatin1String("/l")) && i + 1 < m_arguments.size()) {
            m_logFile = m_arguments.at(++i);
        } else if (argument.contains(QLatin1Char('=')) && argument.at(0).isUpper()) {
            const QString name = argument.section(QLatin1Char('='), 0, 0);
            if (name == QLatin1String("INSTALLDIR"))
                m_installDir = argument.section(QLatin1Char('='), 1);
        } else {
            logLine(QStringLiteral("error: unknown msiexec argument \"%1\"").arg(argument));
            finish(kBadCommandLine);
            return;
        }
    }
    if (m_package.isEmpty() || m_installDir.isEmpty() || !quiet) {
        logLine(QStringLiteral("error: the stand-in runs only silent installs: msiexec /i PKG /qn [/norestart] "
                               "[/l*v LOG] INSTALLDIR=DIR"));
        finish(kBadCommandLine);
        return;
    }
    logLine(QStringLiteral("=== Verbose logging started: %1 ===").arg(QDateTime::currentDateTime().toString()));
    logLine(QStringLiteral("Executing op: ProductInfo(Package=%1)").arg(QFileInfo(m_package).fileName()));
    const auto properties = MsiReader::properties(
        m_package, {QStringLiteral("ProductName"), QStringLiteral("ProductVersion"), QStringLiteral("ProductCode"),
                    QStringLiteral("UpgradeCode"), QStringLiteral("Manufacturer"), QStringLiteral("FTSANDBOXCOMPONENT"),
                    QStringLiteral("FTSANDBOXVERSION"), QStringLiteral("FTSANDBOXMODE"), QStringLiteral("FTSANDBOXSLOW"),
                    QStringLiteral("FTSANDBOXSUMS")});
    if (!properties) {
        logLine(QStringLiteral("error: ") + properties.error());
        finish(InstallerExit::PackageInvalid);
        return;
    }
    logLine(QStringLiteral("Product: %1 %2").arg(properties->value(QStringLiteral("ProductName")),
                                                 properties->value(QStringLiteral("ProductVersion"))));
    PackageManifest manifest;
    const auto component = parseComponent(properties->value(QStringLiteral("FTSANDBOXCOMPONENT")));
    const auto version = Version::parse(properties->value(QStringLiteral("FTSANDBOXVERSION")));
    if (!component || !version || !packageModes().contains(properties->value(QStringLiteral("FTSANDBOXMODE")))) {
        logLine(QStringLiteral("error: this MSI was not made by ftsandbox make-package"));
        finish(InstallerExit::PackageInvalid);
        return;
    }
    manifest.component = *component;
    manifest.version = *version;
    manifest.os = QStringLiteral("windows");
    m_product.productCode = properties->value(QStringLiteral("ProductCode"));
    m_product.upgradeCode = properties->value(QStringLiteral("UpgradeCode"));
    m_product.name = properties->value(QStringLiteral("ProductName"));
    m_product.version = properties->value(QStringLiteral("ProductVersion"));
    m_product.manufacturer = properties->value(QStringLiteral("Manufacturer"));
    m_product.mode = properties->value(QStringLiteral("FTSANDBOXMODE"));
    manifest.mode = properties->value(QStringLiteral("FTSANDBOXMODE"));
    manifest.slowSeconds = properties->value(QStringLiteral("FTSANDBOXSLOW")).toInt();
    manifest.created = QDateTime::currentDateTimeUtc();
    for (const QString &entry : properties->value(QStringLiteral("FTSANDBOXSUMS")).split(QLatin1Char(';'), Qt::SkipEmptyParts)) {
        const QString sha = entry.section(QLatin1Char(':'), 0, 0);
        const qint64 size = entry.section(QLatin1Char(':'), 1, 1).toLongLong();
        const QString path = entry.section(QLatin1Char(':'), 2);
        manifest.files.append({path, size, sha.toLatin1()});
    }

    // Extract with msiextract into a folder inside the installation (same file system).
    m_workDir = QDir(m_installDir).filePath(QStringLiteral(".msiexec-%1").arg(QCoreApplication::applicationPid()));
    QDir(m_workDir).removeRecursively();
    QDir().mkpath(m_workDir);
    logLine(QStringLiteral("Extracting the package with msiextract"));
    if (Result extracted = runTool(QStringLiteral("msiextract"), {QStringLiteral("-C"), m_workDir, m_package}); !extracted) {
        logLine(QStringLiteral("error: ") + extracted.error());
        finish(InstallerExit::PackageInvalid);
        return;
    }
    const QString payload = QDir(m_workDir).filePath(QStringLiteral("Program Files/ProQueSys/FlowTraq Server"));
    const QString ftpkg = QDir(m_workDir).filePath(QStringLiteral("package.ftpkg"));
    for (PackageFile &file : manifest.files) {
        if (!QFileInfo(QDir(payload).filePath(file.path)).isFile()) {
            logLine(QStringLiteral("error: the package lacks %1").arg(file.path));
            finish(InstallerExit::PackageInvalid);
            return;
        }
    }
    if (Result written = writePackage(ftpkg, manifest, payload); !written) {
        logLine(QStringLiteral("error: ") + written.error());
        finish(InstallerExit::Failed);
        return;
    }
    logLine(QStringLiteral("Executing op: InstallFiles into %1").arg(QDir::toNativeSeparators(m_installDir)));
    auto *installer = new Installer(ftpkg, m_installDir, manifest.component, this);
    connect(installer, &Installer::finished, this, [this](int code) { finish(code); });
    installer->start();
}

} // namespace ft::sandbox

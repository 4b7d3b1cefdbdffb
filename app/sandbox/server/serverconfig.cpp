#include "serverconfig.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSettings>

namespace ft::sandbox {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("ft::sandbox::ServerConfig", text);
}

Expected<quint16> readPort(const QSettings &settings, const QString &key, quint16 fallback)
{
    const QVariant value = settings.value(key);
    if (!value.isValid())
        return fallback;
    bool ok = false;
    const int port = value.toString().trimmed().toInt(&ok);
    if (!ok || port < 0 || port > 65535)
        return makeError(tr("flowtraq.conf: %1 is \"%2\", not a port number (0 to 65535).")
                                 .arg(key, value.toString()));
    return quint16(port);
}

} // namespace

QString ServerConfig::path(const QString &relative) const
{
    return QDir(installDir).filePath(relative);
}

Expected<ServerConfig> ServerConfig::load(const QString &installDir)
{
    ServerConfig config;
    config.installDir = QFileInfo(installDir).absoluteFilePath();
    const QString native = QDir::toNativeSeparators(config.installDir);
    if (!QFileInfo(config.installDir).isDir())
        return makeError(tr("The installation folder %1 does not exist.").arg(native));

    const QString confPath = config.path(QStringLiteral("flowtraq.conf"));
    if (!QFileInfo(confPath).isFile())
        return makeError(tr("There is no flowtraq.conf in %1.").arg(native));
    const QSettings settings(confPath, QSettings::IniFormat);
    if (settings.status() != QSettings::NoError)
        return makeError(
                tr("%1 cannot be read as an INI file.").arg(QDir::toNativeSeparators(confPath)));

    config.nodeName = settings.value(QStringLiteral("node/name")).toString().trimmed();
    const QString listen
            = settings.value(QStringLiteral("server/listen"), QStringLiteral("127.0.0.1"))
                      .toString()
                      .trimmed();
    // "any": every address, IPv4 and IPv6 alike (one dual-stack socket).
    if (listen.compare(QLatin1String("any"), Qt::CaseInsensitive) == 0)
        config.listen = QHostAddress(QHostAddress::Any);
    else if (!config.listen.setAddress(listen))
        return makeError(
                tr("flowtraq.conf: server/listen is \"%1\", not an IP address.").arg(listen));
    const auto tcpPort = readPort(settings, QStringLiteral("server/tcp_port"), 9640);
    if (!tcpPort)
        return makeError(tcpPort.error());
    const auto flowPort = readPort(settings, QStringLiteral("server/flow_port"), 0);
    if (!flowPort)
        return makeError(flowPort.error());
    config.tcpPort = *tcpPort;
    config.flowPort = *flowPort;
    const auto webApiPort = readPort(settings, QStringLiteral("webapi/port"), 0);
    if (!webApiPort)
        return makeError(webApiPort.error());
    config.webApiPort = *webApiPort;
    config.webApiUser = settings.value(QStringLiteral("webapi/user")).toString();
    config.webApiPasswordSha256 = settings.value(QStringLiteral("webapi/password_sha256")).toString().toLatin1().toLower();
    config.webApi = !config.webApiUser.isEmpty();
    if (config.webApi && config.webApiPasswordSha256.size() != 64)
        return makeError(tr("flowtraq.conf: [webapi] needs a user and a password_sha256 (64 hex digits)."));

    QFile versionFile(config.path(QStringLiteral("VERSION")));
    if (!versionFile.open(QIODevice::ReadOnly))
        return makeError(tr("%1 cannot be read: %2")
                                 .arg(QDir::toNativeSeparators(versionFile.fileName()),
                                      versionFile.errorString()));
    config.version = QString::fromUtf8(versionFile.readLine(256)).trimmed();
    if (config.version.isEmpty())
        return makeError(tr("%1 is empty.").arg(QDir::toNativeSeparators(versionFile.fileName())));
    return config;
}

} // namespace ft::sandbox

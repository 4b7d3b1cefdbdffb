#include "nodesources.h"

#include <QCoreApplication>
#include <QDir>
#include <QRegularExpression>

namespace ft::agent {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::agent::NodeSourcesConfig", text); }

QStringList listValue(QSettings &ini, const QString &key)
{
    // QSettings gives a list for "a,b" and a string for "a".
    const QVariant value = ini.value(key);
    QStringList items = value.typeId() == QMetaType::QStringList ? value.toStringList()
                                                                  : value.toString().split(QLatin1Char(','));
    QStringList cleaned;
    for (const QString &item : items) {
        if (!item.trimmed().isEmpty())
            cleaned.append(item.trimmed());
    }
    return cleaned;
}

} // namespace

QString NodeSourcesConfig::defaultRegistryCommand()
{
#ifdef Q_OS_WIN
    return QStringLiteral("reg.exe");
#else
    return {};
#endif
}

Expected<NodeSourcesConfig> NodeSourcesConfig::load(QSettings &ini, const QString &installDir)
{
    NodeSourcesConfig config;
    const QList<std::pair<QString, QString>> packageKeys = {
        {QStringLiteral("server"), QStringLiteral("agent/package_names")},
        {QStringLiteral("nbi"), QStringLiteral("agent/nbi_package_names")},
        {QStringLiteral("webui"), QStringLiteral("agent/webui_package_names")}};
    for (const auto &[component, key] : packageKeys) {
        const QStringList names = listValue(ini, key);
        static const QRegularExpression plain(QStringLiteral("^[A-Za-z0-9][A-Za-z0-9.+_-]*$"));
        for (const QString &name : names) {
            if (!plain.match(name).hasMatch())
                return makeError(tr("\"%1\" in %2 is not a package name.").arg(name, key.section(QLatin1Char('/'), 1)));
        }
        if (!names.isEmpty())
            config.packageNames.insert(component, names);
    }
    config.packageManager = ini.value(QStringLiteral("agent/package_manager"), config.packageManager).toString();
    if (!QStringList{QStringLiteral("auto"), QStringLiteral("dpkg"), QStringLiteral("rpm"), QStringLiteral("none")}
             .contains(config.packageManager))
        return makeError(tr("package_manager must be auto, dpkg, rpm or none, not \"%1\".").arg(config.packageManager));
    config.dpkgAdmindir = ini.value(QStringLiteral("agent/dpkg_admindir")).toString();
    config.rpmDbpath = ini.value(QStringLiteral("agent/rpm_dbpath")).toString();
    config.versionCommand = ini.value(QStringLiteral("agent/version_command")).toString();
    config.registryDisplayName = ini.value(QStringLiteral("agent/registry_display_name"),
                                           config.registryDisplayName).toString();
    config.registryCommand = ini.value(QStringLiteral("agent/registry_command"), config.registryCommand).toString();
    for (const QString &port : listValue(ini, QStringLiteral("agent/flow_ports"))) {
        bool ok = false;
        const uint value = port.toUInt(&ok);
        if (!ok || value == 0 || value > 65535)
            return makeError(tr("\"%1\" in flow_ports is not a UDP port (1 to 65535).").arg(port));
        if (!config.flowPorts.contains(quint16(value)))
            config.flowPorts.append(quint16(value));
    }
    config.webuiDir = ini.value(QStringLiteral("agent/webui_dir"),
                                QDir(installDir).filePath(QStringLiteral("webui"))).toString();
    return config;
}

} // namespace ft::agent

#include "registrystandin.h"

#include "sandboxfiles.h"

#include <QCoreApplication>
#include <QDate>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>

namespace ft::sandbox::registry {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ftsandbox", text); }

const QString kMachine = QStringLiteral("HKEY_LOCAL_MACHINE");
const QString kUninstall = QStringLiteral("HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall");
const QString kUninstall32 =
    QStringLiteral("HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall");
const QString kUpgradeCodes = QStringLiteral("HKEY_LOCAL_MACHINE\\SOFTWARE\\Classes\\Installer\\UpgradeCodes");

QJsonObject readHive(const QString &hive)
{
    QFile file(hive);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(file.readAll()).object();
}

// "HKLM\x" and "HKEY_LOCAL_MACHINE\x" name the same key; trailing separators do not count.
QString fullKey(QString key)
{
    while (key.endsWith(QLatin1Char('\\')))
        key.chop(1);
    if (key.compare(QLatin1String("HKLM"), Qt::CaseInsensitive) == 0
        || key.startsWith(QLatin1String("HKLM\\"), Qt::CaseInsensitive))
        key = kMachine + key.mid(4);
    return key;
}

bool isUnder(const QString &key, const QString &parent)
{
    return key.compare(parent, Qt::CaseInsensitive) == 0
           || key.startsWith(parent + QLatin1Char('\\'), Qt::CaseInsensitive);
}

} // namespace

QString hiveOf(const QString &installDir)
{
    return QDir(installDir).filePath(QStringLiteral("registry/HKLM.json"));
}

Result registerProduct(const QString &hive, const Product &product)
{
    QJsonObject keys = readHive(hive);
    // A major upgrade: the product registered under the same UpgradeCode goes.
    const QString link = kUpgradeCodes + QLatin1Char('\\') + product.upgradeCode;
    const QString previous = keys.value(link).toObject().value(QStringLiteral("ProductCode")).toString();
    if (!previous.isEmpty()) {
        keys.remove(kUninstall32 + QLatin1Char('\\') + previous);
        keys.remove(kUninstall + QLatin1Char('\\') + previous);
    }
    keys.insert(link, QJsonObject{{QStringLiteral("ProductCode"), product.productCode}});
    keys.insert((product.wow64 ? kUninstall32 : kUninstall) + QLatin1Char('\\') + product.productCode,
                QJsonObject{{QStringLiteral("DisplayName"), product.name},
                            {QStringLiteral("DisplayVersion"), product.version},
                            {QStringLiteral("Publisher"), product.manufacturer},
                            {QStringLiteral("InstallLocation"), QDir::toNativeSeparators(product.installLocation)},
                            {QStringLiteral("InstallDate"), QDate::currentDate().toString(QStringLiteral("yyyyMMdd"))},
                            {QStringLiteral("UninstallString"), product.uninstallString.isEmpty()
                                                                    ? QStringLiteral("MsiExec.exe /X%1").arg(product.productCode)
                                                                    : product.uninstallString}});
    if (!QDir().mkpath(QFileInfo(hive).absolutePath()))
        return makeError(tr("Could not create the folder of %1.").arg(hive));
    return writeFileAtomically(hive, QJsonDocument(keys).toJson(QJsonDocument::Indented));
}

int runReg(const QStringList &arguments, QString *out, QString *err)
{
    QString hive;
    QStringList rest = arguments;
    if (rest.size() >= 2 && rest.first() == QLatin1String("--hive")) {
        hive = rest.at(1);
        rest = rest.mid(2);
    }
    bool recursive = false;
    QString key;
    if (rest.value(0).compare(QLatin1String("query"), Qt::CaseInsensitive) != 0 || rest.size() < 2 || hive.isEmpty()) {
        *err = QStringLiteral("ERROR: Invalid syntax.\r\nThe stand-in answers: reg --hive FILE query KEY [/s]\r\n");
        return 1;
    }
    key = fullKey(rest.at(1));
    for (const QString &option : rest.mid(2)) {
        if (option.compare(QLatin1String("/s"), Qt::CaseInsensitive) == 0) {
            recursive = true;
        } else {
            *err = QStringLiteral("ERROR: Invalid syntax.\r\nThe stand-in knows /s only, not \"%1\".\r\n").arg(option);
            return 1;
        }
    }
    const QJsonObject keys = readHive(hive);
    // Windows always has both Uninstall keys, even with nothing installed.
    bool exists = isUnder(kUninstall, key) || isUnder(kUninstall32, key);
    QStringList below;
    for (auto it = keys.constBegin(); it != keys.constEnd(); ++it) {
        if (isUnder(it.key(), key)) {
            exists = true;
            // Without /s: the key's own values and its direct subkeys' names only.
            if (recursive || it.key().compare(key, Qt::CaseInsensitive) == 0)
                below.append(it.key());
        } else if (isUnder(key, it.key())) {
            exists = true;
        }
    }
    if (!exists) {
        *err = QStringLiteral("ERROR: The system was unable to find the specified registry key or value.\r\n");
        return 1;
    }
    below.sort(Qt::CaseInsensitive);
    QString text = QStringLiteral("\r\n") + key + QStringLiteral("\r\n");
    for (const QString &name : std::as_const(below)) {
        const QJsonObject values = keys.value(name).toObject();
        if (name.compare(key, Qt::CaseInsensitive) != 0)
            text += QStringLiteral("\r\n") + name + QStringLiteral("\r\n");
        for (auto value = values.constBegin(); value != values.constEnd(); ++value)
            text += QStringLiteral("    %1    REG_SZ    %2\r\n").arg(value.key(), value.value().toString());
    }
    *out = text;
    return 0;
}

} // namespace ft::sandbox::registry

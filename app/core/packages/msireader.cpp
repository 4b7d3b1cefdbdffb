#include "packages/vendorpackage.h"

// The MSI's Property table through libmsi (MsiReader in vendorpackage.h).

#include <QCoreApplication>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QRegularExpression>

#include <libmsi.h>

#include <memory>

namespace ft {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::VendorPackage", text); }

QString fileLabel(const QString &path) { return QFileInfo(path).fileName(); }

} // namespace

// ---------------------------------------------------------------- MSI

namespace {

struct GObjectUnref
{
    void operator()(gpointer object) const
    {
        if (object)
            g_object_unref(object);
    }
};
template<typename T>
using GPtr = std::unique_ptr<T, GObjectUnref>;

QString takeGError(GError *&error)
{
    const QString text = error && error->message ? QString::fromUtf8(error->message) : tr("unknown error");
    g_clear_error(&error);
    return text;
}

// One value of the Property table, or an empty string when it is not set.
Expected<QString> msiProperty(LibmsiDatabase *database, const char *name)
{
    GError *error = nullptr;
    const QByteArray sql = QByteArrayLiteral("SELECT `Value` FROM `Property` WHERE `Property` = '") + name
                           + QByteArrayLiteral("'");
    GPtr<LibmsiQuery> query(libmsi_query_new(database, sql.constData(), &error));
    if (!query)
        return makeError(takeGError(error));
    if (!libmsi_query_execute(query.get(), nullptr, &error))
        return makeError(takeGError(error));
    GPtr<LibmsiRecord> record(libmsi_query_fetch(query.get(), &error));
    g_clear_error(&error); // no row: the property is not set
    QString value;
    if (record) {
        gchar *text = libmsi_record_get_string(record.get(), 1);
        value = QString::fromUtf8(text);
        g_free(text);
    }
    libmsi_query_close(query.get(), nullptr);
    return value;
}

} // namespace

Expected<QHash<QString, QString>> MsiReader::properties(const QString &path, const QStringList &names)
{
    GError *error = nullptr;
    GPtr<LibmsiDatabase> database(
        libmsi_database_new(QFile::encodeName(path).constData(), LIBMSI_DB_FLAGS_READONLY, nullptr, &error));
    if (!database) {
        return makeError(tr("%1 is not a readable Windows Installer package: %2.")
                             .arg(fileLabel(path), takeGError(error)));
    }
    QHash<QString, QString> values;
    static const QRegularExpression identifier(QStringLiteral("^[A-Za-z_][A-Za-z0-9_.]{0,71}$"));
    for (const QString &name : names) {
        if (!identifier.match(name).hasMatch())
            return makeError(tr("\"%1\" is not an MSI property name.").arg(name.left(80)));
        const Expected<QString> value = msiProperty(database.get(), name.toLatin1().constData());
        if (!value)
            return makeError(tr("The Property table of %1 cannot be read: %2.").arg(fileLabel(path), value.error()));
        values.insert(name, *value);
    }
    return values;
}

Expected<VendorMetadata> MsiReader::read(const QString &path)
{
    if (!QFileInfo(path).isFile())
        return makeError(tr("%1 does not exist.").arg(path));
    GError *error = nullptr;
    GPtr<LibmsiDatabase> database(
        libmsi_database_new(QFile::encodeName(path).constData(), LIBMSI_DB_FLAGS_READONLY, nullptr, &error));
    if (!database) {
        return makeError(tr("%1 is not a readable Windows Installer package: %2.")
                             .arg(fileLabel(path), takeGError(error)));
    }
    VendorMetadata metadata;
    metadata.source = tr("from the MSI");
    const std::pair<const char *, QString *> wanted[] = {{"ProductName", &metadata.productName},
                                                         {"ProductVersion", &metadata.version},
                                                         {"Manufacturer", &metadata.manufacturer}};
    for (const auto &[name, target] : wanted) {
        const Expected<QString> value = msiProperty(database.get(), name);
        if (!value) {
            return makeError(tr("The Property table of %1 cannot be read: %2.").arg(fileLabel(path), value.error()));
        }
        *target = *value;
    }
    return metadata;
}

} // namespace ft

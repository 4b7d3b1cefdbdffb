#include "packages/vendorpackage.h"

// The MSI's Property table through libmsi (MsiReader in vendorpackage.h).

#include <QCoreApplication>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QRegularExpression>

#include <libmsi.h>

#include <memory>
#include <optional>

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

// A package's database, opened read-only; the error names the file.
Expected<GPtr<LibmsiDatabase>> openDatabase(const QString &path)
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
    return database;
}

// Every row of a query, each as its columns' strings.
Expected<QList<QStringList>> msiRows(LibmsiDatabase *database, const QByteArray &sql, int columns)
{
    GError *error = nullptr;
    GPtr<LibmsiQuery> query(libmsi_query_new(database, sql.constData(), &error));
    if (!query)
        return makeError(takeGError(error));
    if (!libmsi_query_execute(query.get(), nullptr, &error))
        return makeError(takeGError(error));
    QList<QStringList> rows;
    for (;;) {
        GPtr<LibmsiRecord> record(libmsi_query_fetch(query.get(), &error));
        if (!record)
            break; // no more rows (the GError says so)
        QStringList row;
        for (int column = 1; column <= columns; ++column) {
            gchar *text = libmsi_record_get_string(record.get(), guint(column));
            row.append(QString::fromUtf8(text));
            g_free(text);
        }
        rows.append(row);
    }
    g_clear_error(&error);
    libmsi_query_close(query.get(), nullptr);
    return rows;
}

// One value of the Property table, or an empty string when it is not set (no row).
Expected<QString> msiProperty(LibmsiDatabase *database, const QString &name)
{
    const QByteArray sql = QByteArrayLiteral("SELECT `Value` FROM `Property` WHERE `Property` = '") + name.toLatin1()
                           + QByteArrayLiteral("'");
    const Expected<QList<QStringList>> rows = msiRows(database, sql, 1);
    if (!rows)
        return makeError(rows.error());
    return rows->isEmpty() ? QString() : rows->first().first();
}

// "SHORT~1|Long Name" → "Long Name"; a DefaultDir "target:source" → its target part.
QString longName(QString name)
{
    name = name.section(QLatin1Char(':'), 0, 0);
    return name.contains(QLatin1Char('|')) ? name.section(QLatin1Char('|'), 1) : name;
}

// The folders Windows Installer fills in itself, named as msiextract names them;
// nothing for any other folder.
std::optional<QString> standardFolder(const QString &id)
{
    if (id == QLatin1String("ProgramFilesFolder") || id == QLatin1String("ProgramFiles64Folder"))
        return QStringLiteral("Program Files");
    if (id == QLatin1String("CommonFilesFolder") || id == QLatin1String("CommonFiles64Folder"))
        return QStringLiteral("Program Files/Common Files");
    if (id == QLatin1String("SystemFolder") || id == QLatin1String("System64Folder"))
        return QStringLiteral("Windows/System32");
    if (id == QLatin1String("WindowsFolder"))
        return QStringLiteral("Windows");
    return std::nullopt;
}

} // namespace

Expected<QStringList> MsiReader::files(const QString &path)
{
    const Expected<GPtr<LibmsiDatabase>> database = openDatabase(path);
    if (!database)
        return makeError(database.error());
    const auto directories = msiRows(database->get(), "SELECT `Directory`, `Directory_Parent`, `DefaultDir` FROM `Directory`", 3);
    const auto components = msiRows(database->get(), "SELECT `Component`, `Directory_` FROM `Component`", 2);
    const auto fileRows = msiRows(database->get(), "SELECT `Component_`, `FileName` FROM `File`", 2);
    for (const auto *rows : {&directories, &components, &fileRows}) {
        if (!*rows)
            return makeError(tr("The file tables of %1 cannot be read: %2.").arg(fileLabel(path), rows->error()));
    }
    QHash<QString, std::pair<QString, QString>> directory; // id → parent, name
    for (const QStringList &row : *directories)
        directory.insert(row.at(0), {row.at(1), longName(row.at(2))});
    QHash<QString, QString> componentDirectory;
    for (const QStringList &row : *components)
        componentDirectory.insert(row.at(0), row.at(1));
    // A folder's path from the root; "." names add nothing; a loop in the table ends.
    auto folderPath = [&](QString id) {
        QStringList parts;
        for (int depth = 0; !id.isEmpty() && depth < 64; ++depth) {
            if (const auto standard = standardFolder(id)) {
                parts.prepend(*standard);
                break;
            }
            const auto it = directory.constFind(id);
            if (it == directory.constEnd() || it->first.isEmpty() || it->first == id)
                break; // the root (TARGETDIR, "SourceDir")
            if (it->second != QLatin1String(".") && !it->second.isEmpty())
                parts.prepend(it->second);
            id = it->first;
        }
        return parts.join(QLatin1Char('/'));
    };
    QStringList files;
    for (const QStringList &row : *fileRows) {
        const QString folder = folderPath(componentDirectory.value(row.at(0)));
        files.append(folder.isEmpty() ? longName(row.at(1)) : folder + QLatin1Char('/') + longName(row.at(1)));
    }
    files.sort();
    return files;
}

Expected<QHash<QString, QString>> MsiReader::properties(const QString &path, const QStringList &names)
{
    static const QRegularExpression identifier(QStringLiteral("^[A-Za-z_][A-Za-z0-9_.]{0,71}$"));
    for (const QString &name : names) {
        if (!identifier.match(name).hasMatch())
            return makeError(tr("\"%1\" is not an MSI property name.").arg(name.left(80)));
    }
    const Expected<GPtr<LibmsiDatabase>> database = openDatabase(path);
    if (!database)
        return makeError(database.error());
    QHash<QString, QString> values;
    for (const QString &name : names) {
        const Expected<QString> value = msiProperty(database->get(), name);
        if (!value)
            return makeError(tr("The Property table of %1 cannot be read: %2.").arg(fileLabel(path), value.error()));
        values.insert(name, *value);
    }
    return values;
}

Expected<VendorMetadata> MsiReader::read(const QString &path)
{
    const QString product = QStringLiteral("ProductName");
    const QString version = QStringLiteral("ProductVersion");
    const QString manufacturer = QStringLiteral("Manufacturer");
    const Expected<QHash<QString, QString>> values = properties(path, {product, version, manufacturer});
    if (!values)
        return makeError(values.error());
    VendorMetadata metadata;
    metadata.source = tr("from the MSI");
    metadata.productName = values->value(product);
    metadata.version = values->value(version);
    metadata.manufacturer = values->value(manufacturer);
    return metadata;
}

} // namespace ft

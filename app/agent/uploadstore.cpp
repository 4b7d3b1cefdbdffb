#include "uploadstore.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QSaveFile>

namespace ft::agent {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::agent::UploadStore", text); }

} // namespace

// A running hash and how many bytes it has seen.
struct RunningHash
{
    Sha256 hash;
    qint64 length = 0;
};

QJsonObject Upload::toJson() const
{
    return {{QStringLiteral("id"), id},
            {QStringLiteral("name"), name},
            {QStringLiteral("size"), size},
            {QStringLiteral("sha256"), QString::fromLatin1(sha256)},
            {QStringLiteral("offset"), offset},
            {QStringLiteral("complete"), complete},
            {QStringLiteral("created"), created.toString(Qt::ISODate)}};
}

UploadStore::UploadStore(const QString &directory)
    : m_directory(directory)
{}

UploadStore::~UploadStore() = default;

bool UploadStore::isValidId(const QString &id)
{
    static const QRegularExpression pattern(QStringLiteral("^u[0-9a-f]{24}$"));
    return pattern.match(id).hasMatch();
}

QString UploadStore::recordPath(const QString &id) const { return QDir(m_directory).filePath(id + QStringLiteral(".json")); }
QString UploadStore::partPath(const QString &id) const { return QDir(m_directory).filePath(id + QStringLiteral(".part")); }

QString UploadStore::dataPath(const Upload &upload) const
{
    return QDir(m_directory).filePath(upload.id + QStringLiteral(".data"));
}

Result UploadStore::writeRecord(const Upload &upload) const
{
    QJsonObject json = upload.toJson();
    json.remove(QStringLiteral("offset")); // the file's size says that
    QSaveFile file(recordPath(upload.id));
    if (!file.open(QIODevice::WriteOnly) || file.write(QJsonDocument(json).toJson()) < 0 || !file.commit())
        return makeError(tr("Cannot record the upload in %1: %2").arg(QDir::toNativeSeparators(m_directory),
                                                                     file.errorString()));
    return {};
}

std::optional<Upload> UploadStore::readRecord(const QString &id) const
{
    if (!isValidId(id))
        return std::nullopt;
    QFile file(recordPath(id));
    if (!file.open(QIODevice::ReadOnly))
        return std::nullopt;
    const QJsonObject json = QJsonDocument::fromJson(file.readAll()).object();
    Upload upload;
    upload.id = id;
    upload.name = json.value(QStringLiteral("name")).toString();
    upload.size = json.value(QStringLiteral("size")).toInteger();
    upload.sha256 = json.value(QStringLiteral("sha256")).toString().toLatin1();
    upload.complete = json.value(QStringLiteral("complete")).toBool();
    upload.created = QDateTime::fromString(json.value(QStringLiteral("created")).toString(), Qt::ISODate);
    if (upload.name.isEmpty() || upload.size <= 0 || upload.sha256.size() != 64)
        return std::nullopt;
    const QFileInfo data(upload.complete ? dataPath(upload) : partPath(id));
    if (upload.complete && (!data.isFile() || data.size() != upload.size))
        return std::nullopt; // the finished file was removed or changed: not servable
    upload.offset = data.isFile() ? data.size() : 0;
    return upload;
}

Expected<Upload> UploadStore::create(const QString &name, qint64 size, const QByteArray &sha256)
{
    if (!QDir().mkpath(m_directory))
        return makeError(tr("Cannot create the uploads folder %1.").arg(QDir::toNativeSeparators(m_directory)));
    const QStringList records = QDir(m_directory).entryList({QStringLiteral("u*.json")}, QDir::Files, QDir::Name);
    for (const QString &record : records) {
        auto existing = readRecord(record.chopped(5));
        if (existing && existing->name == name && existing->size == size && existing->sha256 == sha256)
            return *existing;
    }
    Upload upload;
    do {
        QByteArray random(12, Qt::Uninitialized);
        QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(random.data()), 3);
        upload.id = QStringLiteral("u") + QString::fromLatin1(random.toHex());
    } while (QFile::exists(recordPath(upload.id)));
    upload.name = name;
    upload.size = size;
    upload.sha256 = sha256;
    upload.created = QDateTime::currentDateTimeUtc();
    QFile part(partPath(upload.id));
    if (!part.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return makeError(tr("Cannot write to the uploads folder: %1").arg(part.errorString()));
    part.close();
    if (auto written = writeRecord(upload); !written) {
        part.remove();
        return makeError(written.error());
    }
    return upload;
}

std::optional<Upload> UploadStore::find(const QString &id) const
{
    return readRecord(id);
}

Result UploadStore::remove(const QString &id)
{
    auto upload = readRecord(id);
    if (!upload)
        return makeError(tr("There is no upload %1.").arg(id));
    m_hashes.remove(id);
    QFile::remove(partPath(id));
    QFile::remove(dataPath(*upload));
    if (!QFile::remove(recordPath(id)))
        return makeError(tr("Cannot remove the upload %1.").arg(id));
    return {};
}

std::variant<UploadStore::Appended, HttpError> UploadStore::append(const QString &id, qint64 offset,
                                                                   QByteArrayView data)
{
    auto found = readRecord(id);
    if (!found)
        return HttpError{404, tr("There is no upload %1.").arg(id)};
    Upload upload = *found;
    if (upload.complete)
        return HttpError{409, tr("The upload %1 is already complete.").arg(id)};
    if (offset != upload.offset)
        return HttpError{409, tr("The upload %1 is at byte %2, not at byte %3; continue from %2.")
                                  .arg(id).arg(upload.offset).arg(offset)};
    if (data.isEmpty())
        return HttpError{400, tr("The chunk is empty.")};
    if (offset + data.size() > upload.size)
        return HttpError{400, tr("The chunk of %1 bytes at byte %2 goes past the upload's size of %3 bytes.")
                                  .arg(data.size()).arg(offset).arg(upload.size)};

    QFile part(partPath(id));
    if (!part.open(QIODevice::WriteOnly | QIODevice::Append))
        return HttpError{500, tr("Cannot write to the uploads folder: %1").arg(part.errorString())};
    if (part.write(data.data(), data.size()) != data.size() || !part.flush()) {
        const QString why = part.errorString();
        part.resize(offset); // nothing of a failed chunk stays
        m_hashes.remove(id);
        return HttpError{500, tr("Cannot write to the uploads folder: %1").arg(why)};
    }
    part.close();

    // Hash as the bytes arrive when this object saw all of them; otherwise later.
    std::shared_ptr<RunningHash> hash = offset == 0 ? std::make_shared<RunningHash>() : m_hashes.value(id);
    upload.offset = offset + data.size();
    if (hash && hash->length == offset) {
        hash->hash.addData(data);
        hash->length = upload.offset;
        m_hashes.insert(id, hash);
    } else {
        m_hashes.remove(id);
        hash.reset();
    }
    Appended result;
    result.upload = upload;
    if (upload.offset < upload.size)
        return result;
    if (!hash) {
        result.needsFileHash = true;
        return result;
    }
    const QByteArray actual = hash->hash.hexResult();
    m_hashes.remove(id);
    auto completed = complete(upload, actual);
    if (auto *error = std::get_if<HttpError>(&completed))
        return *error;
    result.upload = std::get<Upload>(completed);
    return result;
}

std::variant<Upload, HttpError> UploadStore::finishWithHash(const QString &id, const QByteArray &sha256)
{
    auto found = readRecord(id);
    if (!found)
        return HttpError{404, tr("There is no upload %1.").arg(id)};
    if (found->complete)
        return *found;
    if (found->offset != found->size)
        return HttpError{409, tr("The upload %1 is at byte %2 of %3.").arg(id).arg(found->offset).arg(found->size)};
    return complete(*found, sha256);
}

std::variant<Upload, HttpError> UploadStore::complete(Upload upload, const QByteArray &actual)
{
    if (actual != upload.sha256) {
        // A corrupt copy must never be served: start over.
        QFile part(partPath(upload.id));
        part.resize(0);
        return HttpError{400, tr("The uploaded file's SHA-256 is %1, not the declared %2; its bytes were discarded, "
                                 "upload it again from byte 0.")
                                  .arg(QString::fromLatin1(actual), QString::fromLatin1(upload.sha256))};
    }
    QFile::remove(dataPath(upload));
    if (!QFile::rename(partPath(upload.id), dataPath(upload)))
        return HttpError{500, tr("Cannot move the finished upload into place.")};
    upload.complete = true;
    if (auto written = writeRecord(upload); !written)
        return HttpError{500, written.error()};
    return upload;
}

} // namespace ft::agent

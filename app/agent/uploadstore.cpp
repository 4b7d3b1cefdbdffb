#include "uploadstore.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QSaveFile>

#include <algorithm>
#include <optional>
#include <tuple>

namespace ft::agent {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::agent::UploadStore", text); }

using Ranges = QList<QPair<qint64, qint64>>;

// [first, end) added to sorted, merged ranges; touching ranges merge.
Ranges merged(Ranges ranges, qint64 first, qint64 end)
{
    Ranges result;
    result.reserve(ranges.size() + 1);
    bool placed = false;
    for (const auto &range : std::as_const(ranges)) {
        if (range.second < first) {
            result.append(range);
        } else if (end < range.first) {
            if (!placed) {
                result.append({first, end});
                placed = true;
            }
            result.append(range);
        } else {
            first = std::min(first, range.first);
            end = std::max(end, range.second);
        }
    }
    if (!placed)
        result.append({first, end});
    return result;
}

// The parts of [first, end) not in ranges.
Ranges missing(const Ranges &ranges, qint64 first, qint64 end)
{
    Ranges gaps;
    qint64 at = first;
    for (const auto &range : ranges) {
        if (range.second <= at)
            continue;
        if (range.first >= end)
            break;
        if (range.first > at)
            gaps.append({at, range.first});
        at = std::max(at, range.second);
        if (at >= end)
            break;
    }
    if (at < end)
        gaps.append({at, end});
    return gaps;
}

qint64 prefixOf(const Ranges &ranges)
{
    return !ranges.isEmpty() && ranges.first().first == 0 ? ranges.first().second : 0;
}

} // namespace

// A running hash and how many bytes of the prefix it has seen.
struct RunningHash
{
    Sha256 hash;
    qint64 length = 0;
};

qint64 Upload::receivedBytes() const
{
    qint64 bytes = 0;
    for (const auto &range : received)
        bytes += range.second - range.first;
    return bytes;
}

QJsonObject Upload::toJson() const
{
    return {{QStringLiteral("id"), id},
            {QStringLiteral("name"), name},
            {QStringLiteral("size"), size},
            {QStringLiteral("sha256"), QString::fromLatin1(sha256)},
            {QStringLiteral("offset"), offset},
            {QStringLiteral("received"), [this] {
                 QJsonArray ranges;
                 for (const auto &range : received)
                     ranges.append(QJsonArray{range.first, range.second});
                 return ranges;
             }()},
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
QString UploadStore::rangesPath(const QString &id) const { return QDir(m_directory).filePath(id + QStringLiteral(".ranges")); }

Result UploadStore::writeRanges(const QString &id, const QList<QPair<qint64, qint64>> &ranges) const
{
    // Rewritten after every chunk, so no QSaveFile: its fsync per chunk would stall the
    // event loop behind the disk while gigabytes are written. Written after the chunk's
    // bytes, it never claims bytes that are not in the file (short of a power cut, which
    // the SHA-256 at the end catches); a torn file lacks the closing "end" line and is
    // read as nothing received.
    QByteArray text;
    for (const auto &range : ranges)
        text += QByteArray::number(range.first) + ' ' + QByteArray::number(range.second) + '\n';
    text += "end\n";
    QFile file(rangesPath(id));
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) || file.write(text) != text.size())
        return makeError(tr("Cannot record the upload in %1: %2").arg(QDir::toNativeSeparators(m_directory),
                                                                     file.errorString()));
    return {};
}

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
    if (upload.complete) {
        if (!data.isFile() || data.size() != upload.size)
            return std::nullopt; // the finished file was removed or changed: not servable
        upload.offset = upload.size;
        upload.received = {{0, upload.size}};
        return upload;
    }
    const qint64 onDisk = data.isFile() ? data.size() : 0;
    QFile rangesFile(rangesPath(id));
    if (!rangesFile.open(QIODevice::ReadOnly)) {
        // Written by an agent that only took chunks in order: the file's size is the prefix.
        if (onDisk > 0)
            upload.received = {{0, std::min(onDisk, upload.size)}};
    } else {
        const QList<QByteArray> lines = rangesFile.readAll().split('\n');
        Ranges ranges;
        bool ended = false;
        for (const QByteArray &line : lines) {
            if (line == "end") {
                ended = true;
                break;
            }
            const QList<QByteArray> numbers = line.split(' ');
            bool firstOk = false;
            bool endOk = false;
            const qint64 first = numbers.value(0).toLongLong(&firstOk);
            const qint64 end = numbers.value(1).toLongLong(&endOk);
            if (numbers.size() != 2 || !firstOk || !endOk || first < 0 || end <= first)
                break;
            // Never more than the file holds (it may have been cut short by hand).
            if (first < std::min(end, std::min(onDisk, upload.size)))
                ranges = merged(ranges, first, std::min(end, std::min(onDisk, upload.size)));
        }
        if (ended)
            upload.received = ranges; // a torn record: nothing is trusted, the upload starts over
    }
    upload.offset = prefixOf(upload.received);
    return upload;
}

Expected<Upload> UploadStore::create(const QString &name, qint64 size, const QByteArray &sha256)
{
    if (!QDir().mkpath(m_directory))
        return makeError(tr("Cannot create the uploads folder %1.").arg(QDir::toNativeSeparators(m_directory)));
    // The same bytes are the same upload, whoever left them and under whatever name:
    // a new run resumes a halted run's upload instead of sending another copy. The
    // choice does not depend on the order of the folder's entries.
    const QStringList records = QDir(m_directory).entryList({QStringLiteral("u*.json")}, QDir::Files, QDir::Name);
    std::optional<Upload> best;
    for (const QString &record : records) {
        auto existing = readRecord(record.chopped(5));
        if (!existing || existing->size != size || existing->sha256 != sha256)
            continue;
        const auto rank = [](const Upload &u) { return std::make_tuple(u.complete, u.receivedBytes()); };
        if (!best || rank(*existing) > rank(*best)
            || (rank(*existing) == rank(*best)
                && std::make_tuple(existing->created, existing->id) < std::make_tuple(best->created, best->id)))
            best = existing;
    }
    if (best)
        return *best;
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
    if (auto written = writeRanges(upload.id, {}); !written) {
        part.remove();
        return makeError(written.error());
    }
    if (auto written = writeRecord(upload); !written) {
        part.remove();
        QFile::remove(rangesPath(upload.id));
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
    QFile::remove(rangesPath(id));
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
    if (data.isEmpty())
        return HttpError{400, tr("The chunk is empty.")};
    if (offset >= upload.size || data.size() > upload.size - offset)
        return HttpError{400, tr("The chunk of %1 bytes at byte %2 goes past the upload's size of %3 bytes.")
                                  .arg(data.size()).arg(offset).arg(upload.size)};

    const qint64 end = offset + data.size();
    const Ranges gaps = missing(upload.received, offset, end);
    const qint64 before = upload.offset;
    if (!gaps.isEmpty()) {
        // Only bytes not received yet: what was hashed and streamed stays as it was.
        QFile part(partPath(id));
        if (!part.open(QIODevice::ReadWrite))
            return HttpError{500, tr("Cannot write to the uploads folder: %1").arg(part.errorString())};
        for (const auto &gap : gaps) {
            const qint64 length = gap.second - gap.first;
            if (!part.seek(gap.first) || part.write(data.data() + (gap.first - offset), length) != length) {
                // The ranges are not updated: the bytes of a failed chunk count for nothing.
                return HttpError{500, tr("Cannot write to the uploads folder: %1").arg(part.errorString())};
            }
        }
        if (!part.flush())
            return HttpError{500, tr("Cannot write to the uploads folder: %1").arg(part.errorString())};
        part.close();
        Ranges received = upload.received;
        for (const auto &gap : gaps)
            received = merged(received, gap.first, gap.second);
        if (auto recorded = writeRanges(id, received); !recorded)
            return HttpError{500, recorded.error()};
        upload.received = received;
        upload.offset = prefixOf(received);
    }

    // Hash the prefix as it grows, while this object saw it grow from byte 0.
    std::shared_ptr<RunningHash> hash = m_hashes.value(id);
    if (!hash && before == 0)
        hash = std::make_shared<RunningHash>();
    if (hash && hash->length != before)
        hash.reset(); // bytes went by elsewhere: the file decides at the end
    if (hash && upload.offset > before) {
        // The new prefix: this chunk's bytes from memory, bytes that came early from the file.
        qint64 at = before;
        QFile part;
        QByteArray block;
        while (hash && at < upload.offset) {
            if (at >= offset && at < end) {
                const qint64 until = std::min(end, upload.offset);
                hash->hash.addData(data.sliced(at - offset, until - at));
                at = until;
                continue;
            }
            if (!part.isOpen()) {
                part.setFileName(partPath(id));
                if (!part.open(QIODevice::ReadOnly) || !part.seek(at)) {
                    hash.reset();
                    break;
                }
                block.resize(1024 * 1024);
            }
            if (part.pos() != at && !part.seek(at)) {
                hash.reset();
                break;
            }
            const qint64 until = at < offset ? std::min(offset, upload.offset) : upload.offset;
            const qint64 n = part.read(block.data(), std::min<qint64>(block.size(), until - at));
            if (n <= 0) {
                hash.reset();
                break;
            }
            hash->hash.addData(QByteArrayView(block.constData(), n));
            at += n;
        }
        if (hash)
            hash->length = upload.offset;
    }
    if (hash)
        m_hashes.insert(id, hash);
    else
        m_hashes.remove(id);

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
        (void)writeRanges(upload.id, {});
        m_hashes.remove(upload.id);
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
    QFile::remove(rangesPath(upload.id));
    return upload;
}

} // namespace ft::agent

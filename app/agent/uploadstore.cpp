#include "uploadstore.h"

#include "fasthash.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QSaveFile>
#include <QThreadPool>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <tuple>
#include <utility>

namespace ft::agent {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::agent::UploadStore", text); }

using Ranges = QList<QPair<qint64, qint64>>;

// Bytes per pwrite(). A whole 2 MiB chunk in one write lets the page cache take 2 MiB
// folios, and filling those cost 0.2 to 2.7 s per GiB on ext4 here, against a steady
// 0.2 to 0.3 s in 256 KiB writes.
constexpr qint64 kWriteSliceBytes = 256 * 1024;

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

// Rewritten after every chunk, so no QSaveFile: its fsync per chunk would hold the
// upload up behind the disk while gigabytes are written. Written after the chunk's
// bytes, it never claims bytes that are not in the file (short of a power cut, which
// the SHA-256 at the end catches); a torn file lacks the closing "end" line and is
// read as nothing received.
Result writeRanges(const QString &path, const Ranges &ranges)
{
    QByteArray text;
    for (const auto &range : ranges)
        text += QByteArray::number(range.first) + ' ' + QByteArray::number(range.second) + '\n';
    text += "end\n";
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) || file.write(text) != text.size())
        return makeError(tr("Cannot record the upload in %1: %2")
                             .arg(QDir::toNativeSeparators(QFileInfo(path).path()), file.errorString()));
    return {};
}

} // namespace

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

// One upload's writer. Its tasks run one at a time, in the order they were queued, on
// a thread of its own; the fields below `removed` are theirs alone.
struct UploadStore::Writer
{
    Writer(const Upload &upload, const QString &part, const QString &ranges)
        : partPath(part), rangesPath(ranges), size(upload.size), sha256(upload.sha256), onDisk(upload.received)
    {
        if (prefixOf(onDisk) == 0) // it sees the prefix grow from byte 0
            hash = std::make_unique<Sha256>();
        pool.setMaxThreadCount(1);
        pool.setExpiryTimeout(10000);
    }
    ~Writer()
    {
        pool.waitForDone();
        if (fd >= 0)
            ::close(fd);
    }

    Outcome write(qint64 offset, const QByteArray &data);
    QString writeError() const { return tr("Cannot write to the uploads folder: %1").arg(qt_error_string(errno)); }
    bool extendHash(qint64 before, qint64 after, qint64 offset, const QByteArray &data);

    // Set by the store's thread: the upload was removed, its chunks count for nothing.
    std::atomic<bool> removed{false};

    const QString partPath;
    const QString rangesPath;
    const qint64 size;
    const QByteArray sha256;
    Ranges onDisk;                // what U.ranges says
    std::unique_ptr<Sha256> hash; // of the prefix, while every byte of it went through here
    qint64 hashed = 0;
    bool verified = false;        // the last byte came and the SHA-256 matched
    int fd = -1;
    QThreadPool pool; // last: waited for before the rest goes
};

// What a chunk came to, as the writer reports it to the store's thread.
struct UploadStore::Outcome
{
    Ranges received;
    bool changed = false;  // received is what is on disk now
    bool verified = false; // complete and matching: the store moves the file into place
    std::optional<HttpError> error;
};

bool UploadStore::Writer::extendHash(qint64 before, qint64 after, qint64 offset, const QByteArray &data)
{
    // The new prefix: this chunk's bytes from memory, bytes that came early from the file.
    const qint64 end = offset + data.size();
    qint64 at = before;
    QByteArray block;
    while (at < after) {
        if (at >= offset && at < end) {
            const qint64 until = std::min(end, after);
            hash->addData(QByteArrayView(data).sliced(at - offset, until - at));
            at = until;
            continue;
        }
        if (block.isEmpty())
            block.resize(1024 * 1024);
        const qint64 until = at < offset ? std::min(offset, after) : after;
        const ssize_t n = ::pread(fd, block.data(), std::min<qint64>(block.size(), until - at), at);
        if (n <= 0)
            return false;
        hash->addData(QByteArrayView(block.constData(), n));
        at += n;
    }
    hashed = after;
    return true;
}

UploadStore::Outcome UploadStore::Writer::write(qint64 offset, const QByteArray &data)
{
    Outcome outcome;
    if (removed.load())
        return outcome; // the store answers
    if (verified) {
        outcome.error = HttpError{409, tr("The upload %1 is already complete.").arg(QFileInfo(partPath).baseName())};
        return outcome;
    }
    if (fd < 0) {
        fd = ::open(QFile::encodeName(partPath).constData(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
        if (fd < 0) {
            outcome.error = HttpError{500, writeError()};
            return outcome;
        }
    }
    const qint64 end = offset + data.size();
    const Ranges gaps = missing(onDisk, offset, end);
    const qint64 before = prefixOf(onDisk);
    if (!gaps.isEmpty()) {
        // Only bytes not received yet: what was hashed and streamed stays as it was.
        for (const auto &gap : gaps) {
            qint64 at = gap.first;
            while (at < gap.second) {
                const qint64 slice = std::min<qint64>(gap.second - at, kWriteSliceBytes);
                const ssize_t n = ::pwrite(fd, data.constData() + (at - offset), size_t(slice), at);
                if (n <= 0) {
                    // The ranges are not updated: the bytes of a failed chunk count for nothing.
                    outcome.error = HttpError{500, writeError()};
                    return outcome;
                }
                at += n;
            }
        }
        Ranges received = onDisk;
        for (const auto &gap : gaps)
            received = merged(received, gap.first, gap.second);
        if (auto recorded = writeRanges(rangesPath, received); !recorded) {
            outcome.error = HttpError{500, recorded.error()};
            return outcome;
        }
        onDisk = received;
    }
    outcome.received = onDisk;
    outcome.changed = true;

    const qint64 after = prefixOf(onDisk);
    if (hash && hashed != before)
        hash.reset(); // cannot happen while this writer saw every byte; the file decides then
    if (hash && after > before && !extendHash(before, after, offset, data))
        hash.reset();
    if (after < size)
        return outcome;

    QByteArray actual;
    if (hash) {
        actual = hash->hexResult();
        hash.reset();
    } else {
        // Bytes that went by before this writer (an agent restart): the file decides.
        auto read = sha256OfFileFast(partPath);
        if (!read) {
            outcome.error = HttpError{500, read.error()};
            return outcome;
        }
        actual = *read;
    }
    if (actual != sha256) {
        // A corrupt copy must never be served: start over.
        (void)::ftruncate(fd, 0);
        (void)writeRanges(rangesPath, {});
        onDisk.clear();
        outcome.received.clear(); // still `changed`: the store drops what it held too
        hash = std::make_unique<Sha256>();
        hashed = 0;
        outcome.error = HttpError{400, tr("The uploaded file's SHA-256 is %1, not the declared %2; its bytes were "
                                          "discarded, upload it again from byte 0.")
                                           .arg(QString::fromLatin1(actual), QString::fromLatin1(sha256))};
        return outcome;
    }
    verified = true;
    ::close(fd);
    fd = -1;
    outcome.verified = true;
    return outcome;
}

UploadStore::UploadStore(const QString &directory)
    : m_directory(directory)
    , m_receiver(std::make_unique<QObject>())
{}

UploadStore::~UploadStore()
{
    // Every chunk under way is written before the receiver of its report goes.
    m_writers.clear();
}

bool UploadStore::isValidId(const QString &id)
{
    static const QRegularExpression pattern(QStringLiteral("^u[0-9a-f]{24}$"));
    return pattern.match(id).hasMatch();
}

QString UploadStore::recordPath(const QString &id) const { return QDir(m_directory).filePath(id + QStringLiteral(".json")); }
QString UploadStore::partPath(const QString &id) const { return QDir(m_directory).filePath(id + QStringLiteral(".part")); }
QString UploadStore::rangesPath(const QString &id) const { return QDir(m_directory).filePath(id + QStringLiteral(".ranges")); }

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
        const QString id = record.chopped(5);
        if (m_removing.contains(id))
            continue;
        // Being written: the worker's report, not a file it may be rewriting right now.
        auto existing = m_writing.contains(id) ? std::optional<Upload>(m_writing.value(id)) : readRecord(id);
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
    if (auto written = writeRanges(rangesPath(upload.id), {}); !written) {
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
    if (m_removing.contains(id))
        return std::nullopt;
    if (auto writing = m_writing.constFind(id); writing != m_writing.cend())
        return *writing;
    return readRecord(id);
}

Result UploadStore::removeFiles(const QString &id) const
{
    QFile::remove(partPath(id));
    QFile::remove(rangesPath(id));
    QFile::remove(QDir(m_directory).filePath(id + QStringLiteral(".data")));
    if (!QFile::remove(recordPath(id)))
        return makeError(tr("Cannot remove the upload %1.").arg(id));
    return {};
}

void UploadStore::remove(const QString &id, const Removed &done)
{
    if (!find(id))
        return done(makeError(tr("There is no upload %1.").arg(id)));
    const std::shared_ptr<Writer> writer = m_writers.value(id);
    if (!writer)
        return done(removeFiles(id));
    // Its chunks under way are written first (and answered 404); the files go after them.
    writer->removed = true;
    m_writing.remove(id);
    m_removing.insert(id);
    writer->pool.start([this, raw = writer.get(), id, done = Removed(done)]() mutable {
        if (raw->fd >= 0) {
            ::close(raw->fd);
            raw->fd = -1;
        }
        Result removed = removeFiles(id);
        // `done` goes across whole: what it holds (the request's reply) must end on this
        // object's thread, never in this task.
        QMetaObject::invokeMethod(m_receiver.get(), [this, id, done = std::exchange(done, {}), removed] {
            m_removing.remove(id);
            m_writers.remove(id);
            done(removed);
        }, Qt::QueuedConnection);
    });
}

UploadStore::Writer &UploadStore::writerFor(const Upload &upload)
{
    std::shared_ptr<Writer> &writer = m_writers[upload.id];
    if (!writer) {
        writer = std::make_shared<Writer>(upload, partPath(upload.id), rangesPath(upload.id));
        m_writing.insert(upload.id, upload);
    }
    return *writer;
}

void UploadStore::append(const QString &id, qint64 offset, const QByteArray &data, const Appended &done)
{
    const auto found = find(id);
    if (!found)
        return done(HttpError{404, tr("There is no upload %1.").arg(id)});
    const Upload &upload = *found;
    if (upload.complete)
        return done(HttpError{409, tr("The upload %1 is already complete.").arg(id)});
    if (data.isEmpty())
        return done(HttpError{400, tr("The chunk is empty.")});
    if (offset >= upload.size || data.size() > upload.size - offset)
        return done(HttpError{400, tr("The chunk of %1 bytes at byte %2 goes past the upload's size of %3 bytes.")
                                       .arg(data.size()).arg(offset).arg(upload.size)});
    Writer &writer = writerFor(upload);
    writer.pool.start([this, raw = &writer, id, offset, data, done = Appended(done)]() mutable {
        const Outcome outcome = raw->write(offset, data);
        // `done` goes across whole: what it holds (the request's reply) must end on this
        // object's thread, never in this task.
        QMetaObject::invokeMethod(m_receiver.get(),
                                  [this, id, outcome, done = std::exchange(done, {})] { applyOutcome(id, outcome, done); },
                                  Qt::QueuedConnection);
    });
}

void UploadStore::applyOutcome(const QString &id, const Outcome &outcome, const Appended &done)
{
    auto writing = m_writing.find(id);
    if (writing == m_writing.end()) {
        // Removed meanwhile, or complete (a chunk that was queued behind the last one).
        if (outcome.error)
            return done(*outcome.error);
        return done(HttpError{404, tr("There is no upload %1.").arg(id)});
    }
    Upload &upload = *writing;
    if (outcome.changed) {
        upload.received = outcome.received;
        upload.offset = prefixOf(upload.received);
    }
    if (outcome.error)
        return done(*outcome.error);
    if (!outcome.verified)
        return done(upload);
    // Moved into place here, where find() answers from: a stream or a stage asking
    // between the two never sees a file that is gone.
    Upload finished = upload;
    QFile::remove(dataPath(finished));
    if (!QFile::rename(partPath(id), dataPath(finished)))
        return done(HttpError{500, tr("Cannot move the finished upload into place.")});
    finished.complete = true;
    m_writing.remove(id); // from now on the record on disk says it
    if (auto written = writeRecord(finished); !written)
        return done(HttpError{500, written.error()});
    QFile::remove(rangesPath(id));
    done(finished);
}

} // namespace ft::agent

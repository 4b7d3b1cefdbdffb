#pragma once

#include "apirequest.h"
#include "fasthash.h"
#include "model/expected.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QDateTime>
#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QPair>
#include <QString>

#include <memory>
#include <optional>
#include <variant>

namespace ft::agent {

struct RunningHash;

// One file a caller uploads to this agent in chunks, to be fetched by other agents.
struct Upload
{
    QString id;
    QString name;       // plain file name
    qint64 size = 0;
    QByteArray sha256;  // lower-case hex, what the file must hash to
    qint64 offset = 0;  // the contiguous prefix received: where a resume goes on, what is served
    // Byte ranges received, [first, end), sorted and merged; chunks may come out of order.
    QList<QPair<qint64, qint64>> received;
    bool complete = false; // all bytes received and the SHA-256 matched
    QDateTime created;

    qint64 receivedBytes() const;

    QJsonObject toJson() const;
};

// The uploads folder (STAGING/.uploads): for each upload U a record U.json, its bytes
// in U.part (written at each chunk's offset, so several chunks may be under way at
// once) and the byte ranges received in U.ranges, rewritten after each chunk's bytes
// are written; U.part is renamed to U.data once complete and verified. An upload
// survives an agent restart and resumes from its contiguous prefix. While this object
// saw the prefix grow from byte 0, the SHA-256 is computed as the prefix grows (bytes
// that came early are read back from the file when the gap before them closes);
// after a restart it is computed from the file when the last byte arrives (finishHash).
class UploadStore
{
public:
    explicit UploadStore(const QString &directory);
    ~UploadStore();

    QString directory() const { return m_directory; }
    QString dataPath(const Upload &upload) const;
    QString partPath(const QString &id) const;

    // An upload of this size and SHA-256 that already exists, whatever its name and
    // whichever run left it (so any later attempt resumes it), or a new one. Of several,
    // the complete one, else the one with the most bytes, else the oldest.
    Expected<Upload> create(const QString &name, qint64 size, const QByteArray &sha256);
    std::optional<Upload> find(const QString &id) const;
    Result remove(const QString &id);

    // What append() decided.
    struct Appended
    {
        Upload upload;
        bool needsFileHash = false; // last chunk written, but the hash must be read from the file
    };
    // Writes data at offset, anywhere inside the upload's size (400 past it). Bytes
    // received before are not written again (the first copy stays, so what was hashed
    // and served never changes). When the prefix reaches the size the file is checked
    // against the SHA-256: on a mismatch the bytes are discarded (offset back to 0) and
    // the answer is 400.
    std::variant<Appended, HttpError> append(const QString &id, qint64 offset, QByteArrayView data);
    // After needsFileHash: the file's hash, computed elsewhere (a worker thread).
    std::variant<Upload, HttpError> finishWithHash(const QString &id, const QByteArray &sha256);

    static bool isValidId(const QString &id);

private:
    QString recordPath(const QString &id) const;
    QString rangesPath(const QString &id) const;
    Result writeRanges(const QString &id, const QList<QPair<qint64, qint64>> &ranges) const;
    Result writeRecord(const Upload &upload) const;
    std::optional<Upload> readRecord(const QString &id) const;
    std::variant<Upload, HttpError> complete(Upload upload, const QByteArray &actual);

    QString m_directory;
    // Running hashes of uploads whose every byte went through this object.
    QHash<QString, std::shared_ptr<RunningHash>> m_hashes;
};

} // namespace ft::agent

#pragma once

#include "apirequest.h"
#include "model/expected.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QDateTime>
#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QPair>
#include <QSet>
#include <QString>

#include <functional>
#include <memory>
#include <optional>
#include <variant>

namespace ft::agent {

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
// survives an agent restart and resumes from its contiguous prefix.
//
// The chunks of an upload are written by a worker of their own (one thread per upload,
// one chunk at a time, in the order they came), so the event loop that serves the
// other nodes' streams never waits for the disk or the SHA-256. That worker alone
// touches the upload's U.part and U.ranges and its running hash; this object keeps
// what the worker last reported (the ranges on disk) for find(), so a stream asking
// how far it may read touches no file. While the worker saw the prefix grow from byte 0,
// the SHA-256 is computed as the prefix grows (bytes that came early are read back from
// the file when the gap before them closes); after a restart it is read from the file
// when the last byte arrives.
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
    // What is on disk now; an upload being removed is not there any more.
    std::optional<Upload> find(const QString &id) const;

    using Removed = std::function<void(const Result &)>;
    // Removes the upload and its files; `done` is called once they are gone (at once,
    // unless chunks of it are still being written: then after them, from the event loop).
    void remove(const QString &id, const Removed &done);

    using Appended = std::function<void(const std::variant<Upload, HttpError> &)>;
    // Writes data at offset, anywhere inside the upload's size (400 past it). Bytes
    // received before, or by a chunk ahead of this one, are not written again (the first
    // copy stays, so what was hashed and served never changes). When the prefix reaches
    // the size the file is checked against the SHA-256: on a mismatch the bytes are
    // discarded (offset back to 0) and the answer is 400. `done` is called from the event
    // loop once the chunk is on disk (at once for a chunk refused outright).
    void append(const QString &id, qint64 offset, const QByteArray &data, const Appended &done);

    static bool isValidId(const QString &id);

private:
    struct Writer;
    struct Outcome;

    QString recordPath(const QString &id) const;
    QString rangesPath(const QString &id) const;
    Result writeRecord(const Upload &upload) const;
    std::optional<Upload> readRecord(const QString &id) const;
    Result removeFiles(const QString &id) const;
    Writer &writerFor(const Upload &upload);
    void applyOutcome(const QString &id, const Outcome &outcome, const Appended &done);

    QString m_directory;
    // Uploads being written by a worker of this object, as it last reported them.
    QHash<QString, Upload> m_writing;
    QSet<QString> m_removing; // removed, their files go once their chunks are written
    QHash<QString, std::shared_ptr<Writer>> m_writers;
    // Receives the workers' reports on this object's thread (the destructor stops the
    // workers before it goes).
    std::unique_ptr<QObject> m_receiver;
};

} // namespace ft::agent

#pragma once

#include "apirequest.h"
#include "fasthash.h"
#include "model/expected.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QDateTime>
#include <QHash>
#include <QJsonObject>
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
    qint64 offset = 0;  // bytes received so far (the data file's size)
    bool complete = false; // all bytes received and the SHA-256 matched
    QDateTime created;

    QJsonObject toJson() const;
};

// The uploads folder (STAGING/.uploads): for each upload U a record U.json and its
// bytes in U.part, renamed to U.data once complete and verified. The offset is the
// data file's own size, so an upload survives an agent restart and resumes where the
// disk says it stopped. While every byte of an upload came through this object, its
// SHA-256 is computed as the chunks arrive; after a restart it is computed from the
// file when the last chunk arrives (finishHash).
class UploadStore
{
public:
    explicit UploadStore(const QString &directory);
    ~UploadStore();

    QString directory() const { return m_directory; }
    QString dataPath(const Upload &upload) const;
    QString partPath(const QString &id) const;

    // An upload of exactly this name, size and SHA-256 that already exists (so a
    // restarted wizard resumes it), or a new one.
    Expected<Upload> create(const QString &name, qint64 size, const QByteArray &sha256);
    std::optional<Upload> find(const QString &id) const;
    Result remove(const QString &id);

    // What append() decided.
    struct Appended
    {
        Upload upload;
        bool needsFileHash = false; // last chunk written, but the hash must be read from the file
    };
    // Writes data at offset, which must be the upload's current offset (409 otherwise,
    // with the offset in the sentence). The last chunk is checked against the SHA-256:
    // on a mismatch the bytes are discarded (offset back to 0) and the answer is 400.
    std::variant<Appended, HttpError> append(const QString &id, qint64 offset, QByteArrayView data);
    // After needsFileHash: the file's hash, computed elsewhere (a worker thread).
    std::variant<Upload, HttpError> finishWithHash(const QString &id, const QByteArray &sha256);

    static bool isValidId(const QString &id);

private:
    QString recordPath(const QString &id) const;
    Result writeRecord(const Upload &upload) const;
    std::optional<Upload> readRecord(const QString &id) const;
    std::variant<Upload, HttpError> complete(Upload upload, const QByteArray &actual);

    QString m_directory;
    // Running hashes of uploads whose every byte went through this object.
    QHash<QString, std::shared_ptr<RunningHash>> m_hashes;
};

} // namespace ft::agent

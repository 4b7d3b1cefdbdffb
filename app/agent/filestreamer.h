#pragma once

#include <QByteArray>
#include <QFile>
#include <QObject>
#include <QPointer>

#include <functional>

class QTcpSocket;

namespace ft::agent {

// Answers one GET with a file's bytes, written straight onto the connection as it
// drains (at most ~1 MiB queued), never the whole file in memory. Qt 6.4's HTTP server
// only streams a QIODevice with chunked encoding in small blocks; this one sends a
// Content-Length and honours a single "Range: bytes=a-b" (206, or 416 when it cannot be
// satisfied). The connection is closed after the body. Deletes itself when done.
class FileStreamer : public QObject
{
    Q_OBJECT

public:
    // The file must exist and be readable; range is the request's Range header value.
    static void serve(QTcpSocket *socket, const QString &path, const QByteArray &range, QObject *parent);

    // Bytes of a growing file that may be read now; -1 when the file will not become
    // what it was announced as (an upload that was reset or removed): the peer then
    // gets a short body and knows it.
    using Available = std::function<qint64()>;
    // A file that is still being written (an upload under way) and will hold `size`
    // bytes: sent with that Content-Length, each byte as soon as `available` says it is
    // there. `grew` is a signal emitted when more may be there (e.g. after each chunk);
    // the receiver checks the whole file's SHA-256 itself, so nothing unverified stays.
    template <typename Sender, typename Signal>
    static void serveGrowing(QTcpSocket *socket, const QString &path, qint64 size, const QByteArray &range,
                             const Available &available, const Sender *sender, Signal grew, QObject *parent)
    {
        auto *streamer = new FileStreamer(socket, parent);
        streamer->m_size = size;
        streamer->m_available = available;
        connect(sender, grew, streamer, [streamer] { streamer->pump(); });
        streamer->begin(path, range);
    }

    // Parses "bytes=a-b", "bytes=a-" or "bytes=-n" against size; false when it cannot
    // be satisfied. An empty header means the whole file.
    static bool parseRange(const QByteArray &header, qint64 size, qint64 *first, qint64 *last);

private:
    FileStreamer(QTcpSocket *socket, QObject *parent);
    void begin(const QString &path, const QByteArray &range);
    void pump();
    qint64 queued() const;
    // Ends the body short: the peer sees fewer bytes than announced.
    void cut();
    void finish();

    QPointer<QTcpSocket> m_socket;
    QFile m_file;
    QByteArray m_block;
    qint64 m_left = 0;
    qint64 m_position = 0;   // next byte of the file to read
    qint64 m_size = -1;      // a growing file's announced size; -1: the file's own size
    Available m_available;   // set for a growing file
    qint64 m_readable = 0;   // what m_available last allowed
    bool m_finished = false;
};

} // namespace ft::agent

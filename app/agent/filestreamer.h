#pragma once

#include <QByteArray>
#include <QFile>
#include <QObject>
#include <QPointer>

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

    // Parses "bytes=a-b", "bytes=a-" or "bytes=-n" against size; false when it cannot
    // be satisfied. An empty header means the whole file.
    static bool parseRange(const QByteArray &header, qint64 size, qint64 *first, qint64 *last);

private:
    FileStreamer(QTcpSocket *socket, QObject *parent);
    void begin(const QString &path, const QByteArray &range);
    void pump();
    qint64 queued() const;
    void finish();

    QPointer<QTcpSocket> m_socket;
    QFile m_file;
    QByteArray m_block;
    qint64 m_left = 0;
    bool m_finished = false;
};

} // namespace ft::agent

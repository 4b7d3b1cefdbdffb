#include "filestreamer.h"

#include "support/logging.h"

#include <QRegularExpression>
#include <QSslSocket>
#include <QTcpSocket>

#include <spdlog/spdlog.h>

namespace ft::agent {

namespace {

// Read from disk at a time. Well below the agent's fixed mmap threshold (main.cpp):
// each block is copied into the socket's write buffer as a chunk of its own, and had
// those been mapped and unmapped again each time, page faults would be ~15 % of a
// portal agent's time while it serves eight nodes.
constexpr qint64 kBlock = 128 * 1024 - 64;
constexpr qint64 kHighWater = 1024 * 1024; // socket buffer kept at most this full

} // namespace

bool FileStreamer::parseRange(const QByteArray &header, qint64 size, qint64 *first, qint64 *last)
{
    *first = 0;
    *last = size - 1;
    const QByteArray value = header.trimmed();
    if (value.isEmpty())
        return true;
    static const QRegularExpression pattern(QStringLiteral("^bytes=(\\d{0,18})-(\\d{0,18})$"));
    const auto match = pattern.match(QString::fromLatin1(value));
    if (!match.hasMatch() || (match.captured(1).isEmpty() && match.captured(2).isEmpty()))
        return false;
    if (match.captured(1).isEmpty()) { // the last N bytes
        const qint64 n = match.captured(2).toLongLong();
        if (n == 0)
            return false;
        *first = std::max<qint64>(0, size - n);
    } else {
        *first = match.captured(1).toLongLong();
        if (!match.captured(2).isEmpty())
            *last = std::min(*last, match.captured(2).toLongLong());
    }
    return *first < size && *first <= *last;
}

FileStreamer::FileStreamer(QTcpSocket *socket, QObject *parent)
    : QObject(parent)
    , m_socket(socket)
{
}

void FileStreamer::serve(QTcpSocket *socket, const QString &path, const QByteArray &range, QObject *parent)
{
    auto *streamer = new FileStreamer(socket, parent);
    streamer->begin(path, range);
}

void FileStreamer::begin(const QString &path, const QByteArray &range)
{
    if (!m_socket) {
        deleteLater();
        return;
    }
    connect(m_socket, &QTcpSocket::bytesWritten, this, [this] { pump(); });
    if (auto *ssl = qobject_cast<QSslSocket *>(m_socket.data()))
        connect(ssl, &QSslSocket::encryptedBytesWritten, this, [this] { pump(); });
    connect(m_socket, &QTcpSocket::disconnected, this, [this] { finish(); });
    connect(m_socket, &QObject::destroyed, this, [this] { finish(); });

    m_file.setFileName(path);
    // Unbuffered: QFile's read-ahead would take bytes past what may be read now, and in an
    // upload whose chunks came out of order those are still holes (zeros) on disk.
    const bool opened = m_file.open(QIODevice::ReadOnly | QIODevice::Unbuffered);
    const qint64 size = !opened ? 0 : m_size >= 0 ? m_size : m_file.size();
    qint64 first = 0;
    qint64 last = size - 1;
    QByteArray head;
    if (!opened) {
        const QByteArray body = "{\"error\":\"The file cannot be read.\"}";
        head = "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json; charset=utf-8\r\n"
               "Connection: close\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body;
    } else if (!parseRange(range, size, &first, &last)) {
        const QByteArray body = "{\"error\":\"The range cannot be satisfied.\"}";
        head = "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Type: application/json; charset=utf-8\r\n"
               "Connection: close\r\nContent-Range: bytes */" + QByteArray::number(size)
               + "\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body;
    } else {
        const bool partial = !range.trimmed().isEmpty();
        m_left = last - first + 1;
        m_position = first;
        if (first > 0 && !m_file.seek(first)) {
            cut();
            return;
        }
        head = QByteArray("HTTP/1.1 ") + (partial ? "206 Partial Content" : "200 OK")
               + "\r\nContent-Type: application/octet-stream\r\nAccept-Ranges: bytes\r\n"
                 "Cache-Control: no-store\r\nConnection: close\r\nContent-Length: "
               + QByteArray::number(m_left) + "\r\n";
        if (partial)
            head += "Content-Range: bytes " + QByteArray::number(first) + '-' + QByteArray::number(last) + '/'
                    + QByteArray::number(size) + "\r\n";
        head += "\r\n";
        logging::logger()->info("Serving {} bytes of {} from byte {} to {}", m_left,
                                m_file.fileName().toStdString(), first,
                                m_socket->peerAddress().toString().toStdString());
    }
    m_socket->write(head);
    pump();
}

void FileStreamer::pump()
{
    if (m_finished || !m_socket)
        return;
    if (m_block.isEmpty() && m_left > 0)
        m_block.resize(kBlock);
    while (m_left > 0 && queued() < kHighWater) {
        qint64 want = std::min(kBlock, m_left);
        if (m_available) {
            if (m_readable <= m_position)
                m_readable = m_available();
            if (m_readable < 0 || m_readable < m_position) { // reset or removed: a short body
                cut();
                return;
            }
            if (m_readable == m_position)
                return; // more comes with the next chunk (the signal calls pump() again)
            want = std::min(want, m_readable - m_position);
        }
        const qint64 n = m_file.read(m_block.data(), want);
        if (n <= 0) { // the file shrank under us: the peer sees a short body
            cut();
            return;
        }
        m_socket->write(m_block.constData(), n);
        m_left -= n;
        m_position += n;
    }
    if (m_left == 0 && queued() == 0)
        m_socket->disconnectFromHost();
}

qint64 FileStreamer::queued() const
{
    // Once encrypted, QSslSocket::bytesToWrite() counts only what is not encrypted yet;
    // the encrypted bytes wait in the connection's own buffer. Both count, or the whole
    // file would pile up there.
    qint64 bytes = m_socket->bytesToWrite();
    if (auto *ssl = qobject_cast<QSslSocket *>(m_socket.data()))
        bytes += ssl->encryptedBytesToWrite();
    return bytes;
}

void FileStreamer::cut()
{
    // Queued: a write() just before has posted the socket a flush, and Qt 6.4's
    // QSslSocket flushes through its freed TLS state if abort() came first (a crash
    // seen when an upload was deleted while its stream was being fed). Posted after
    // that flush, the abort runs once it is done; nothing more is written meanwhile.
    QMetaObject::invokeMethod(m_socket.data(), &QAbstractSocket::abort, Qt::QueuedConnection);
    finish();
}

void FileStreamer::finish()
{
    if (m_finished)
        return;
    m_finished = true;
    m_file.close();
    deleteLater();
}

} // namespace ft::agent

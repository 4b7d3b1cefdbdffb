#pragma once

#include <QByteArray>
#include <QObject>
#include <QString>
#include <QUrl>

#include <atomic>
#include <functional>
#include <thread>

namespace ft::agent {

// One HTTP(S) GET through libcurl on a thread of its own. Each block of the body goes to
// the sink on that thread as it arrives (the stage job writes it to disk and hashes it
// there), so the agent's event loop does no per-byte work and sees no event per block:
// bytesReceived() is an atomic counter to read at whatever rate suits, and finished()
// comes once, queued to the thread this object lives in.
//
// Every download has its own libcurl handle and connection: a connection accepted under
// one certificate pin is never used under another. No proxy from the environment.
class PackageDownload : public QObject
{
    Q_OBJECT

public:
    struct Options
    {
        QUrl url;
        // Lower-case hex SHA-256 of the server's own (leaf) certificate in DER. Set: the
        // handshake accepts exactly that certificate and nothing else (no CA or host-name
        // check: the pin replaces them). Empty: the system's CAs and the host name.
        QByteArray fingerprint;
        // Sent as "Authorization: Bearer" to this URL only: with a token no redirect is
        // followed. Without one, redirects are, but never from https to http.
        QByteArray token;
        // > 0: ask for the bytes from here on; only a 206 answer's body is taken.
        qint64 rangeStart = 0;
        // DNS, TCP and TLS until the request can be sent.
        int connectTimeoutMs = 10000;
        // No byte for this long: give up.
        int stallSeconds = 60;
    };

    // Takes one block of the body on the download's thread; false stops the download
    // (the sink keeps its own reason).
    using Sink = std::function<bool(const char *data, qsizetype size)>;

    enum class Outcome {
        Completed,      // the server finished its answer (any status: see httpStatus())
        Cancelled,      // cancel() was called
        SinkStopped,    // the sink returned false
        RangeIgnored,   // a Range request answered with the whole file (200)
        PinMismatch,    // the server's certificate is not the pinned one (see peerDigest())
        ConnectTimedOut, // nothing answered within connectTimeoutMs
        TransferFailed, // any other failure: errorString() says what libcurl saw
    };

    PackageDownload(const Options &options, Sink sink, QObject *parent = nullptr);
    // Stops the download and waits for its thread (a fraction of a second).
    ~PackageDownload() override;

    void start();
    // Any thread; the transfer stops within a fraction of a second and finished() follows.
    void cancel();

    // Body bytes handed to the sink so far; any thread.
    qint64 bytesReceived() const { return m_received.load(std::memory_order_relaxed); }

    // Valid once finished() was emitted.
    Outcome outcome() const { return m_outcome; }
    int httpStatus() const { return m_status; }
    QString reasonPhrase() const { return m_reason; }
    QString errorString() const { return m_error; }
    QByteArray peerDigest() const { return m_peerDigest; }

    // libcurl's global set-up, once per process before its first download. main() calls it
    // before any thread starts; start() calls it too (thread-safe since libcurl 7.84).
    static void globalInit();

Q_SIGNALS:
    void finished();

private:
    void run();
    size_t onBody(const char *data, size_t size);
    void onHeader(const char *data, size_t size);

    friend struct CurlCallbacks;

    Options m_options;
    Sink m_sink;
    std::thread m_thread;
    void *m_multi = nullptr; // CURLM *: cancel() wakes its poll
    std::atomic<bool> m_cancel{false};
    std::atomic<qint64> m_received{0};

    // Written by the download's thread, read after finished().
    Outcome m_outcome = Outcome::TransferFailed;
    int m_status = 0;
    bool m_rangeIgnored = false;
    bool m_sinkStopped = false;
    bool m_pinMismatch = false;
    QString m_reason;
    QString m_error;
    QByteArray m_peerDigest;
};

} // namespace ft::agent

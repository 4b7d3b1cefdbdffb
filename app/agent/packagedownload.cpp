#include "packagedownload.h"

#include <QMetaObject>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <mutex>

#if defined(__linux__)
#include <pthread.h>
#endif

namespace ft::agent {

namespace {

// libcurl's receive buffer (its default is 16 KiB). TLS hands over one record (16 KiB) per
// read whatever the size, but on plain HTTP a larger buffer means fewer, larger blocks for
// the sink (one write and one hash update each).
constexpr long kReceiveBufferBytes = 512 * 1024;
// How long the download's thread sleeps in one poll when nothing happens; cancel() wakes it.
constexpr int kPollMs = 1000;

} // namespace

// libcurl's and OpenSSL's C callbacks, with the download as their user pointer.
struct CurlCallbacks
{
    static size_t body(char *data, size_t size, size_t count, void *user)
    {
        return static_cast<PackageDownload *>(user)->onBody(data, size * count);
    }

    static size_t header(char *data, size_t size, size_t count, void *user)
    {
        static_cast<PackageDownload *>(user)->onHeader(data, size * count);
        return size * count;
    }

    static int progress(void *user, curl_off_t, curl_off_t, curl_off_t, curl_off_t)
    {
        // Non-zero aborts the transfer (CURLE_ABORTED_BY_CALLBACK).
        return static_cast<PackageDownload *>(user)->m_cancel.load() ? 1 : 0;
    }

    // Replaces OpenSSL's chain verification for a pinned download: the chain is accepted
    // exactly when the server's own certificate is the pinned one, inside the handshake,
    // before a byte of the request (and its token) is sent.
    static int verifyPin(X509_STORE_CTX *context, void *user)
    {
        auto *download = static_cast<PackageDownload *>(user);
        X509 *leaf = X509_STORE_CTX_get0_cert(context);
        unsigned char digest[EVP_MAX_MD_SIZE];
        unsigned int length = 0;
        if (!leaf || X509_digest(leaf, EVP_sha256(), digest, &length) != 1) {
            X509_STORE_CTX_set_error(context, X509_V_ERR_UNSPECIFIED);
            download->m_pinMismatch = true;
            return 0;
        }
        const QByteArray hex = QByteArray(reinterpret_cast<const char *>(digest), int(length)).toHex();
        if (hex != download->m_options.fingerprint) {
            download->m_peerDigest = hex;
            download->m_pinMismatch = true;
            X509_STORE_CTX_set_error(context, X509_V_ERR_CERT_REJECTED);
            return 0;
        }
        return 1;
    }

    static CURLcode sslContext(CURL *, void *sslContext, void *user)
    {
        SSL_CTX_set_cert_verify_callback(static_cast<SSL_CTX *>(sslContext), &CurlCallbacks::verifyPin, user);
        return CURLE_OK;
    }
};

void PackageDownload::globalInit()
{
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

PackageDownload::PackageDownload(const Options &options, Sink sink, QObject *parent)
    : QObject(parent)
    , m_options(options)
    , m_sink(std::move(sink))
{}

PackageDownload::~PackageDownload()
{
    cancel();
    if (m_thread.joinable())
        m_thread.join();
    if (m_multi)
        curl_multi_cleanup(static_cast<CURLM *>(m_multi));
}

void PackageDownload::start()
{
    globalInit();
    m_multi = curl_multi_init();
    m_thread = std::thread([this] { run(); });
}

void PackageDownload::cancel()
{
    m_cancel.store(true);
    if (m_multi)
        curl_multi_wakeup(static_cast<CURLM *>(m_multi)); // thread-safe: ends the poll at once
}

void PackageDownload::onHeader(const char *data, size_t size)
{
    // The status line of each answer (a redirect's, then the final one): its reason
    // phrase for the sentence, its code to judge the body that follows.
    const QByteArray line = QByteArray(data, qsizetype(size)).trimmed();
    if (!line.startsWith("HTTP/"))
        return;
    const QList<QByteArray> parts = line.split(' ');
    m_status = parts.value(1).toInt();
    m_reason = QString::fromLatin1(parts.size() > 2 ? line.mid(parts[0].size() + parts[1].size() + 2) : QByteArray());
}

size_t PackageDownload::onBody(const char *data, size_t size)
{
    if (m_options.rangeStart > 0 && m_status != 206) {
        // A server that ignores the Range would make us append the file's start again.
        m_rangeIgnored = true;
        return 0;
    }
    if (m_status < 200 || m_status >= 300)
        return size; // an error page is not the package: the status says what happened
    if (!m_sink(data, qsizetype(size))) {
        m_sinkStopped = true;
        return 0;
    }
    m_received.fetch_add(qint64(size), std::memory_order_relaxed);
    return size;
}

void PackageDownload::run()
{
#if defined(__linux__)
    pthread_setname_np(pthread_self(), "ft-download"); // for top -H and perf
#endif
    CURLM *multi = static_cast<CURLM *>(m_multi);
    CURL *easy = curl_easy_init();
    char errorBuffer[CURL_ERROR_SIZE] = {};
    const QByteArray url = m_options.url.toEncoded();
    const bool https = m_options.url.scheme().compare(QLatin1String("https"), Qt::CaseInsensitive) == 0;
    curl_slist *headers = nullptr;
    if (!m_options.token.isEmpty())
        headers = curl_slist_append(headers, ("Authorization: Bearer " + m_options.token).constData());
    if (m_options.rangeStart > 0)
        headers = curl_slist_append(headers, ("Range: bytes=" + QByteArray::number(m_options.rangeStart) + '-').constData());

    curl_easy_setopt(easy, CURLOPT_URL, url.constData());
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errorBuffer);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, long(CURL_HTTP_VERSION_1_1));
    // Never through a proxy named in the environment: the caller named the source.
    curl_easy_setopt(easy, CURLOPT_PROXY, "");
    curl_easy_setopt(easy, CURLOPT_NOPROXY, "*");
    // This handle's connection ends with it: nothing accepted under this pin is reused.
    curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, long(m_options.connectTimeoutMs));
    curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, long(m_options.stallSeconds));
    curl_easy_setopt(easy, CURLOPT_BUFFERSIZE, kReceiveBufferBytes);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    if (m_options.token.isEmpty()) {
        curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(easy, CURLOPT_MAXREDIRS, 50L);
        curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, https ? "https" : "http,https");
    } else {
        curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L); // the token goes to this URL only
    }
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &CurlCallbacks::body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &CurlCallbacks::header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, this);
    curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, &CurlCallbacks::progress);
    curl_easy_setopt(easy, CURLOPT_XFERINFODATA, this);
    bool setUp = true;
    if (!m_options.fingerprint.isEmpty()) {
        curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L); // the pin names the server, not its host name
        // Nor are the system's CAs of any use: no CA store is read for a pinned download.
        curl_easy_setopt(easy, CURLOPT_CAINFO, nullptr);
        curl_easy_setopt(easy, CURLOPT_CAPATH, nullptr);
        // Only an OpenSSL build of libcurl lets us check the pin inside the handshake;
        // another one must fail rather than download unpinned.
        setUp = curl_easy_setopt(easy, CURLOPT_SSL_CTX_FUNCTION, &CurlCallbacks::sslContext) == CURLE_OK
                && curl_easy_setopt(easy, CURLOPT_SSL_CTX_DATA, this) == CURLE_OK;
    }

    CURLcode result = CURLE_OK;
    bool cancelled = false;
    bool multiFailed = false;
    if (!setUp) {
        m_error = tr("this agent's libcurl is not built with OpenSSL, so it cannot check a pinned certificate");
    } else {
        curl_multi_add_handle(multi, easy);
        for (;;) {
            if (m_cancel.load()) {
                cancelled = true;
                break;
            }
            int running = 0;
            CURLMcode code = curl_multi_perform(multi, &running);
            if (code == CURLM_OK && running)
                code = curl_multi_poll(multi, nullptr, 0, kPollMs, nullptr);
            if (code != CURLM_OK) {
                m_error = QString::fromUtf8(curl_multi_strerror(code));
                multiFailed = true;
                break;
            }
            if (!running)
                break;
        }
        if (!cancelled && !multiFailed) {
            int left = 0;
            while (CURLMsg *message = curl_multi_info_read(multi, &left)) {
                if (message->msg == CURLMSG_DONE && message->easy_handle == easy)
                    result = message->data.result;
            }
        }
        curl_multi_remove_handle(multi, easy);
    }

    long status = 0;
    if (curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status != 0)
        m_status = int(status);
    curl_off_t requestSentAt = 0; // µs until the request could be sent; 0: it never could
    curl_easy_getinfo(easy, CURLINFO_PRETRANSFER_TIME_T, &requestSentAt);

    if (cancelled || (result == CURLE_ABORTED_BY_CALLBACK && m_cancel.load()))
        m_outcome = Outcome::Cancelled;
    else if (!setUp || multiFailed)
        m_outcome = Outcome::TransferFailed;
    else if (m_pinMismatch)
        m_outcome = Outcome::PinMismatch;
    else if (m_rangeIgnored)
        m_outcome = Outcome::RangeIgnored;
    else if (m_sinkStopped)
        m_outcome = Outcome::SinkStopped;
    else if (result == CURLE_OK)
        m_outcome = Outcome::Completed;
    else if (result == CURLE_OPERATION_TIMEDOUT && requestSentAt == 0)
        m_outcome = Outcome::ConnectTimedOut;
    else {
        m_outcome = Outcome::TransferFailed;
        m_error = QString::fromUtf8(errorBuffer[0] ? errorBuffer : curl_easy_strerror(result));
    }
    curl_easy_cleanup(easy);
    curl_slist_free_all(headers);
    // Queued to this object: dropped with it if it is gone by then (its destructor joined us).
    QMetaObject::invokeMethod(this, [this] { Q_EMIT finished(); }, Qt::QueuedConnection);
}

} // namespace ft::agent

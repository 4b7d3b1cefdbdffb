#pragma once

#include "model/expected.h"

#include <QHash>
#include <QHostAddress>
#include <QObject>
#include <QPointer>
#include <QSslConfiguration>
#include <QString>
#include <QUrl>

class QTcpServer;

namespace ft {

class PackageTransfer;

// Serves the chosen package files to the nodes over HTTP while they stage them. Only
// files added with addFile() are served, each under an unguessable path
// (/packages/<random token>/<file name>); anything else is a 404. Files are streamed
// from disk in chunks as the socket drains, never loaded into memory, so a 1 GiB
// package to many nodes costs a few MiB. GET and HEAD, with an optional single
// "Range: bytes=a-b". Each response closes its connection. With a TLS configuration
// (certificate and key, e.g. self-signed) it serves HTTPS, and fingerprint() is the
// certificate's SHA-256 for the agents to pin.
class PackageServer : public QObject
{
    Q_OBJECT

public:
    explicit PackageServer(QObject *parent = nullptr);
    ~PackageServer() override;

    // HTTPS from the next listen() on; a null configuration means plain HTTP.
    void setTlsConfiguration(const QSslConfiguration &configuration) { m_tls = configuration; }
    bool isTls() const { return !m_tls.isNull(); }
    // SHA-256 (lower-case hex) of the served certificate; empty for plain HTTP.
    QString fingerprint() const;

    // Binds to the address facing the nodes (127.0.0.1 for the sandbox). Port 0
    // picks a free one.
    Result listen(const QHostAddress &address = QHostAddress(QHostAddress::LocalHost),
                  quint16 port = 0);
    void close();
    bool isListening() const;
    QHostAddress address() const;
    quint16 port() const;

    // The host put into URLs; default: the bound address (needed when binding to Any).
    void setAdvertisedHost(const QString &host) { m_advertisedHost = host; }

    // Offers a file and returns its URL; the same file twice gets the same URL. The
    // server must be listening. A missing or unreadable file is an error.
    Expected<QUrl> addFile(const QString &path);
    void removeAllFiles();

    // Totals over every transfer so far (bodies only).
    qint64 bytesSent() const { return m_bytesSent; }
    // Responses being sent right now (idle connections are not counted).
    int activeTransfers() const;
    int completedTransfers() const { return m_completed; }

Q_SIGNALS:
    // One response ended: complete is false when the peer went away first.
    void transferFinished(const QString &fileName, qint64 bytes, bool complete);

private:
    friend class PackageTransfer;
    QString filePathFor(const QString &urlPath) const;
    void onNewConnection();
    void onTransferDone(PackageTransfer *transfer, const QString &fileName, qint64 bytes,
                        bool complete);

    QTcpServer *m_server = nullptr;
    QSslConfiguration m_tls;
    QString m_advertisedHost;
    QHash<QString, QString> m_files;   // url path → absolute file path
    QHash<QString, QString> m_urlPaths; // absolute file path → url path
    QList<QPointer<PackageTransfer>> m_transfers;
    qint64 m_bytesSent = 0;
    int m_completed = 0;
};

} // namespace ft

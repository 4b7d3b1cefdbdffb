#pragma once

#include <QByteArray>
#include <QHash>
#include <QMutex>
#include <QString>

#include <memory>

struct ssl_session_st; // OpenSSL's SSL_SESSION

namespace ft {

// The TLS session tickets the agents issued, by agent address and pin. A later call to
// the same agent (the next discovery, a re-check, verification, the run engine's
// polls) presents its ticket and resumes the session: no certificate, no signature,
// half the bytes. Process-wide, so a fresh AgentClient resumes too; in memory only,
// because a ticket carries the session's secret.
//
// Two forms of the same thing: the serialized ticket Qt's sockets take (QNetworkAccess-
// Manager calls: uploads, streams), and the live OpenSSL session PinnedHttpsCall takes.
// The live one costs nothing to present again; decoding a serialized one decodes the
// agent's certificate inside it, which with OpenSSL 3.0 costs about as much as the
// full handshake the ticket was meant to spare.
class TlsSessionCache
{
public:
    static TlsSessionCache &instance();

    // "host:port|pin": a ticket is only ever offered to the agent and pin it came from.
    static QString keyFor(const QString &address, const QString &pin);

    QByteArray ticket(const QString &key) const;
    void store(const QString &key, const QByteArray &ticket);
    std::shared_ptr<ssl_session_st> session(const QString &key) const;
    void storeSession(const QString &key, const std::shared_ptr<ssl_session_st> &session);
    void forget(const QString &key);
    void clear();
    int size() const; // keys with a ticket or a session

private:
    // Bounds memory whatever the number of agents: at the cap the oldest half goes.
    static constexpr int kMaxTickets = 20000;

    void makeRoomFor(const QString &key); // m_mutex held

    mutable QMutex m_mutex;
    QHash<QString, QByteArray> m_tickets;
    QHash<QString, std::shared_ptr<ssl_session_st>> m_sessions;
    QHash<QString, quint64> m_stored; // key → order of storing
    quint64 m_counter = 0;
};

} // namespace ft

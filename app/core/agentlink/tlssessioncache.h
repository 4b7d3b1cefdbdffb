#pragma once

#include <QByteArray>
#include <QHash>
#include <QMutex>
#include <QString>

namespace ft {

// The TLS session tickets the agents issued, by agent address and pin. A later call to
// the same agent (the next discovery, a re-check, verification, the run engine's
// polls) presents its ticket and resumes the session: no certificate, no signature,
// half the bytes. Process-wide, so a fresh AgentClient resumes too; in memory only,
// because a ticket carries the session's secret.
class TlsSessionCache
{
public:
    static TlsSessionCache &instance();

    // "host:port|pin": a ticket is only ever offered to the agent and pin it came from.
    static QString keyFor(const QString &address, const QString &pin);

    QByteArray ticket(const QString &key) const;
    void store(const QString &key, const QByteArray &ticket);
    void forget(const QString &key);
    void clear();
    int size() const;

private:
    // Bounds memory whatever the number of agents: at the cap the oldest half goes.
    static constexpr int kMaxTickets = 20000;

    mutable QMutex m_mutex;
    QHash<QString, QByteArray> m_tickets;
    QHash<QString, quint64> m_stored; // key → order of storing
    quint64 m_counter = 0;
};

} // namespace ft

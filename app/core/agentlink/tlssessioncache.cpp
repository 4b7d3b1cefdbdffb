#include "agentlink/tlssessioncache.h"

#include <QMutexLocker>

#include <algorithm>

namespace ft {

TlsSessionCache &TlsSessionCache::instance()
{
    static TlsSessionCache cache;
    return cache;
}

QString TlsSessionCache::keyFor(const QString &address, const QString &pin)
{
    return address + QLatin1Char('|') + pin;
}

QByteArray TlsSessionCache::ticket(const QString &key) const
{
    QMutexLocker lock(&m_mutex);
    return m_tickets.value(key);
}

void TlsSessionCache::makeRoomFor(const QString &key)
{
    if (m_stored.size() < kMaxTickets || m_stored.contains(key))
        return;
    QList<quint64> orders = m_stored.values();
    std::nth_element(orders.begin(), orders.begin() + orders.size() / 2, orders.end());
    const quint64 median = orders.at(orders.size() / 2);
    for (auto it = m_stored.begin(); it != m_stored.end();) {
        if (it.value() < median) {
            m_tickets.remove(it.key());
            m_sessions.remove(it.key());
            it = m_stored.erase(it);
        } else {
            ++it;
        }
    }
}

void TlsSessionCache::store(const QString &key, const QByteArray &ticket)
{
    if (ticket.isEmpty())
        return;
    QMutexLocker lock(&m_mutex);
    makeRoomFor(key);
    m_tickets.insert(key, ticket);
    m_stored.insert(key, ++m_counter);
}

std::shared_ptr<ssl_session_st> TlsSessionCache::session(const QString &key) const
{
    QMutexLocker lock(&m_mutex);
    return m_sessions.value(key);
}

void TlsSessionCache::storeSession(const QString &key, const std::shared_ptr<ssl_session_st> &session)
{
    if (!session)
        return;
    QMutexLocker lock(&m_mutex);
    makeRoomFor(key);
    m_sessions.insert(key, session);
    m_stored.insert(key, ++m_counter);
}

void TlsSessionCache::forget(const QString &key)
{
    QMutexLocker lock(&m_mutex);
    m_tickets.remove(key);
    m_sessions.remove(key);
    m_stored.remove(key);
}

void TlsSessionCache::clear()
{
    QMutexLocker lock(&m_mutex);
    m_tickets.clear();
    m_sessions.clear();
    m_stored.clear();
}

int TlsSessionCache::size() const
{
    QMutexLocker lock(&m_mutex);
    return int(m_stored.size());
}

} // namespace ft

#include "session/scheduledstart.h"

#include "run/runengine.h"

namespace ft {

ScheduledStart::ScheduledStart(RunEngine *engine, const QDateTime &windowStart, QObject *parent)
    : QObject(parent)
    , m_engine(engine)
    , m_window(windowStart.toUTC())
{
    m_timer.setInterval(1000);
    connect(&m_timer, &QTimer::timeout, this, &ScheduledStart::check);
}

void ScheduledStart::arm()
{
    if (!m_engine || msToWindow() <= 0)
        return;
    m_holding = true;
    // The engine's pause is honoured at the first safe point: right after staging, before
    // any service stops. Released by resume() when the window opens.
    m_engine->pause();
    connect(m_engine, &RunEngine::finished, this, [this] {
        m_timer.stop();
        m_holding = false;
    });
    m_timer.start();
}

qint64 ScheduledStart::msToWindow() const
{
    return std::max<qint64>(0, QDateTime::currentDateTimeUtc().msecsTo(m_window));
}

void ScheduledStart::startNow()
{
    if (m_holding)
        release(true);
}

void ScheduledStart::cancel()
{
    m_timer.stop();
    m_holding = false;
    if (m_engine)
        m_engine->abort();
}

void ScheduledStart::check()
{
    if (!m_holding)
        return;
    const qint64 left = msToWindow();
    Q_EMIT countdown(left);
    if (left <= 0)
        release(false);
}

void ScheduledStart::release(bool early)
{
    m_timer.stop();
    m_holding = false;
    if (m_engine)
        m_engine->resume();
    Q_EMIT released(early);
}

} // namespace ft

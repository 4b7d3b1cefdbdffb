#include "session/scheduledstart.h"

#include "run/runengine.h"

namespace ft {

ScheduledStart::ScheduledStart(RunEngine *engine, QObject *parent)
    : QObject(parent)
    , m_engine(engine)
{
    m_timer.setInterval(1000);
    connect(&m_timer, &QTimer::timeout, this, &ScheduledStart::check);
    connect(engine, &RunEngine::stateChanged, this, &ScheduledStart::check);
    connect(engine, &RunEngine::finished, this, [this] { m_timer.stop(); });
    if (isHolding())
        m_timer.start();
}

QDateTime ScheduledStart::windowStart() const
{
    return m_engine ? m_engine->announcedStart() : QDateTime();
}

qint64 ScheduledStart::msToWindow() const
{
    const QDateTime window = windowStart();
    return window.isValid() ? std::max<qint64>(0, QDateTime::currentDateTimeUtc().msecsTo(window)) : 0;
}

bool ScheduledStart::isHolding() const
{
    if (!m_engine || m_released || m_engine->journal().startedEarly)
        return false;
    switch (m_engine->state()) {
    case RunState::Idle:
    case RunState::Reconciling:
    case RunState::Staging:
        return msToWindow() > 0;
    case RunState::Paused:
        return m_engine->isWaitingForWindow();
    default:
        return false;
    }
}

void ScheduledStart::startNow()
{
    if (m_engine)
        m_engine->startNow();
}

void ScheduledStart::cancel()
{
    if (m_engine)
        m_engine->abort();
}

void ScheduledStart::check()
{
    if (m_released || !m_engine)
        return;
    const RunState state = m_engine->state();
    const bool ended = state == RunState::Completed || state == RunState::Halted || state == RunState::Aborted;
    if (ended) {
        m_timer.stop();
        return;
    }
    const bool going = state == RunState::Running || state == RunState::WaitingForDecision
                       || state == RunState::Pausing || state == RunState::Aborting;
    if (going) {
        m_released = true;
        m_timer.stop();
        Q_EMIT released(m_engine->journal().startedEarly);
        return;
    }
    if (!m_timer.isActive() && isHolding())
        m_timer.start();
    Q_EMIT countdown(msToWindow());
}

} // namespace ft

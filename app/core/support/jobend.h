#pragma once

#include <QMetaObject>
#include <QString>

namespace ft {

// How an asynchronous job object ends, once (the QtKeychain job pattern): the first
// end stands and later ones are ignored; finished(job) is emitted on the next pass of
// the event loop, so never inside start(), cancel() or stop(); and a job that deletes
// itself (autoDelete()) goes right after. `Error` is the job's error enum.
template<typename Error>
class JobEnd
{
public:
    bool isDone() const { return m_done; }
    Error error() const { return m_error; }
    const QString &errorString() const { return m_errorString; }

    // False when the job had ended already. `Job` has a finished(Job *) signal and
    // autoDelete().
    template<typename Job>
    bool end(Job *job, Error error, const QString &errorString)
    {
        if (m_done)
            return false;
        m_done = true;
        m_error = error;
        m_errorString = errorString;
        QMetaObject::invokeMethod(
            job,
            [job] {
                Q_EMIT job->finished(job);
                if (job->autoDelete())
                    job->deleteLater();
            },
            Qt::QueuedConnection);
        return true;
    }

private:
    bool m_done = false;
    Error m_error{};
    QString m_errorString;
};

} // namespace ft

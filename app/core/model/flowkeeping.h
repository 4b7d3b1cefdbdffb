#pragma once

#include <QJsonObject>
#include <QJsonValue>
#include <QString>

#include <optional>

namespace ft {

// What a node's agent did with the flows it received while its service was down
// ("keep_flows"): the agent job's "flows" object (API.md), carried by the run journal
// into the verification and the report.
struct FlowKeeping
{
    QString state;       // replayed | kept | keeping | replaying (as the agent says)
    qint64 kept = 0;     // datagrams written to the spool
    qint64 dropped = 0;  // datagrams beyond the spool's cap
    qint64 replayed = 0; // datagrams given to the new service
    qint64 templates = 0;
    QString spool;       // where a spool that was not replayed stays

    // Null when the value is not an object with a state (the option was off).
    static std::optional<FlowKeeping> fromJson(const QJsonValue &value);
    QJsonObject toJson() const;

    // "12,800 kept, 12,800 replayed, 0 dropped"
    QString figures() const;
    // A sentence for the Verify page and the report: the figures and, when not all was
    // replayed, why and where the rest is.
    QString sentence() const;
};

} // namespace ft

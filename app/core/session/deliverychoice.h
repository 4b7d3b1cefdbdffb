#pragma once

#include "run/runcontext.h"

#include <QHostAddress>
#include <QString>
#include <QUrl>

namespace ft {

// How the administrator wants the packages to reach the nodes (Packages page, CLI
// --delivery), carried into the run's options and shown in the plan.
struct DeliveryChoice
{
    PackageDelivery method = PackageDelivery::Portal;
    // Workstation: the address the package server listens on and hands out; null
    // until the connection to the portal told us which of ours faces it.
    QHostAddress serveAddress;
    // Url: the folder holding the package files, and the optional pin of its https
    // certificate.
    QUrl url;
    QString fingerprint;
    // Portal: host[:port] at which the nodes reach the portal's agent when it differs
    // from the address this workstation uses (NAT); empty: the same.
    QString portalAddressForNodes;

    // Why the choice cannot be used as it is, or "" when it can.
    QString problem() const;
    // One sentence for the plan: "Packages travel through the portal's agent: …".
    QString sentence() const;
    // Puts the choice into a run's options (the portal endpoint is the caller's).
    void applyTo(RunOptions &options) const;
};

} // namespace ft

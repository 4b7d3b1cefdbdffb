#pragma once

#include "model/domain.h"
#include "model/expected.h"
#include "model/version.h"

#include <QList>
#include <QString>

#include <utility>

namespace ft::sandbox {

// What `ftsandbox init` lays out (see app/sandbox/LAYOUT.md).
struct InstallationSpec
{
    struct Member
    {
        QString name;
        int tcpPort = 0;
        QString host = QStringLiteral("127.0.0.1");
    };

    QString dir;
    Version version;
    NodeRole role = NodeRole::Standalone;
    OsKind os = OsKind::Linux;
    QString name;                 // default: the folder's name
    bool nbi = false;
    int webUiFiles = 300;
    QString listen = QStringLiteral("127.0.0.1");
    int tcpPort = 0;              // 0: a free port is chosen now
    int flowPort = 0;             // 0: the node receives no flows
    QString portal;               // on a worker: the portal's name
    QList<Member> members;        // on the portal: its workers
};

// Creates the installation. Refuses a folder that exists and is not empty.
Result createInstallation(InstallationSpec spec);

// A free TCP (or UDP) port on 127.0.0.1 for a node's service (daemon, flow port,
// agent), chosen outside the kernel's ephemeral range, so no other program's bind(0)
// or connect() is handed it while the service is stopped for an upgrade.
int freeTcpPort();
int freeUdpPort();

// The range the kernel hands ports out of for bind(0) and connect() (Linux:
// /proc/sys/net/ipv4/ip_local_port_range), low and high included.
std::pair<int, int> ephemeralPortRange();

} // namespace ft::sandbox

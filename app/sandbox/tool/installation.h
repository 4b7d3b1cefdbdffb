#pragma once

#include "model/domain.h"
#include "model/expected.h"
#include "model/version.h"

#include <QList>
#include <QString>

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

// A free TCP (or UDP) port on 127.0.0.1: bind port 0, read it, close.
int freeTcpPort();
int freeUdpPort();

} // namespace ft::sandbox

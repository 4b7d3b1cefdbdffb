#pragma once

// One job class per agent call (API.md), by what the calls are for. Each takes the
// shared AgentClient and the endpoint, plus the call's arguments; results are read
// after finished() when error() == NoError. Include the one you need, or this one.

#include "agentlink/agentjobstatus.h" // what the agent says about its jobs
#include "agentlink/nodejobs.h"       // health, certificate, node, cluster, flow history
#include "agentlink/stagingjobs.h"    // staging packages
#include "agentlink/upgradejobs.h"    // upgrades, the job list and status, cancel, service
#include "agentlink/webuijobs.h"      // the Web UI's files

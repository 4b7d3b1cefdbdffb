#pragma once

#include "agentconfig.h"
#include "flowcapture.h"
#include "model/expected.h"
#include "serviceparsers.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>

namespace ft::agent {

// What the agent reads from the FlowTraq installation folder (app/sandbox/LAYOUT.md):
// flowtraq.conf, the VERSION files, run/status.json, data/flowhistory.json and the
// Web UI with its pristine manifests. Plain functions; slow ones are run by the caller
// on a worker thread.
namespace nodeinfo {

// Installed version of a component ("server", "nbi", "webui"), empty when not installed.
QString installedVersion(const QString &installDir, const QString &component);

// GET /v1/node, given the service's state, whether an upgrade runs and the agent's own
// flow measurement (nullopt: no flow_ports configured). Versions come from the chain of
// sources (versionsources.h), which runs processes: call it off the event loop.
QJsonObject nodeReport(const AgentConfig &config, const ServiceProbe &service, bool busy,
                       const std::optional<FlowMeasurement> &measurement);

// GET /v1/cluster, from flowtraq.conf's [cluster] section.
QJsonObject clusterReport(const AgentConfig &config);

// GET /v1/flows/history: at most the last `hours` whole hours, oldest first.
QJsonObject flowHistory(const AgentConfig &config, int hours);

// GET /v1/webui/customizations (hashes the whole Web UI: run off the event loop).
Expected<QJsonObject> webUiCustomizations(const AgentConfig &config);

// GET /v1/webui/file: a current or pristine file of the Web UI, at most 4 MiB.
// The path must already be checked with ft::isSafeRelativePath.
Expected<QByteArray> webUiFile(const AgentConfig &config, const QString &path, bool pristine,
                               int *errorStatus);

// Free bytes on the file system of a folder (or its nearest existing parent).
qint64 freeBytes(const QString &directory);

} // namespace nodeinfo
} // namespace ft::agent

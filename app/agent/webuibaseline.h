#pragma once

#include "agentconfig.h"
#include "model/expected.h"

#include <QJsonObject>
#include <QString>

namespace ft::agent::webuibaseline {

// A baseline is the manifest of the Web UI folder (webui_dir) as it was when the
// agent recorded it: at install (`ftupgrade-agent baseline`), after every Web UI
// upgrade the agent ran, and on demand (POST /v1/webui/baseline). Customizations are
// the differences from the baseline of the installed version. Kept beside the
// agent's configuration: state/baselines/webui-<version>.sha256 (sha256sum format)
// and webui-<version>.json ({"version", "recorded", "files", "reason"}).

// The installed Web UI version, by the agent's chain of sources ("" when unknown).
QString installedVersion(const AgentConfig &config);

// Hashes webui_dir (without VERSION) and records it as the baseline of the installed
// version, replacing an older one. Runs long: call it off the event loop.
Expected<QJsonObject> record(const AgentConfig &config, const QString &reason);

// Where the baseline of `version` comes from: the agent's own recording, else the
// sandbox's pristine manifest (manifests/webui-<v>.sha256), else none ("").
struct Source
{
    QString manifestPath;
    QString kind; // agent_baseline | sandbox_pristine
    QString recorded; // ISO time of the agent's recording
};
Source find(const AgentConfig &config, const QString &version);

} // namespace ft::agent::webuibaseline

#pragma once

#include "model/nodestatus.h"

namespace ft {

class WebApiInfoJob;

// The Web API's answer as one more source of a node's server version ("webapi"), so
// discovery lists it with the agent's sources and flags a disagreement (the installer
// registered one version, the running FlowTraq reports another).
VersionReading webApiReading(const WebApiInfoJob &job);
// Adds or replaces the "webapi" reading and recomputes the disagreement. The version
// shown stays the agent's first source; only when the agent knew none does the Web
// API's become the version.
void applyVersionReading(ComponentState &state, const VersionReading &reading);

} // namespace ft

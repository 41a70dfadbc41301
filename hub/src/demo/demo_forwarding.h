// What the demo forwards, and where to: a loopback inbox that keeps what it receives, a target
// pointing at it, and a rule that sends every build of the build queue that fails. Private to
// hub/.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "octohub/api/http.h"
#include "octohub/core/database.h"
#include "octohub/core/status.h"

namespace octohub::hub {

inline constexpr const char* kDemoRule = "failed-builds";
inline constexpr const char* kDemoTarget = "demo-inbox";

// POST /inbox takes a delivery (JSON); GET /inbox answers {"received": N, "latest": [the last
// 50, newest first]}. Thread-safe.
std::vector<api::Route> DemoInboxRoutes();

// Saves the demo target (base + "/inbox") and its rule. Call before the build queue is
// applied, so that the failures its first run finds count as new.
Status ApplyDemoForwarding(const Database& db, const std::string& base);

}  // namespace octohub::hub

// The route table of the API. Private to api/.
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <vector>

#include "octohub/api/keys.h"
#include "octohub/api/server.h"
#include "search_params.h"
#include "static_assets.h"

namespace octohub::api {

std::vector<Route> BuildRoutes(const ServerDependencies& deps, KeyStore& keys,
                               const StaticAssets& assets);

// /api/v1/sources and /api/v1/runs.
void AddSourceRoutes(std::vector<Route>& routes, const ServerDependencies& deps);

// /api/v1/openapi.json, /docs and the renderer it loads.
void AddDocsRoutes(std::vector<Route>& routes);
// /api/v1/targets, /api/v1/rules, /api/v1/forwards and /api/v1/deliveries.
void AddForwardingRoutes(std::vector<Route>& routes, const ServerDependencies& deps);
// /api/v1/export, with at most max_exports running at once.
void AddExportRoutes(std::vector<Route>& routes, const ServerDependencies& deps, int max_exports);

// A JSON (or, for sources, YAML) request body; the reply to send when it is unusable:
// 415 for another media type, 400 for a body that does not parse.
std::optional<Reply> ParseBody(const RequestView& request, bool yaml_allowed,
                               boost::json::value& out);

}  // namespace octohub::api

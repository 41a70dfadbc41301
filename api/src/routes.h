// The route table of the API. Private to api/.
#pragma once

#include <vector>

#include "octohub/api/server.h"
#include "router.h"
#include "search_params.h"
#include "static_assets.h"

namespace octohub::api {

std::vector<Route> BuildRoutes(const ServerDependencies& deps, const StaticAssets& assets);

}  // namespace octohub::api

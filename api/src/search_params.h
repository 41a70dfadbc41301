// GET /api/v1/search query parameters -> SearchRequest. Pure; private to api/.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "octohub/api/http.h"
#include "octohub/core/status.h"
#include "octohub/indexer/searcher.h"

namespace octohub::api {

using QueryParams = decltype(RequestView::query);

// kInvalidArgument (400) naming the parameter for anything out of range or malformed.
Result<indexer::SearchRequest> ParseSearchParams(const QueryParams& params);

}  // namespace octohub::api

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

// One query parameter, kInvalidArgument naming it when it is not a whole number from min to
// max, or not true/false (1/0; empty is true).
Result<int> ParseIntParam(const std::string& name, const std::string& text, int min, int max);
Result<bool> ParseBoolParam(const std::string& name, const std::string& text);

}  // namespace octohub::api

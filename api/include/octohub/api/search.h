// A search's answer as the API documents it (GET /api/v1/search) and `octohub search` prints.
#pragma once

#include <boost/json/object.hpp>

#include "octohub/indexer/searcher.h"

namespace octohub::api {

boost::json::object SearchResponseToJson(const indexer::SearchResponse& response);

}  // namespace octohub::api

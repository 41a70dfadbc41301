// For previews: the index fields a record would get under a mapping, and a mapping inferred
// from sample records (short repeated strings → facets, ISO dates → dates, numbers →
// numbers, the longest strings → text, a name-like string → title). Pure.
#pragma once

#include <simdjson.h>

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <vector>

#include "octohub/core/source_spec.h"

namespace octohub::ingest {

// {"title", "text": [...], "facets": {name: [...]}, "dates": {...}, "numbers": {...}}, each the
// values read at the mapping's pointers (texts cut to 200 characters).
boost::json::object IndexFieldsOf(const IndexSpec& index, simdjson::dom::element record);

// The mapping the samples suggest (records as JSON texts); the id pointer is left out.
IndexSpec SuggestIndex(const std::vector<std::string>& records,
                       const std::optional<std::string>& id_pointer);

}  // namespace octohub::ingest

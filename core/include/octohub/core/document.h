// Source, target and rule documents as people write them: JSON or YAML, read into JSON.
#pragma once

#include <boost/json/value.hpp>
#include <string_view>

#include "octohub/core/status.h"

namespace octohub {

// Parses a source/target/rule document given as JSON or YAML. format: "json", "yaml", or ""
// to decide from the text. Errors name the line and column where possible; a well-formed
// document refused for what it holds (YAML aliases, nesting deeper than kMaxJsonDepth) also
// carries a field error at "".
Result<boost::json::value> ParseDocument(std::string_view text, std::string_view format = "");

}  // namespace octohub

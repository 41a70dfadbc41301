// One nesting limit for every JSON (and YAML) value Octohub reads, stores or renders: a record
// or document deeper than this is refused where it comes in, so everything stored can be
// parsed again anywhere.
#pragma once

#include <boost/json.hpp>
#include <string_view>

namespace octohub {

inline constexpr int kMaxJsonDepth = 64;

// boost::json's own default is 32: always parse with these options instead.
inline boost::json::parse_options JsonParseOptions() {
  boost::json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  return options;
}

// Parses `text` with the limit; `ec` says why it failed.
inline boost::json::value ParseJson(std::string_view text, boost::system::error_code& ec) {
  return boost::json::parse(text, ec, {}, JsonParseOptions());
}

// The same, throwing boost::system::system_error: for text Octohub stored itself.
inline boost::json::value ParseStoredJson(std::string_view text) {
  return boost::json::parse(text, {}, JsonParseOptions());
}

}  // namespace octohub

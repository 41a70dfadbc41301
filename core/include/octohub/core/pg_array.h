// PostgreSQL array literals, for passing many values as one parameter ($1::text[]), which
// unnest() then turns back into rows.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace octohub {

// {"a","b\"c"}: each text of `items` as `text_of(item)` gives it, quoted and escaped.
template <typename Items, typename TextOf>
std::string PgTextArray(const Items& items, TextOf text_of) {
  std::string out = "{";
  for (const auto& item : items) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (char c : std::string_view(text_of(item))) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

inline std::string PgTextArray(const std::vector<std::string>& values) {
  return PgTextArray(values, [](const std::string& value) -> const std::string& { return value; });
}

// {1,2,3}
inline std::string PgIntArray(const std::vector<std::int64_t>& values) {
  std::string out = "{";
  for (const auto value : values) {
    if (out.size() > 1) out += ',';
    out += std::to_string(value);
  }
  return out + "}";
}

}  // namespace octohub

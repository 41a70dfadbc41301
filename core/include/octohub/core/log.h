// Structured logs: one JSON object a line on stderr, {"ts","level","event",...fields}.
// Thread-safe. Secrets must never be passed as fields.
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <string_view>

namespace octohub::log {

enum class Level { kDebug, kInfo, kWarn, kError };

// Sets the minimum level; "debug", "info", "warn" or "error". Unknown names keep "info".
void SetLevel(std::string_view name);

void Write(Level level, std::string_view event, boost::json::object fields = {});
// The line Write would print, without its newline; "" when the level is off. For callers
// that batch their own writes to stderr (the HTTP access log).
std::string Format(Level level, std::string_view event, boost::json::object fields = {});
inline void Debug(std::string_view e, boost::json::object f = {}) {
  Write(Level::kDebug, e, std::move(f));
}
inline void Info(std::string_view e, boost::json::object f = {}) {
  Write(Level::kInfo, e, std::move(f));
}
inline void Warn(std::string_view e, boost::json::object f = {}) {
  Write(Level::kWarn, e, std::move(f));
}
inline void Error(std::string_view e, boost::json::object f = {}) {
  Write(Level::kError, e, std::move(f));
}

}  // namespace octohub::log

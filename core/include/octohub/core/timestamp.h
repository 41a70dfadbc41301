// ISO 8601 / RFC 3339 timestamps as records carry them. Pure.
#pragma once

#include <optional>
#include <string_view>

namespace octohub {

// Seconds since the epoch of "2024-05-01", "2024-05-01T10:00:00Z", "…+02:00", "….123Z";
// nullopt for anything else.
std::optional<double> ParseTimestamp(std::string_view text);

}  // namespace octohub

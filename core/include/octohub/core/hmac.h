// HMAC-SHA256, for signing deliveries and checking pushed requests. Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace octohub {

// The 32 raw bytes of HMAC-SHA256(key, message).
std::string HmacSha256(std::string_view key, std::string_view message);

}  // namespace octohub

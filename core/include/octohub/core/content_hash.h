// Content hashes of records: XXH3-128 of the stored JSON text, as 32 lowercase hex digits.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace octohub {

std::string ContentHash(std::string_view bytes);

// XXH3-64 of the bytes: the same on every machine and in every version, so it may decide
// where something is stored (an index shard, say).
std::uint64_t StableHash64(std::string_view bytes);

}  // namespace octohub

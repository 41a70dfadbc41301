#include "octohub/core/content_hash.h"

#include <xxhash.h>

namespace octohub {

std::string ContentHash(std::string_view bytes) {
  XXH128_hash_t hash = XXH3_128bits(bytes.data(), bytes.size());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(32, '0');
  for (std::size_t i = 0; i < 8; ++i) {
    out[i * 2] = kHex[(hash.high64 >> (60 - i * 8)) & 0xf];
    out[i * 2 + 1] = kHex[(hash.high64 >> (56 - i * 8)) & 0xf];
    out[16 + i * 2] = kHex[(hash.low64 >> (60 - i * 8)) & 0xf];
    out[16 + i * 2 + 1] = kHex[(hash.low64 >> (56 - i * 8)) & 0xf];
  }
  return out;
}

std::uint64_t StableHash64(std::string_view bytes) {
  return XXH3_64bits(bytes.data(), bytes.size());
}

}  // namespace octohub

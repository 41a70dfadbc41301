#include "octohub/core/content_hash.h"

#include <catch2/catch.hpp>
#include <string>

namespace octohub {
namespace {

bool IsLowerHex(const std::string& text) {
  return text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

TEST_CASE("A content hash is 32 lowercase hex digits", "[unit]") {
  auto input = GENERATE(as<std::string>{}, "", "a", "{\"id\":1}", std::string(10000, 'x'),
                        std::string("nul\0byte", 8));
  std::string hash = ContentHash(input);
  CHECK(hash.size() == 32);
  CHECK(IsLowerHex(hash));
}

TEST_CASE("The content hash of the empty string is XXH3-128 with the high half first", "[unit]") {
  // XXH3_128bits("") = {high64 0x99aa06d3014798d8, low64 0x6001c324468d497f}.
  CHECK(ContentHash("") == "99aa06d3014798d86001c324468d497f");
}

TEST_CASE("Different inputs have different content hashes", "[unit]") {
  CHECK(ContentHash("{\"id\":1}") != ContentHash("{\"id\":2}"));
  CHECK(ContentHash("a") != ContentHash("a "));
  CHECK(ContentHash("") != ContentHash(std::string(1, '\0')));
}

}  // namespace
}  // namespace octohub

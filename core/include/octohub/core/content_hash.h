// Content hashes of records: XXH3-128 of the stored JSON text, as 32 lowercase hex digits.
#pragma once

#include <string>
#include <string_view>

namespace octohub {

std::string ContentHash(std::string_view bytes);

}  // namespace octohub

// HMAC-SHA256 computed by the openssl command line: an implementation independent of the one
// under test, for signing test requests.
#pragma once

#include <string>

namespace octohub::testing {

// Lowercase hex, or base64 with as_base64, of HMAC-SHA256(key, message). key_hex: the key as
// hex (for keys that are not text).
std::string OpensslHmac(const std::string& key, const std::string& message, bool as_base64 = false,
                        bool key_hex = false);

}  // namespace octohub::testing

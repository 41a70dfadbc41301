// JSON string literals written straight into a buffer, for output built by hand on hot paths
// (exports, CSV pages read as records). Pure.
#pragma once

#include <string>
#include <string_view>

namespace octohub {

// Appends text as a JSON string literal (quotes included): quotes, backslashes and control
// characters escaped, everything else (valid UTF-8, checked by the caller) copied in runs.
void AppendJsonString(std::string& out, std::string_view text);

}  // namespace octohub

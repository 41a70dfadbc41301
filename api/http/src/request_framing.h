// Where a request's body ends, read from its head before Pistache parses it. Pistache 0.0.5
// accepts heads that let two servers disagree about the body (RFC 9112 §6.3: request
// smuggling): two different Content-Length values, "+5", a space before a header's colon.
// These are refused here, in one place. Private to api/http/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace octohub::http {

struct RequestFraming {
  std::size_t head_bytes = 0;  // request line, headers and the blank line
  std::optional<std::uint64_t> content_length;
  bool chunked = false;
};

struct FramingProblem {
  int status;  // 400, or 501 for a transfer coding other than chunked
  std::string detail;
};

// The end of the head ("\r\n\r\n") in `text`, just past it, or nullopt.
std::optional<std::size_t> HeadEnd(std::string_view text);

// Reads the framing of `head` (through its blank line), or says why it must be refused.
std::optional<FramingProblem> CheckFraming(std::string_view head, RequestFraming& framing);

}  // namespace octohub::http

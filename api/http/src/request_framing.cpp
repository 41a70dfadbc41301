#include "request_framing.h"

#include <algorithm>
#include <cctype>

namespace octohub::http {
namespace {

// RFC 9110 §5.6.2: the characters of a token, such as a header name.
bool IsTokenChar(unsigned char c) {
  return std::isalnum(c) ||
         std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

std::string_view TrimSpaces(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

FramingProblem BadRequest(std::string detail) { return {400, std::move(detail)}; }

}  // namespace

std::optional<std::size_t> HeadEnd(std::string_view text) {
  const std::size_t at = text.find("\r\n\r\n");
  if (at == std::string_view::npos) return std::nullopt;
  return at + 4;
}

std::optional<FramingProblem> CheckFraming(std::string_view head, RequestFraming& framing) {
  framing = {};
  framing.head_bytes = head.size();
  std::size_t line_start = head.find("\r\n");  // past the request line
  if (line_start == std::string_view::npos) return BadRequest("the request has no request line");
  line_start += 2;
  std::optional<std::string> transfer_encoding;
  while (line_start < head.size()) {
    const std::size_t line_end = head.find("\r\n", line_start);
    if (line_end == std::string_view::npos || line_end == line_start) break;  // the blank line
    const std::string_view line = head.substr(line_start, line_end - line_start);
    line_start = line_end + 2;
    if (line.front() == ' ' || line.front() == '\t') {
      return BadRequest("a header line continues the one before it (obsolete line folding)");
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return BadRequest("a header line has no colon");
    const std::string_view name = line.substr(0, colon);
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) {
          return IsTokenChar(static_cast<unsigned char>(c));
        })) {
      return BadRequest("a header name is empty or holds a space or other character names may not");
    }
    const std::string_view value = TrimSpaces(line.substr(colon + 1));
    if (EqualsIgnoringCase(name, "Content-Length")) {
      if (value.empty() || value.size() > 19 ||
          !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return BadRequest("Content-Length must be a number of bytes written with digits only");
      }
      const std::uint64_t length = std::stoull(std::string(value));
      if (framing.content_length && *framing.content_length != length) {
        return BadRequest("the request has two Content-Length headers that disagree");
      }
      framing.content_length = length;
    } else if (EqualsIgnoringCase(name, "Transfer-Encoding")) {
      if (transfer_encoding) {
        return BadRequest("the request has more than one Transfer-Encoding header");
      }
      transfer_encoding = std::string(value);
    }
  }
  if (transfer_encoding) {
    if (!EqualsIgnoringCase(*transfer_encoding, "chunked")) {
      return FramingProblem{
          501, "the only transfer coding accepted is chunked, not \"" + *transfer_encoding + "\""};
    }
    if (framing.content_length) {
      return BadRequest("the request has both Content-Length and Transfer-Encoding");
    }
    framing.chunked = true;
  }
  return std::nullopt;
}

}  // namespace octohub::http

// Writing answers through Pistache 0.0.5: typed headers only, keep-alive restored, the
// security headers on every answer, and a closed connection when the answer says Close.
// Private to api/http/.
#pragma once

#include <pistache/http.h>

#include <string>
#include <utility>
#include <vector>

#include "octohub/http/types.h"

namespace octohub::http {
namespace Http = Pistache::Http;

// Pistache 0.0.5 serializes typed headers only (addRaw ones are dropped), so every header
// we set goes through this one typed header with a name chosen at run time.
class NamedHeader final : public Http::Header::Header {
 public:
  NamedHeader(std::string name, std::string value)
      : name_(std::move(name)), value_(std::move(value)) {}
  const char* name() const override { return name_.c_str(); }
  void write(std::ostream& stream) const override { stream << value_; }
#ifdef SAFE_HEADER_CAST
  uint64_t hash() const override { return std::hash<std::string>{}(name_); }
#endif

 private:
  std::string name_;
  std::string value_;
};

// Pistache 0.0.5 answers "Connection: Close" to any request without a Connection header,
// and silently keeps that header if we only add another: whether the client wants to keep
// the connection, by HTTP/1.1's default.
bool WantsKeepAlive(const Http::Request& request);

// Replies use a handful of content types: each is parsed once per thread.
const Http::Mime::MediaType& MediaTypeOf(const std::string& content_type);

// Sent with every answer: the browser may not guess content types, leaks no referrer, and
// runs only this server's own scripts and styles, never inline ones, in no frame. A reply may
// bring its own policy (the API reference page needs Redoc's inline styles).
const std::vector<std::pair<std::string, std::string>>& SecurityHeaders(const Reply& reply);

// The status, Connection, Content-Type, the reply's and the security headers.
void SetHeaders(Http::ResponseWriter& writer, const Reply& reply, bool keep_alive);

// The status line and headers of a streamed (chunked) response.
std::string StreamHead(const Reply& reply, bool keep_alive);

// Answers; with keep_alive false the connection is closed once the answer is out (Pistache
// would leave it open although the answer says "Connection: Close").
void Send(Http::ResponseWriter& writer, const Reply& reply, bool keep_alive);

}  // namespace octohub::http

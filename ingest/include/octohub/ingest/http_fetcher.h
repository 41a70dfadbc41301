// HTTP client interface used by ingest (and later by forwarding), with a libcurl implementation.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "octohub/core/status.h"

namespace octohub::ingest {

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Credentials go only to `credentials_origin` (the URL's own origin when empty): a request
  // to, or a redirect towards, any other origin is sent without them.
  std::vector<std::pair<std::string, std::string>> credential_headers;
  std::optional<std::pair<std::string, std::string>> basic_auth;  // username, password
  std::string credentials_origin;
  double timeout_s = 30;
  // A stop request aborts the transfer within about a second (kCancelled).
  std::stop_token stop;
};

struct HttpResponse {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
  std::string body;
  std::string final_url;  // after redirects

  // The first header with this (lower-case) name.
  std::optional<std::string> Header(std::string_view name) const;
};

// "scheme://host:port" in lower case with the default port made explicit, or "" when `url` is
// not an absolute http(s) URL. Two URLs share an origin when these are equal (RFC 6454).
std::string UrlOrigin(std::string_view url);

// Sends one request and returns whatever status the server answered; a Status only when no
// answer came (connection refused, timeout, TLS failure, body over the size limit, stopped).
// Implementations are not thread-safe: one fetcher per worker thread.
class HttpFetcher {
 public:
  virtual ~HttpFetcher() = default;
  virtual Result<HttpResponse> Fetch(const HttpRequest& request) = 0;
};

struct CurlFetcherOptions {
  std::string user_agent = "octohub/0.1";
  size_t max_body_bytes = size_t{256} * 1024 * 1024;
  long max_redirects = 10;
};

// libcurl with connection reuse, gzip/deflate, redirects and TLS verification.
std::unique_ptr<HttpFetcher> MakeCurlFetcher(const CurlFetcherOptions& options = {});

}  // namespace octohub::ingest

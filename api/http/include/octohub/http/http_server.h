// The HTTP layer every Octohub endpoint runs on: Pistache with its 0.0.5 defects handled
// (keep-alive restored, headers written, bodies capped), routes matched by method and path,
// and handlers that touch PostgreSQL or the index run on a worker pool rather than on the
// reactor threads. Errors are application/problem+json.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "octohub/core/metrics.h"
#include "octohub/core/status.h"
#include "octohub/http/types.h"

namespace octohub::http {

struct HttpServerOptions {
  std::string listen = "127.0.0.1:8080";  // host:port; port 0 picks a free one
  int reactor_threads = 2;
  int worker_threads = 4;
  // Larger: 413, answered once headers arrive.
  std::size_t max_body_bytes = std::size_t{8} * 1024 * 1024;
  std::size_t max_header_bytes = std::size_t{64} * 1024;  // request line and headers; larger: 431
  // A request's headers must arrive within header_timeout and its body within body_timeout
  // (408 otherwise); an idle keep-alive connection is closed after keepalive_timeout.
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{60'000};
  std::chrono::milliseconds keepalive_timeout{75'000};
  // A connection whose answer the client has not read any of for send_timeout is closed
  // (0: never).
  std::chrono::milliseconds send_timeout{30'000};
  // CORS: origins allowed to call from a browser ("*": any); empty turns CORS off.
  std::vector<std::string> cors_origins;
  Authorizer authorize;        // required when any route has a role
  Metrics* metrics = nullptr;  // requests and latencies by route, when given
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, std::vector<Route> routes);
  ~HttpServer();

  // Binds and serves in background threads. kUnavailable when the address is in use or
  // cannot be bound; kInvalidArgument when it does not parse.
  Status Start();
  std::uint16_t port() const;

  // Stops taking requests, lets in-flight ones finish (bounded), joins every thread.
  void Shutdown();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace octohub::http

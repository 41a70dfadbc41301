// The HTTP layer every Octohub endpoint runs on: Pistache with its 0.0.5 defects handled
// (keep-alive restored, headers written, bodies capped), routes matched by method and path,
// and handlers that touch PostgreSQL or the index run on a worker pool rather than on the
// reactor threads. Errors are application/problem+json.
#pragma once

#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "octohub/core/body_writer.h"
#include "octohub/core/metrics.h"
#include "octohub/core/status.h"

namespace octohub::api {

// Who may call a route: anyone, or a key of at least this role (read < write < admin).
enum class Role { kPublic = 0, kRead = 1, kWrite = 2, kAdmin = 3 };

struct RequestView {
  std::string method;
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  std::string body;
  std::string if_none_match;
  std::string authorization;  // the Authorization header, as sent
  std::string content_type;
  std::vector<std::string> path_params;  // decoded {captures}, in order
  std::string client;                    // the peer's address (no port)
  std::string origin;                    // the Origin header, for CORS
  std::string key_name;  // set by the Authorizer: the name of the key used, for the access log
};

struct Reply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the status and headers go out first and this produces the body (instead of
  // `body`), on a thread of its own. A failed Status after the headers cannot be reported
  // any more: the connection is closed without the last chunk, so the client sees an
  // incomplete transfer rather than a truncated success.
  std::function<Status(BodyWriter&)> stream;
};

Reply JsonReply(int status, const boost::json::value& body);
// application/problem+json (RFC 9457): type, title, status, detail, and errors for fields.
Reply ProblemReply(int status, const std::string& detail,
                   const std::vector<FieldError>& errors = {});
// The one place where domain statuses become HTTP statuses.
Reply ReplyForStatus(const Status& status);

struct Route {
  std::string method;
  std::string pattern;                               // "/api/v1/records/{source}/{id}"
  std::function<Reply(const RequestView&)> handler;  // must be thread-safe
  bool on_worker = true;  // blocks (PostgreSQL, index): run off the reactor thread
  Role role = Role::kPublic;
};

// Decides, on a worker thread, whether a request may use a route that needs `role`:
// nullopt to let it through, or the reply (401, 403, 429, 503) to send instead. It may set
// request.key_name.
using Authorizer = std::function<std::optional<Reply>(Role role, RequestView& request)>;

struct HttpServerOptions {
  std::string listen = "127.0.0.1:8080";  // host:port; port 0 picks a free one
  int reactor_threads = 2;
  int worker_threads = 4;
  std::size_t max_body_bytes = 8 * 1024 * 1024;  // larger: 413, answered once headers arrive
  std::size_t max_header_bytes = 64 * 1024;      // request line and headers; larger: 431
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

}  // namespace octohub::api

// The values every route deals in: the request as handlers see it, the reply they give, the
// route that maps one to the other, and who may call it. No server in sight: the router, the
// replies and the routes of the API need only these.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "octohub/core/body_writer.h"
#include "octohub/core/status.h"

namespace octohub::http {

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
  // The other headers (X-…, webhook-…, Stripe-Signature), names in lower case.
  std::map<std::string, std::string> headers;
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

// A path parameter that must be a whole number (an id); nullopt otherwise.
std::optional<std::int64_t> ParseIdParam(const std::string& text);

// Decides, on a worker thread, whether a request may use a route that needs `role`:
// nullopt to let it through, or the reply (401, 403, 429, 503) to send instead. It may set
// request.key_name.
using Authorizer = std::function<std::optional<Reply>(Role role, RequestView& request)>;

}  // namespace octohub::http

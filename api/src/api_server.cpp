#include <cmath>

#include "octohub/api/server.h"
#include "rate_limiter.h"
#include "routes.h"
#include "static_assets.h"

namespace octohub::api {
namespace {

Reply Unauthorized(const std::string& detail) {
  Reply reply = ProblemReply(401, detail);
  reply.headers.emplace_back("WWW-Authenticate", "Bearer");
  return reply;
}

Reply TooManyRequests(double wait_seconds, const std::string& who) {
  Reply reply = ProblemReply(429, who + " is over its request rate; try again later");
  reply.headers.emplace_back("Retry-After",
                             std::to_string(static_cast<long>(std::ceil(wait_seconds))));
  return reply;
}

// Bearer keys and roles (read < write < admin); public_read opens the read routes. Each key,
// and each address of anonymous clients, has its own request rate.
Authorizer MakeAuthorizer(KeyStore& keys, bool public_read, RateLimiter& limiter) {
  return
      [&keys, public_read, &limiter](Role required, RequestView& request) -> std::optional<Reply> {
        constexpr std::string_view kBearer = "Bearer ";
        if (request.authorization.empty()) {
          if (public_read && required == Role::kRead) {
            if (double wait = limiter.Take("address " + request.client); wait > 0) {
              return TooManyRequests(wait, "this address");
            }
            return std::nullopt;
          }
          return Unauthorized("this endpoint needs an API key: Authorization: Bearer <key>");
        }
        if (request.authorization.rfind(kBearer, 0) != 0) {
          return Unauthorized("the Authorization header must be \"Bearer <key>\"");
        }
        auto key = keys.Authenticate(request.authorization.substr(kBearer.size()));
        if (!key.ok()) return ReplyForStatus(key.status());
        if (!*key) return Unauthorized("the API key is unknown or revoked");
        request.key_name = (*key)->name;
        if ((*key)->role < required) {
          return ProblemReply(403, std::string("this endpoint needs the ") + RoleName(required) +
                                       " role; the key \"" + (*key)->name + "\" has " +
                                       RoleName((*key)->role));
        }
        if (double wait = limiter.Take("key " + std::to_string((*key)->id)); wait > 0) {
          return TooManyRequests(wait, "the key \"" + (*key)->name + "\"");
        }
        return std::nullopt;
      };
}

std::vector<Route> WithExportRoutes(std::vector<Route> routes, const ServerDependencies& deps,
                                    int max_exports) {
  AddExportRoutes(routes, deps, max_exports);
  return routes;
}

HttpServerOptions WithAuthorizer(HttpServerOptions options, Authorizer authorize,
                                 Metrics& metrics) {
  options.authorize = std::move(authorize);
  options.metrics = &metrics;
  return options;
}

}  // namespace

struct ApiServer::Impl {
  Impl(ServerOptions options, ServerDependencies deps)
      : deps(deps),
        keys(deps.db),
        limiter(options.rate_limit, options.rate_burst),
        http(WithAuthorizer(std::move(options.http),
                            MakeAuthorizer(keys, options.public_read, limiter), deps.metrics),
             WithExportRoutes(BuildRoutes(this->deps, keys, assets), this->deps,
                              options.max_exports)) {}

  ServerDependencies deps;
  KeyStore keys;
  RateLimiter limiter;
  StaticAssets assets;  // before http: the routes refer to it
  HttpServer http;
};

ApiServer::ApiServer(ServerOptions options, ServerDependencies deps)
    : impl_(new Impl(std::move(options), deps)) {}

ApiServer::~ApiServer() = default;

Status ApiServer::Start() { return impl_->http.Start(); }
std::uint16_t ApiServer::port() const { return impl_->http.port(); }
void ApiServer::Shutdown() { impl_->http.Shutdown(); }

}  // namespace octohub::api

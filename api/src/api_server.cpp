#include "octohub/api/server.h"
#include "routes.h"
#include "static_assets.h"

namespace octohub::api {
namespace {

Reply Unauthorized(const std::string& detail) {
  Reply reply = ProblemReply(401, detail);
  reply.headers.emplace_back("WWW-Authenticate", "Bearer");
  return reply;
}

// Bearer keys and roles (read < write < admin); public_read opens the read routes.
Authorizer MakeAuthorizer(KeyStore& keys, bool public_read) {
  return [&keys, public_read](Role required, const RequestView& request) -> std::optional<Reply> {
    constexpr std::string_view kBearer = "Bearer ";
    if (request.authorization.empty()) {
      if (public_read && required == Role::kRead) return std::nullopt;
      return Unauthorized("this endpoint needs an API key: Authorization: Bearer <key>");
    }
    if (request.authorization.rfind(kBearer, 0) != 0) {
      return Unauthorized("the Authorization header must be \"Bearer <key>\"");
    }
    auto key = keys.Authenticate(request.authorization.substr(kBearer.size()));
    if (!key.ok()) return ReplyForStatus(key.status());
    if (!*key) return Unauthorized("the API key is unknown or revoked");
    if ((*key)->role < required) {
      return ProblemReply(403, std::string("this endpoint needs the ") + RoleName(required) +
                                   " role; the key \"" + (*key)->name + "\" has " +
                                   RoleName((*key)->role));
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
        http(WithAuthorizer(std::move(options.http), MakeAuthorizer(keys, options.public_read),
                            deps.metrics),
             WithExportRoutes(BuildRoutes(this->deps, keys, assets), this->deps,
                              options.max_exports)) {}

  ServerDependencies deps;
  KeyStore keys;
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

#include "octohub/api/server.h"
#include "routes.h"
#include "static_assets.h"

namespace octohub::api {

struct ApiServer::Impl {
  Impl(ServerOptions options, ServerDependencies deps)
      : deps(deps), http(std::move(options), BuildRoutes(this->deps, assets)) {}

  ServerDependencies deps;
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

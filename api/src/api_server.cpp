#include <cctype>
#include <cmath>

#include "octohub/api/server.h"
#include "octohub/ingest/push.h"
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

// The key of an "Authorization: Bearer <key>" header; the scheme is case-insensitive
// (RFC 9110 §11.1). nullopt for any other scheme or shape.
std::optional<std::string_view> BearerKey(std::string_view header) {
  constexpr std::string_view kScheme = "bearer";
  if (header.size() <= kScheme.size() || header[kScheme.size()] != ' ') return std::nullopt;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) != kScheme[i]) return std::nullopt;
  }
  std::string_view key = header.substr(kScheme.size());
  while (!key.empty() && key.front() == ' ') key.remove_prefix(1);
  while (!key.empty() && key.back() == ' ') key.remove_suffix(1);
  if (key.empty()) return std::nullopt;
  return key;
}

// Bearer keys and roles (read < write < admin); public_read opens the read routes. Each key,
// and each address of anonymous clients, has its own request rate; an address that keeps
// sending wrong keys is refused for a while before its keys are even looked up.
Authorizer MakeAuthorizer(KeyStore& keys, bool public_read, RateLimiter& limiter,
                          RateLimiter& failures) {
  return [&keys, public_read, &limiter, &failures](Role required,
                                                   RequestView& request) -> std::optional<Reply> {
    if (request.authorization.empty()) {
      if (public_read && required == Role::kRead) {
        if (double wait = limiter.Take("address " + request.client); wait > 0) {
          return TooManyRequests(wait, "this address");
        }
        return std::nullopt;
      }
      return Unauthorized("this endpoint needs an API key: Authorization: Bearer <key>");
    }
    if (double wait = failures.Wait(request.client); wait > 0) {
      Reply reply =
          ProblemReply(429, "too many wrong API keys came from this address; try again later");
      reply.headers.emplace_back("Retry-After", std::to_string(static_cast<long>(std::ceil(wait))));
      return reply;
    }
    auto presented = BearerKey(request.authorization);
    if (!presented) {
      failures.Take(request.client);
      return Unauthorized("the Authorization header must be \"Bearer <key>\"");
    }
    auto key = keys.Authenticate(*presented);
    if (!key.ok()) return ReplyForStatus(key.status());
    if (!*key) {
      failures.Take(request.client);
      return Unauthorized("the API key is unknown or revoked");
    }
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
        failures(options.auth_failures_per_minute / 60.0, options.auth_failures_per_minute),
        search_log(options.analytics_days > 0
                       ? std::make_unique<SearchLog>(deps.db, options.analytics_days)
                       : nullptr),
        push(OwnPushReceiver(this->deps)),
        http(WithAuthorizer(std::move(options.http),
                            MakeAuthorizer(keys, options.public_read, limiter, failures),
                            deps.metrics),
             BuildRoutes(this->deps, keys, assets, options.max_exports, search_log.get())) {}

  ServerDependencies deps;
  KeyStore keys;
  RateLimiter limiter;
  RateLimiter failures;                        // wrong keys per client address
  StaticAssets assets;                         // before http: the routes refer to it
  std::unique_ptr<SearchLog> search_log;       // before http, as assets
  std::unique_ptr<ingest::PushReceiver> push;  // before http, as assets (null: the caller's)
  HttpServer http;

  // A receiver of pushes for the routes, unless the caller gave one.
  static std::unique_ptr<ingest::PushReceiver> OwnPushReceiver(ServerDependencies& deps) {
    if (deps.push != nullptr) return nullptr;
    auto receiver = std::make_unique<ingest::PushReceiver>(deps.db);
    deps.push = receiver.get();
    return receiver;
  }
};

ApiServer::ApiServer(ServerOptions options, ServerDependencies deps)
    : impl_(new Impl(std::move(options), deps)) {}

ApiServer::~ApiServer() = default;

Status ApiServer::Start() { return impl_->http.Start(); }
std::uint16_t ApiServer::port() const { return impl_->http.port(); }
void ApiServer::Shutdown() { impl_->http.Shutdown(); }

}  // namespace octohub::api

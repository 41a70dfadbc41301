#include "octohub/http/http_server.h"

#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/peer.h>
#include <simdjson.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stop_token>
#include <thread>
#include <unordered_map>

#include "access_log.h"
#include "answer.h"
#include "chunked_body.h"
#include "http_reply.h"
#include "octohub/core/log.h"
#include "raw_query.h"
#include "request_reader.h"
#include "router.h"
#include "send_watchdog.h"

namespace octohub::http {
namespace Http = Pistache::Http;

namespace {

Status AddQueryParam(std::string_view raw_name, std::string_view raw_value, RequestView& view) {
  std::string name, value;
  if (!PercentDecode(raw_name, name, true) || !PercentDecode(raw_value, value, true)) {
    return InvalidArgument("the query string has a malformed %-escape");
  }
  if (!simdjson::validate_utf8(name.data(), name.size()) ||
      !simdjson::validate_utf8(value.data(), value.size())) {
    return InvalidArgument("the query string is not valid UTF-8 once %-decoded");
  }
  view.query.emplace_back(std::move(name), std::move(value));
  return {};
}

// Names and values arrive percent-encoded. The raw query keeps order and repeated names;
// Pistache's own map is the fallback.
Result<RequestView> ViewOf(const Http::Request& request, const Http::ResponseWriter& writer) {
  RequestView view;
  view.method = Http::methodString(request.method());
  view.path = request.resource();
  if (auto raw = RawQueryOf(writer)) {
    for (const auto& [name, value] : SplitQuery(*raw)) {
      if (auto status = AddQueryParam(name, value, view); !status.ok()) return status;
    }
  } else {
    const auto& query = request.query();
    for (auto it = query.parameters_begin(); it != query.parameters_end(); ++it) {
      if (auto status = AddQueryParam(it->first, it->second, view); !status.ok()) return status;
    }
  }
  view.body = request.body();
  if (auto etag = request.headers().tryGetRaw("If-None-Match")) view.if_none_match = etag->value();
  // Registered headers are parsed into typed ones and are not found raw.
  if (auto auth = request.headers().tryGet<Http::Header::Authorization>()) {
    view.authorization = auth->value();
  }
  if (auto type = request.headers().tryGet<Http::Header::ContentType>()) {
    view.content_type = type->mime().toString();
  }
  if (auto origin = request.headers().tryGetRaw("Origin")) view.origin = origin->value();
  for (const auto& [name, raw] : request.headers().rawList()) {
    std::string lower = name;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    view.headers.insert_or_assign(std::move(lower), raw.value());
  }
  view.client = request.address().host();
  return view;
}

}  // namespace

struct HttpServer::Impl {
  Impl(HttpServerOptions o, std::vector<Route> routes)
      : options(std::move(o)), router(std::move(routes)) {}

  HttpServerOptions options;
  Router router;
  AccessLog access_log;
  std::shared_ptr<Http::Endpoint> endpoint;
  std::unique_ptr<boost::asio::thread_pool> pool;
  std::atomic<bool> draining{false};
  std::atomic<bool> stop_streams{false};  // streamed bodies give up (shutdown overran)
  std::mutex mutex;
  std::condition_variable idle;
  int in_flight = 0;
  bool started = false;

  void Handle(const Http::Request& request, Http::ResponseWriter writer) {
    const auto started_at = std::chrono::steady_clock::now();
    const bool keep_alive = WantsKeepAlive(request);
    auto parsed = ViewOf(request, writer);
    if (!parsed.ok()) {
      RequestView bare{Http::methodString(request.method()), request.resource(), {}, {}, {}, {}};
      return Finish(writer, bare, "unmatched", ReplyForStatus(parsed.status()), keep_alive,
                    started_at);
    }
    RequestView view = std::move(*parsed);
    if (draining) {
      return Send(writer, ProblemReply(503, "the server is shutting down"), false);
    }
    if (!options.cors_origins.empty() && view.method == "OPTIONS" &&
        request.headers().tryGetRaw("Access-Control-Request-Method")) {
      const std::string wanted =
          request.headers().tryGetRaw("Access-Control-Request-Method")->value();
      return Finish(writer, view, "preflight", Preflight(view, wanted), keep_alive, started_at);
    }
    auto match = router.Find(view.method, view.path);
    if (match.route == nullptr) {
      Reply reply = match.allowed.empty()
                        ? ProblemReply(404, "no such endpoint: " + view.path)
                        : ProblemReply(405, view.method + " is not allowed on " + view.path);
      if (!match.allowed.empty()) {
        std::string allow;
        for (const auto& m : match.allowed) allow += (allow.empty() ? "" : ", ") + m;
        reply.headers.emplace_back("Allow", allow);
      }
      return Finish(writer, view, "unmatched", reply, keep_alive, started_at);
    }
    // Names and ids reach PostgreSQL and the index: text that is not UTF-8 stops here, with
    // a reason, rather than deep inside with theirs.
    for (const auto& value : match.params) {
      if (!simdjson::validate_utf8(value.data(), value.size())) {
        return Finish(writer, view, "unmatched",
                      ProblemReply(400, "the path is not valid UTF-8 once %-decoded"), keep_alive,
                      started_at);
      }
    }
    view.path_params = std::move(match.params);
    const Route* route = match.route;
    if (!route->on_worker && route->role == Role::kPublic) {
      return Finish(writer, view, route->pattern, route->handler(view), keep_alive, started_at);
    }
    {
      std::lock_guard lock(mutex);
      ++in_flight;
    }
    boost::asio::post(*pool, [this, route, view = std::move(view), writer = std::move(writer),
                              keep_alive, started_at]() mutable {
      Reply reply;
      try {
        std::optional<Reply> denied;
        if (route->role != Role::kPublic) {
          denied = options.authorize
                       ? options.authorize(route->role, view)
                       : std::optional<Reply>(ProblemReply(403, "no keys configured"));
        }
        reply = denied ? std::move(*denied) : route->handler(view);
      } catch (const std::exception& e) {
        log::Error("http.handler_failed", {{"route", route->pattern}, {"reason", e.what()}});
        reply = ProblemReply(500, "internal error");
      }
      Finish(writer, view, route->pattern, reply, keep_alive, started_at);
      std::lock_guard lock(mutex);
      if (--in_flight == 0) idle.notify_all();
    });
  }

  bool OriginAllowed(const std::string& origin) const {
    for (const auto& allowed : options.cors_origins) {
      if (allowed == "*" || allowed == origin) return true;
    }
    return false;
  }

  // A CORS preflight: which methods and headers a page of an allowed origin may use.
  Reply Preflight(const RequestView& view, const std::string& wanted) const {
    if (view.origin.empty() || !OriginAllowed(view.origin)) {
      return ProblemReply(403, "the origin \"" + view.origin + "\" may not call this API");
    }
    auto match = router.Find(wanted, view.path);
    if (match.route == nullptr && match.allowed.empty()) {
      return ProblemReply(404, "no such endpoint: " + view.path);
    }
    std::string methods = match.route != nullptr ? wanted : "";
    for (const auto& m : match.allowed) methods += (methods.empty() ? "" : ", ") + m;
    return Reply{204,
                 "application/json",
                 "",
                 {{"Access-Control-Allow-Methods", methods},
                  {"Access-Control-Allow-Headers", "Authorization, Content-Type, If-None-Match"},
                  {"Access-Control-Max-Age", "600"}}};
  }

  // Vary: Origin on every answer while CORS is on (caches must not mix origins), and the
  // allow headers for an allowed origin.
  void AddCorsHeaders(const RequestView& view, Reply& reply) const {
    reply.headers.emplace_back("Vary", "Origin");
    if (view.origin.empty() || !OriginAllowed(view.origin)) return;
    reply.headers.emplace_back("Access-Control-Allow-Origin", view.origin);
    reply.headers.emplace_back("Access-Control-Expose-Headers",
                               "ETag, Location, Retry-After, Content-Disposition");
  }

  void Finish(Http::ResponseWriter& writer, const RequestView& view, const std::string& route,
              const Reply& reply, bool keep_alive, std::chrono::steady_clock::time_point start) {
    const Reply* answer = &reply;
    Reply with_cors;
    if (!options.cors_origins.empty()) {
      with_cors = reply;
      AddCorsHeaders(view, with_cors);
      answer = &with_cors;
    }
    if (answer->stream) return StartStream(writer, view, route, *answer, keep_alive, start);
    Send(writer, *answer, keep_alive);
    Record(view, route, answer->status, start, {});
  }

  // A streamed body runs on a thread of its own: it may last minutes, and must not hold a
  // worker that other requests need. It counts as in flight until it ends.
  void StartStream(Http::ResponseWriter& writer, const RequestView& view, const std::string& route,
                   const Reply& reply, bool keep_alive,
                   std::chrono::steady_clock::time_point start) {
    {
      std::lock_guard lock(mutex);
      ++in_flight;
    }
    std::thread([this, writer = std::move(writer), view, route, reply = Reply(reply), keep_alive,
                 start]() mutable {
      {
        // The writer and the reply (which holds the producer) end before the server may:
        // once in_flight drops to 0, Shutdown goes on to tear the transport down.
        Http::ResponseWriter own_writer = std::move(writer);
        Reply own_reply = std::move(reply);
        Stream(own_writer, view, route, own_reply, keep_alive, start);
      }
      std::lock_guard lock(mutex);
      if (--in_flight == 0) idle.notify_all();
    }).detach();
  }

  void Stream(Http::ResponseWriter& writer, const RequestView& view, const std::string& route,
              const Reply& reply, bool keep_alive, std::chrono::steady_clock::time_point start) {
    ChunkedBody body(writer.getPeer(), stop_streams);
    std::string outcome = "complete";
    try {
      // Everything goes through the peer's write queue, served by its reactor thread:
      // ResponseStream::flush() would also write from this thread, racing the reactor.
      if (!body.Begin(StreamHead(reply, keep_alive))) {
        Record(view, route, reply.status, start, {{"outcome", "client_gone"}});
        return;
      }
      Status produced = reply.stream(body);
      if (!produced.ok()) {
        outcome = produced.code() == StatusCode::kCancelled ? "client_gone" : "failed";
        body.Abort();
        if (outcome == "failed") {
          log::Error("http.stream_failed", {{"route", route}, {"reason", produced.message()}});
        }
      } else if (!body.Finish()) {
        outcome = "client_gone";
      } else if (!keep_alive) {
        body.Abort();  // everything was written: this only closes, as asked
      }
    } catch (const std::exception& e) {
      outcome = "failed";
      body.Abort();
      log::Error("http.stream_failed", {{"route", route}, {"reason", e.what()}});
    }
    Record(view, route, reply.status, start, {{"body_bytes", body.bytes()}, {"outcome", outcome}});
  }

  void Record(const RequestView& view, const std::string& route, int status,
              std::chrono::steady_clock::time_point start, const boost::json::object& extra) {
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (options.metrics != nullptr) {
      options.metrics->Add(
          "octohub_http_requests_total",
          {{"route", route}, {"method", view.method}, {"status", std::to_string(status)}});
      options.metrics->Observe("octohub_http_request_duration_seconds", {{"route", route}},
                               ms / 1000);
    }
    boost::json::object line{{"method", view.method}, {"route", route},   {"path", view.path},
                             {"status", status},      {"latency_ms", ms}, {"client", view.client}};
    if (!view.key_name.empty()) line["key"] = view.key_name;  // the key's name, never the key
    for (auto& [name, value] : extra) line[name] = value;
    access_log.Add(log::Format(log::Level::kInfo, "http.request", std::move(line)));
  }
};

HttpServer::HttpServer(HttpServerOptions options, std::vector<Route> routes)
    : impl_(new Impl(std::move(options), std::move(routes))) {
  if (Metrics* metrics = impl_->options.metrics) {
    metrics->Declare("octohub_http_requests_total", Metrics::Type::kCounter,
                     "HTTP requests answered, by route, method and status");
    metrics->Declare("octohub_http_request_duration_seconds", Metrics::Type::kHistogram,
                     "time from request to answer, by route");
  }
}

HttpServer::~HttpServer() { Shutdown(); }

Status HttpServer::Start() {
  auto& s = *impl_;
  const std::string& listen = s.options.listen;
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    return InvalidArgument("--listen must be host:port, not \"" + listen + "\"");
  }
  try {
    Pistache::Address address(
        listen.substr(0, colon),
        Pistache::Port(static_cast<uint16_t>(std::stoi(listen.substr(colon + 1)))));
    s.pool = std::make_unique<boost::asio::thread_pool>(s.options.worker_threads);
    s.endpoint = std::make_shared<Http::Endpoint>(address);
    auto opts = Http::Endpoint::options()
                    .threads(s.options.reactor_threads)
                    .flags(Pistache::Tcp::Options::ReuseAddr)
                    .backlog(1024)  // bursts of new connections queue rather than retry SYNs
                    .maxRequestSize(s.options.max_body_bytes + s.options.max_header_bytes)
                    .headerTimeout(s.options.header_timeout)
                    .bodyTimeout(s.options.body_timeout)
                    .keepaliveTimeout(s.options.keepalive_timeout);
    s.endpoint->init(opts);
    auto fn = std::make_shared<RequestFn>(
        [impl = impl_.get()](const Http::Request& request, Http::ResponseWriter writer) {
          impl->Handle(request, std::move(writer));
        });
    s.endpoint->setHandler(
        MakeRequestReader(fn, Limits{s.options.max_header_bytes, s.options.max_body_bytes},
                          std::make_shared<SendWatchdog>(s.options.send_timeout)));
    s.endpoint->serveThreaded();
  } catch (const std::exception& e) {
    s.endpoint.reset();
    if (s.pool) s.pool->join();
    s.pool.reset();
    return Unavailable("cannot listen on " + listen + ": " + e.what());
  }
  s.started = true;
  log::Info("http.listening",
            {{"address", listen.substr(0, colon) + ":" + std::to_string(port())}});
  return Status::Ok();
}

std::uint16_t HttpServer::port() const {
  return impl_->endpoint ? static_cast<std::uint16_t>(impl_->endpoint->getPort()) : 0;
}

void HttpServer::Shutdown() {
  auto& s = *impl_;
  if (!s.started) return;
  s.started = false;
  s.draining = true;
  {
    // In-flight requests finish (bounded) before the reactor stops under them.
    std::unique_lock lock(s.mutex);
    s.idle.wait_for(lock, std::chrono::seconds(5), [&] { return s.in_flight == 0; });
    // Streamed bodies (exports) that are still going are cut short, and end within moments.
    s.stop_streams = true;
    s.idle.wait_for(lock, std::chrono::seconds(5), [&] { return s.in_flight == 0; });
  }
  s.endpoint->shutdown();
  s.pool->join();
  s.access_log.Flush();
  log::Info("http.stopped");
}

}  // namespace octohub::http

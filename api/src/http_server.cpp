#include "octohub/api/http_server.h"

#include <pistache/endpoint.h>
#include <pistache/http.h>

#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "chunked_body.h"
#include "http_reply.h"
#include "octohub/core/log.h"
#include "router.h"

namespace octohub::api {
namespace Http = Pistache::Http;

namespace {

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
// and silently keeps that header if we only add another: remove it, then set ours.
bool WantsKeepAlive(const Http::Request& request) {
  auto connection = request.headers().tryGet<Http::Header::Connection>();
  if (request.version() == Http::Version::Http11) {
    return !connection || connection->control() != Http::ConnectionControl::Close;
  }
  return connection && connection->control() == Http::ConnectionControl::KeepAlive;
}

void SetHeaders(Http::ResponseWriter& writer, const Reply& reply, bool keep_alive) {
  auto& headers = writer.headers();
  headers.remove<Http::Header::Connection>();
  headers.add<Http::Header::Connection>(keep_alive ? Http::ConnectionControl::KeepAlive
                                                   : Http::ConnectionControl::Close);
  // Pistache writes Content-Type from the MIME type only; a raw header would be dropped.
  if (reply.status != 304) writer.setMime(Http::Mime::MediaType::fromString(reply.content_type));
  for (const auto& [name, value] : reply.headers)
    headers.add(std::make_shared<NamedHeader>(name, value));
}

// The status line and headers of a streamed (chunked) response.
std::string StreamHead(const Reply& reply, bool keep_alive) {
  std::string head = "HTTP/1.1 " + std::to_string(reply.status) + " " +
                     Http::codeString(static_cast<Http::Code>(reply.status)) + "\r\n";
  head += "Content-Type: " + reply.content_type + "\r\n";
  head += "Transfer-Encoding: chunked\r\n";
  head += keep_alive ? "Connection: Keep-Alive\r\n" : "Connection: Close\r\n";
  for (const auto& [name, value] : reply.headers) head += name + ": " + value + "\r\n";
  return head + "\r\n";
}

void Send(Http::ResponseWriter& writer, const Reply& reply, bool keep_alive) {
  SetHeaders(writer, reply, keep_alive);
  writer.send(static_cast<Http::Code>(reply.status), reply.body);
}

// Pistache splits the query string but leaves names and values percent-encoded.
Result<RequestView> ViewOf(const Http::Request& request) {
  RequestView view;
  view.method = Http::methodString(request.method());
  view.path = request.resource();
  const auto& query = request.query();
  for (auto it = query.parameters_begin(); it != query.parameters_end(); ++it) {
    std::string name, value;
    if (!PercentDecode(it->first, name, true) || !PercentDecode(it->second, value, true)) {
      return InvalidArgument("the query string has a malformed %-escape");
    }
    view.query.emplace_back(std::move(name), std::move(value));
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
  return view;
}

using RequestFn = std::function<void(const Http::Request&, Http::ResponseWriter)>;

// Pistache clones the handler for each reactor thread; every clone calls the same function.
class PistacheHandler : public Http::Handler {
 public:
  HTTP_PROTOTYPE(PistacheHandler)
  explicit PistacheHandler(std::shared_ptr<RequestFn> fn) : fn_(std::move(fn)) {}
  void onRequest(const Http::Request& request, Http::ResponseWriter writer) override {
    (*fn_)(request, std::move(writer));
  }

 private:
  std::shared_ptr<RequestFn> fn_;
};

}  // namespace

struct HttpServer::Impl {
  Impl(HttpServerOptions o, std::vector<Route> routes)
      : options(std::move(o)), router(std::move(routes)) {}

  HttpServerOptions options;
  Router router;
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
    auto parsed = ViewOf(request);
    if (!parsed.ok()) {
      RequestView bare{Http::methodString(request.method()), request.resource(), {}, {}, {}, {}};
      return Finish(writer, bare, "unmatched", ReplyForStatus(parsed.status()), keep_alive,
                    started_at);
    }
    RequestView view = std::move(*parsed);
    if (draining) {
      return Send(writer, ProblemReply(503, "the server is shutting down"), false);
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

  void Finish(Http::ResponseWriter& writer, const RequestView& view, const std::string& route,
              const Reply& reply, bool keep_alive, std::chrono::steady_clock::time_point start) {
    if (reply.stream) return StartStream(writer, view, route, reply, keep_alive, start);
    Send(writer, reply, keep_alive);
    Record(view, route, reply.status, start, {});
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
    std::thread([this, writer = std::move(writer), view, route, reply, keep_alive,
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
              std::chrono::steady_clock::time_point start, boost::json::object extra) {
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (options.metrics != nullptr) {
      options.metrics->Add(
          "octohub_http_requests_total",
          {{"route", route}, {"method", view.method}, {"status", std::to_string(status)}});
      options.metrics->Observe("octohub_http_request_duration_seconds", {{"route", route}},
                               ms / 1000);
    }
    boost::json::object fields{{"method", view.method},
                               {"route", route},
                               {"path", view.path},
                               {"status", status},
                               {"latency_ms", ms}};
    for (auto& [name, value] : extra) fields[name] = value;
    log::Info("http.request", std::move(fields));
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
                    .maxRequestSize(s.options.max_body_bytes + 64 * 1024)
                    .headerTimeout(std::chrono::seconds(10))
                    .bodyTimeout(std::chrono::seconds(60))
                    .keepaliveTimeout(std::chrono::seconds(75));
    s.endpoint->init(opts);
    auto fn = std::make_shared<RequestFn>(
        [impl = impl_.get()](const Http::Request& request, Http::ResponseWriter writer) {
          impl->Handle(request, std::move(writer));
        });
    s.endpoint->setHandler(Http::make_handler<PistacheHandler>(fn));
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
  log::Info("http.stopped");
}

}  // namespace octohub::api

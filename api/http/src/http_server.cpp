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

#include "chunked_body.h"
#include "http_reply.h"
#include "octohub/core/log.h"
#include "raw_query.h"
#include "request_framing.h"
#include "router.h"
#include "send_watchdog.h"

namespace octohub::http {
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

// Replies use a handful of content types: each is parsed once per thread.
const Http::Mime::MediaType& MediaTypeOf(const std::string& content_type) {
  thread_local std::unordered_map<std::string, Http::Mime::MediaType> parsed;
  auto it = parsed.find(content_type);
  if (it == parsed.end()) {
    if (parsed.size() > 64) parsed.clear();
    it = parsed.emplace(content_type, Http::Mime::MediaType::fromString(content_type)).first;
  }
  return it->second;
}

// Sent with every answer: the browser may not guess content types, leaks no referrer, and
// runs only this server's own scripts and styles, never inline ones, in no frame. A reply may
// bring its own policy (the API reference page needs Redoc's inline styles).
constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";

std::vector<std::pair<std::string, std::string>> SecurityHeaders(const Reply& reply) {
  std::vector<std::pair<std::string, std::string>> out = {{"X-Content-Type-Options", "nosniff"},
                                                          {"Referrer-Policy", "no-referrer"}};
  const bool has_policy =
      std::any_of(reply.headers.begin(), reply.headers.end(), [](const auto& header) {
        return strcasecmp(header.first.c_str(), "Content-Security-Policy") == 0;
      });
  if (!has_policy) out.emplace_back("Content-Security-Policy", kContentSecurityPolicy);
  return out;
}

void SetHeaders(Http::ResponseWriter& writer, const Reply& reply, bool keep_alive) {
  auto& headers = writer.headers();
  headers.remove<Http::Header::Connection>();
  headers.add<Http::Header::Connection>(keep_alive ? Http::ConnectionControl::KeepAlive
                                                   : Http::ConnectionControl::Close);
  // Pistache writes Content-Type from the MIME type only; a raw header would be dropped.
  if (reply.status != 304) writer.setMime(MediaTypeOf(reply.content_type));
  for (const auto& [name, value] : reply.headers)
    headers.add(std::make_shared<NamedHeader>(name, value));
  for (const auto& [name, value] : SecurityHeaders(reply))
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
  for (const auto& [name, value] : SecurityHeaders(reply)) head += name + ": " + value + "\r\n";
  return head + "\r\n";
}

// Answers; with keep_alive false the connection is closed once the answer is out (Pistache
// would leave it open although the answer says "Connection: Close").
void Send(Http::ResponseWriter& writer, const Reply& reply, bool keep_alive) {
  SetHeaders(writer, reply, keep_alive);
  std::weak_ptr<Pistache::Tcp::Peer> weak = writer.getPeer();
  auto sent = writer.send(static_cast<Http::Code>(reply.status), reply.body);
  if (keep_alive) return;
  sent.then(
      [weak](ssize_t) {
        if (auto peer = weak.lock()) ::shutdown(peer->fd(), SHUT_WR);
      },
      [weak](std::exception_ptr) {
        if (auto peer = weak.lock()) ::shutdown(peer->fd(), SHUT_RDWR);
      });
}

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
  view.client = request.address().host();
  return view;
}

using RequestFn = std::function<void(const Http::Request&, Http::ResponseWriter)>;

struct Limits {
  std::size_t max_header_bytes;
  std::size_t max_body_bytes;
};

// What the handler knows about one connection beyond Pistache's parser.
struct PeerState {
  std::size_t bytes = 0;      // of the request being read
  bool rejected = false;      // answered 4xx before the request was read whole, or closing
  std::size_t discarded = 0;  // bytes read and dropped since
  std::string head;           // the request's head while it arrives
  bool head_read = false;     // the blank line after the headers is in
  RequestFraming framing;     // from the head, once read
  std::string recent;         // the last bytes read, to see where a chunked body ended

  void NextRequest() {
    bytes = 0;
    head.clear();
    head_read = false;
    recent.clear();
  }
};
constexpr const char* kPeerState = "octohub.peer";
// After a rejection the rest of the request is read and dropped for a while, so that the
// client sees the answer rather than a reset; past this much, the connection is cut.
constexpr std::size_t kMaxDiscardBytes = 1 << 20;

void LogRejected(const std::string& client, int status, const std::string& reason) {
  log::Info("http.request",
            {{"route", "rejected"}, {"client", client}, {"status", status}, {"detail", reason}});
}

// Pistache clones the handler for each reactor thread; every clone calls the same function.
// Reading a request replaces Pistache's (Http::Handler::onInput) to enforce header and body
// limits as soon as they are crossed (a 50 MB body is refused once its headers are in, not
// after it arrived) and to answer every protocol error as problem+json.
class PistacheHandler : public Http::Handler {
 public:
  HTTP_PROTOTYPE(PistacheHandler)
  PistacheHandler(std::shared_ptr<RequestFn> fn, Limits limits,
                  std::shared_ptr<SendWatchdog> watchdog)
      : fn_(std::move(fn)), limits_(limits), watchdog_(std::move(watchdog)) {}

  // As Http::Handler's (which is private): the connection gets its request parser; and the
  // watchdog watches it.
  void onConnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override {
    peer->putData(ParserData, std::make_shared<Http::RequestParser>(getMaxRequestSize()));
    watchdog_->Watch(peer);
  }
  void onDisconnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override {
    watchdog_->Forget(peer.get());
    Http::Handler::onDisconnection(peer);
  }
  void onRequest(const Http::Request& request, Http::ResponseWriter writer) override {
    (*fn_)(request, std::move(writer));
  }

  void onTimeout(const Http::Request&, Http::ResponseWriter writer) override {
    Send(writer, ProblemReply(408, "the request did not arrive in time"), false);
  }

  void onInput(const char* buffer, size_t len,
               const std::shared_ptr<Pistache::Tcp::Peer>& peer) override {
    auto state = std::static_pointer_cast<PeerState>(peer->tryGetData(kPeerState));
    if (!state) {
      state = std::make_shared<PeerState>();
      peer->putData(kPeerState, state);
    }
    if (state->rejected) {
      state->discarded += len;
      if (state->discarded > kMaxDiscardBytes) ::shutdown(peer->fd(), SHUT_RDWR);
      return;
    }
    auto parser = getParser(peer);
    auto& request = parser->request;
    state->bytes += len;
    state->recent.append(buffer + (len > 8 ? len - 8 : 0), std::min<size_t>(len, 8));
    if (state->recent.size() > 8) state->recent.erase(0, state->recent.size() - 8);
    if (!state->head_read) {
      state->head.append(buffer, std::min(len, limits_.max_header_bytes + 4));
      if (auto end = HeadEnd(state->head)) {
        state->head.resize(*end);
        state->head_read = true;
        if (auto problem = CheckFraming(state->head, state->framing)) {
          return Reject(peer, *state, problem->status, problem->detail);
        }
      } else if (state->head.size() > limits_.max_header_bytes) {
        return Reject(peer, *state, 431,
                      "the request line and headers exceed " +
                          std::to_string(limits_.max_header_bytes) + " bytes");
      }
    }
    try {
      if (!parser->feed(buffer, len)) {
        return Reject(peer, *state, 413, "the request is larger than the server accepts");
      }
      auto parsed = parser->parse();
      if (parsed == Http::Private::State::Done) {
        // Bytes past this request's end are further requests sent without waiting for the
        // answer (pipelining). Answers may not overtake each other, and requests run in
        // parallel here: this one is answered and the connection closed, which tells the
        // client to send the rest again (RFC 9112 §9.3.2), instead of dropping them unseen.
        const bool pipelined = state->framing.chunked
                                   ? !std::string_view(state->recent).ends_with("0\r\n\r\n")
                                   : state->bytes > state->framing.head_bytes +
                                                        state->framing.content_length.value_or(0);
        if (pipelined) {
          request.headers().remove<Http::Header::Connection>();
          request.headers().add<Http::Header::Connection>(Http::ConnectionControl::Close);
          state->rejected = true;  // what follows is read and dropped
        }
        Http::ResponseWriter writer(request.version(), transport(), this, peer);
        request.copyAddress(peer->address());
        peer->setIdle(false);
        state->NextRequest();
        onRequest(request, std::move(writer));
        parser->reset();
        return;
      }
      if (parser->step()->id() != Http::Private::BodyStep::Id) {
        // Pistache waits for more on a request line or header it cannot read; once the
        // blank line after the headers is in, nothing more can make them readable.
        if (state->head_read) {
          return Reject(peer, *state, 400, "the request line or a header is malformed");
        }
      } else if (auto length = request.headers().tryGet<Http::Header::ContentLength>();
                 length && length->value() > limits_.max_body_bytes) {
        return Reject(peer, *state, 413,
                      "the body exceeds " + std::to_string(limits_.max_body_bytes) + " bytes");
      }
    } catch (const Http::HttpError& error) {
      Reject(peer, *state, error.code() >= 400 && error.code() < 500 ? error.code() : 400,
             error.reason());
    } catch (const std::exception& error) {
      Reject(peer, *state, 400, "the request cannot be read");
    }
  }

 private:
  // Answers and closes: the client gets the problem, then end of stream; what it still sends
  // is dropped (see kMaxDiscardBytes).
  void Reject(const std::shared_ptr<Pistache::Tcp::Peer>& peer, PeerState& state, int status,
              const std::string& detail) {
    auto parser = getParser(peer);
    Http::ResponseWriter writer(Http::Version::Http11, transport(), this, peer);
    parser->reset();
    state.rejected = true;
    LogRejected(peer->address().host(), status, detail);
    std::weak_ptr<Pistache::Tcp::Peer> weak = peer;
    auto close = [weak](ssize_t) {
      if (auto p = weak.lock()) ::shutdown(p->fd(), SHUT_WR);
    };
    auto& headers = writer.headers();
    headers.remove<Http::Header::Connection>();
    headers.add<Http::Header::Connection>(Http::ConnectionControl::Close);
    Reply reply = ProblemReply(status, detail);
    writer.setMime(Http::Mime::MediaType::fromString(reply.content_type));
    for (const auto& [name, value] : SecurityHeaders(reply))
      headers.add(std::make_shared<NamedHeader>(name, value));
    writer.send(static_cast<Http::Code>(status), reply.body)
        .then(close, [weak](std::exception_ptr) {
          if (auto p = weak.lock()) ::shutdown(p->fd(), SHUT_RDWR);
        });
  }

  std::shared_ptr<RequestFn> fn_;
  Limits limits_;
  std::shared_ptr<SendWatchdog> watchdog_;  // shared by the clones
};

// Access log lines are many and small: they are gathered and written to stderr in batches by
// a background thread (every 20 ms, or sooner past 64 kB) instead of one write per request.
class AccessLog {
 public:
  AccessLog() : thread_([this](std::stop_token stop) { Run(stop); }) {}
  ~AccessLog() {
    thread_.request_stop();
    thread_.join();
    Flush();
  }

  void Add(const std::string& line) {
    if (line.empty()) return;  // the level is off
    std::lock_guard lock(mutex_);
    buffer_ += line;
    buffer_ += '\n';
    if (buffer_.size() > kFlushBytes) wake_.notify_one();
  }

  void Flush() {
    std::string out;
    {
      std::lock_guard lock(mutex_);
      out.swap(buffer_);
    }
    for (std::size_t done = 0; done < out.size();) {
      ssize_t n = ::write(STDERR_FILENO, out.data() + done, out.size() - done);
      if (n <= 0 && errno != EINTR) return;
      if (n > 0) done += static_cast<std::size_t>(n);
    }
  }

 private:
  static constexpr std::size_t kFlushBytes = 64 * 1024;

  void Run(std::stop_token stop) {
    while (!stop.stop_requested()) {
      {
        std::unique_lock lock(mutex_);
        wake_.wait_for(lock, stop, std::chrono::milliseconds(20),
                       [&] { return buffer_.size() > kFlushBytes; });
      }
      Flush();
    }
  }

  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::string buffer_;
  std::jthread thread_;  // last: starts once the rest exists
};

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
    s.endpoint->setHandler(Http::make_handler<PistacheHandler>(
        fn, Limits{s.options.max_header_bytes, s.options.max_body_bytes},
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

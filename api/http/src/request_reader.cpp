#include "request_reader.h"

#include <pistache/peer.h>
#include <sys/socket.h>

#include <string>

#include "answer.h"
#include "octohub/core/log.h"
#include "request_framing.h"

namespace octohub::http {
namespace {

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
        .then(close, [weak](const std::exception_ptr&) {
          if (auto p = weak.lock()) ::shutdown(p->fd(), SHUT_RDWR);
        });
  }

  std::shared_ptr<RequestFn> fn_;
  Limits limits_;
  std::shared_ptr<SendWatchdog> watchdog_;  // shared by the clones
};

}  // namespace

std::shared_ptr<Http::Handler> MakeRequestReader(std::shared_ptr<RequestFn> fn, Limits limits,
                                                 std::shared_ptr<SendWatchdog> watchdog) {
  return Http::make_handler<PistacheHandler>(std::move(fn), limits, std::move(watchdog));
}

}  // namespace octohub::http

// A BodyWriter over one Pistache connection: pieces are gathered into chunks of bounded
// size, each sent with chunked framing through the connection's peer, and at most a couple
// of chunks are in flight at once: a slow reader makes Write wait rather than letting
// buffers grow. Pistache 0.0.5 never settles a write to a connection that broke, so the
// wait watches the connection itself (its peer disappears when the client goes). Private to
// api/; used by one thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "octohub/http/http_server.h"

namespace Pistache::Tcp {
class Peer;
}

namespace octohub::http {

struct ChunkedBodyOptions {
  // Chunks stay below glibc's mmap threshold (128 KiB), so their buffers are reused from the
  // heap instead of being mapped and faulted in afresh each time.
  std::size_t chunk_bytes = std::size_t{96} * 1024;  // a chunk goes out once this much is gathered
  int max_in_flight = 8;                   // chunks handed to the connection, not yet written
  std::chrono::seconds stall_timeout{60};  // no progress for this long: give up on the client
};

class ChunkedBody final : public BodyWriter {
 public:
  // stop: set by the server when it shuts down; Write returns false from then on.
  ChunkedBody(std::weak_ptr<Pistache::Tcp::Peer> peer, const std::atomic<bool>& stop,
              ChunkedBodyOptions options = {});
  ~ChunkedBody() override;

  // Sends the response's status line and headers, before any Write.
  bool Begin(std::string head);
  bool Write(std::string_view piece) override;
  // Sends what is gathered and the last chunk, and waits until all of it was written.
  bool Finish();
  // Closes the connection without the last chunk: the client sees an incomplete body.
  void Abort();
  std::int64_t bytes() const { return bytes_; }  // body bytes handed over so far

 private:
  struct InFlight;
  bool SendChunk(std::string framed);
  bool WaitUntilAtMost(int in_flight);
  std::string TakeChunk();
  void Reset();

  std::weak_ptr<Pistache::Tcp::Peer> peer_;
  const std::atomic<bool>& stop_;
  ChunkedBodyOptions options_;
  std::shared_ptr<InFlight> in_flight_;
  std::string gathered_;
  std::int64_t bytes_ = 0;
  bool failed_ = false;
};

}  // namespace octohub::http

#include "chunked_body.h"

#include <pistache/peer.h>
#include <pistache/stream.h>
#include <sys/socket.h>

#include <condition_variable>
#include <cstdio>
#include <mutex>

namespace octohub::http {

// Shared with the write callbacks, which may run on a reactor thread after this is gone.
struct ChunkedBody::InFlight {
  std::mutex mutex;
  std::condition_variable changed;
  int count = 0;
  bool failed = false;
  std::chrono::steady_clock::time_point last_progress = std::chrono::steady_clock::now();
};

ChunkedBody::ChunkedBody(std::weak_ptr<Pistache::Tcp::Peer> peer, const std::atomic<bool>& stop,
                         ChunkedBodyOptions options)
    : peer_(std::move(peer)),
      stop_(stop),
      options_(options),
      in_flight_(std::make_shared<InFlight>()) {
  Reset();
}

// Chunks are framed in place: the size line's room is kept at the front, its hex digits
// zero-padded (RFC 9112 allows that), so a full chunk is sent without another copy.
constexpr std::size_t kSizeLine = 10;  // 8 hex digits, CRLF

void ChunkedBody::Reset() {
  gathered_.clear();
  gathered_.reserve(options_.chunk_bytes + std::size_t{16} * 1024);
  gathered_.append(kSizeLine, ' ');
}

ChunkedBody::~ChunkedBody() = default;

// What is gathered as one chunk (size in hex, CRLF, data, CRLF); empty when nothing is.
std::string ChunkedBody::TakeChunk() {
  const std::size_t size = gathered_.size() - kSizeLine;
  if (size == 0) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < 8; ++i) gathered_[7 - i] = kHex[(size >> (4 * i)) & 15];
  gathered_[8] = '\r';
  gathered_[9] = '\n';
  gathered_.append("\r\n");
  std::string chunk = std::move(gathered_);
  Reset();
  return chunk;
}

bool ChunkedBody::Begin(std::string head) { return SendChunk(std::move(head)); }

bool ChunkedBody::Write(std::string_view piece) {
  if (failed_) return false;
  gathered_.append(piece);
  bytes_ += static_cast<std::int64_t>(piece.size());
  if (gathered_.size() < options_.chunk_bytes) return !stop_;
  return SendChunk(TakeChunk());
}

bool ChunkedBody::Finish() {
  if (failed_) return false;
  std::string framed = TakeChunk();
  framed.append("0\r\n\r\n");
  return SendChunk(std::move(framed)) && WaitUntilAtMost(0);
}

void ChunkedBody::Abort() {
  failed_ = true;
  // shutdown, not close: the fd stays Pistache's, which notices the hang-up and cleans up.
  if (auto peer = peer_.lock()) ::shutdown(peer->fd(), SHUT_RDWR);
}

bool ChunkedBody::SendChunk(std::string framed) {
  if (stop_ || !WaitUntilAtMost(options_.max_in_flight - 1)) {
    failed_ = true;
    return false;
  }
  auto peer = peer_.lock();
  if (!peer) {
    failed_ = true;
    return false;
  }
  {
    std::lock_guard lock(in_flight_->mutex);
    ++in_flight_->count;
  }
  const std::size_t size = framed.size();
  auto state = in_flight_;
  peer->send(Pistache::RawBuffer(std::move(framed), size))
      .then(
          [state](ssize_t) {
            std::lock_guard lock(state->mutex);
            --state->count;
            state->last_progress = std::chrono::steady_clock::now();
            state->changed.notify_all();
          },
          [state](const std::exception_ptr&) {
            std::lock_guard lock(state->mutex);
            --state->count;
            state->failed = true;
            state->changed.notify_all();
          });
  return true;
}

bool ChunkedBody::WaitUntilAtMost(int in_flight) {
  std::unique_lock lock(in_flight_->mutex);
  in_flight_->last_progress = std::chrono::steady_clock::now();
  while (in_flight_->count > in_flight) {
    // A write to a connection that broke is never settled: look at the connection too.
    if (in_flight_->failed || stop_ || peer_.expired() ||
        std::chrono::steady_clock::now() - in_flight_->last_progress > options_.stall_timeout) {
      failed_ = true;
      return false;
    }
    in_flight_->changed.wait_for(lock, std::chrono::milliseconds(20));
  }
  return !in_flight_->failed;
}

}  // namespace octohub::http

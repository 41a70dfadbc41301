// Closes connections whose answer has not moved for a while: a client that stopped reading.
// Pistache 0.0.5 retries sends to such a client in a loop on a reactor thread (STACK.md, upstream
// #949), so one of them can hold a thread and a core for as long as it stays connected. Private
// to api/.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stop_token>
#include <thread>
#include <unordered_map>

namespace Pistache::Tcp {
class Peer;
}

namespace octohub::http {

class SendWatchdog {
 public:
  // timeout <= 0: never closes anything (and runs no thread).
  explicit SendWatchdog(std::chrono::milliseconds timeout);
  ~SendWatchdog();

  void Watch(const std::shared_ptr<Pistache::Tcp::Peer>& peer);
  void Forget(const Pistache::Tcp::Peer* peer);

  // One pass: every watched connection that has had output waiting and acknowledged none of
  // it for the timeout is shut down. Returns how many were. Run by the thread every quarter
  // timeout.
  int Check(std::chrono::steady_clock::time_point now);

 private:
  struct Watched {
    std::weak_ptr<Pistache::Tcp::Peer> peer;
    std::uint64_t acked = 0;  // bytes the client had acknowledged at the last check
    std::chrono::steady_clock::time_point since;  // when it last took some, or had none waiting
  };

  const std::chrono::milliseconds timeout_;
  std::mutex mutex_;
  std::unordered_map<const Pistache::Tcp::Peer*, Watched> watched_;
  std::jthread thread_;  // last: starts once the rest exists
};

}  // namespace octohub::http

#include "send_watchdog.h"

#include <linux/sockios.h>
#include <linux/tcp.h>  // struct tcp_info with tcpi_bytes_acked (glibc's lacks it)
#include <pistache/peer.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <condition_variable>

#include "octohub/core/log.h"

namespace octohub::http {

SendWatchdog::SendWatchdog(std::chrono::milliseconds timeout) : timeout_(timeout) {
  if (timeout_.count() <= 0) return;
  thread_ = std::jthread([this](const std::stop_token& stop) {
    std::mutex sleep_mutex;
    std::condition_variable_any sleep;
    const auto period = std::max(timeout_ / 4, std::chrono::milliseconds(50));
    while (!stop.stop_requested()) {
      std::unique_lock lock(sleep_mutex);
      sleep.wait_for(lock, stop, period, [] { return false; });
      if (!stop.stop_requested()) Check(std::chrono::steady_clock::now());
    }
  });
}

SendWatchdog::~SendWatchdog() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

void SendWatchdog::Watch(const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
  if (timeout_.count() <= 0) return;
  std::lock_guard lock(mutex_);
  watched_[peer.get()] = {peer, 0, std::chrono::steady_clock::now()};
}

void SendWatchdog::Forget(const Pistache::Tcp::Peer* peer) {
  std::lock_guard lock(mutex_);
  watched_.erase(peer);
}

int SendWatchdog::Check(std::chrono::steady_clock::time_point now) {
  int closed = 0;
  std::lock_guard lock(mutex_);
  for (auto it = watched_.begin(); it != watched_.end();) {
    auto peer = it->second.peer.lock();
    if (!peer) {
      it = watched_.erase(it);
      continue;
    }
    Watched& w = it->second;
    int queued = 0;
    if (::ioctl(peer->fd(), SIOCOUTQ, &queued) != 0) queued = 0;
    tcp_info info{};
    socklen_t size = sizeof info;
    std::uint64_t acked = 0;
    if (::getsockopt(peer->fd(), IPPROTO_TCP, TCP_INFO, &info, &size) == 0 &&
        size >= offsetof(tcp_info, tcpi_bytes_acked) + sizeof info.tcpi_bytes_acked) {
      acked = info.tcpi_bytes_acked;
    }
    if (queued == 0 || acked != w.acked) {
      w.since = now;  // nothing to send, or the client took some since the last check
      w.acked = acked;
    } else if (now - w.since > timeout_) {
      log::Warn("http.send_stalled",
                {{"client", peer->address().host()},
                 {"unread_bytes", queued},
                 {"seconds", std::chrono::duration<double>(now - w.since).count()}});
      // The pending send fails, which ends Pistache's retry loop; the reactor then drops it.
      ::shutdown(peer->fd(), SHUT_RDWR);
      ++closed;
      it = watched_.erase(it);
      continue;
    }
    ++it;
  }
  return closed;
}

}  // namespace octohub::http

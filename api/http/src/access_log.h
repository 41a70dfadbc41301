// The access log, batched. Private to api/http/.
#pragma once

#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

namespace octohub::http {

// Access log lines are many and small: they are gathered and written to stderr in batches by
// a background thread (every 20 ms, or sooner past 64 kB) instead of one write per request.
class AccessLog {
 public:
  AccessLog() : thread_([this](const std::stop_token& stop) { Run(stop); }) {}
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
  static constexpr std::size_t kFlushBytes = std::size_t{64} * 1024;

  void Run(const std::stop_token& stop) {
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

}  // namespace octohub::http

#include "index_replication.h"

#include <netdb.h>
#include <signal.h>  // NOLINT(modernize-deprecated-headers): POSIX kill
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "octohub/core/log.h"
#include "octohub/core/network_guard.h"
#include "octohub/indexer/indexer.h"
#include "process.h"

namespace octohub::hub {
namespace fs = std::filesystem;

Result<HostPort> ParseHostPort(const std::string& text, const std::string& option) {
  const size_t colon = text.rfind(':');
  HostPort parsed;
  if (colon != std::string::npos && colon > 0) {
    parsed.host = text.substr(0, colon);
    const char* begin = text.data() + colon + 1;
    const char* end = text.data() + text.size();
    auto [stop, error] = std::from_chars(begin, end, parsed.port);
    if (error == std::errc() && stop == end && parsed.port >= 1 && parsed.port <= 65535) {
      return parsed;
    }
  }
  return InvalidArgument("--" + option + " must be host:port, not \"" + text + "\"");
}

std::optional<std::string> PublicBindWarning(const std::string& host, const std::string& what) {
  const std::string warning =
      "the " + what + " port has no authentication, and " + host +
      " is reachable from outside private networks: bind it to a loopback or private address "
      "(and, on Kubernetes, admit only API replicas with a NetworkPolicy)";
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (host.empty() || getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0) return warning;
  bool every_private = true;
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    every_private = every_private && IsPrivateAddress(a->ai_addr);
  }
  freeaddrinfo(found);
  return every_private ? std::nullopt : std::optional<std::string>(warning);
}

std::vector<std::string> ReplicationServerCommand(const std::string& program,
                                                  const HostPort& listen,
                                                  const fs::path& index_dir) {
  return {program, "--interface=" + listen.host, "--port=" + std::to_string(listen.port),
          fs::absolute(index_dir).string()};
}

std::vector<std::string> ReplicaClientCommand(const std::string& program, const HostPort& master,
                                              const std::string& name, const fs::path& index_dir,
                                              int interval_seconds) {
  // The name is a stub on the writer, whichever generation it points at. Readers that hold
  // an old revision get DatabaseModifiedError and reopen, so changesets need not wait for
  // them (-r); a silent master is given up on after -t seconds.
  return {program,
          "--host=" + master.host,
          "--port=" + std::to_string(master.port),
          "--master=" + name,
          "--interval=" + std::to_string(interval_seconds),
          "--reader-time=0",
          "--timeout=30",
          "--quiet",
          (fs::absolute(index_dir) / name).string()};
}

Result<std::string> FindProgram(const std::string& name, const std::string& package) {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr && *path != '\0' ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t colon = dirs.find(':', start);
    std::string dir = dirs.substr(start, colon == std::string::npos ? colon : colon - start);
    if (!dir.empty()) {
      const fs::path candidate = fs::path(dir) / name;
      if (access(candidate.c_str(), X_OK) == 0) return candidate.string();
    }
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return FailedPrecondition(name + " is not installed (Debian package " + package + ")");
}

SupervisedChild::SupervisedChild(std::string name, std::vector<std::string> argv, fs::path log)
    : name_(std::move(name)), argv_(std::move(argv)), log_(std::move(log)) {
  thread_ = std::jthread([this](const std::stop_token& stop) { Supervise(stop); });
}

SupervisedChild::~SupervisedChild() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
}

void SupervisedChild::Supervise(const std::stop_token& stop) {
  using namespace std::chrono_literals;
  while (!stop.stop_requested()) {
    // Spawned from this thread: the death signal fires when it ends, i.e. with us.
    auto pid = Spawn({argv_, std::nullopt, log_.string(), true, SIGTERM});
    if (!pid.ok()) {
      log::Error("child.start_failed", {{"process", name_}, {"reason", pid.status().message()}});
    } else {
      log::Info("child.started", {{"process", name_}, {"pid", *pid}});
      int status = 0;
      bool exited = false;
      while (!stop.stop_requested() && !exited) {
        exited = waitpid(*pid, &status, WNOHANG) == *pid;
        if (!exited) std::this_thread::sleep_for(100ms);
      }
      if (!exited) {
        kill(-*pid, SIGTERM);  // its whole group: servers fork a process per connection
        waitpid(*pid, &status, 0);
        return;
      }
      log::Warn("child.exited",
                {{"process", name_},
                 {"status", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)},
                 {"output", FileTail(log_.string(), 500)}});
    }
    for (int i = 0; i < 10 && !stop.stop_requested(); ++i) std::this_thread::sleep_for(100ms);
  }
}

ShardReplicas::ShardReplicas(Options options) : options_(std::move(options)) {
  Copy(1);  // shard 0 first: it tells how many there are
  thread_ = std::jthread([this](const std::stop_token& stop) { Watch(stop); });
}

ShardReplicas::~ShardReplicas() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
}

void ShardReplicas::Copy(int shards) {
  while (static_cast<int>(copies_.size()) > shards) copies_.pop_back();
  for (int shard = static_cast<int>(copies_.size()); shard < shards; ++shard) {
    const std::string name = indexer::ReplicatedShardName(shard);
    std::error_code ignored;
    fs::create_directories((options_.index_dir / name).parent_path(), ignored);
    char log_name[32];
    std::snprintf(log_name, sizeof(log_name), "replication-%02d.log", shard);
    copies_.push_back(std::make_unique<SupervisedChild>(
        "xapian-replicate " + name,
        ReplicaClientCommand(options_.program, options_.master, name, options_.index_dir,
                             options_.interval_seconds),
        fs::absolute(options_.log_dir) / log_name));
  }
}

void ShardReplicas::Watch(const std::stop_token& stop) {
  using namespace std::chrono_literals;
  while (!stop.stop_requested()) {
    const int shards = indexer::ReplicatedShardCount(options_.index_dir);
    if (shards > 0) {
      if (shards != static_cast<int>(copies_.size())) {
        log::Info("replication.shards", {{"shards", shards}});
        Copy(shards);
      }
      auto pointed = indexer::PointAtReplicatedShards(options_.index_dir, shards);
      if (!pointed.ok()) {
        log::Warn("replication.stub_failed", {{"reason", pointed.status().message()}});
      }
    }
    for (int i = 0; i < 10 && !stop.stop_requested(); ++i) std::this_thread::sleep_for(100ms);
  }
}

}  // namespace octohub::hub

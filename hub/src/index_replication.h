// Copies of the index for API replicas, kept current by Xapian's own replication: the index
// writer runs xapian-replicate-server over its index directory, and each replica runs one
// xapian-replicate per shard into its own. The replica's directory is a stub database like
// the writer's, so its searcher opens and reopens it the same way; a new generation on the
// writer (after `octohub reindex`) arrives as a full copy of each shard that replaces the old
// one at once. Private to hub/.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "octohub/core/status.h"

namespace octohub::hub {

struct HostPort {
  std::string host;
  int port = 0;
};
// "host:port" with a port from 1 to 65535.
Result<HostPort> ParseHostPort(const std::string& text, const std::string& option);

// Why binding an unauthenticated port (`what`: "index replication", "index shard") to `host`
// is unwise (it resolves to an address that is neither loopback nor private, or to every
// interface), or nullopt.
std::optional<std::string> PublicBindWarning(const std::string& host, const std::string& what);

// The command lines, with absolute paths (children run in /).
std::vector<std::string> ReplicationServerCommand(const std::string& program,
                                                  const HostPort& listen,
                                                  const std::filesystem::path& index_dir);
// Copies the master's database `name` (relative to the directory it serves) into
// index_dir/name.
std::vector<std::string> ReplicaClientCommand(const std::string& program, const HostPort& master,
                                              const std::string& name,
                                              const std::filesystem::path& index_dir,
                                              int interval_seconds);

// The full path of a program on PATH, or kFailedPrecondition naming the Debian package.
Result<std::string> FindProgram(const std::string& name, const std::string& package);

// Keeps one child process running until destroyed: restarted a second after it exits, and
// sent SIGTERM (then reaped) on destruction. The child also gets SIGTERM if this process
// dies, so no copy outlives us holding a port. Thread-safe to destroy from any thread.
class SupervisedChild {
 public:
  SupervisedChild(std::string name, std::vector<std::string> argv, std::filesystem::path log);
  ~SupervisedChild();
  SupervisedChild(const SupervisedChild&) = delete;
  SupervisedChild& operator=(const SupervisedChild&) = delete;

 private:
  void Supervise(const std::stop_token& stop);

  const std::string name_;
  const std::vector<std::string> argv_;
  const std::filesystem::path log_;
  std::jthread thread_;
};

// A replica's copies of every shard of the writer's index: a xapian-replicate per shard,
// started as the copy of shard 0 tells how many there are, and the replica's index pointed
// at them once all have arrived. Checked every second until destroyed.
class ShardReplicas {
 public:
  struct Options {
    std::string program;  // xapian-replicate
    HostPort master;
    std::filesystem::path index_dir;
    int interval_seconds = 1;
    std::filesystem::path log_dir;  // replication-NN.log per shard
  };
  explicit ShardReplicas(Options options);
  ~ShardReplicas();
  ShardReplicas(const ShardReplicas&) = delete;
  ShardReplicas& operator=(const ShardReplicas&) = delete;

 private:
  void Watch(const std::stop_token& stop);
  void Copy(int shards);  // keeps exactly this many copies running

  const Options options_;
  std::vector<std::unique_ptr<SupervisedChild>> copies_;
  std::jthread thread_;  // last: stopped before the copies it manages
};

}  // namespace octohub::hub

// Copies of the index for API replicas, kept current by Xapian's own replication: the index
// writer runs xapian-replicate-server over its index directory, and each replica runs
// xapian-replicate into its own. The replica's directory is a stub database like the
// writer's, so its searcher opens and reopens it the same way; a new generation on the
// writer (after `octohub reindex`) arrives as a full copy that replaces the old one at once.
// Private to hub/.
#pragma once

#include <sys/types.h>

#include <filesystem>
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

// Why binding the replication server to `host` is unwise (it resolves to an address that is
// neither loopback nor private, or to every interface), or nullopt.
std::optional<std::string> PublicBindWarning(const std::string& host);

// The command lines, with absolute paths (children run in /).
std::vector<std::string> ReplicationServerCommand(const std::string& program,
                                                  const HostPort& listen,
                                                  const std::filesystem::path& index_dir);
std::vector<std::string> ReplicaClientCommand(const std::string& program, const HostPort& master,
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

}  // namespace octohub::hub

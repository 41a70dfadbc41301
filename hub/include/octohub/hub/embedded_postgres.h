// A private PostgreSQL cluster under the data directory (SPEC §2, "embedded default").
//
// Start() creates the cluster on first use, reuses a server that already runs on it (another
// octohub verb, or `serve`), recovers from a stale pid file left by a crash, and otherwise
// starts the server: as the user "postgres" when we are root, as ourselves otherwise, with its
// socket inside the cluster directory and a free loopback TCP port. Not thread-safe.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "octohub/core/status.h"

namespace octohub::hub {

struct EmbeddedPostgresOptions {
  std::filesystem::path cluster_dir;  // <data-dir>/pg
  std::filesystem::path bin_dir;      // empty = the newest /usr/lib/postgresql/*/bin
  std::vector<std::pair<std::string, std::string>> settings;  // extra server settings (-c)
  // true: the server dies with this process (it is our child with a death signal).
  // false: it outlives us until StopCluster() (shared by several processes, e.g. a test run).
  bool stop_with_parent = true;
  std::chrono::milliseconds start_timeout{30000};
};

class EmbeddedPostgres {
 public:
  static Result<std::unique_ptr<EmbeddedPostgres>> Start(const EmbeddedPostgresOptions& options);

  // Stops the server if this object started it and it is tied to our lifetime.
  ~EmbeddedPostgres();
  EmbeddedPostgres(const EmbeddedPostgres&) = delete;
  EmbeddedPostgres& operator=(const EmbeddedPostgres&) = delete;

  // libpq connection string for the "octohub" database over the unix socket.
  std::string conninfo(const std::string& database = "octohub") const;
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  bool started_here() const { return started_here_; }

  // Fast shutdown (finishes nothing new, rolls back open transactions) within ~10 s.
  Status Stop();

  // Stops whatever server runs on cluster_dir; ok when none runs.
  static Status StopCluster(const std::filesystem::path& cluster_dir);

 private:
  EmbeddedPostgres() = default;

  std::filesystem::path cluster_dir_;
  int port_ = 0;
  pid_t pid_ = 0;
  bool started_here_ = false;
  bool is_child_ = false;
  bool stop_on_destroy_ = false;
};

// Where the server binaries are: `preferred` if given, else the newest <search_root>/*/bin.
// A FailedPrecondition that names the package to install when there are none.
Result<std::filesystem::path> FindPostgresBinaries(
    const std::filesystem::path& preferred,
    const std::filesystem::path& search_root = "/usr/lib/postgresql");

}  // namespace octohub::hub

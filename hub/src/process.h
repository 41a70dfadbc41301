// Starting child processes, optionally as another (unprivileged) user. Private to hub/.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "octohub/core/status.h"

namespace octohub::hub {

struct UserIdentity {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
};

// The user to run PostgreSQL as: "postgres" when we are root, nobody else otherwise.
Result<std::optional<UserIdentity>> ServerUserForCurrentProcess();

struct SpawnOptions {
  std::vector<std::string> argv;       // argv[0] is the executable's full path
  std::optional<UserIdentity> run_as;  // drop to this user before exec
  std::string output_path;             // stdout+stderr appended here; empty = /dev/null
  bool own_process_group = true;       // keep terminal signals away from the child
  int parent_death_signal = 0;         // sent to the child if this thread dies
};

// fork + exec; returns the child's pid. The child never returns into our code.
Result<pid_t> Spawn(const SpawnOptions& options);

// Spawns and waits; returns the exit code (or 128 + signal).
Result<int> SpawnAndWait(const SpawnOptions& options);

// The last max_bytes of a file, for error messages.
std::string FileTail(const std::string& path, size_t max_bytes = 2000);

bool ProcessAlive(pid_t pid);

// "host:pid:role": who holds a lease, so that a crashed worker on this machine is recognised.
std::string WorkerId(const std::string& role);
// Whether a lease owner named by WorkerId is a process of this machine that no longer runs.
bool IsDeadLocalWorker(const std::string& owner);

}  // namespace octohub::hub

// octohub-test-pg start|stop DIR: the ctest fixture that starts one throwaway PostgreSQL
// cluster for the whole test run, through the same embedded manager `octohub` uses.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "octohub/hub/embedded_postgres.h"

namespace {

// Whether the postmaster named by the cluster's pid file is alive.
bool ServerStillRuns(const std::filesystem::path& dir) {
  std::ifstream pid_file(dir / "postmaster.pid");
  pid_t pid = 0;
  return pid_file >> pid && pid > 0 && kill(pid, 0) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: octohub-test-pg start|stop DIR\n";
    return 2;
  }
  const std::string verb = argv[1];
  const std::filesystem::path dir = argv[2];
  if (verb == "start") {
    octohub::hub::EmbeddedPostgresOptions options;
    options.cluster_dir = dir;
    options.stop_with_parent = false;
    // A throwaway cluster: durability buys nothing here.
    options.settings = {{"fsync", "off"},
                        {"synchronous_commit", "off"},
                        {"full_page_writes", "off"},
                        {"max_connections", "300"}};
    auto cluster = octohub::hub::EmbeddedPostgres::Start(options);
    if (!cluster.ok()) {
      std::cerr << cluster.status().ToString() << "\n";
      return 1;
    }
    std::cout << "PostgreSQL for tests: " << (*cluster)->conninfo() << "\n";
    return 0;
  }
  if (verb == "stop") {
    auto status = octohub::hub::EmbeddedPostgres::StopCluster(dir);
    // A server still there would outlive the run: say so rather than remove its directory.
    if (status.ok() && ServerStillRuns(dir)) {
      std::cerr << "PostgreSQL in " << dir.string() << " is still running after the stop\n";
      return 1;
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir.parent_path(), ignored);
    if (!status.ok()) std::cerr << status.ToString() << "\n";
    return status.ok() ? 0 : 1;
  }
  std::cerr << "unknown verb " << verb << "\n";
  return 2;
}

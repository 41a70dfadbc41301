// octohub-test-pg start|stop DIR: the ctest fixture that starts one throwaway PostgreSQL
// cluster for the whole test run, through the same embedded manager `octohub` uses.
#include <filesystem>
#include <iostream>
#include <string>

#include "octohub/hub/embedded_postgres.h"

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
    std::error_code ignored;
    std::filesystem::remove_all(dir.parent_path(), ignored);
    if (!status.ok()) std::cerr << status.ToString() << "\n";
    return status.ok() ? 0 : 1;
  }
  std::cerr << "unknown verb " << verb << "\n";
  return 2;
}

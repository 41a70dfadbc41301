// Command-line, environment and config-file options. Private to hub/.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <string>
#include <vector>

namespace octohub::hub {

// Options every verb shares. Precedence: flag, then OCTOHUB_* (or DATABASE_URL), then the
// --config file (YAML: the long option names, with _ or -).
struct GlobalOptions {
  std::filesystem::path data_dir = "octohub-data";
  std::string database_url;
  std::string log_level = "info";
  std::string postgres_bin;
  // serve
  std::string listen = "127.0.0.1:8080";
  std::vector<std::string> roles = {"api", "ingest", "index", "forward"};
  std::size_t max_body = 8 * 1024 * 1024;
  int http_threads = 2;
  int workers = 4;
  int ingest_workers = 2;
  bool public_read = false;
  int max_exports = 4;

  std::filesystem::path cluster_dir() const { return data_dir / "pg"; }
  std::filesystem::path index_dir() const { return data_dir / "index"; }
  bool has_role(const std::string& role) const;
};

void AddGlobalOptions(CLI::App& app, GlobalOptions& options);

}  // namespace octohub::hub

// Command-line, environment and config-file options. Private to hub/.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "octohub/core/network_guard.h"

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
  std::size_t max_body = std::size_t{8} * 1024 * 1024;
  std::size_t max_page_bytes = std::size_t{256} * 1024 * 1024;  // a source's page, decompressed
  int http_threads = 2;
  int workers = 4;
  int ingest_workers = 2;
  int lease_seconds = 120;  // how long claimed work stays claimed without a heartbeat
  bool public_read = false;
  std::string replication_listen;  // index role: serve copies of the index here (host:port)
  std::string index_replica_of;    // api role: keep a copy of this writer's index (host:port)
  int replication_interval = 1;    // seconds between a replica's updates
  int index_shards = 0;            // index role and reindex: Xapian databases; 0 = one per core
  std::vector<std::string> index_remote;  // index and api roles: shards served elsewhere
  std::size_t max_header = std::size_t{64} * 1024;
  double header_timeout = 10;      // seconds
  double body_timeout = 60;        // seconds
  double keepalive_timeout = 75;   // seconds
  double send_timeout = 30;        // seconds; a client that reads nothing for this long is cut off
  double rate_limit = 0;           // requests/s per key (and per address when anonymous); 0 = off
  double rate_burst = 0;           // 0 = max(1, rate_limit)
  double auth_failure_limit = 20;  // wrong API keys per minute per client address; 0 = no limit
  std::string secret_env_prefix = "OCTOHUB_SECRET_";   // what "…_env" secrets may name
  std::string deny_networks = kDefaultDeniedNetworks;  // CIDRs outgoing requests may not reach
  std::string allow_networks;                          // exceptions to deny_networks
  std::vector<std::string> cors_origins;               // empty: CORS off
  int max_exports = 4;
  int analytics_days = 30;  // searches kept for analytics; 0 keeps none

  std::filesystem::path cluster_dir() const { return data_dir / "pg"; }
  std::filesystem::path index_dir() const { return data_dir / "index"; }
  int shard_count() const;  // index_shards, or the number of cores
  bool has_role(const std::string& role) const;
};

void AddGlobalOptions(CLI::App& app, GlobalOptions& options);

}  // namespace octohub::hub

#include "options.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <thread>

#include "octohub/indexer/indexer.h"

namespace octohub::hub {
namespace {

// The environment variable of an option: OCTOHUB_<NAME>, and DATABASE_URL as usual.
std::string EnvNameFor(std::string option) {
  if (option == "database-url") return "DATABASE_URL";
  for (auto& c : option)
    c = c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return "OCTOHUB_" + option;
}

// Reads a YAML mapping of option names to values. Nested mappings are not options: they
// are rejected rather than silently ignored.
class YamlConfig : public CLI::Config {
 public:
  std::string to_config(const CLI::App*, bool, bool, std::string) const override { return {}; }

  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override {
    std::vector<CLI::ConfigItem> items;
    YAML::Node root;
    try {
      root = YAML::Load(input);
    } catch (const YAML::Exception& e) {
      throw CLI::ConversionError("config file: invalid YAML at line " +
                                 std::to_string(e.mark.line + 1) + ": " + e.msg);
    }
    if (root.IsNull()) return items;
    if (!root.IsMap()) throw CLI::ConversionError("config file: expected a mapping of options");
    for (const auto& entry : root) {
      std::string name = entry.first.as<std::string>();
      std::replace(name.begin(), name.end(), '_', '-');
      // CLI11 reads the file before the environment; the environment must win.
      if (std::getenv(EnvNameFor(name).c_str()) != nullptr) continue;
      CLI::ConfigItem item;
      item.name = name;
      const YAML::Node& value = entry.second;
      if (value.IsSequence()) {
        for (const auto& element : value) item.inputs.push_back(element.as<std::string>());
      } else if (value.IsScalar()) {
        item.inputs.push_back(value.as<std::string>());
      } else {
        throw CLI::ConversionError("config file: \"" + entry.first.as<std::string>() +
                                   "\" must be a value or a list");
      }
      items.push_back(std::move(item));
    }
    return items;
  }
};

}  // namespace

int GlobalOptions::shard_count() const {
  if (index_shards > 0) return index_shards;
  return std::clamp(static_cast<int>(std::thread::hardware_concurrency()), 1,
                    indexer::kMaxIndexShards);
}

bool GlobalOptions::has_role(const std::string& role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

void AddGlobalOptions(CLI::App& app, GlobalOptions& o) {
  auto option = [&](const std::string& name, auto& value, const std::string& help) {
    return app.add_option("--" + name, value, help)->envname(EnvNameFor(name));
  };
  app.config_formatter(std::make_shared<YamlConfig>());
  app.set_config("--config", "", "YAML file of options (flags and environment win over it)");
  option("data-dir", o.data_dir, "where the embedded PostgreSQL (pg/) and the index (index/) live")
      ->capture_default_str();
  option("database-url", o.database_url, "use this PostgreSQL server instead of the embedded one");
  option("log-level", o.log_level, "debug, info, warn or error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();
  option("postgres-bin", o.postgres_bin,
         "directory of the PostgreSQL server binaries (default: the newest installed)");
  option("listen", o.listen, "address of the HTTP API and web UI (host:port)")
      ->capture_default_str();
  option("roles", o.roles, "parts this process runs: api, ingest, index, forward")
      ->delimiter(',')
      ->check(CLI::IsMember({"api", "ingest", "index", "forward"}))
      ->capture_default_str();
  option("max-body", o.max_body, "largest accepted request body in bytes")
      ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 30))
      ->capture_default_str();
  option("max-page-bytes", o.max_page_bytes,
         "largest page a source may answer with, in bytes after decompression")
      ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 34))
      ->capture_default_str();
  option("http-threads", o.http_threads, "HTTP reactor threads")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  option("workers", o.workers, "threads for the API's database and search work")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  option("ingest-workers", o.ingest_workers, "sources harvested at the same time by this process")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  option(
      "lease-seconds", o.lease_seconds,
      "how long claimed work (a run, a delivery) stays claimed after its worker's last heartbeat")
      ->check(CLI::Range(2, 3600))
      ->capture_default_str();
  option("replication-listen", o.replication_listen,
         "index role: serve copies of the index to API replicas on this host:port");
  option("index-replica-of", o.index_replica_of,
         "api role: search a copy of the index kept current from this writer's host:port");
  option("replication-interval", o.replication_interval,
         "seconds between a replica's updates from the writer")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  option("index-shards", o.index_shards,
         "index role and reindex: Xapian databases the index is split into, each written by "
         "its own thread (default: one per core); a change rebuilds the index")
      ->check(CLI::Range(1, indexer::kMaxIndexShards));
  option("index-remote", o.index_remote,
         "index and api roles, and reindex: shards served by `octohub shard-server` at these "
         "host:port addresses, written and searched with the local ones (give every process "
         "the same list)")
      ->delimiter(',');
  option("max-exports", o.max_exports, "exports running at once; more are answered 429")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  option("analytics-days", o.analytics_days, "days searches are kept for analytics; 0 keeps none")
      ->check(CLI::Range(0, 3650))
      ->capture_default_str();
  app.add_flag("--public-read", o.public_read, "let anonymous clients search and read records")
      ->envname(EnvNameFor("public-read"));
  option("max-header", o.max_header, "largest accepted request line and headers in bytes (431)")
      ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 24))
      ->capture_default_str();
  option("header-timeout", o.header_timeout, "seconds a client has to send a request's headers")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  option("body-timeout", o.body_timeout, "seconds a client has to send a request's body")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  option("keepalive-timeout", o.keepalive_timeout, "seconds an idle connection stays open")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  option("send-timeout", o.send_timeout,
         "seconds a client may leave an answer unread before its connection is closed (0: never)")
      ->check(CLI::Range(0.0, 86400.0))
      ->capture_default_str();
  option("rate-limit", o.rate_limit,
         "requests/s per API key, and per address for anonymous reads (0: no limit)")
      ->check(CLI::Range(0.0, 1e6))
      ->capture_default_str();
  option("rate-burst", o.rate_burst, "requests a key may send at once (0: the rate, at least 1)")
      ->check(CLI::Range(0.0, 1e6))
      ->capture_default_str();
  option("secret-env-prefix", o.secret_env_prefix,
         "the only environment variables a source or target may name for a secret (…_env) are "
         "those whose names begin with this")
      ->check([](const std::string& prefix) {
        return prefix.empty() ? std::string("must not be empty") : std::string();
      })
      ->capture_default_str();
  option("auth-failure-limit", o.auth_failure_limit,
         "wrong API keys a client address may send a minute before it gets 429 (0: no limit)")
      ->check(CLI::Range(0.0, 1e6))
      ->capture_default_str();
  option("deny-networks", o.deny_networks,
         "networks sources and targets may not connect to, comma-separated CIDRs (cloud "
         "metadata services by default); this process's own listener and PostgreSQL always")
      ->check([](const std::string& list) {
        auto guard = NetworkGuard::Make(list, "");
        return guard.ok() ? std::string() : guard.status().message();
      })
      ->capture_default_str();
  option("allow-networks", o.allow_networks, "exceptions to --deny-networks, comma-separated CIDRs")
      ->check([](const std::string& list) {
        auto guard = NetworkGuard::Make("", list);
        return guard.ok() ? std::string() : guard.status().message();
      });
  option("cors-origins", o.cors_origins,
         "origins whose web pages may call the API (CORS), comma-separated; * for any")
      ->delimiter(',');
}

}  // namespace octohub::hub

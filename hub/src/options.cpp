#include "options.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>

namespace octohub::hub {
namespace {

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

bool GlobalOptions::has_role(const std::string& role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

void AddGlobalOptions(CLI::App& app, GlobalOptions& o) {
  app.config_formatter(std::make_shared<YamlConfig>());
  app.set_config("--config", "", "YAML file of options (flags and environment win over it)");
  app.add_option("--data-dir", o.data_dir,
                 "where the embedded PostgreSQL cluster (pg/) and the index (index/) live")
      ->envname("OCTOHUB_DATA_DIR")
      ->capture_default_str();
  app.add_option("--database-url", o.database_url,
                 "use this PostgreSQL server instead of the embedded one")
      ->envname("DATABASE_URL");
  app.add_option("--log-level", o.log_level, "debug, info, warn or error")
      ->envname("OCTOHUB_LOG_LEVEL")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();
  app.add_option("--postgres-bin", o.postgres_bin,
                 "directory of the PostgreSQL server binaries (default: newest installed)")
      ->envname("OCTOHUB_POSTGRES_BIN");
  app.add_option("--listen", o.listen, "address of the HTTP API and web UI (host:port)")
      ->envname("OCTOHUB_LISTEN")
      ->capture_default_str();
  app.add_option("--roles", o.roles, "parts this process runs: api, ingest, index, forward")
      ->envname("OCTOHUB_ROLES")
      ->delimiter(',')
      ->check(CLI::IsMember({"api", "ingest", "index", "forward"}))
      ->capture_default_str();
  app.add_option("--max-body", o.max_body, "largest accepted request body in bytes")
      ->envname("OCTOHUB_MAX_BODY")
      ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 30))
      ->capture_default_str();
  app.add_option("--http-threads", o.http_threads, "HTTP reactor threads")
      ->envname("OCTOHUB_HTTP_THREADS")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--workers", o.workers, "threads for database and search work of the API")
      ->envname("OCTOHUB_WORKERS")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_flag("--public-read", o.public_read, "let anonymous clients search and read records")
      ->envname("OCTOHUB_PUBLIC_READ");
}

}  // namespace octohub::hub

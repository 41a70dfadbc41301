#include "octohub/hub/migrations.h"

#include <algorithm>
#include <map>
#include <pqxx/pqxx>
#include <regex>

#include "octohub/core/content_hash.h"
#include "octohub/core/log.h"

namespace octohub::hub {
namespace {

// pg_advisory_lock key shared by every octohub process migrating this database.
constexpr std::int64_t kMigrationLock = 0x6f63746f6d696772;  // "octomigr"

constexpr const char* kCreateTable = R"(
  CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()))";
constexpr const char* kSelectApplied = "SELECT version, checksum FROM schema_migrations";
constexpr const char* kRecord =
    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)";

}  // namespace

Result<std::vector<Migration>> LoadMigrations(const std::vector<EmbeddedFile>& files) {
  // At most 9 digits, so the number fits an int (std::stoi throws beyond).
  static const std::regex kName("([0-9]{3,9})_([a-z0-9_]+)\\.sql");
  std::vector<Migration> out;
  for (const auto& file : files) {
    std::string path(file.path);
    std::smatch match;
    if (!std::regex_match(path, match, kName)) {
      return InvalidArgument("migration file name \"" + path + "\" is not NNN_name.sql");
    }
    out.push_back({std::stoi(match[1]), match[2], file.content, ContentHash(file.content)});
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.version < b.version; });
  for (size_t i = 1; i < out.size(); ++i) {
    if (out[i].version == out[i - 1].version) {
      return InvalidArgument("two migrations share number " + std::to_string(out[i].version));
    }
  }
  return out;
}

Result<int> ApplyMigrations(const Database& db, const std::vector<Migration>& migrations) {
  return WithConnection(db, "migrating the database", [&](pqxx::connection& c) -> Result<int> {
    // The session-level lock ends with the connection, also on every early return.
    std::map<int, std::string> applied;
    {
      pqxx::nontransaction session(c);
      session.exec_params("SELECT pg_advisory_lock($1)", kMigrationLock);
      session.exec0(kCreateTable);
      for (const auto& row : session.exec(kSelectApplied)) {
        applied[row[0].as<int>()] = row[1].as<std::string>();
      }
    }

    int known_max = migrations.empty() ? 0 : migrations.back().version;
    if (!applied.empty() && applied.rbegin()->first > known_max) {
      return FailedPrecondition("the database has migration " +
                                std::to_string(applied.rbegin()->first) +
                                ", newer than this octohub binary knows; upgrade octohub");
    }
    int count = 0;
    for (const auto& m : migrations) {
      auto it = applied.find(m.version);
      if (it != applied.end()) {
        if (it->second != m.checksum) {
          return FailedPrecondition("migration " + std::to_string(m.version) + "_" + m.name +
                                    " changed after it was applied");
        }
        continue;
      }
      pqxx::work tx(c);
      tx.exec(std::string(m.sql));
      tx.exec_params(kRecord, m.version, m.name, m.checksum);
      tx.commit();
      log::Info("migration.applied", {{"version", m.version}, {"name", m.name}});
      ++count;
    }
    pqxx::nontransaction(c).exec_params("SELECT pg_advisory_unlock($1)", kMigrationLock);
    return count;
  });
}

}  // namespace octohub::hub

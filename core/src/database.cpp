#include "octohub/core/database.h"

#include <atomic>
#include <pqxx/except>
#include <unordered_map>

namespace octohub {

Database::Database(std::string conninfo, int connect_timeout_s) : conninfo_(std::move(conninfo)) {
  if (conninfo_.find("connect_timeout") != std::string::npos) return;
  const std::string timeout = "connect_timeout=" + std::to_string(connect_timeout_s);
  bool is_url = conninfo_.rfind("postgres://", 0) == 0 || conninfo_.rfind("postgresql://", 0) == 0;
  if (is_url) {
    conninfo_ += (conninfo_.find('?') == std::string::npos ? "?" : "&") + timeout;
  } else {
    conninfo_ += (conninfo_.empty() ? "" : " ") + timeout;
  }
}

Result<std::unique_ptr<pqxx::connection>> Database::Connect() const {
  try {
    return std::make_unique<pqxx::connection>(conninfo_);
  } catch (const std::exception& e) {
    std::string reason = e.what();
    while (!reason.empty() && (reason.back() == '\n' || reason.back() == ' ')) reason.pop_back();
    return Unavailable("cannot connect to PostgreSQL: " + reason);
  }
}

namespace {
std::atomic<std::uint64_t> next_reuse_id{1};
// Per thread: the kept connection of each reusing Database, by reuse id.
thread_local std::unordered_map<std::uint64_t, std::unique_ptr<pqxx::connection>> kept_connections;
}  // namespace

Database Database::ReusingConnections(const Database& other) {
  Database out = other;
  out.reuse_id_ = next_reuse_id++;
  return out;
}

Result<pqxx::connection*> Database::ThreadConnection() const {
  auto& kept = kept_connections[reuse_id_];
  if (kept && !kept->is_open()) kept.reset();
  if (!kept) {
    auto connection = Connect();
    if (!connection.ok()) return connection.status();
    kept = std::move(*connection);
  }
  return kept.get();
}

void Database::DropThreadConnection() const { kept_connections.erase(reuse_id_); }

Status StatusFromCurrentException(const std::string& context) {
  try {
    throw;
  } catch (const pqxx::broken_connection& e) {
    return Unavailable(context + ": lost the PostgreSQL connection: " + e.what());
  } catch (const pqxx::unique_violation& e) {
    return Status(StatusCode::kAlreadyExists, context + ": " + e.what());
  } catch (const pqxx::data_exception& e) {
    return InvalidArgument(context + ": " + e.what());
  } catch (const pqxx::sql_error& e) {
    return Internal(context + ": " + e.what());
  } catch (const std::exception& e) {
    return Internal(context + ": " + e.what());
  }
}

}  // namespace octohub

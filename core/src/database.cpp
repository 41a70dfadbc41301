#include "octohub/core/database.h"

#include <atomic>
#include <pqxx/except>
#include <string>
#include <unordered_map>

#include "octohub/core/log.h"

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
  // What PostgreSQL or the C++ library said goes to the log for operators; the Status, which
  // may reach a client or a run's error, says what happened in words of its own.
  auto logged = [&context](const char* kind, const std::exception& e) {
    log::Warn("database.error", {{"context", context}, {"kind", kind}, {"reason", e.what()}});
  };
  try {
    throw;
  } catch (const pqxx::broken_connection& e) {
    logged("connection", e);
    return Unavailable(context + ": lost the connection to PostgreSQL");
  } catch (const pqxx::unique_violation& e) {
    logged("unique", e);
    return Status(StatusCode::kAlreadyExists, context + ": it exists already");
  } catch (const pqxx::data_exception& e) {
    logged("data", e);
    const std::string& state = e.sqlstate();
    if (state == "22021") {
      return InvalidArgument(context + ": a value is not valid UTF-8 text");
    }
    if (state == "22P05" || state == "22P02") {
      return InvalidArgument(context +
                             ": a value holds a character or form PostgreSQL cannot store");
    }
    if (state == "22003") return InvalidArgument(context + ": a number is out of range");
    return InvalidArgument(context + ": a value cannot be stored");
  } catch (const pqxx::sql_error& e) {
    logged("sql", e);
    if (e.sqlstate() == "54000") {
      return InvalidArgument(context + ": a value is too large for PostgreSQL to index");
    }
    return Internal(context + ": PostgreSQL refused the operation (the server log has details)");
  } catch (const std::exception& e) {
    logged("internal", e);
    return Internal(context + ": an internal error (the server log has details)");
  }
}

}  // namespace octohub

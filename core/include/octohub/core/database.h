// How every module reaches PostgreSQL: a connection string and a way to open connections.
// One pqxx::connection per thread; this object itself is immutable and thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <pqxx/connection>
#include <string>

#include "octohub/core/status.h"

namespace octohub {

class Database {
 public:
  // conninfo: a postgres:// URL or "key=value" pairs. A connect timeout is added when the
  // string names none, so an unreachable server fails within seconds instead of hanging.
  explicit Database(std::string conninfo, int connect_timeout_s = 5);

  const std::string& conninfo() const { return conninfo_; }

  // kUnavailable with libpq's reason when the server cannot be reached.
  Result<std::unique_ptr<pqxx::connection>> Connect() const;

  // The same database, but WithConnection keeps one connection per thread open between calls
  // (closed when the thread ends or the connection breaks): for request threads, where
  // opening a connection per request would cost more than the request.
  static Database ReusingConnections(const Database& other);
  bool reuses_connections() const { return reuse_id_ != 0; }
  // The calling thread's open connection (reuses_connections() only).
  Result<pqxx::connection*> ThreadConnection() const;
  void DropThreadConnection() const;

 private:
  std::string conninfo_;
  std::uint64_t reuse_id_ = 0;  // names this object's per-thread connections
};

// Turns the exception in flight (inside a catch block) into a Status with context.
Status StatusFromCurrentException(const std::string& context);

// Runs fn(c) -> Result<T> or Status on a connection the caller holds, and turns libpqxx
// exceptions into statuses that say what was being done.
template <class Fn>
auto OnConnection(pqxx::connection& c, const char* what, Fn&& fn) -> decltype(fn(c)) {
  try {
    return fn(c);
  } catch (...) {
    return StatusFromCurrentException(what);
  }
}

// Opens a connection, runs fn(connection) -> Result<T> or Status, and turns libpqxx
// exceptions into statuses that say what was being done.
template <class Fn>
auto WithConnection(const Database& db, const char* what, Fn&& fn)
    -> decltype(fn(std::declval<pqxx::connection&>())) {
  if (db.reuses_connections()) {
    auto kept = db.ThreadConnection();
    if (!kept.ok()) return kept.status().WithContext(what);
    try {
      return fn(**kept);
    } catch (...) {
      if (!(*kept)->is_open()) db.DropThreadConnection();
      return StatusFromCurrentException(what);
    }
  }
  auto connection = db.Connect();
  if (!connection.ok()) return connection.status().WithContext(what);
  return OnConnection(**connection, what, std::forward<Fn>(fn));
}

}  // namespace octohub

// How every module reaches PostgreSQL: a connection string and a way to open connections.
// One pqxx::connection per thread; this object itself is immutable and thread-safe.
#pragma once

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

 private:
  std::string conninfo_;
};

// Turns the exception in flight (inside a catch block) into a Status with context.
Status StatusFromCurrentException(const std::string& context);

// Opens a connection, runs fn(connection) -> Result<T> or Status, and turns libpqxx
// exceptions into statuses that say what was being done.
template <class Fn>
auto WithConnection(const Database& db, const char* what, Fn&& fn)
    -> decltype(fn(std::declval<pqxx::connection&>())) {
  auto connection = db.Connect();
  if (!connection.ok()) return connection.status().WithContext(what);
  try {
    return fn(**connection);
  } catch (...) {
    return StatusFromCurrentException(what);
  }
}

}  // namespace octohub

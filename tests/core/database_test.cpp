#include "octohub/core/database.h"

#include <catch2/catch.hpp>
#include <pqxx/pqxx>
#include <thread>

#include "test_database.h"

using octohub::Database;
using octohub::Result;
using octohub::WithConnection;
using octohub::testing::TestDatabase;

namespace {

Result<int> BackendPid(const Database& db) {
  return WithConnection(db, "reading the backend pid", [](pqxx::connection& c) -> Result<int> {
    return pqxx::nontransaction(c).exec1("SELECT pg_backend_pid()")[0].as<int>();
  });
}

}  // namespace

TEST_CASE("a reusing database keeps one connection per thread and replaces a broken one", "[pg]") {
  TestDatabase database;
  const Database plain = database.db();
  // The kept connections live on threads that end before the test database is dropped.
  std::thread([&] {
    const Database reusing = Database::ReusingConnections(plain);
    CHECK(reusing.reuses_connections());
    CHECK_FALSE(plain.reuses_connections());
    auto first = BackendPid(reusing);
    auto second = BackendPid(reusing);
    REQUIRE(first.ok());
    REQUIRE(second.ok());
    CHECK(*first == *second);
    CHECK(*BackendPid(plain) != *BackendPid(plain));  // a connection per call
    int other_thread_pid = 0;
    std::thread([&] { other_thread_pid = *BackendPid(reusing); }).join();
    CHECK(other_thread_pid != *first);
    // The server ends the kept connection: the next call reports it, the one after reconnects.
    database.Scalar("SELECT pg_terminate_backend(" + std::to_string(*first) + ")");
    auto broken = BackendPid(reusing);
    auto again = BackendPid(reusing);
    if (broken.ok()) CHECK(*broken != *first);
    REQUIRE(again.ok());
    CHECK(*again != *first);
  }).join();
}

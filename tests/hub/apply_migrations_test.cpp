#include <catch2/catch.hpp>
#include <future>
#include <pqxx/pqxx>
#include <vector>

#include "octohub/hub/migrations.h"
#include "octohub/sql/migrations.h"
#include "test_database.h"

using octohub::EmbeddedFile;
using octohub::StatusCode;
using octohub::hub::ApplyMigrations;
using octohub::hub::LoadMigrations;
using octohub::testing::TestDatabase;

namespace {

std::vector<octohub::hub::Migration> Project() {
  auto migrations = LoadMigrations(octohub::sql::Migrations());
  REQUIRE(migrations.ok());
  return *migrations;
}

}  // namespace

TEST_CASE("migrations are applied once and recorded", "[pg]") {
  TestDatabase database(false);
  auto first = ApplyMigrations(database.db(), Project());
  REQUIRE(first.ok());
  CHECK(*first == static_cast<int>(Project().size()));
  auto second = ApplyMigrations(database.db(), Project());
  REQUIRE(second.ok());
  CHECK(*second == 0);
  CHECK(database.Scalar("SELECT count(*) FROM schema_migrations") ==
        std::to_string(Project().size()));
  CHECK(database.Scalar("SELECT to_regclass('records')::text") == "records");
}

TEST_CASE("processes migrating at once apply each migration exactly once", "[pg]") {
  TestDatabase database(false);
  std::vector<std::future<octohub::Result<int>>> runs;
  for (int i = 0; i < 4; ++i) {
    runs.push_back(
        std::async(std::launch::async, [&] { return ApplyMigrations(database.db(), Project()); }));
  }
  int applied = 0;
  for (auto& run : runs) {
    auto result = run.get();
    INFO(result.status().ToString());
    REQUIRE(result.ok());
    applied += *result;
  }
  CHECK(applied == static_cast<int>(Project().size()));
}

TEST_CASE("a migration edited after it was applied is refused", "[pg]") {
  TestDatabase database(false);
  std::vector<EmbeddedFile> files = {{"001_a.sql", "CREATE TABLE a (x int)"}};
  REQUIRE(ApplyMigrations(database.db(), *LoadMigrations(files)).ok());
  files[0].content = "CREATE TABLE a (x bigint)";
  auto again = ApplyMigrations(database.db(), *LoadMigrations(files));
  REQUIRE_FALSE(again.ok());
  CHECK_THAT(again.status().message(), Catch::Contains("changed after it was applied"));
}

TEST_CASE("a failing migration is rolled back and stops the rest", "[pg]") {
  TestDatabase database(false);
  std::vector<EmbeddedFile> files = {{"001_ok.sql", "CREATE TABLE ok (x int)"},
                                     {"002_bad.sql", "CREATE TABLE half (x int); SELECT broken("},
                                     {"003_later.sql", "CREATE TABLE later (x int)"}};
  auto result = ApplyMigrations(database.db(), *LoadMigrations(files));
  REQUIRE_FALSE(result.ok());
  CHECK(database.Scalar("SELECT to_regclass('ok')::text") == "ok");
  CHECK(database.Scalar("SELECT to_regclass('half')::text").empty());
  CHECK(database.Scalar("SELECT to_regclass('later')::text").empty());
}

TEST_CASE("a database migrated by a newer octohub is refused", "[pg]") {
  TestDatabase database(false);
  std::vector<EmbeddedFile> newer = {{"001_a.sql", "SELECT 1"}, {"002_b.sql", "SELECT 2"}};
  REQUIRE(ApplyMigrations(database.db(), *LoadMigrations(newer)).ok());
  auto older = ApplyMigrations(database.db(), *LoadMigrations({newer[0]}));
  REQUIRE_FALSE(older.ok());
  CHECK(older.status().code() == StatusCode::kFailedPrecondition);
}

#include "octohub/hub/migrations.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "octohub/core/content_hash.h"
#include "octohub/sql/migrations.h"

namespace octohub::hub {
namespace {

TEST_CASE("Migrations are sorted by number with name, text and checksum", "[unit]") {
  auto migrations = LoadMigrations(
      {{"010_third.sql", "C;"}, {"001_first.sql", "A;"}, {"002_second_one.sql", "B;"}});
  REQUIRE(migrations.ok());
  REQUIRE(migrations->size() == 3);
  CHECK((*migrations)[0].version == 1);
  CHECK((*migrations)[1].version == 2);
  CHECK((*migrations)[2].version == 10);
  CHECK((*migrations)[1].name == "second_one");
  CHECK((*migrations)[2].sql == "C;");
  CHECK((*migrations)[0].checksum == ContentHash("A;"));
}

TEST_CASE("No migration files load as no migrations", "[unit]") {
  auto migrations = LoadMigrations({});
  REQUIRE(migrations.ok());
  CHECK(migrations->empty());
}

TEST_CASE("Migration files not named NNN_name.sql are rejected", "[unit]") {
  auto name = GENERATE(as<std::string>{}, "1_a.sql", "01_a.sql", "001-a.sql", "001_a.txt",
                       "001_A.sql", "a_001.sql", "001_.sql", "dir/001_a.sql", "001_a.sql.bak",
                       "001_a b.sql", "99999999999_big.sql");
  auto migrations = LoadMigrations({{"001_ok.sql", "A;"}, {name, "B;"}});
  REQUIRE_FALSE(migrations.ok());
  CHECK(migrations.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(migrations.status().message(), Catch::Contains("\"" + name + "\""));
}

TEST_CASE("Two migrations with the same number are rejected", "[unit]") {
  auto [first, second] = GENERATE(
      table<std::string, std::string>({{"001_a.sql", "001_b.sql"}, {"002_a.sql", "0002_b.sql"}}));
  auto migrations = LoadMigrations({{first, "A;"}, {"005_x.sql", "X;"}, {second, "B;"}});
  REQUIRE_FALSE(migrations.ok());
  CHECK_THAT(migrations.status().message(), Catch::Contains("share number"));
}

TEST_CASE("The project's migrations load and start at version 1", "[unit]") {
  auto migrations = LoadMigrations(octohub::sql::Migrations());
  INFO(migrations.status().ToString());
  REQUIRE(migrations.ok());
  REQUIRE_FALSE(migrations->empty());
  CHECK(migrations->front().version == 1);
  CHECK(migrations->front().name == "initial");
  for (const auto& migration : *migrations) CHECK_FALSE(migration.sql.empty());
}

}  // namespace
}  // namespace octohub::hub

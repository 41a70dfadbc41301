#include "test_database.h"

#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <pqxx/pqxx>
#include <random>

#include "octohub/hub/embedded_postgres.h"
#include "octohub/hub/migrations.h"
#include "octohub/sql/migrations.h"

namespace octohub::testing {

std::string SharedClusterDir() {
  const char* dir = std::getenv("OCTOHUB_TEST_PG_DIR");
  return dir != nullptr ? dir : "";
}

TestDatabase::TestDatabase(bool migrate) {
  hub::EmbeddedPostgresOptions options;
  options.cluster_dir = SharedClusterDir();
  // A cluster started here would outlive the run: only the ctest fixture starts and stops one.
  if (options.cluster_dir.empty()) {
    FAIL(
        "OCTOHUB_TEST_PG_DIR is not set: run database tests through ctest (scripts/test), whose "
        "fixture starts and stops the shared cluster, or start one with `octohub-test-pg start "
        "DIR` and set the variable to DIR");
  }
  options.stop_with_parent = false;  // shared by every test process of the run
  auto cluster = hub::EmbeddedPostgres::Start(options);
  REQUIRE(cluster.ok());
  admin_conninfo_ = (*cluster)->conninfo("postgres");
  std::random_device random;
  name_ = "t_" + std::to_string(getpid()) + "_" + std::to_string(random() % 1000000);
  {
    pqxx::connection admin(admin_conninfo_);
    pqxx::nontransaction(admin).exec0("CREATE DATABASE " + name_);
  }
  conninfo_ = (*cluster)->conninfo(name_);
  db_ = std::make_unique<Database>(conninfo_);
  if (!migrate) return;
  auto migrations = hub::LoadMigrations(sql::Migrations());
  REQUIRE(migrations.ok());
  auto applied = hub::ApplyMigrations(*db_, *migrations);
  INFO(applied.status().ToString());
  REQUIRE(applied.ok());
}

TestDatabase::~TestDatabase() {
  try {
    pqxx::connection admin(admin_conninfo_);
    pqxx::nontransaction(admin).exec0("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  } catch (...) {  // the cluster is thrown away at the end of the run anyway
  }
}

std::string TestDatabase::Scalar(const std::string& sql) const {
  pqxx::connection c(conninfo_);
  pqxx::nontransaction tx(c);
  auto rows = tx.exec(sql);
  if (rows.empty() || rows[0][0].is_null()) return "";
  return rows[0][0].as<std::string>();
}

}  // namespace octohub::testing

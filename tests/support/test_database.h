// A fresh, migrated database for one test case, on the PostgreSQL cluster shared by the
// whole test run (started once by the ctest fixture through the embedded manager; the
// environment variable OCTOHUB_TEST_PG_DIR names its directory).
#pragma once

#include <memory>
#include <string>

#include "octohub/core/database.h"

namespace octohub::testing {

class TestDatabase {
 public:
  // Fails the test case when the cluster cannot be reached. Without migrate, the database
  // is left empty.
  explicit TestDatabase(bool migrate = true);
  ~TestDatabase();  // drops the database
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  const Database& db() const { return *db_; }
  const std::string& conninfo() const { return conninfo_; }
  const std::string& name() const { return name_; }

  // Runs one SQL statement and returns the first column of the first row as text ("" if none).
  std::string Scalar(const std::string& sql) const;

 private:
  std::string admin_conninfo_;
  std::string name_;
  std::string conninfo_;
  std::unique_ptr<Database> db_;
};

// The shared cluster's directory (OCTOHUB_TEST_PG_DIR; "" when unset).
std::string SharedClusterDir();

}  // namespace octohub::testing

#include "octohub/hub/embedded_postgres.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <pqxx/pqxx>
#include <thread>

#include "temp_dir.h"

namespace fs = std::filesystem;
using octohub::StatusCode;
using octohub::hub::EmbeddedPostgres;
using octohub::hub::EmbeddedPostgresOptions;
using octohub::testing::TempDir;

namespace {

EmbeddedPostgresOptions OptionsFor(const TempDir& dir) {
  EmbeddedPostgresOptions options;
  options.cluster_dir = dir / "pg";
  options.settings = {{"fsync", "off"}};
  return options;
}

std::string QueryOne(const std::string& conninfo, const std::string& sql) {
  pqxx::connection c(conninfo);
  return pqxx::nontransaction(c).exec1(sql)[0].as<std::string>();
}

bool Alive(pid_t pid) { return kill(pid, 0) == 0 || errno == EPERM; }

}  // namespace

TEST_CASE("a new cluster is created under the data dir, answers queries and stops", "[pg]") {
  TempDir dir;
  auto server = EmbeddedPostgres::Start(OptionsFor(dir));
  REQUIRE(server.ok());
  CHECK(fs::exists(dir / "pg" / "PG_VERSION"));
  CHECK((*server)->started_here());
  CHECK(QueryOne((*server)->conninfo(), "SELECT current_database()") == "octohub");
  pid_t pid = (*server)->pid();
  REQUIRE((*server)->Stop().ok());
  CHECK_FALSE(Alive(pid));
}

TEST_CASE("a second start on a running cluster reuses it and leaves it running", "[pg]") {
  TempDir dir;
  auto first = EmbeddedPostgres::Start(OptionsFor(dir));
  REQUIRE(first.ok());
  {
    auto second = EmbeddedPostgres::Start(OptionsFor(dir));
    REQUIRE(second.ok());
    CHECK_FALSE((*second)->started_here());
    CHECK((*second)->port() == (*first)->port());
  }
  CHECK(QueryOne((*first)->conninfo(), "SELECT 1") == "1");
}

TEST_CASE("a stopped cluster starts again with its data", "[pg]") {
  TempDir dir;
  {
    auto server = EmbeddedPostgres::Start(OptionsFor(dir));
    REQUIRE(server.ok());
    pqxx::connection c((*server)->conninfo());
    pqxx::nontransaction(c).exec0("CREATE TABLE kept AS SELECT 42 AS answer");
  }
  auto again = EmbeddedPostgres::Start(OptionsFor(dir));
  REQUIRE(again.ok());
  CHECK(QueryOne((*again)->conninfo(), "SELECT answer FROM kept") == "42");
}

TEST_CASE("a stale pid file naming another live process is recovered", "[pg]") {
  TempDir dir;
  { REQUIRE(EmbeddedPostgres::Start(OptionsFor(dir)).ok()); }
  pid_t unrelated = fork();
  if (unrelated == 0) {
    pause();
    _exit(0);
  }
  std::ofstream(dir / "pg" / "postmaster.pid")
      << unrelated << "\n"
      << (dir / "pg").string() << "\n1700000000\n5432\n/tmp\n*\n  1 2\nready\n";
  auto server = EmbeddedPostgres::Start(OptionsFor(dir));
  kill(unrelated, SIGKILL);
  waitpid(unrelated, nullptr, 0);
  INFO(server.status().ToString());
  REQUIRE(server.ok());
  CHECK((*server)->started_here());
}

TEST_CASE("a stale pid file naming a dead process is recovered", "[pg]") {
  TempDir dir;
  { REQUIRE(EmbeddedPostgres::Start(OptionsFor(dir)).ok()); }
  std::ofstream(dir / "pg" / "postmaster.pid") << "999999\n" << (dir / "pg").string() << "\n";
  auto server = EmbeddedPostgres::Start(OptionsFor(dir));
  INFO(server.status().ToString());
  REQUIRE(server.ok());
}

TEST_CASE("missing PostgreSQL binaries are reported with the package to install", "[unit]") {
  TempDir dir;
  auto found = octohub::hub::FindPostgresBinaries("", dir.path());
  REQUIRE_FALSE(found.ok());
  CHECK(found.status().code() == StatusCode::kFailedPrecondition);
  CHECK_THAT(found.status().message(), Catch::Contains("apt-get install postgresql"));
}

TEST_CASE("a data dir that cannot be created is a clear error", "[pg]") {
  TempDir dir;
  dir.Write("file", "not a directory");
  EmbeddedPostgresOptions options;
  options.cluster_dir = dir / "file" / "data" / "pg";
  auto server = EmbeddedPostgres::Start(options);
  REQUIRE_FALSE(server.ok());
  CHECK_THAT(server.status().message(), Catch::Contains("cannot create the data directory"));
}

TEST_CASE("a server tied to its parent stops when the parent is killed", "[pg]") {
  TempDir dir;
  int ready[2];
  REQUIRE(pipe(ready) == 0);
  pid_t parent = fork();
  if (parent == 0) {
    auto server = EmbeddedPostgres::Start(OptionsFor(dir));
    pid_t pid = server.ok() ? (*server)->pid() : 0;
    (void)!write(ready[1], &pid, sizeof(pid));
    pause();
    _exit(0);
  }
  pid_t server_pid = 0;
  REQUIRE(read(ready[0], &server_pid, sizeof(server_pid)) == sizeof(server_pid));
  REQUIRE(server_pid > 0);
  kill(parent, SIGKILL);
  waitpid(parent, nullptr, 0);
  for (int i = 0; i < 200 && Alive(server_pid); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK_FALSE(Alive(server_pid));
  CHECK(EmbeddedPostgres::Start(OptionsFor(dir)).ok());  // and the next start recovers
}

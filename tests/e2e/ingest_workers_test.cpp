// Ingest across processes: a worker killed mid-run, and two workers sharing one database.
#include <signal.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <set>
#include <thread>

#include "deployment.h"

namespace json = boost::json;
using namespace std::chrono_literals;
using namespace octohub::testing;

namespace {

std::unique_ptr<BackgroundProcess> StartIngest(const TestDatabase& database, const TempDir& dir,
                                               const std::string& workers) {
  return StartServe(database, dir / "data", {"--roles", "ingest", "--ingest-workers", workers});
}

}  // namespace

TEST_CASE("a worker killed mid-run: after restart the records are complete, without duplicates",
          "[e2e]") {
  TestDatabase database;
  TempDir dir;
  auto api = SlowApi(10, 150ms);
  ApplySource(database, dir, "slow", api.url("/items"));
  {
    auto first = StartIngest(database, dir, "1");
    QueueRun(database, "slow");
    REQUIRE(WaitFor([&] { return database.Scalar("SELECT pages >= 3 FROM runs") == "t"; }, 30s));
    first->Signal(SIGKILL);
    first->WaitExit(10s);
  }
  CHECK(database.Scalar("SELECT status FROM runs") == "running");  // orphaned
  auto second = StartIngest(database, dir, "1");
  REQUIRE(WaitFor([&] { return database.Scalar("SELECT status FROM runs") == "succeeded"; }, 60s));
  CHECK(database.Scalar("SELECT count(*) FROM runs") == "1");
  CHECK(database.Scalar("SELECT count(*) FROM records") == "20");
  CHECK(database.Scalar("SELECT count(DISTINCT id) FROM records") == "20");
  CHECK(database.Scalar("SELECT pages FROM runs") == "11");
  CHECK_THAT(second->stderr_text(), Catch::Contains("ingest.recovered_runs"));
}

TEST_CASE("two ingest processes share the sources and never run one twice", "[e2e]") {
  TestDatabase database;
  TempDir dir;
  auto api = SlowApi(4, 100ms);
  const std::vector<std::string> names = {"s1", "s2", "s3", "s4", "s5", "s6"};
  for (const auto& name : names) ApplySource(database, dir, name, api.url("/" + name));
  auto a = StartIngest(database, dir, "1");
  auto b = StartIngest(database, dir, "1");
  for (const auto& name : names) QueueRun(database, name);
  REQUIRE(WaitFor(
      [&] {
        return database.Scalar("SELECT count(*) FROM runs WHERE status = 'succeeded'") == "6";
      },
      60s));
  CHECK(database.Scalar("SELECT count(*) FROM runs") == "6");
  CHECK(database.Scalar("SELECT count(*) FROM records") == "48");
  // Each run was started by exactly one of the two processes.
  auto started = [](const std::string& log) {
    std::multiset<std::int64_t> runs;
    for (size_t at = log.find("\"run.started\""); at != std::string::npos;
         at = log.find("\"run.started\"", at + 1)) {
      size_t begin = log.rfind('\n', at);
      begin = begin == std::string::npos ? 0 : begin + 1;
      runs.insert(json::parse(log.substr(begin, log.find('\n', at) - begin)).at("run").as_int64());
    }
    return runs;
  };
  auto from_a = started(a->stderr_text());
  auto from_b = started(b->stderr_text());
  CHECK(from_a.size() + from_b.size() == 6);
  std::set<std::int64_t> all(from_a.begin(), from_a.end());
  all.insert(from_b.begin(), from_b.end());
  CHECK(all.size() == 6);
  CHECK_FALSE(from_a.empty());
  CHECK_FALSE(from_b.empty());
}

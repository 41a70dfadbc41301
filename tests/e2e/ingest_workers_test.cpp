// Ingest across processes: a worker killed mid-run, and two workers sharing one database.
#include <signal.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <set>
#include <thread>

#include "http_test_server.h"
#include "process.h"
#include "temp_dir.h"
#include "test_database.h"

namespace json = boost::json;
using namespace std::chrono_literals;
using octohub::testing::BackgroundProcess;
using octohub::testing::HttpTestServer;
using octohub::testing::OctohubBinary;
using octohub::testing::RunProcess;
using octohub::testing::TempDir;
using octohub::testing::TestDatabase;
using octohub::testing::TestRequest;
using octohub::testing::TestResponse;

namespace {

// `pages` pages of two items each, every answer taking `delay`.
HttpTestServer SlowApi(int pages, std::chrono::milliseconds delay) {
  return HttpTestServer([pages, delay](const TestRequest& request) {
    std::this_thread::sleep_for(delay);
    int page = std::stoi(request.query.count("page") ? request.query.at("page") : "1");
    json::array items;
    for (int id = page * 2 - 1; page <= pages && id <= page * 2; ++id) {
      items.push_back({{"id", id}, {"title", "item " + std::to_string(id)}});
    }
    return TestResponse{200, json::serialize(json::object{{"items", items}})};
  });
}

void ApplySource(const TestDatabase& database, const TempDir& dir, const std::string& name,
                 const std::string& url) {
  auto file =
      dir.Write(name + ".yaml", "name: " + name + "\nurl: " + url +
                                    "\nrecords: /items\nid: /id\npagination: {type: page}\n");
  auto applied = RunProcess(
      {OctohubBinary(), "sources", "apply", file.string(), "--database-url", database.conninfo()});
  INFO(applied.err);
  REQUIRE(applied.exit_code == 0);
}

void QueueRun(const TestDatabase& database, const std::string& name) {
  auto queued =
      RunProcess({OctohubBinary(), "sources", "run", name, "--database-url", database.conninfo()});
  INFO(queued.err);
  REQUIRE(queued.exit_code == 0);
}

std::unique_ptr<BackgroundProcess> StartIngest(const TestDatabase& database, const TempDir& dir,
                                               const std::string& workers) {
  auto serve = std::make_unique<BackgroundProcess>(std::vector<std::string>{
      OctohubBinary(), "serve", "--roles", "ingest", "--ingest-workers", workers, "--database-url",
      database.conninfo(), "--data-dir", (dir / "data").string()});
  REQUIRE(serve->WaitForLine("\"serve.ready\"", 30s));
  return serve;
}

bool WaitFor(const std::function<bool()>& condition, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return condition();
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

// A deployment of several processes over one database: ingest workers sharing sources by
// lease, one index writer, and API replicas searching copies of its index.
#include <signal.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <iostream>

#include "deployment.h"
#include "octohub/ingest/http_fetcher.h"

namespace json = boost::json;
using namespace std::chrono_literals;
using namespace octohub::testing;

namespace {

struct Answer {
  long status = 0;
  json::value body;
};

Answer Get(const std::string& address, const std::string& path) {
  auto response = octohub::ingest::MakeCurlFetcher()->Fetch({.url = "http://" + address + path});
  REQUIRE(response.ok());
  json::error_code ec;
  json::value body = json::parse(response->body, ec);
  return {response->status, ec ? json::value() : body};
}

// The (source, id) of each hit, in order.
std::vector<std::string> HitsOf(const json::value& body) {
  std::vector<std::string> hits;
  for (const auto& hit : body.at("hits").as_array()) {
    hits.push_back(std::string(hit.at("source").as_string()) + "/" +
                   std::string(hit.at("id").as_string()));
  }
  return hits;
}

std::unique_ptr<BackgroundProcess> StartReplica(const TestDatabase& database, const TempDir& dir,
                                                const std::string& name, int master_port) {
  return StartServe(database, dir / name,
                    {"--roles", "api", "--listen", "127.0.0.1:0", "--public-read",
                     "--index-replica-of", "127.0.0.1:" + std::to_string(master_port)});
}

}  // namespace

TEST_CASE("an API replica with no copy of the index yet answers search with 503", "[e2e]") {
  TestDatabase database;
  TempDir dir;
  auto replica = StartReplica(database, dir, "replica", FreePort());
  const std::string address = ListenAddress(*replica);
  auto search = Get(address, "/api/v1/search?q=anything");
  CHECK(search.status == 503);
  CHECK_THAT(json::serialize(search.body), Catch::Contains("index"));
  CHECK(Get(address, "/readyz").status == 503);
  CHECK(Get(address, "/healthz").status == 200);
}

TEST_CASE("replication options that contradict each other are refused before anything starts",
          "[e2e]") {
  TestDatabase database;
  TempDir dir;
  auto both = RunProcess({OctohubBinary(), "serve", "--database-url", database.conninfo(),
                          "--data-dir", (dir / "d").string(), "--replication-listen",
                          "127.0.0.1:7010", "--index-replica-of", "127.0.0.1:7011"});
  CHECK(both.exit_code != 0);
  CHECK_THAT(both.err, Catch::Contains("exclude each other"));
  auto writer_replica = RunProcess({OctohubBinary(), "serve", "--database-url", database.conninfo(),
                                    "--data-dir", (dir / "d").string(), "--roles", "api,index",
                                    "--index-replica-of", "127.0.0.1:1"});
  CHECK(writer_replica.exit_code != 0);
  CHECK_THAT(writer_replica.err, Catch::Contains("index role"));
  auto bad_port = RunProcess({OctohubBinary(), "serve", "--database-url", database.conninfo(),
                              "--data-dir", (dir / "d").string(), "--roles", "index",
                              "--replication-listen", "127.0.0.1:http"});
  CHECK(bad_port.exit_code != 0);
  CHECK_THAT(bad_port.err, Catch::Contains("host:port"));
}

TEST_CASE(
    "two workers, one index writer, two API replicas: a killed worker's runs are taken over and "
    "both replicas answer like PostgreSQL",
    "[e2e]") {
  TestDatabase database;
  TempDir dir;
  auto api = SlowApi(8, 120ms);  // 16 records a source
  const std::vector<std::string> names = {"s1", "s2", "s3", "s4"};
  for (const auto& name : names) ApplySource(database, dir, name, api.url("/" + name));

  const int replication_port = FreePort();
  auto writer = StartServe(database, dir / "writer",
                           {"--roles", "index", "--index-shards", "2", "--replication-listen",
                            "127.0.0.1:" + std::to_string(replication_port)});
  auto replica_a = StartReplica(database, dir, "replica-a", replication_port);
  auto replica_b = StartReplica(database, dir, "replica-b", replication_port);
  const std::vector<std::string> worker_args = {"--roles", "ingest",          "--ingest-workers",
                                                "1",       "--lease-seconds", "3"};
  auto worker_a = StartServe(database, dir / "worker-a", worker_args);
  auto worker_b = StartServe(database, dir / "worker-b", worker_args);
  for (const auto& name : names) QueueRun(database, name);

  // Kill worker a in the middle of a run: the lease it held lapses and b takes the run over.
  REQUIRE(worker_a->WaitForLine("\"run.started\"", 30s));
  std::this_thread::sleep_for(300ms);
  const std::string orphan =
      database.Scalar("SELECT id FROM runs WHERE status = 'running' AND lease_owner LIKE '%:" +
                      std::to_string(worker_a->pid()) + ":%'");
  REQUIRE_FALSE(orphan.empty());
  const auto killed = std::chrono::steady_clock::now();
  worker_a->Signal(SIGKILL);
  worker_a->WaitExit(10s);
  // The run a held is claimed again by b once the 3 s lease has lapsed.
  REQUIRE(WaitFor(
      [&] {
        return database.Scalar("SELECT status = 'succeeded' OR lease_owner NOT LIKE '%:" +
                               std::to_string(worker_a->pid()) +
                               ":%' FROM runs WHERE id = " + orphan) == "t";
      },
      30s));
  const auto failover = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - killed);
  std::cout << "a killed worker's run was taken over " << failover.count()
            << " ms after the kill\n";
  CHECK(failover >= 2s);  // not before the lease lapsed
  REQUIRE(WaitFor(
      [&] {
        return database.Scalar("SELECT count(*) FROM runs WHERE status = 'succeeded'") == "4";
      },
      90s));
  const auto harvested = std::chrono::steady_clock::now();
  CHECK(database.Scalar("SELECT count(*) FROM runs") == "4");
  CHECK(database.Scalar("SELECT count(*) FROM records") == "64");
  CHECK(database.Scalar("SELECT count(*) FROM (SELECT DISTINCT source, id FROM records) r") ==
        "64");
  CHECK_THAT(worker_b->stderr_text(), Catch::Contains("\"run.started\""));

  // Both replicas catch up with PostgreSQL and give the same answers.
  const std::string everything = "/api/v1/search?q=item&exact_total=true&per_page=100";
  for (auto* replica : {replica_a.get(), replica_b.get()}) {
    const std::string address = ListenAddress(*replica);
    INFO(replica->stderr_text());
    REQUIRE(WaitFor(
        [&] {
          auto answer = Get(address, everything);
          return answer.status == 200 && answer.body.at("total").as_int64() == 64;
        },
        30s));
  }
  const auto lag = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - harvested);
  std::cout << "replicas current " << lag.count() << " ms after the last run finished\n";
  const std::string some = "/api/v1/search?q=item+7&per_page=20";
  auto from_a = Get(ListenAddress(*replica_a), some);
  auto from_b = Get(ListenAddress(*replica_b), some);
  REQUIRE(from_a.status == 200);
  CHECK(HitsOf(from_a.body) == HitsOf(from_b.body));
  CHECK(HitsOf(from_a.body).size() == 4);  // "item 7" in each source

  // Each replica holds a copy of both shards, and each shard a share of the records.
  for (auto* replica : {replica_a.get(), replica_b.get()}) {
    auto metrics = octohub::ingest::MakeCurlFetcher()->Fetch(
        {.url = "http://" + ListenAddress(*replica) + "/metrics"});
    REQUIRE(metrics.ok());
    std::int64_t sum = 0;
    for (const char* shard : {"0", "1"}) {
      const std::string series =
          std::string("octohub_index_shard_documents{shard=\"") + shard + "\"} ";
      const auto at = metrics->body.find(series);
      INFO(metrics->body);
      REQUIRE(at != std::string::npos);
      const std::int64_t documents = std::stoll(metrics->body.substr(at + series.size()));
      CHECK(documents > 10);
      sum += documents;
    }
    CHECK(sum == 64);
    CHECK(metrics->body.find("octohub_index_shard_documents{shard=\"2\"}") == std::string::npos);
  }
}

TEST_CASE("an index writer warns at start when replication is bound beyond private networks",
          "[e2e]") {
  TestDatabase database;
  TempDir dir;
  auto open = StartServe(
      database, dir / "open",
      {"--roles", "index", "--replication-listen", "0.0.0.0:" + std::to_string(FreePort())});
  auto warned = open->WaitForLine("\"replication.public_bind\"", 30s);
  REQUIRE(warned);
  CHECK_THAT(*warned, Catch::Contains("no authentication"));
  auto closed = StartServe(
      database, dir / "closed",
      {"--roles", "index", "--replication-listen", "127.0.0.1:" + std::to_string(FreePort())});
  REQUIRE(closed->WaitForLine("\"serve.ready\"", 30s));
  CHECK_THAT(closed->stderr_text(), !Catch::Contains("replication.public_bind"));
}

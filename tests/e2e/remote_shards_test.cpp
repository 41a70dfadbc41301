// Index shards on other machines (here: loopback): `octohub shard-server` serves one, the
// index role writes it with its local shard, and every api searches them together.
#include <signal.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <thread>

#include "deployment.h"
#include "octohub/ingest/http_fetcher.h"
#include "seed_records.h"

using namespace std::chrono_literals;
using octohub::testing::BackgroundProcess;
using octohub::testing::FreePort;
using octohub::testing::ListenAddress;
using octohub::testing::OctohubBinary;
using octohub::testing::StartServe;
using octohub::testing::TempDir;
using octohub::testing::TestDatabase;
using octohub::testing::WaitFor;
namespace json = boost::json;

namespace {

struct ShardServer {
  std::unique_ptr<BackgroundProcess> process;
  int tcpsrv_pid = 0;  // the xapian-tcpsrv it runs, leader of its process group

  ShardServer(const std::filesystem::path& data_dir, int port) { Start(data_dir, port); }
  void Start(const std::filesystem::path& data_dir, int port) {
    process = std::make_unique<BackgroundProcess>(std::vector<std::string>{
        OctohubBinary(), "shard-server", "--listen", "127.0.0.1:" + std::to_string(port),
        "--data-dir", data_dir.string()});
    auto started = process->WaitForLine("\"child.started\"", 30s);
    INFO(process->stderr_text());
    REQUIRE(started);
    tcpsrv_pid = static_cast<int>(json::parse(*started).at("pid").as_int64());
    REQUIRE(process->WaitForLine("\"shard_server.ready\"", 30s));
  }
  // As if its machine went away: the server and every connection it serves end at once.
  void Kill() {
    process->Signal(SIGKILL);
    process->WaitExit(10s);
    kill(-tcpsrv_pid, SIGKILL);
  }
};

struct Reply {
  long status = 0;
  std::string body;
};

Reply Get(const std::string& address, const std::string& path) {
  auto response = octohub::ingest::MakeCurlFetcher()->Fetch({.url = "http://" + address + path});
  REQUIRE(response.ok());
  return {response->status, response->body};
}

std::int64_t TotalOf(const Reply& reply) {
  if (reply.status != 200) return -1;
  return json::parse(reply.body).at("total").as_int64();
}

}  // namespace

TEST_CASE(
    "two shard servers and a local shard are written together and searched from two API "
    "processes, a shard server gone makes searches 503 naming it, and back it answers whole",
    "[e2e]") {
  TestDatabase database;
  TempDir dir;
  const int port_a = FreePort();
  const int port_b = FreePort();
  ShardServer shard_a(dir / "shard-a", port_a);
  ShardServer shard_b(dir / "shard-b", port_b);
  const std::string remote =
      "127.0.0.1:" + std::to_string(port_a) + ",127.0.0.1:" + std::to_string(port_b);
  auto writer = StartServe(database, dir / "hub",
                           {"--roles", "index,api", "--index-shards", "1", "--index-remote", remote,
                            "--listen", "127.0.0.1:0", "--public-read"});
  auto second = StartServe(
      database, dir / "hub",
      {"--roles", "api", "--index-remote", remote, "--listen", "127.0.0.1:0", "--public-read"});
  const std::string apis[] = {ListenAddress(*writer), ListenAddress(*second)};

  octohub::testing::SeedSource(database.db(), R"({"name": "notes", "url": "http://127.0.0.1:9/",
      "records": "", "id": "/id", "index": {"title": "/title"}})");
  octohub::testing::SeedRecords(database.db(), "notes", 90, [](int n) {
    return json::object{{"id", std::to_string(n)}, {"title", "note " + std::to_string(n)}};
  });
  const std::string everything = "/api/v1/search?q=note&exact_total=true&per_page=5";
  for (const auto& api : apis) {
    INFO(api << "\n" << writer->stderr_text());
    REQUIRE(WaitFor([&] { return TotalOf(Get(api, everything)) == 90; }, 30s));
  }
  auto hits = [&](const std::string& api) {
    return json::parse(Get(api, "/api/v1/search?q=note+17").body).at("hits");
  };
  CHECK(hits(apis[0]) == hits(apis[1]));
  CHECK(hits(apis[0]).as_array().size() == 1);
  // Every shard holds a share: the local one and both remote ones.
  const std::string metrics = Get(apis[1], "/metrics").body;
  for (const char* shard : {"0", "1", "2"}) {
    const std::string series =
        std::string("octohub_index_shard_documents{shard=\"") + shard + "\"} ";
    const auto at = metrics.find(series);
    INFO(metrics);
    REQUIRE(at != std::string::npos);
    CHECK(std::stoll(metrics.substr(at + series.size())) > 10);
  }

  const std::string written = Get(apis[0], "/metrics").body;
  CHECK_THAT(written, Catch::Contains("octohub_index_batch_seconds_count "));

  // Shard b goes away: searches say which shard does not answer, and readiness drops.
  shard_b.Kill();
  for (const auto& api : apis) {
    Reply refused;
    REQUIRE(WaitFor(
        [&] {
          refused = Get(api, everything);
          return refused.status == 503;
        },
        15s));
    CHECK_THAT(refused.body, Catch::Contains("127.0.0.1:" + std::to_string(port_b)) &&
                                 Catch::Contains("does not answer"));
    CHECK(Get(api, "/readyz").status == 503);
  }
  // Records keep arriving meanwhile; none is lost.
  octohub::testing::SeedRecords(database.db(), "notes", 30, [](int n) {
    return json::object{{"id", std::to_string(100 + n)},
                        {"title", "note late " + std::to_string(n)}};
  });
  REQUIRE(writer->WaitForLine("\"index.catch_up_failed\"", 15s));

  shard_b.Start(dir / "shard-b", port_b);
  for (const auto& api : apis) {
    INFO(api << "\n" << writer->stderr_text());
    REQUIRE(WaitFor([&] { return TotalOf(Get(api, everything)) == 120; }, 30s));
    CHECK(Get(api, "/readyz").status == 200);
  }
}

TEST_CASE("a remote shard that does not answer at start is waited for, and then written", "[e2e]") {
  TestDatabase database;
  TempDir dir;
  const int port = FreePort();
  const std::string remote = "127.0.0.1:" + std::to_string(port);
  octohub::testing::SeedSource(database.db(), R"({"name": "notes", "url": "http://127.0.0.1:9/",
      "records": "", "id": "/id", "index": {"title": "/title"}})");
  octohub::testing::SeedRecords(database.db(), "notes", 40, [](int n) {
    return json::object{{"id", std::to_string(n)}, {"title", "note " + std::to_string(n)}};
  });
  // The hub starts and answers; its index is not ready and says why.
  auto hub = StartServe(database, dir / "hub",
                        {"--roles", "index,api", "--index-shards", "1", "--index-remote", remote,
                         "--listen", "127.0.0.1:0", "--public-read"});
  const std::string api = ListenAddress(*hub);
  CHECK_THAT(hub->stderr_text(),
             Catch::Contains("\"index.open_failed\"") && Catch::Contains(remote));
  CHECK(Get(api, "/readyz").status == 503);
  const Reply refused = Get(api, "/api/v1/search?q=note");
  CHECK(refused.status == 503);
  CHECK_THAT(refused.body, Catch::Contains(remote));

  ShardServer shard(dir / "shard", port);
  INFO(hub->stderr_text());
  REQUIRE(WaitFor([&] { return TotalOf(Get(api, "/api/v1/search?q=note&exact_total=true")) == 40; },
                  30s));
  CHECK(Get(api, "/readyz").status == 200);
}

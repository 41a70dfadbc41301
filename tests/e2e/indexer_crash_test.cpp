// The indexer killed mid-batch converges, after a restart, to exactly what PostgreSQL holds.
#include <signal.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <pqxx/pqxx>
#include <set>
#include <thread>

#include "octohub/indexer/searcher.h"
#include "process.h"
#include "seed_records.h"
#include "temp_dir.h"
#include "test_database.h"

using namespace std::chrono_literals;
using octohub::testing::BackgroundProcess;
using octohub::testing::OctohubBinary;
using octohub::testing::TempDir;
using octohub::testing::TestDatabase;

namespace {

void StoreRecords(const TestDatabase& database, int count) {
  octohub::testing::SeedSource(database.db(), R"({"name": "bulk",
    "url": "http://127.0.0.1:9/", "records": "", "id": "/id",
    "index": {"title": "/title", "text": ["/body"]}})");
  std::string lorem;
  for (int i = 0; i < 20; ++i) lorem += "lorem ipsum dolor sit amet ";
  octohub::testing::SeedRecords(database.db(), "bulk", count, [&](int g) {
    return boost::json::object{
        {"id", g}, {"title", "record " + std::to_string(g)}, {"body", lorem + std::to_string(g)}};
  });
}

std::set<std::string> IndexedIds(const std::filesystem::path& index) {
  auto searcher = octohub::indexer::OpenSearcher(index);
  std::set<std::string> ids;
  for (int page = 1;; ++page) {
    octohub::indexer::SearchRequest request;
    request.page = page;
    request.per_page = 100;
    auto response = searcher->Search(request);
    REQUIRE(response.ok());
    for (const auto& hit : response->hits) ids.insert(hit.id);
    if (response->hits.size() < 100) break;
  }
  return ids;
}

std::unique_ptr<BackgroundProcess> StartIndexer(const TestDatabase& database, const TempDir& dir) {
  auto serve = std::make_unique<BackgroundProcess>(
      std::vector<std::string>{OctohubBinary(), "serve", "--roles", "index", "--database-url",
                               database.conninfo(), "--data-dir", (dir / "data").string()});
  REQUIRE(serve->WaitForLine("\"serve.ready\"", 30s));
  return serve;
}

}  // namespace

TEST_CASE("an indexer killed mid-batch converges to PostgreSQL after a restart", "[e2e]") {
  TestDatabase database;
  TempDir dir;
  StoreRecords(database, 20000);
  {
    auto first = StartIndexer(database, dir);
    std::this_thread::sleep_for(700ms);  // some batches in, the rest under way
    first->Signal(SIGKILL);
    first->WaitExit(10s);
    CHECK_THAT(first->stderr_text(), !Catch::Contains("\"records\":20000"));  // it was cut short
  }
  pqxx::connection c(database.conninfo());
  pqxx::nontransaction(c).exec(  // records deleted upstream while it was down
      "UPDATE records SET deleted = true, change_seq = nextval('record_change_seq') "
      "WHERE id::int % 11 = 0");
  auto second = StartIndexer(database, dir);
  const std::string last =
      pqxx::nontransaction(c).exec1("SELECT max(change_seq) FROM records")[0].c_str();
  REQUIRE(second->WaitForLine("\"checkpoint\":" + last, 60s));
  std::set<std::string> expected;
  for (const auto& row : pqxx::nontransaction(c).exec("SELECT id FROM records WHERE NOT deleted")) {
    expected.insert(row[0].c_str());
  }
  CHECK(IndexedIds(dir / "data" / "index") == expected);
}

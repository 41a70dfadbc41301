// Sequences over a running `serve`: a source deleted, then others harvested; deleted while its
// run is in flight; deleted and created again under its name; an indexer that keeps failing.
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "deployment.h"

namespace json = boost::json;
using namespace std::chrono_literals;
using namespace octohub::testing;

namespace {

// `pages` pages of two records each, titled "<word> N"; pages after the first take `delay`.
HttpTestServer WordApi(const std::string& word, int pages, std::chrono::milliseconds delay = 0ms) {
  return HttpTestServer([=](const TestRequest& request) {
    int page = std::stoi(request.query.count("page") ? request.query.at("page") : "1");
    if (page > 1) std::this_thread::sleep_for(delay);
    json::array items;
    for (int id = page * 2 - 1; page <= pages && id <= page * 2; ++id) {
      items.push_back({{"id", id}, {"title", word + " " + std::to_string(id)}});
    }
    return TestResponse{200, json::serialize(json::object{{"items", items}})};
  });
}

}  // namespace

TEST_CASE("after a source is deleted, other sources keep becoming searchable", "[e2e]") {
  Hub hub;
  auto alpha = WordApi("alpha", 2);
  auto bravo = WordApi("bravo", 2);
  hub.CreateAndRun("first", alpha.url("/items"));
  REQUIRE(hub.Finds("alpha", 4));

  REQUIRE(hub.Call("DELETE", "/api/v1/sources/first").status == 204);
  hub.CreateAndRun("second", bravo.url("/items"));
  INFO(hub.serve->stderr_text());
  CHECK(hub.Finds("bravo", 4));
  CHECK(hub.Finds("alpha", 0));
  CHECK(hub.Call("GET", "/readyz").status == 200);
  CHECK_THAT(hub.Call("GET", "/metrics").body, Catch::Contains("octohub_index_errors_total 0"));
  CHECK_THAT(hub.serve->stderr_text(), !Catch::Contains("index.catch_up_failed"));

  // The same name again, over other records: only the new ones are found.
  auto charlie = WordApi("charlie", 1);
  hub.CreateAndRun("first", charlie.url("/items"));
  CHECK(hub.Finds("charlie", 2));
  CHECK(hub.Total("alpha") == 0);

  // A rebuild reads whatever the tables hold, tombstones included.
  auto reindex = RunProcess({OctohubBinary(), "reindex", "--database-url", hub.database.conninfo(),
                             "--data-dir", (hub.dir / "data").string()},
                            60s);
  INFO(reindex.err);
  REQUIRE(reindex.exit_code == 0);
  CHECK_THAT(reindex.out, Catch::Contains("indexed"));
  CHECK(hub.Finds("bravo", 4));
  CHECK(hub.Finds("charlie", 2));
  CHECK(hub.Total("alpha") == 0);
}

TEST_CASE("a source deleted and re-created while its old run is in flight keeps only new records",
          "[e2e]") {
  Hub hub;
  // The old run stores page 1 at once; its later pages come back long after the deletion.
  auto slow = WordApi("stale", 3, 3000ms);
  auto fresh = WordApi("fresh", 2);
  auto other = WordApi("bystander", 2);
  const std::int64_t old_run = hub.CreateAndRun("feed", slow.url("/items"));
  REQUIRE(WaitFor(
      [&] {
        auto run = hub.Call("GET", "/api/v1/runs/" + std::to_string(old_run));
        return run.status == 200 && run.json().at("pages").as_int64() >= 1;
      },
      10s));
  REQUIRE(hub.Call("DELETE", "/api/v1/sources/feed").status == 204);
  hub.CreateAndRun("feed", fresh.url("/items"));
  hub.CreateAndRun("other", other.url("/items"));
  INFO(hub.serve->stderr_text());
  REQUIRE(hub.Finds("fresh", 4));
  REQUIRE(hub.Finds("bystander", 4));

  // The old run meets its deletion when its slow page arrives and is dropped, writing nothing.
  REQUIRE(hub.serve->WaitForLine("\"run.dropped\"", 15s));
  CHECK(hub.Finds("stale", 0));
  CHECK(hub.database.Scalar("SELECT count(*) FROM records WHERE source = 'feed'") == "4");
  CHECK(
      hub.database.Scalar("SELECT count(*) FROM records WHERE source = 'feed' AND NOT deleted AND "
                          "data->>'title' LIKE 'fresh %'") == "4");
  auto runs = hub.Call("GET", "/api/v1/sources/feed/runs");
  REQUIRE(runs.status == 200);
  const json::value listing = runs.json();
  const auto& listed = listing.at("runs").as_array();
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].at("status").as_string() == "succeeded");
  CHECK(hub.Call("GET", "/readyz").status == 200);
  CHECK_THAT(hub.serve->stderr_text(), !Catch::Contains("ingest.worker_error"));
}

TEST_CASE("an indexer that keeps failing makes the hub unready and is counted, until it recovers",
          "[e2e]") {
  Hub hub;
  REQUIRE(hub.Call("GET", "/readyz").status == 200);
  // The follower reads the change feed from both tables: hiding one fails every catch-up.
  hub.database.Scalar("ALTER TABLE source_tombstones RENAME TO source_tombstones_hidden");
  REQUIRE(WaitFor([&] { return hub.Call("GET", "/readyz").status == 503; }, 15s));
  auto ready = hub.Call("GET", "/readyz");
  CHECK_THAT(ready.body, Catch::Contains("indexer failed"));
  CHECK_THAT(ready.body, !Catch::Contains("source_tombstones"));  // no internals
  auto metrics = hub.Call("GET", "/metrics").body;
  auto at = metrics.find("\noctohub_index_errors_total ");
  REQUIRE(at != std::string::npos);
  CHECK(std::stod(metrics.substr(at + 28)) >= 3);

  hub.database.Scalar("ALTER TABLE source_tombstones_hidden RENAME TO source_tombstones");
  CHECK(WaitFor([&] { return hub.Call("GET", "/readyz").status == 200; }, 15s));
  auto api = WordApi("recovered", 1);
  hub.CreateAndRun("late", api.url("/items"));
  CHECK(hub.Finds("recovered", 2));
}

// GET /api/v1/analytics/searches (SPEC §4): searches are kept as typed, written off the
// request path, reported by query, by zero hits and by day, and pruned after the days kept.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "running_server.h"
#include "seed_records.h"

namespace json = boost::json;
using octohub::testing::Client;
using octohub::testing::Response;
using octohub::testing::Role;
using octohub::testing::RunningServer;
using octohub::testing::ServerOptions;

namespace {

void IndexNotes(RunningServer& s) {
  octohub::testing::SeedSource(s.database.db(), R"({"name": "notes",
    "url": "http://127.0.0.1:9/", "records": "", "id": "/id", "index": {"title": "/title"}})");
  octohub::testing::SeedRecords(
      s.database.db(), "notes",
      {{{"id", 1}, {"title", "xylophone tuning"}}, {{"id", 2}, {"title", "piano tuning"}}});
  REQUIRE(s.follower.CatchUp().ok());
}

void SearchFor(RunningServer& s, const std::string& query) {
  REQUIRE(Client().Get(s.url("/api/v1/search?" + query)).status == 200);
}

// The report, once it holds `searches` searches in all (the log is written every second).
json::object ReportWith(RunningServer& s, const std::string& auth, std::int64_t searches,
                        const std::string& query = "") {
  json::object report;
  for (int attempt = 0; attempt < 100; ++attempt) {
    Response response = Client().Get(s.url("/api/v1/analytics/searches" + query), {auth});
    INFO(response.body);
    REQUIRE(response.status == 200);
    report = json::parse(response.body).as_object();
    std::int64_t total = 0;
    for (const auto& day : report.at("days").as_array()) total += day.at("searches").as_int64();
    if (total >= searches) return report;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  FAIL("the report never held " << searches << " searches: " << json::serialize(report));
  return report;
}

}  // namespace

TEST_CASE("searches are reported by query, by zero hits and by day", "[pg][http]") {
  RunningServer s;
  IndexNotes(s);
  const std::string admin = s.Auth(Role::kAdmin);
  for (int i = 0; i < 3; ++i) SearchFor(s, "q=tuning");
  SearchFor(s, "q=xylophone");
  SearchFor(s, "q=harpsichord");
  SearchFor(s, "q=harpsichord&prefix=true");
  SearchFor(s, "q=");                        // everything: nobody typed anything
  SearchFor(s, "q=tuning&analytics=false");  // the web UI's counts
  json::object report = ReportWith(s, admin, 6);
  CHECK(report.at("queries") == json::parse(R"([{"query": "tuning", "searches": 3},
      {"query": "harpsichord", "searches": 2}, {"query": "xylophone", "searches": 1}])"));
  CHECK(report.at("zero_hit_queries") ==
        json::parse(R"([{"query": "harpsichord", "searches": 2}])"));
  const auto& days = report.at("days").as_array();
  REQUIRE(days.size() == 1);
  CHECK(days[0].at("searches") == 6);
  CHECK(days[0].at("median_ms").as_double() >= 0);
  CHECK(days[0].at("p99_ms").as_double() >= days[0].at("median_ms").as_double());
  CHECK(report.at("kept_days") == 30);
  CHECK(s.database.Scalar("SELECT count(*) FROM search_log WHERE query LIKE '%Bearer%'") == "0");

  CHECK(ReportWith(s, admin, 0, "?limit=1").at("queries").as_array().size() == 1);
  CHECK(ReportWith(s, admin, 0, "?since=2999-01-01").at("days").as_array().empty());
  for (const std::string bad : {"?limit=0", "?limit=101", "?limit=x", "?since=yesterday"}) {
    INFO(bad);
    CHECK(Client().Get(s.url("/api/v1/analytics/searches" + bad), {admin}).status == 400);
  }
  CHECK(Client().Get(s.url("/api/v1/analytics/searches"), {s.Auth(Role::kWrite)}).status == 403);
}

TEST_CASE("searches older than the days kept are pruned, and 0 days keeps none", "[pg][http]") {
  SECTION("7 days") {
    RunningServer s([](ServerOptions& options) {
      options.analytics_days = 7;
      options.public_read = true;
    });
    IndexNotes(s);
    s.database.Scalar(
        "INSERT INTO search_log (at, query, hits, took_ms) VALUES "
        "(now() - interval '8 days', 'ancient', 1, 1.0), "
        "(now() - interval '6 days', 'recent', 1, 1.0)");
    SearchFor(s, "q=tuning");
    json::object report = ReportWith(s, s.Auth(Role::kAdmin), 2);
    CHECK(report.at("kept_days") == 7);
    CHECK(s.database.Scalar("SELECT string_agg(query, ',' ORDER BY query) FROM search_log") ==
          "recent,tuning");
  }
  SECTION("0 days") {
    RunningServer s([](ServerOptions& options) {
      options.analytics_days = 0;
      options.public_read = true;
    });
    IndexNotes(s);
    SearchFor(s, "q=tuning");
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // a write would have come
    CHECK(s.database.Scalar("SELECT count(*) FROM search_log") == "0");
    CHECK(ReportWith(s, s.Auth(Role::kAdmin), 0).at("queries").as_array().empty());
  }
}

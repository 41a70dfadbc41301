// Search over HTTP on a small indexed corpus: what the query string carries reaches the index.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "running_server.h"
#include "seed_records.h"

namespace json = boost::json;
using octohub::testing::Client;
using octohub::testing::RunningServer;

namespace {

const char* const kStates[] = {"open", "closed", "stale"};

// 30 tickets, states cycling open/closed/stale, indexed before the test searches.
void IndexTickets(RunningServer& s) {
  octohub::testing::SeedSource(s.database.db(), R"({"name": "tickets",
    "url": "http://127.0.0.1:9/", "records": "", "id": "/id",
    "index": {"title": "/title", "facets": {"state": "/state", "team": "/team"}}})");
  std::vector<json::object> tickets;
  for (int i = 0; i < 30; ++i) {
    tickets.push_back({{"id", i},
                       {"title", "Ticket number " + std::to_string(i)},
                       {"state", kStates[i % 3]},
                       {"team", i % 2 ? "red" : "blue"}});
  }
  octohub::testing::SeedRecords(s.database.db(), "tickets", tickets);
  REQUIRE(s.follower.CatchUp().ok());
}

std::int64_t TotalOf(RunningServer& s, const std::string& query) {
  auto response = Client().Get(s.url("/api/v1/search?exact_total=true&" + query));
  REQUIRE(response.status == 200);
  return json::parse(response.body).at("total").as_int64();
}

}  // namespace

TEST_CASE("a repeated filter over HTTP matches any of its values", "[pg][http]") {
  RunningServer s;
  IndexTickets(s);
  CHECK(TotalOf(s, "filter.state=open") == 10);
  CHECK(TotalOf(s, "filter.state=open&filter.state=closed") == 20);
  CHECK(TotalOf(s, "filter.state=open&filter.team=red&filter.state=closed") == 10);
}

TEST_CASE("percent-encoded query values are decoded once", "[pg][http]") {
  RunningServer s;
  IndexTickets(s);
  CHECK(TotalOf(s, "q=%22ticket%20number%22") == 30);
  CHECK(TotalOf(s, "q=ticket+number+7") == 1);
}

namespace {

json::object SearchOk(RunningServer& s, const std::string& query) {
  auto response = Client().Get(s.url("/api/v1/search?" + query));
  INFO(response.body);
  REQUIRE(response.status == 200);
  return json::parse(response.body).as_object();
}

std::vector<std::string> IdsOf(const json::object& answer) {
  std::vector<std::string> ids;
  for (const auto& hit : answer.at("hits").as_array()) {
    ids.emplace_back(hit.at("id").as_string());
  }
  return ids;
}

}  // namespace

TEST_CASE("typos, tiers, suggestions and synonyms over HTTP, and after a source changes",
          "[pg][http]") {
  RunningServer s;
  octohub::testing::SeedSource(s.database.db(), R"({"name": "catalog",
    "url": "http://127.0.0.1:9/", "records": "", "id": "/id",
    "index": {"title": "/title", "text": ["/body"], "synonyms": [["tv", "television"]]}})");
  octohub::testing::SeedRecords(s.database.db(), "catalog",
                                {{{"id", "chromium"}, {"title", "chromium"}, {"body", "browser"}},
                                 {{"id", "chromium-driver"},
                                  {"title", "chromium-driver"},
                                  {"body", "chromium chromium chromium tests"}},
                                 {{"id", "tv"}, {"title", "television stand"}, {"body", "oak"}}});
  REQUIRE(s.follower.CatchUp().ok());

  json::object typo = SearchOk(s, "q=chromim&prefix=true");
  CHECK(IdsOf(typo) == std::vector<std::string>{"chromium", "chromium-driver"});
  CHECK(typo.at("suggestion") == "chromium");  // only typo matches: said so
  json::object exact = SearchOk(s, "q=chromium&prefix=true");
  CHECK(IdsOf(exact).front() == "chromium");  // the title equal to the query first
  CHECK(exact.at("suggestion").is_null());
  CHECK(SearchOk(s, "q=chromim&typos=0").at("total") == 0);
  CHECK(SearchOk(s, "q=chromim&typos=0").at("suggestion") == "chromium");
  CHECK(IdsOf(SearchOk(s, "q=tv")) == std::vector<std::string>{"tv"});

  // The source is changed: typos off, no synonyms. Its records are mapped again.
  octohub::testing::SeedSource(s.database.db(), R"({"name": "catalog",
    "url": "http://127.0.0.1:9/", "records": "", "id": "/id",
    "index": {"title": "/title", "text": ["/body"], "typos": false}})");
  REQUIRE(s.follower.CatchUp().ok());
  CHECK(SearchOk(s, "q=chromim").at("total") == 0);
  CHECK(SearchOk(s, "q=tv").at("total") == 0);
  CHECK(SearchOk(s, "q=television").at("total") == 1);
}

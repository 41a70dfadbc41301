// Search over HTTP on a small indexed corpus: what the query string carries reaches the index.
#include <boost/json.hpp>
#include <catch2/catch.hpp>

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

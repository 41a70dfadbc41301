// Facets, filters, ranges, sorting and spelling, checked against answers computed by
// scanning the corpus itself.
#include <algorithm>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <map>

#include "octohub/indexer/indexer.h"
#include "octohub/indexer/searcher.h"
#include "seed_records.h"
#include "temp_dir.h"
#include "test_database.h"

namespace json = boost::json;
using octohub::StatusCode;
using octohub::indexer::IndexFollower;
using octohub::indexer::OpenSearcher;
using octohub::indexer::SearchRequest;
using octohub::indexer::SearchResponse;
using octohub::testing::TempDir;
using octohub::testing::TestDatabase;

namespace {

struct Item {
  int id;
  std::string state, author, label;
  int day, comments;
};

std::vector<Item> Corpus() {
  std::vector<Item> items;
  const char* states[] = {"open", "closed", "stale"};
  for (int i = 1; i <= 60; ++i) {
    items.push_back({i, states[i % 3], i % 2 ? "ann" : "bob", i % 4 ? "bug" : "feature", i % 28 + 1,
                     (i * 7) % 50});
  }
  return items;
}

// Indexes the corpus into a fresh database and index; the searcher reads it.
struct Indexed {
  TestDatabase database;
  TempDir dir;
  std::unique_ptr<octohub::indexer::Searcher> searcher;

  Indexed() {
    octohub::testing::SeedSource(database.db(), R"({"name": "tickets",
      "url": "http://127.0.0.1:9/", "records": "", "id": "/id",
      "index": {"title": "/title", "text": ["/body"],
                "facets": {"state": "/state", "author": "/author", "label": "/labels/*"},
                "dates": {"updated": "/updated_at"}, "numbers": {"comments": "/comments"}}})");
    std::vector<json::object> records;
    for (const Item& item : Corpus()) {
      char day[16];
      std::snprintf(day, sizeof(day), "2024-01-%02d", item.day);
      records.push_back(
          {{"id", item.id},
           {"title", "Ticket " + std::to_string(item.id)},
           {"body", item.id % 5 == 0 ? "the pizza oven is broken" : "a routine report"},
           {"state", item.state},
           {"author", item.author},
           {"labels", json::array{"all", item.label}},
           {"updated_at", std::string(day) + "T12:00:00Z"},
           {"comments", item.comments}});
    }
    octohub::testing::SeedRecords(database.db(), "tickets", records);
    IndexFollower follower(database.db(), dir / "index");
    REQUIRE(follower.Open().ok());
    REQUIRE(follower.CatchUp().ok());
    searcher = OpenSearcher(dir / "index");
  }

  SearchResponse Search(SearchRequest request) {
    request.per_page = 100;
    auto response = searcher->Search(request);
    INFO(response.status().ToString());
    REQUIRE(response.ok());
    return *response;
  }
};

template <class Predicate>
std::int64_t Count(Predicate keep) {
  auto items = Corpus();
  return std::count_if(items.begin(), items.end(), keep);
}

}  // namespace

TEST_CASE("facet counts are exact over the whole match set", "[pg]") {
  Indexed index;
  SearchRequest request;
  request.facets = {"state", "author", "label"};
  auto response = index.Search(request);
  CHECK(response.total == 60);
  CHECK(response.total_exact);
  for (const char* state : {"open", "closed", "stale"}) {
    CHECK(response.facets.at("state").at(state).as_int64() ==
          Count([&](const Item& i) { return i.state == state; }));
  }
  CHECK(response.facets.at("author").at("ann").as_int64() ==
        Count([](const Item& i) { return i.author == "ann"; }));
  request.q = "pizza";
  auto narrowed = index.Search(request);
  CHECK(narrowed.facets.at("author").at("bob").as_int64() ==
        Count([](const Item& i) { return i.id % 5 == 0 && i.author == "bob"; }));
}

TEST_CASE("filters narrow: values of one field are alternatives, fields combine", "[pg]") {
  Indexed index;
  SearchRequest request;
  request.filters = {{"state", "open"}, {"author", "ann"}};
  CHECK(index.Search(request).total ==
        Count([](const Item& i) { return i.state == "open" && i.author == "ann"; }));
  request.filters = {{"state", "open"}, {"state", "stale"}};
  CHECK(index.Search(request).total == Count([](const Item& i) { return i.state != "closed"; }));
  request.filters = {{"label", "feature"}};  // the second value of a multi-valued facet
  CHECK(index.Search(request).total == Count([](const Item& i) { return i.label == "feature"; }));
}

TEST_CASE("facet fields and ranges work inside the query", "[pg]") {
  Indexed index;
  SearchRequest request;
  request.q = "state:closed";
  CHECK(index.Search(request).total == Count([](const Item& i) { return i.state == "closed"; }));
  request.q = "updated:2024-01-05..2024-01-10";
  CHECK(index.Search(request).total ==
        Count([](const Item& i) { return i.day >= 5 && i.day <= 10; }));
  request.q = "comments:10..20";
  CHECK(index.Search(request).total ==
        Count([](const Item& i) { return i.comments >= 10 && i.comments <= 20; }));
  request.q = "pizza AND author:ann";
  CHECK(index.Search(request).total ==
        Count([](const Item& i) { return i.id % 5 == 0 && i.author == "ann"; }));
}

TEST_CASE("results sort by a number or a date, either way", "[pg]") {
  Indexed index;
  SearchRequest request;
  request.sort = "-comments";
  auto response = index.Search(request);
  REQUIRE(response.hits.size() == 60);
  for (size_t i = 1; i < response.hits.size(); ++i) {
    CHECK(response.hits[i - 1].fields.at("comments").to_number<double>() >=
          response.hits[i].fields.at("comments").to_number<double>());
  }
  request.sort = "updated";
  response = index.Search(request);
  for (size_t i = 1; i < response.hits.size(); ++i) {
    CHECK(response.hits[i - 1].fields.at("updated").as_string() <=
          response.hits[i].fields.at("updated").as_string());
  }
}

TEST_CASE("facets, filters and sorts on unmapped fields are refused with the reason", "[pg]") {
  Indexed index;
  for (SearchRequest request :
       {SearchRequest{.filters = {{"colour", "red"}}}, SearchRequest{.facets = {"updated"}},
        SearchRequest{.sort = "state"}}) {
    auto response = index.searcher->Search(request);
    REQUIRE_FALSE(response.ok());
    CHECK(response.status().code() == StatusCode::kInvalidArgument);
    CHECK_THAT(response.status().message(), Catch::Contains("no source maps it"));
  }
}

TEST_CASE("a misspelled query gets a suggestion", "[pg]") {
  Indexed index;
  SearchRequest request;
  request.q = "piza oven";
  auto response = index.Search(request);
  REQUIRE(response.suggestion);
  CHECK(*response.suggestion == "pizza oven");
}

TEST_CASE("hostile queries answer quickly with results or a 400, never a crash", "[pg]") {
  Indexed index;
  const std::vector<std::string> hostile = {std::string(4000, 'a'),
                                            std::string(2000, '('),
                                            std::string(1000, '"'),
                                            std::string(4097, 'x'),
                                            "AND OR NOT",
                                            "\"unbalanced quote",
                                            "a*",
                                            "*",
                                            "t*",
                                            "title:",
                                            "state:",
                                            "NEAR/3",
                                            "-",
                                            "+ + +",
                                            "((pizza OR (oven AND",
                                            "updated:..",
                                            "updated:2024-13-45..x",
                                            "comments:abc..def",
                                            "caf\xc3",
                                            "\xff\xfe",
                                            "pizza NEAR oven ADJ report",
                                            std::string(300, '*') + "a"};
  for (const auto& q : hostile) {
    SearchRequest request;
    request.q = q;
    request.prefix = true;
    const auto start = std::chrono::steady_clock::now();
    auto response = index.searcher->Search(request);
    const auto took = std::chrono::steady_clock::now() - start;
    INFO("query: " << q.substr(0, 60) << " -> " << response.status().ToString());
    CHECK((response.ok() || response.status().code() == StatusCode::kInvalidArgument));
    CHECK(took < std::chrono::seconds(2));  // a hang guard, not a performance figure
  }
}

TEST_CASE("snippets escape HTML and mark only the matches", "[pg]") {
  Indexed index;
  octohub::testing::SeedRecord(
      index.database.db(), "tickets", "x",
      R"({"id": "x", "title": "<i>t</i>", "body": "<script>alert(1)</script> & anchovy"})");
  IndexFollower follower(index.database.db(), index.dir / "index");
  REQUIRE(follower.Open().ok());
  REQUIRE(follower.CatchUp().ok());
  SearchRequest request;
  request.q = "anchovy";
  auto response = index.Search(request);
  REQUIRE(response.hits.size() == 1);
  const std::string& snippet = response.hits[0].snippet;
  CHECK_THAT(snippet, Catch::Contains("<mark>anchovy</mark>") &&
                          Catch::Contains("&lt;script&gt;") && Catch::Contains("&amp;") &&
                          !Catch::Contains("<script>"));
  CHECK(response.hits[0].title == "<i>t</i>");  // a JSON string, escaped by whoever renders it
}

// Searcher::ForEachMatch: every match of a query, across batches, exactly once.
#include <catch2/catch.hpp>
#include <set>

#include "octohub/indexer/indexer.h"
#include "octohub/indexer/searcher.h"
#include "seed_records.h"
#include "temp_dir.h"
#include "test_database.h"

using octohub::StatusCode;
using octohub::indexer::IndexFollower;
using octohub::indexer::OpenSearcher;
using octohub::indexer::SearchRequest;
using octohub::testing::TempDir;
using octohub::testing::TestDatabase;

namespace {

// 12,000 notes (more than two enumeration batches); every third mentions apples.
struct Notes {
  TestDatabase database;
  TempDir dir;
  std::unique_ptr<octohub::indexer::Searcher> searcher;

  Notes() {
    octohub::testing::SeedSource(database.db(), R"({"name": "notes",
      "url": "http://127.0.0.1:9/", "records": "", "id": "/id",
      "index": {"title": "/title", "facets": {"kind": "/kind"}}})");
    octohub::testing::SeedRecords(database.db(), "notes", 12000, [](int i) {
      return boost::json::object{{"id", std::to_string(i)},
                                 {"title", (i % 3 == 0 ? "apples " : "pears ") + std::to_string(i)},
                                 {"kind", i % 2 == 0 ? "even" : "odd"}};
    });
    IndexFollower follower(database.db(), dir / "index");
    REQUIRE(follower.Open().ok());
    REQUIRE(follower.CatchUp().ok());
    searcher = OpenSearcher(dir / "index");
  }

  std::set<std::string> Matches(const SearchRequest& request) {
    std::set<std::string> ids;
    std::size_t visits = 0;
    auto status =
        searcher->ForEachMatch(request, [&](const std::string& source, const std::string& id) {
          CHECK(source == "notes");
          ids.insert(id);
          ++visits;
          return true;
        });
    REQUIRE(status.ok());
    CHECK(visits == ids.size());  // never twice
    return ids;
  }
};

}  // namespace

TEST_CASE("every match of a query is visited once, across batches", "[pg]") {
  Notes notes;
  CHECK(notes.Matches({}).size() == 12000);
  SearchRequest apples;
  apples.q = "apples";
  auto ids = notes.Matches(apples);
  CHECK(ids.size() == 4000);
  CHECK(ids.count("3") == 1);
  CHECK(ids.count("4") == 0);
  apples.filters = {{"kind", "even"}};
  CHECK(notes.Matches(apples).size() == 2000);
  SearchRequest exact = apples;
  exact.exact_total = true;
  auto counted = notes.searcher->Search(exact);
  REQUIRE(counted.ok());
  CHECK(counted->total == 2000);
}

TEST_CASE("a visitor that says stop ends the enumeration as cancelled", "[pg]") {
  Notes notes;
  int visits = 0;
  auto status = notes.searcher->ForEachMatch(
      {}, [&](const std::string&, const std::string&) { return ++visits < 10; });
  CHECK(status.code() == StatusCode::kCancelled);
  CHECK(visits == 10);
}

TEST_CASE("an enumeration with a bad query or field is refused like a search", "[pg]") {
  Notes notes;
  auto visit = [](const std::string&, const std::string&) { return true; };
  SearchRequest bad_utf8;
  bad_utf8.q = "\xC3\x28";
  CHECK(notes.searcher->ForEachMatch(bad_utf8, visit).code() == StatusCode::kInvalidArgument);
  SearchRequest unknown_field;
  unknown_field.filters = {{"nope", "x"}};
  CHECK(notes.searcher->ForEachMatch(unknown_field, visit).code() == StatusCode::kInvalidArgument);
}

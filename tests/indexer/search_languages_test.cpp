// Each source is stemmed in its own language, at indexing and at query time alike.
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "octohub/indexer/indexer.h"
#include "octohub/indexer/searcher.h"
#include "seed_records.h"
#include "temp_dir.h"
#include "test_database.h"

namespace json = boost::json;
using octohub::indexer::IndexFollower;
using octohub::indexer::OpenSearcher;
using octohub::indexer::SearchRequest;
using octohub::testing::TempDir;
using octohub::testing::TestDatabase;

namespace {

struct TwoLanguages {
  TestDatabase database;
  TempDir dir;
  std::unique_ptr<octohub::indexer::Searcher> searcher;

  TwoLanguages() {
    for (const auto& [source, language, text] :
         {std::tuple{"notes_en", "english", "the children played outside"},
          std::tuple{"notes_de", "german", "die kinder spielen draussen"}}) {
      const json::object spec{
          {"name", source},
          {"url", "http://127.0.0.1:9/"},
          {"records", ""},
          {"id", "/id"},
          {"index", {{"title", "/title"}, {"text", {"/body"}}, {"language", language}}}};
      octohub::testing::SeedSource(database.db(), json::serialize(spec));
      octohub::testing::SeedRecords(database.db(), source,
                                    {{{"id", 1}, {"title", "note"}, {"body", text}}});
    }
    IndexFollower follower(database.db(), dir / "index");
    REQUIRE(follower.Open().ok());
    REQUIRE(follower.CatchUp().ok());
    searcher = OpenSearcher(dir / "index");
  }

  std::vector<std::string> SourcesMatching(const std::string& q,
                                           std::vector<std::string> sources = {}) {
    SearchRequest request;
    request.q = q;
    request.sources = std::move(sources);
    auto response = searcher->Search(request);
    REQUIRE(response.ok());
    std::vector<std::string> found;
    for (const auto& hit : response->hits) found.push_back(hit.source);
    std::sort(found.begin(), found.end());
    return found;
  }
};

}  // namespace

TEST_CASE("a query matches each source through that source's own stemmer", "[pg]") {
  TwoLanguages index;
  // "kindern" and "kinder" share the German stem only; "playing" and "played" the English one.
  CHECK(index.SourcesMatching("kindern") == std::vector<std::string>{"notes_de"});
  CHECK(index.SourcesMatching("playing") == std::vector<std::string>{"notes_en"});
  CHECK(index.SourcesMatching("playing OR kindern") ==
        std::vector<std::string>{"notes_de", "notes_en"});
}

TEST_CASE("searching one source stems in that source's language", "[pg]") {
  TwoLanguages index;
  CHECK(index.SourcesMatching("kindern", {"notes_de"}) == std::vector<std::string>{"notes_de"});
  CHECK(index.SourcesMatching("playing", {"notes_de"}).empty());
  CHECK(index.SourcesMatching("note", {"notes_en", "notes_de"}).size() == 2);
}

TEST_CASE("snippets highlight words by the stem of their source's language", "[pg]") {
  TwoLanguages index;
  SearchRequest request;
  request.q = "kindern";
  auto response = index.searcher->Search(request);
  REQUIRE(response.ok());
  REQUIRE(response->hits.size() == 1);
  CHECK_THAT(response->hits[0].snippet, Catch::Contains("<mark>kinder</mark>"));
}

// Synonym groups per source (SPEC §4): each group's words and phrases match each other, in
// that source only.
#include "synonyms.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "memory_index.h"

namespace octohub::indexer {
namespace {
using Strings = std::vector<std::string>;
using Groups = std::vector<std::vector<std::string>>;

TEST_CASE("a query's words and phrases that are synonyms become alternatives", "[unit]") {
  const Groups groups = {{"tv", "television"}, {"nyc", "new york city", "big apple"}};
  auto [text, expected] = GENERATE(table<std::string, std::string>({
      {"tv repair", "(tv OR television) repair"},
      {"TV", "(tv OR television)"},
      {"pizza in New York City", "pizza in (\"new york city\" OR nyc OR \"big apple\")"},
      {"new york", ""},  // part of a phrase entry only
      {"new  york   city", "(\"new york city\" OR nyc OR \"big apple\")"},
      {"\"tv repair\" title:tv state:nyc", ""},  // phrases and field values stay as written
      {"-tv radio", "-(tv OR television) radio"},
  }));
  INFO(text);
  auto with = WithSynonyms(text, groups);
  CHECK(with.value_or("") == expected);
}

Strings IdsOf(const SearchResponse& response) {
  Strings ids;
  for (const auto& hit : response.hits) ids.push_back(hit.id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

TEST_CASE("synonyms match each other in their source and nowhere else", "[unit]") {
  MemoryIndex index;
  index.AddSource("shop", R"({"title": "/title",
      "synonyms": [["tv", "television"], ["nyc", "new york city"]]})");
  index.AddSource("blog", R"({"title": "/title"})");
  index.Add("shop", "s1", {{"title", "television repair"}});
  index.Add("shop", "s2", {{"title", "pizza in new york city"}});
  index.Add("shop", "s3", {{"title", "nyc pizza"}});
  index.Add("blog", "b1", {{"title", "television repair"}});
  index.Add("blog", "b2", {{"title", "tv repair"}});
  CHECK(IdsOf(index.SearchOk({.q = "tv repair"})) == Strings{"b2", "s1"});
  CHECK(IdsOf(index.SearchOk({.q = "television repair"})) == Strings{"b1", "s1"});
  CHECK(IdsOf(index.SearchOk({.q = "nyc pizza"})) == Strings{"s2", "s3"});
  CHECK(IdsOf(index.SearchOk({.q = "new york city pizza"})) == Strings{"s2", "s3"});
  CHECK(IdsOf(index.SearchOk({.q = "tv", .sources = {"blog"}})) == Strings{"b2"});
  CHECK(IdsOf(index.SearchOk({.q = "tv", .sources = {"shop"}})) == Strings{"s1"});
  // A synonym match is a match as written: no suggestion for it.
  CHECK(index.SearchOk({.q = "tv repair"}).suggestion == std::nullopt);
}

}  // namespace
}  // namespace octohub::indexer

// Facet counts, filters and field: queries on multi-valued fields: every element of an array
// counts, checked against counts computed from the records themselves.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "facet_counter.h"
#include "memory_index.h"

namespace octohub::indexer {
namespace {
namespace json = boost::json;

// Record i (from 1) carries `width` tags: tag-((i + k) % 60) for k in [0, width).
std::vector<std::string> TagsOf(int record, int width) {
  std::vector<std::string> tags;
  for (int k = 0; k < width; ++k) tags.push_back("tag-" + std::to_string((record + k) % 60));
  return tags;
}

TEST_CASE("facet counts include every element of an array: 1, 2 and 50 values", "[unit]") {
  const int width = GENERATE(1, 2, 50);
  MemoryIndex index;
  index.AddSource("items", R"({"title": "/title", "facets": {"tag": "/tags"}})");
  std::map<std::string, std::int64_t> expected;
  for (int i = 1; i <= 120; ++i) {
    json::array tags;
    for (const auto& tag : TagsOf(i, width)) {
      tags.emplace_back(tag);
      ++expected[tag];
    }
    index.Add("items", std::to_string(i), {{"title", "item " + std::to_string(i)}, {"tags", tags}});
  }
  SearchResponse all = index.SearchOk({.facets = {"tag"}});
  std::map<std::string, std::int64_t> counted;
  for (const auto& [value, count] : all.facets.at("tag").as_object()) {
    counted[std::string(value)] = count.as_int64();
  }
  CHECK(counted == expected);

  // A filter on any element, and a field: query on it, find every record that lists it.
  for (const std::string tag : {"tag-0", "tag-7", "tag-59"}) {
    INFO(tag);
    CHECK(index.SearchOk({.filters = {{"tag", tag}}}).total == expected[tag]);
    CHECK(index.SearchOk({.q = "tag:" + tag}).total == expected[tag]);
  }
  // Counts narrowed by a filter count the filtered records' other values too.
  SearchResponse narrowed = index.SearchOk({.facets = {"tag"}, .filters = {{"tag", "tag-5"}}});
  CHECK(narrowed.facets.at("tag").at("tag-5").as_int64() == expected["tag-5"]);
  CHECK(narrowed.facets.at("tag").as_object().size() ==
        static_cast<std::size_t>(std::min(60, 2 * width - 1)));
}

TEST_CASE("a value listed twice in one record counts once, and is shown once", "[unit]") {
  MemoryIndex index;
  index.AddSource("items", R"({"facets": {"tag": "/tags"}})");
  index.Add("items", "1", {{"tags", json::array{"a", "b", "a"}}});
  index.Add("items", "2", {{"tags", json::array{"a"}}});
  SearchResponse all = index.SearchOk({.facets = {"tag"}});
  CHECK(all.facets.at("tag").at("a").as_int64() == 2);
  CHECK(all.facets.at("tag").at("b").as_int64() == 1);
  for (const auto& hit : all.hits) {
    if (hit.id == "1") CHECK(hit.fields.at("tag") == json::array{"a", "b"});
    if (hit.id == "2") CHECK(hit.fields.at("tag") == "a");
  }
}

TEST_CASE("facet slots read back every value, whatever its length", "[unit]") {
  const std::vector<std::vector<std::string>> cases = {
      {"one"}, {"", "x"}, {std::string(300, 'a'), "b", std::string(20000, 'c')}, {"é", "ü", "→"}};
  for (const auto& values : cases) {
    std::vector<std::string> read;
    schema::ForEachFacetValue(schema::FacetSlotValue(values),
                              [&](std::string_view value) { read.emplace_back(value); });
    CHECK(read == values);
  }
  // A slot cut short stops at the last whole value.
  std::string cut = schema::FacetSlotValue({"abc", "defgh"});
  cut.pop_back();
  std::vector<std::string> read;
  schema::ForEachFacetValue(cut, [&](std::string_view value) { read.emplace_back(value); });
  CHECK(read == std::vector<std::string>{"abc"});
}

TEST_CASE("the most frequent facet values come first, equal counts by value", "[unit]") {
  Xapian::Document doc;
  FacetCounter counter(1);
  for (const auto& values :
       std::vector<std::vector<std::string>>{{"b", "a"}, {"c", "a"}, {"b"}, {"d"}}) {
    doc.add_value(1, schema::FacetSlotValue(values));
    counter(doc, 0);
  }
  using Counts = std::vector<std::pair<std::string, std::int64_t>>;
  CHECK(counter.Top(10) == Counts{{"a", 2}, {"b", 2}, {"c", 1}, {"d", 1}});
  CHECK(counter.Top(3) == Counts{{"a", 2}, {"b", 2}, {"c", 1}});
}

}  // namespace
}  // namespace octohub::indexer

#include "search_params.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace octohub::api {
namespace {

using Strings = std::vector<std::string>;

indexer::SearchRequest ParseOk(const QueryParams& params) {
  auto request = ParseSearchParams(params);
  INFO(request.status().ToString());
  REQUIRE(request.ok());
  return std::move(request).value();
}

TEST_CASE("A search without parameters gets page 1 of 20 over every source", "[unit]") {
  indexer::SearchRequest request = ParseOk({});
  CHECK(request.q.empty());
  CHECK(request.sources.empty());
  CHECK(request.page == 1);
  CHECK(request.per_page == 20);
  CHECK_FALSE(request.prefix);
  CHECK_FALSE(request.exact_total);
}

TEST_CASE("q, page and per_page are taken from the query", "[unit]") {
  indexer::SearchRequest request =
      ParseOk({{"q", "title:crash AND ui"}, {"page", "3"}, {"per_page", "100"}});
  CHECK(request.q == "title:crash AND ui");
  CHECK(request.page == 3);
  CHECK(request.per_page == 100);
  CHECK(ParseOk({{"per_page", "1"}}).per_page == 1);
}

TEST_CASE("A per_page outside 1 to 100 or not an integer is an invalid argument naming it",
          "[unit]") {
  auto value = GENERATE(as<std::string>{}, "0", "101", "x", "", "-1", "5x", "1.5", " 5", "+5",
                        "99999999999");
  auto request = ParseSearchParams({{"per_page", value}});
  REQUIRE_FALSE(request.ok());
  CHECK(request.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(request.status().message(), Catch::Contains("\"per_page\""));
}

TEST_CASE("A page below 1 or not an integer is an invalid argument naming it", "[unit]") {
  auto value = GENERATE(as<std::string>{}, "0", "-2", "two", "100001");
  auto request = ParseSearchParams({{"page", value}});
  REQUIRE_FALSE(request.ok());
  CHECK(request.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(request.status().message(), Catch::StartsWith("\"page\""));
}

TEST_CASE("source takes a comma-separated list and may repeat", "[unit]") {
  auto [params, sources] = GENERATE(table<QueryParams, Strings>({
      {{{"source", "issues"}}, {"issues"}},
      {{{"source", "a,b,,c"}}, {"a", "b", "c"}},
      {{{"source", ",a,"}}, {"a"}},
      {{{"source", ""}}, {}},
      {{{"source", "a"}, {"source", "b,c"}}, {"a", "b", "c"}},
  }));
  CHECK(ParseOk(params).sources == sources);
}

TEST_CASE("prefix and exact_total read true, 1, empty, false and 0", "[unit]") {
  auto [value, flag] = GENERATE(table<std::string, bool>(
      {{"true", true}, {"1", true}, {"", true}, {"false", false}, {"0", false}}));
  CHECK(ParseOk({{"prefix", value}}).prefix == flag);
  CHECK(ParseOk({{"exact_total", value}}).exact_total == flag);
  CHECK_FALSE(ParseOk({{"prefix", value}}).exact_total);
}

TEST_CASE("A boolean parameter with another value is an invalid argument naming it", "[unit]") {
  auto [name, value] = GENERATE(table<std::string, std::string>(
      {{"prefix", "yes"}, {"exact_total", "TRUE"}, {"prefix", "2"}}));
  auto request = ParseSearchParams({{name, value}});
  REQUIRE_FALSE(request.ok());
  CHECK_THAT(request.status().message(), Catch::StartsWith("\"" + name + "\""));
}

TEST_CASE("sort=relevance is accepted as the default order", "[unit]") {
  CHECK(ParseOk({{"sort", "relevance"}, {"q", "x"}}).q == "x");
}

TEST_CASE("facets, filters and sorts are read", "[unit]") {
  auto request = ParseOk({{"facets", "state,author"},
                          {"filter.state", "open"},
                          {"filter.author", "ann"},
                          {"sort", "-updated"}});
  CHECK(request.facets == std::vector<std::string>{"state", "author"});
  CHECK(request.filters ==
        std::vector<std::pair<std::string, std::string>>{{"state", "open"}, {"author", "ann"}});
  CHECK(request.sort == "-updated");
}

TEST_CASE("malformed facets, filters and sorts are rejected naming the parameter", "[unit]") {
  auto [name, value] = GENERATE(table<std::string, std::string>(
      {{"sort", ""}, {"sort", "-"}, {"sort", "Bad Field"}, {"facets", "a,B!"}, {"filter.", "x"}}));
  auto bad = ParseSearchParams({{name, value}});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(bad.status().message(), Catch::StartsWith("\"" + name));
}

TEST_CASE("Unknown parameters are ignored", "[unit]") {
  indexer::SearchRequest request = ParseOk({{"_", "1700000000"}, {"utm_source", "x"}, {"q", "y"}});
  CHECK(request.q == "y");
  CHECK(request.page == 1);
}

}  // namespace
}  // namespace octohub::api

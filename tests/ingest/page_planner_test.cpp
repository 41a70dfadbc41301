#include "page_planner.h"

#include <boost/json.hpp>
#include <boost/url.hpp>
#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <vector>

#include "page_test_helpers.h"

namespace octohub::ingest {
namespace {

using Strings = std::vector<std::string>;

ExtractedPage Page(std::int64_t size, std::optional<std::string> next_cursor = std::nullopt,
                   std::optional<std::string> next_url = std::nullopt) {
  ExtractedPage page;
  page.array_size = size;
  page.next_cursor = std::move(next_cursor);
  page.next_url = std::move(next_url);
  return page;
}

HttpResponse Response(std::string final_url = "", std::optional<std::string> link = std::nullopt) {
  HttpResponse response;
  response.status = 200;
  response.final_url = std::move(final_url);
  if (link) response.headers.emplace_back("link", *link);
  return response;
}

// The URL of a planned request ("" when paging stopped or failed).
std::string UrlOf(const Result<std::optional<PageRequest>>& next) {
  if (!next.ok() || !next->has_value()) return "";
  return (*next)->url;
}

// Every URL the planner asks for when fed `pages` in turn (stops when it says done).
Strings Plan(PagePlanner& planner, const std::vector<ExtractedPage>& pages) {
  auto first = planner.First();
  REQUIRE(first.ok());
  Strings urls{first->url};
  for (const auto& page : pages) {
    auto next = planner.Next(page, Response(urls.back()));
    INFO(next.status().ToString());
    REQUIRE(next.ok());
    if (!*next) break;
    urls.push_back((*next)->url);
  }
  return urls;
}

Strings Plan(const SourceSpec& spec, const std::vector<ExtractedPage>& pages) {
  PagePlanner planner(spec, spec.query, std::nullopt);
  return Plan(planner, pages);
}

TEST_CASE("Without pagination only one page is fetched", "[unit]") {
  SourceSpec spec = SpecFrom(R"({"query": {"state": "all"}})");
  CHECK(Plan(spec, {Page(5)}) == Strings{"http://h/api?state=all"});
}

TEST_CASE("Page pagination counts pages from the start and sends the size", "[unit]") {
  SourceSpec spec =
      SpecFrom(R"({"pagination": {"type": "page", "size_param": "per_page", "size": 2}})");
  CHECK(Plan(spec, {Page(2), Page(2), Page(0)}) == Strings{"http://h/api?per_page=2&page=1",
                                                           "http://h/api?per_page=2&page=2",
                                                           "http://h/api?per_page=2&page=3"});
}

TEST_CASE("Page pagination honours a start of 0 and a custom parameter", "[unit]") {
  SourceSpec spec = SpecFrom(R"({"pagination": {"type": "page", "param": "p", "start": 0}})");
  CHECK(Plan(spec, {Page(1), Page(1), Page(0)}) ==
        Strings{"http://h/api?p=0", "http://h/api?p=1", "http://h/api?p=2"});
}

TEST_CASE("Offset pagination advances by the records each page held", "[unit]") {
  auto [start, offsets] = GENERATE(table<std::string, Strings>({
      {"", {"0", "25", "50"}},
      {R"(, "start": 10)", {"10", "35", "60"}},
  }));
  SourceSpec spec = SpecFrom(
      R"({"pagination": {"type": "offset", "size_param": "limit", "size": 25)" + start + "}}");
  Strings urls = Plan(spec, {Page(25), Page(25), Page(0)});
  REQUIRE(urls.size() == 3);
  for (size_t i = 0; i < 3; ++i) CHECK(Param(urls[i], "offset") == offsets[i]);
  CHECK(Param(urls[2], "limit") == "25");
}

TEST_CASE("Cursor pagination sends the page's next cursor and stops without one", "[unit]") {
  SourceSpec spec =
      SpecFrom(R"({"pagination": {"type": "cursor", "param": "after", "cursor_path": "/next"}})");
  CHECK(Plan(spec, {Page(3, "c2"), Page(3, "c3"), Page(3)}) ==
        Strings{"http://h/api", "http://h/api?after=c2", "http://h/api?after=c3"});
}

TEST_CASE("A cursor with reserved characters reaches the upstream unchanged", "[unit]") {
  SourceSpec spec =
      SpecFrom(R"({"pagination": {"type": "cursor", "param": "after", "cursor_path": "/next"}})");
  auto cursor = GENERATE(as<std::string>{}, "a+b/c==", "x y&z=1", "50%#frag", "ünï", "k=v");
  Strings urls = Plan(spec, {Page(1, cursor), Page(0)});
  REQUIRE(urls.size() == 2);
  CHECK(Param(urls[1], "after") == cursor);
}

TEST_CASE("A cursor that comes back a second time is a pagination loop error", "[unit]") {
  SourceSpec spec =
      SpecFrom(R"({"pagination": {"type": "cursor", "param": "after", "cursor_path": "/next"}})");
  PagePlanner planner(spec, {}, std::nullopt);
  Plan(planner, {Page(1, "c2"), Page(1, "c3")});
  auto next = planner.Next(Page(1, "c2"), Response());
  REQUIRE_FALSE(next.ok());
  CHECK(next.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(next.status().message(), Catch::Contains("loop") && Catch::Contains("\"c2\""));
}

TEST_CASE("An absolute next URL is followed as given", "[unit]") {
  SourceSpec spec = SpecFrom(R"({"pagination": {"type": "next_url", "next_path": "/next"}})");
  CHECK(Plan(spec, {Page(1, std::nullopt, "https://other.example/v2?page=2"), Page(1)}) ==
        Strings{"http://h/api", "https://other.example/v2?page=2"});
}

TEST_CASE("A relative next URL resolves against the URL the page came from", "[unit]") {
  auto [final_url, link, expected] = GENERATE(table<std::string, std::string, std::string>({
      {"", "?page=2", "http://h/api/v1/items?page=2"},
      {"", "/api/v1/items?page=3", "http://h/api/v1/items?page=3"},
      {"", "more?p=4", "http://h/api/v1/more?p=4"},
      {"https://mirror.example/x/y?p=1", "z?p=2", "https://mirror.example/x/z?p=2"},
      {"https://mirror.example/x/y", "//cdn.example/p/2", "https://cdn.example/p/2"},
  }));
  SourceSpec spec = SpecFrom(
      R"({"url": "http://h/api/v1/items", "pagination": {"type": "next_url", "next_path": "/n"}})");
  PagePlanner planner(spec, {}, std::nullopt);
  REQUIRE(planner.First().ok());
  auto next = planner.Next(Page(1, std::nullopt, link), Response(final_url));
  REQUIRE(next.ok());
  CHECK(UrlOf(next) == expected);
}

TEST_CASE("A next URL seen before is a pagination loop error", "[unit]") {
  SourceSpec spec = SpecFrom(R"({"pagination": {"type": "next_url", "next_path": "/next"}})");
  auto link = GENERATE(as<std::string>{}, "http://h/api", "/api");
  PagePlanner planner(spec, {}, std::nullopt);
  REQUIRE(planner.First().ok());
  auto next = planner.Next(Page(1, std::nullopt, link), Response());
  REQUIRE_FALSE(next.ok());
  CHECK_THAT(next.status().message(), Catch::Contains("loop"));
}

TEST_CASE("A next link that is not http(s) is rejected", "[unit]") {
  SourceSpec spec = SpecFrom(R"({"pagination": {"type": "next_url", "next_path": "/next"}})");
  PagePlanner planner(spec, {}, std::nullopt);
  REQUIRE(planner.First().ok());
  auto next = planner.Next(Page(1, std::nullopt, "ftp://h/file"), Response());
  REQUIRE_FALSE(next.ok());
  CHECK_THAT(next.status().message(), Catch::Contains("ftp://h/file"));
}

TEST_CASE("Link header pagination follows rel=next and stops without it", "[unit]") {
  SourceSpec spec = SpecFrom(R"({"pagination": {"type": "link_header"}})");
  PagePlanner planner(spec, {}, std::nullopt);
  REQUIRE(planner.First().ok());
  auto next = planner.Next(Page(1), Response("", R"(<http://h/api?page=2>; rel="next")"));
  REQUIRE(next.ok());
  CHECK(UrlOf(next) == "http://h/api?page=2");
  CHECK_FALSE(*planner.Next(Page(1), Response("", R"(<http://h/api?page=1>; rel="prev")")));
  CHECK_FALSE(*planner.Next(Page(1), Response()));
}

TEST_CASE("An empty page ends paging of every type", "[unit]") {
  auto pagination =
      GENERATE(as<std::string>{}, R"({"type": "page"})", R"({"type": "offset", "size": 10})",
               R"({"type": "cursor", "param": "c", "cursor_path": "/c"})",
               R"({"type": "next_url", "next_path": "/n"})", R"({"type": "link_header"})");
  SourceSpec spec = SpecFrom(R"({"pagination": )" + pagination + "}");
  PagePlanner planner(spec, {}, std::nullopt);
  REQUIRE(planner.First().ok());
  auto next = planner.Next(Page(0, "c2", "http://h/api?n=2"),
                           Response("", "<http://h/api?l=2>; rel=\"next\""));
  REQUIRE(next.ok());
  CHECK_FALSE(next->has_value());
}

TEST_CASE("Paging stops after max_pages pages", "[unit]") {
  SourceSpec spec = SpecFrom(R"({"max_pages": 3, "pagination": {"type": "page"}})");
  PagePlanner planner(spec, {}, std::nullopt);
  Strings urls = Plan(planner, {Page(1), Page(1), Page(1), Page(1), Page(1)});
  CHECK(urls == Strings{"http://h/api?page=1", "http://h/api?page=2", "http://h/api?page=3"});
  CHECK(planner.pages_planned() == 3);
}

TEST_CASE("The source's query and the incremental cursor are on every URL it builds", "[unit]") {
  auto pagination = GENERATE(as<std::string>{}, R"({"type": "page"})",
                             R"({"type": "cursor", "param": "c", "cursor_path": "/c"})");
  SourceSpec spec =
      SpecFrom(R"({"query": {"state": "all"}, "incremental": {"cursor": "/u", "param": "since"},
                                 "pagination": )" +
               pagination + "}");
  PagePlanner planner(spec, spec.query, std::string("2024-01-01T00:00:00+02:00"));
  Strings urls =
      Plan(planner, {Page(1, "c2", "http://h/api?n=2"), Page(1, "c3", "/api?n=3"), Page(0)});
  REQUIRE(urls.size() == 3);
  for (const auto& url : urls) {
    CHECK(Param(url, "state") == "all");
    CHECK(Param(url, "since") == "2024-01-01T00:00:00+02:00");
  }
}

TEST_CASE("Without a stored cursor no incremental parameter is sent", "[unit]") {
  SourceSpec spec = SpecFrom(R"({"incremental": {"cursor": "/u", "param": "since"}})");
  PagePlanner planner(spec, spec.query, std::nullopt);
  auto first = planner.First();
  REQUIRE(first.ok());
  CHECK(first->url == "http://h/api");
}

TEST_CASE("NextLink finds the rel=next target of a Link header", "[unit]") {
  auto [header, expected] = GENERATE(table<std::string, std::optional<std::string>>({
      {R"(<http://a/2>; rel="next")", "http://a/2"},
      {R"(<http://a/1>; rel="prev", <http://a/3>; rel="next")", "http://a/3"},
      {R"(<http://a/3>; rel="next", <http://a/9>; rel="last")", "http://a/3"},
      {R"(<http://a/1>; rel="first",<http://a/7>;rel="next";title="x")", "http://a/7"},
      {"<http://a/3>; rel=next", "http://a/3"},
      {"<http://a/3>; rel=next, <http://a/9>; rel=last", "http://a/3"},
      {R"(<http://a/9>; rel="next last")", "http://a/9"},
      {R"(<http://a/9>; rel="last next")", "http://a/9"},
      {R"(<http://a/4>; REL="NEXT")", "http://a/4"},
      {R"(<http://a/5>; rel = "Next")", "http://a/5"},
      {R"(<http://a/Mixed?q=A,B>; rel="next")", "http://a/Mixed?q=A,B"},
  }));
  CHECK(NextLink(header) == expected);
}

TEST_CASE("NextLink finds nothing without a rel=next link", "[unit]") {
  auto header =
      GENERATE(as<std::string>{}, "", "garbage", R"(<http://a/1>; rel="last")",
               R"(<http://a/1>; rel="nextpage")", R"(<http://a/6>; title="next page"; rel="prev")",
               R"(<http://a/1>; rel="prev", <http://a/2>; rel="first")", "<http://a/1");
  CHECK_FALSE(NextLink(header).has_value());
}

}  // namespace
}  // namespace octohub::ingest

namespace octohub::ingest {

TEST_CASE("stopping at max_pages marks the pass incomplete, a natural end does not", "[unit]") {
  SourceSpec capped = SpecFrom(R"({"pagination": {"type": "page"}, "max_pages": 2})");
  PagePlanner cut(capped, {}, std::nullopt);
  REQUIRE(cut.First().ok());
  REQUIRE(cut.Next(Page(5), Response()).value().has_value());
  auto after_cap = cut.Next(Page(5), Response());
  REQUIRE(after_cap.ok());
  CHECK_FALSE(after_cap->has_value());
  CHECK(cut.truncated());

  PagePlanner whole(capped, {}, std::nullopt);
  REQUIRE(whole.First().ok());
  auto end = whole.Next(Page(0), Response());
  REQUIRE(end.ok());
  CHECK_FALSE(end->has_value());
  CHECK_FALSE(whole.truncated());
}

}  // namespace octohub::ingest

// The planner for the paging of real APIs: offsets that follow what the server sent, cursors
// and sizes written into POST bodies, the stop conditions a source names, and what the
// correctness guards read from it.
#include <boost/json.hpp>
#include <boost/url.hpp>
#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <vector>

#include "page_planner.h"
#include "page_test_helpers.h"

namespace octohub::ingest {
namespace {
namespace json = boost::json;

// A page of `size` records, their ids unlike any other page's.
ExtractedPage Page(std::int64_t size) {
  static int pages = 0;
  ++pages;
  ExtractedPage page;
  page.array_size = size;
  for (std::int64_t i = 0; i < size; ++i) {
    page.records.push_back({std::to_string(pages) + "-" + std::to_string(i), "{}", ""});
  }
  return page;
}

ExtractedPage CursorPage(std::int64_t size, std::string text, std::string as_json) {
  ExtractedPage page = Page(size);
  page.next_cursor = std::move(text);
  page.next_cursor_json = std::move(as_json);
  return page;
}

HttpResponse Headers(std::vector<std::pair<std::string, std::string>> headers = {}) {
  HttpResponse response;
  response.status = 200;
  response.headers = std::move(headers);
  return response;
}

TEST_CASE("offset paging continues after the records a capped page held, as Jira needs", "[unit]") {
  SourceSpec spec = SpecFrom(R"({"pagination": {"type": "offset", "param": "startAt",
      "size_param": "maxResults", "size": 100, "total_path": "/total"}})");
  PagePlanner planner(spec, {}, std::nullopt);
  auto first = planner.First();
  REQUIRE(first.ok());
  CHECK(Param(first->url, "startAt") == "0");
  std::vector<std::string> offsets;
  for (std::int64_t held : {50, 50, 50, 23}) {
    ExtractedPage page = Page(held);
    page.total = 173;
    auto next = planner.Next(page, Headers());
    REQUIRE(next.ok());
    if (!*next) break;
    offsets.push_back(*Param((*next)->url, "startAt"));
  }
  CHECK(offsets == std::vector<std::string>{"50", "100", "150"});
  CHECK(planner.stop_reason() == "all 173 records the API counts were seen");
  CHECK(planner.reported_total() == 173);
  CHECK(planner.records_seen() == 173);
  CHECK(planner.first_short_page() == 1);  // 50 of 100 asked, and more followed
}

TEST_CASE("a POST source writes its cursor and size into the body, keeping the cursor's type",
          "[unit]") {
  SourceSpec spec = SpecFrom(R"({"url": "http://h/_search", "method": "POST",
      "body": {"sort": [{"t": "asc"}, {"id": "asc"}], "query": {"match_all": {}}},
      "pagination": {"type": "cursor", "body_param": "/search_after",
                     "cursor_record_path": "/sort", "size_body_param": "/size", "size": 2}})");
  PagePlanner planner(spec, {}, std::nullopt);
  auto first = planner.First();
  REQUIRE(first.ok());
  REQUIRE(first->body);
  json::value body = json::parse(*first->body);
  CHECK(body.at("size") == 2);
  CHECK_FALSE(body.as_object().contains("search_after"));
  CHECK(first->url == "http://h/_search");

  auto next = planner.Next(CursorPage(2, R"([1700,"b"])", R"([1700,"b"])"), Headers());
  REQUIRE(next.ok());
  REQUIRE(*next);
  body = json::parse(*(*next)->body);
  CHECK(body.at("search_after") == json::parse(R"([1700,"b"])"));
  CHECK(body.at("query") == json::parse(R"({"match_all": {}})"));
  CHECK((*next)->url == "http://h/_search");  // nothing in the query string
}

TEST_CASE("a GraphQL cursor goes into nested variables, created when the body lacks them",
          "[unit]") {
  SourceSpec spec = SpecFrom(R"({"url": "http://h/graphql", "method": "POST",
      "body": {"query": "query($after: String) { x }"},
      "pagination": {"type": "cursor", "body_param": "/variables/after",
                     "size_body_param": "/variables/first", "size": 50,
                     "cursor_path": "/data/x/pageInfo/endCursor",
                     "more_path": "/data/x/pageInfo/hasNextPage"}})");
  PagePlanner planner(spec, {}, std::nullopt);
  REQUIRE(planner.First().ok());
  ExtractedPage page = CursorPage(50, "Y3Vyc29yOjUw", R"("Y3Vyc29yOjUw")");
  page.more = true;
  auto next = planner.Next(page, Headers());
  REQUIRE(next.ok());
  REQUIRE(*next);
  CHECK(json::parse(*(*next)->body).at("variables") ==
        json::parse(R"({"first": 50, "after": "Y3Vyc29yOjUw"})"));
  page.more = false;
  page.next_cursor = "other";
  auto last = planner.Next(page, Headers());
  REQUIRE(last.ok());
  CHECK_FALSE(*last);
  CHECK(planner.stop_reason() == "/data/x/pageInfo/hasNextPage is false");
}

TEST_CASE("page numbers can go into the body too", "[unit]") {
  SourceSpec spec = SpecFrom(R"({"method": "POST", "body": {"filter": {}},
      "pagination": {"type": "page", "body_param": "/paging/page", "start": 1}})");
  PagePlanner planner(spec, {}, std::nullopt);
  auto first = planner.First();
  REQUIRE(first.ok());
  CHECK(json::parse(*first->body).at("paging").at("page") == 1);
  auto next = planner.Next(Page(3), Headers());
  REQUIRE(next.ok());
  CHECK(json::parse(*(*next)->body).at("paging").at("page") == 2);
  CHECK_FALSE(Param((*next)->url, "page"));
}

TEST_CASE("each stop condition a source names ends paging, with the reason", "[unit]") {
  struct Case {
    std::string pagination;
    std::function<void(ExtractedPage&)> mark;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string reason;
  };
  auto c = GENERATE(Case{R"("more_path": "/has_more")",
                         [](ExtractedPage& p) { p.more = false; },
                         {},
                         "/has_more is false"},
                    Case{R"("more_path": "/has_more")",
                         [](ExtractedPage& p) { p.more_absent = true; },
                         {},
                         "/has_more is not in the page"},
                    Case{R"("done_path": "/end_of_stream")",
                         [](ExtractedPage& p) { p.done = true; },
                         {},
                         "/end_of_stream is true"},
                    Case{R"("total_path": "/total")",
                         [](ExtractedPage& p) { p.total = 3; },
                         {},
                         "all 3 records the API counts were seen"},
                    Case{R"("total_header": "X-Total-Count")",
                         [](ExtractedPage&) {},
                         {{"x-total-count", "3"}},
                         "all 3 records the API counts were seen"},
                    Case{R"("pages_header": "X-WP-TotalPages")",
                         [](ExtractedPage&) {},
                         {{"x-wp-totalpages", "1"}},
                         "the last of the 1 pages the API counts"},
                    Case{R"("pages_path": "/meta/pages")",
                         [](ExtractedPage& p) { p.total_pages = 1; },
                         {},
                         "the last of the 1 pages the API counts"});
  SourceSpec spec = SpecFrom(R"({"pagination": {"type": "page", )" + c.pagination + "}}");
  PagePlanner planner(spec, {}, std::nullopt);
  REQUIRE(planner.First().ok());
  ExtractedPage page = Page(3);
  c.mark(page);
  auto next = planner.Next(page, Headers(c.headers));
  REQUIRE(next.ok());
  CHECK_FALSE(*next);
  CHECK(planner.stop_reason() == c.reason);
  CHECK_FALSE(planner.truncated());
}

TEST_CASE("paging goes on while the named conditions say there is more", "[unit]") {
  SourceSpec spec = SpecFrom(R"({"pagination": {"type": "page", "more_path": "/more",
      "done_path": "/done", "total_path": "/total", "pages_header": "X-Pages"}})");
  PagePlanner planner(spec, {}, std::nullopt);
  REQUIRE(planner.First().ok());
  ExtractedPage page = Page(3);
  page.more = true;
  page.done = false;
  page.total = 7;
  auto next = planner.Next(page, Headers({{"x-pages", "3"}}));
  REQUIRE(next.ok());
  CHECK(*next);
}

TEST_CASE("a next link is followed as given: the source's query is not added to it", "[unit]") {
  SourceSpec spec = SpecFrom(R"({"query": {"status": "any", "limit": "50"},
      "auth": {"type": "query", "name": "key", "value": "k"}, "pagination": {"type": "link_header"}})");
  PagePlanner planner(spec, spec.query, std::nullopt, {{"key", "k"}});
  auto first = planner.First();
  REQUIRE(first.ok());
  CHECK(Param(first->url, "status") == "any");
  auto next = planner.Next(
      Page(1), Headers({{"link", R"(<http://h/api?page_info=abc&limit=50>; rel="next")"}}));
  REQUIRE(next.ok());
  REQUIRE(*next);
  CHECK((*next)->url == "http://h/api?page_info=abc&limit=50&key=k");
}

TEST_CASE("short pages are remembered only when more pages followed them", "[unit]") {
  SourceSpec spec =
      SpecFrom(R"({"pagination": {"type": "page", "size_param": "per_page", "size": 10}})");
  PagePlanner planner(spec, {}, std::nullopt);
  REQUIRE(planner.First().ok());
  for (std::int64_t held : {10, 10, 4}) REQUIRE(planner.Next(Page(held), Headers()).ok());
  auto end = planner.Next(Page(0), Headers());
  REQUIRE(end.ok());
  CHECK_FALSE(*end);
  CHECK_FALSE(planner.first_short_page());  // the last page may be short

  PagePlanner gap(spec, {}, std::nullopt);
  REQUIRE(gap.First().ok());
  for (std::int64_t held : {10, 7, 10}) REQUIRE(gap.Next(Page(held), Headers()).ok());
  CHECK(gap.first_short_page() == 2);
}

TEST_CASE("SetAtPointer creates objects on the way and refuses to cross other values", "[unit]") {
  json::value doc = json::parse(R"({"a": [1, {"b": 2}], "s": "x"})");
  REQUIRE(SetAtPointer(doc, "/n/m", 5).ok());
  REQUIRE(SetAtPointer(doc, "/a/1/b", 3).ok());
  CHECK(doc == json::parse(R"({"a": [1, {"b": 3}], "s": "x", "n": {"m": 5}})"));
  CHECK_FALSE(SetAtPointer(doc, "/s/t", 1).ok());
  CHECK_FALSE(SetAtPointer(doc, "/a/7", 1).ok());
}

}  // namespace
}  // namespace octohub::ingest

#include "raw_query.h"

#include <catch2/catch.hpp>

using octohub::http::QueryOfRequestLine;
using octohub::http::SplitQuery;

TEST_CASE("the query of a request line is the part of the target after '?'", "[unit]") {
  CHECK(QueryOfRequestLine("GET /api/v1/search?q=a&b=1 HTTP/1.1\r\nHost: x\r\n\r\n") == "q=a&b=1");
  CHECK(QueryOfRequestLine("GET /healthz HTTP/1.1\r\n") == "");
  CHECK(QueryOfRequestLine("GET /p?x=1#frag HTTP/1.1\r\n") == "x=1");
  CHECK(QueryOfRequestLine("GET http://h:1/p?x=%20 HTTP/1.1\r\n") == "x=%20");
}

TEST_CASE("a request line that is incomplete or malformed has no recoverable query", "[unit]") {
  CHECK_FALSE(QueryOfRequestLine("GET /p?x=1 HTTP/1.1").has_value());
  CHECK_FALSE(QueryOfRequestLine("GET\r\n").has_value());
  CHECK_FALSE(QueryOfRequestLine("").has_value());
}

TEST_CASE("splitting a query keeps order, empty values and repeated names", "[unit]") {
  auto pairs = SplitQuery("filter.state=open&&filter.state=closed&flag&q=");
  REQUIRE(pairs.size() == 4);
  CHECK(pairs[0] == std::pair<std::string_view, std::string_view>("filter.state", "open"));
  CHECK(pairs[1] == std::pair<std::string_view, std::string_view>("filter.state", "closed"));
  CHECK(pairs[2] == std::pair<std::string_view, std::string_view>("flag", ""));
  CHECK(pairs[3] == std::pair<std::string_view, std::string_view>("q", ""));
  CHECK(SplitQuery("").empty());
}

#include "router.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace octohub::http {
namespace {

using Strings = std::vector<std::string>;

Route MakeRoute(std::string method, std::string pattern) {
  return Route{std::move(method), std::move(pattern), [](const RequestView&) { return Reply{}; },
               true};
}

Router TestRouter() {
  return Router({MakeRoute("GET", "/api/v1/sources"), MakeRoute("POST", "/api/v1/sources"),
                 MakeRoute("GET", "/api/v1/sources/{name}"),
                 MakeRoute("GET", "/api/v1/records/{source}/{id}"),
                 MakeRoute("DELETE", "/api/v1/records/{source}/{id}"), MakeRoute("GET", "/")});
}

TEST_CASE("PercentDecode decodes %XX escapes", "[unit]") {
  auto [in, plus_is_space, expected] = GENERATE(table<std::string, bool, std::string>({
      {"plain", false, "plain"},
      {"a%20b", false, "a b"},
      {"%2f%2F", false, "//"},
      {"%41%62c", true, "Abc"},
      {"caf%C3%A9", false, "caf\xc3\xa9"},
      {"100%25", false, "100%"},
      {"%00", false, std::string(1, '\0')},
      {"", false, ""},
  }));
  std::string out = "stale";
  REQUIRE(PercentDecode(in, out, plus_is_space));
  CHECK(out == expected);
}

TEST_CASE("PercentDecode turns + into a space only when asked", "[unit]") {
  auto [in, plus_is_space, expected] = GENERATE(table<std::string, bool, std::string>({
      {"a+b", false, "a+b"},
      {"a+b", true, "a b"},
      {"%2B+", true, "+ "},
      {"%2B+", false, "++"},
  }));
  std::string out;
  REQUIRE(PercentDecode(in, out, plus_is_space));
  CHECK(out == expected);
}

TEST_CASE("PercentDecode rejects malformed escapes", "[unit]") {
  auto in = GENERATE(as<std::string>{}, "%", "%4", "a%4", "%zz", "%4g", "abc%g1", "%%41", "x%");
  std::string out;
  CHECK_FALSE(PercentDecode(in, out, true));
}

TEST_CASE("Router matches literal paths by method", "[unit]") {
  Router router = TestRouter();
  auto get = router.Find("GET", "/api/v1/sources");
  auto post = router.Find("POST", "/api/v1/sources");
  REQUIRE(get.route != nullptr);
  REQUIRE(post.route != nullptr);
  CHECK(get.route->method == "GET");
  CHECK(post.route->method == "POST");
  CHECK(get.route->pattern == "/api/v1/sources");
  CHECK(get.params.empty());
}

TEST_CASE("Router captures {param} segments percent-decoded", "[unit]") {
  auto [path, params] = GENERATE(table<std::string, Strings>({
      {"/api/v1/records/issues/42", {"issues", "42"}},
      {"/api/v1/records/issues/a%2Fb", {"issues", "a/b"}},
      {"/api/v1/records/my%20src/x+y", {"my src", "x+y"}},
      {"/api/v1/sources/%C3%A9t%C3%A9", {"\xc3\xa9t\xc3\xa9"}},
  }));
  auto match = TestRouter().Find("GET", path);
  REQUIRE(match.route != nullptr);
  CHECK(match.params == params);
}

TEST_CASE("A path matched under other methods reports the allowed methods", "[unit]") {
  Router router = TestRouter();
  auto sources = router.Find("PUT", "/api/v1/sources");
  auto record = router.Find("PATCH", "/api/v1/records/s/1");
  CHECK(sources.route == nullptr);
  CHECK(sources.allowed == Strings{"GET", "POST"});
  CHECK(record.route == nullptr);
  CHECK(record.allowed == Strings{"GET", "DELETE"});
}

TEST_CASE("A path no route matches gives a null route and no allowed methods", "[unit]") {
  auto path = GENERATE(as<std::string>{}, "/api/v1/nope", "/api/v1/records/issues",
                       "/api/v1/records/issues/1/extra", "/api/v1/sources/", "/api/v1/records//1",
                       "/api/v1/records/s/%zz", "/API/v1/sources", "");
  auto match = TestRouter().Find("GET", path);
  CHECK(match.route == nullptr);
  CHECK(match.allowed.empty());
}

TEST_CASE("The root path matches only the root route", "[unit]") {
  auto match = TestRouter().Find("GET", "/");
  REQUIRE(match.route != nullptr);
  CHECK(match.route->pattern == "/");
}

}  // namespace
}  // namespace octohub::http

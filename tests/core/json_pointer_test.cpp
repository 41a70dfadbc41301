#include "octohub/core/json_pointer.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace octohub {
namespace {

// Every value `pointer` reaches in `json`, minified, in visiting order.
std::vector<std::string> Reached(const std::string& json, const std::string& pointer,
                                 bool allow_wildcard = true) {
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.parse(json).value();
  auto parsed = JsonPointer::Parse(pointer, allow_wildcard);
  REQUIRE(parsed.ok());
  std::vector<std::string> out;
  parsed->Visit(root,
                [&](simdjson::dom::element value) { out.push_back(simdjson::minify(value)); });
  return out;
}

std::string ScalarTextOf(const std::string& json) {
  simdjson::dom::parser parser;
  return ScalarText(parser.parse(json).value());
}

using Tokens = std::vector<std::string>;

TEST_CASE("An empty pointer has no tokens and reaches the whole document", "[unit]") {
  auto pointer = JsonPointer::Parse("");
  REQUIRE(pointer.ok());
  CHECK(pointer->tokens().empty());
  CHECK(Reached(R"({"a":[1,2]})", "") == std::vector<std::string>{R"({"a":[1,2]})"});
}

TEST_CASE("A pointer is split into its slash-separated tokens", "[unit]") {
  auto [text, tokens] = GENERATE(table<std::string, Tokens>({
      {"/a/b", {"a", "b"}},
      {"/", {""}},
      {"/a//b", {"a", "", "b"}},
      {"/items/0/name", {"items", "0", "name"}},
  }));
  auto pointer = JsonPointer::Parse(text);
  REQUIRE(pointer.ok());
  CHECK(pointer->tokens() == tokens);
  CHECK(pointer->text() == text);
}

TEST_CASE("escapes ~0 and ~1 in a pointer decode to ~ and /", "[unit]") {
  auto pointer = JsonPointer::Parse("/a~1b/c~0d/~01");
  REQUIRE(pointer.ok());
  CHECK(pointer->tokens() == Tokens{"a/b", "c~d", "~1"});
  CHECK(Reached(R"({"a/b":{"c~d":{"~1":7}}})", "/a~1b/c~0d/~01") == std::vector<std::string>{"7"});
}

TEST_CASE("A ~ not followed by 0 or 1 is a bad escape", "[unit]") {
  auto text = GENERATE(as<std::string>{}, "/a~", "/a~2", "/~x/b", "/~/");
  auto pointer = JsonPointer::Parse(text);
  REQUIRE_FALSE(pointer.ok());
  CHECK(pointer.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(pointer.status().message(), Catch::Contains("~"));
}

TEST_CASE("A non-empty pointer must start with a slash", "[unit]") {
  auto text = GENERATE(as<std::string>{}, "a/b", "a", "#/a", " /a");
  auto pointer = JsonPointer::Parse(text);
  REQUIRE_FALSE(pointer.ok());
  CHECK(pointer.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(pointer.status().message(), Catch::Contains("starts with \"/\""));
}

TEST_CASE("A star is a wildcard only when wildcards are allowed", "[unit]") {
  auto with = JsonPointer::Parse("/labels/*/name", true);
  auto without = JsonPointer::Parse("/labels/*/name", false);
  REQUIRE(with.ok());
  REQUIRE(without.ok());
  CHECK(with->has_wildcard());
  CHECK_FALSE(without->has_wildcard());
  CHECK_FALSE(JsonPointer::Parse("/labels/0/name", true)->has_wildcard());
}

TEST_CASE("Without wildcards a star names a member called star", "[unit]") {
  const std::string json = R"({"a":{"*":"star"},"b":[{"x":1},{"x":2}]})";
  CHECK(Reached(json, "/a/*", false) == std::vector<std::string>{R"("star")"});
  CHECK(Reached(json, "/b/*/x", false).empty());
}

TEST_CASE("Visit walks objects and array indices", "[unit]") {
  const std::string json = R"({"a":{"b":[10,{"c":"deep"},30]}})";
  auto [pointer, expected] = GENERATE_REF(table<std::string, std::string>({
      {"/a/b/0", "10"},
      {"/a/b/1/c", R"("deep")"},
      {"/a/b/2", "30"},
      {"/a/b", "[10,{\"c\":\"deep\"},30]"},
  }));
  CHECK(Reached(json, pointer) == std::vector<std::string>{expected});
}

TEST_CASE("A wildcard visits every element of an array in order", "[unit]") {
  const std::string json = R"({"labels":[{"name":"bug"},{"id":2},{"name":"ui"}]})";
  CHECK(Reached(json, "/labels/*/name") == std::vector<std::string>{R"("bug")", R"("ui")"});
  CHECK(Reached(json, "/labels/*").size() == 3);
  CHECK(Reached(R"({"m":[[1,2],[3]]})", "/m/*/*") == std::vector<std::string>{"1", "2", "3"});
}

TEST_CASE("Array steps with leading zeros, signs or out of range reach nothing", "[unit]") {
  const std::string json = R"({"a":[1,2,3]})";
  auto token = GENERATE(as<std::string>{}, "01", "00", "-1", "+1", "3", "1x", "");
  CHECK(Reached(json, "/a/" + token).empty());
}

TEST_CASE("Missing steps visit nothing", "[unit]") {
  const std::string json = R"({"a":{"b":1},"s":"text","n":null})";
  auto pointer = GENERATE(as<std::string>{}, "/x", "/a/c", "/a/b/c", "/s/0", "/n/x", "/a/*/b");
  CHECK(Reached(json, pointer).empty());
}

TEST_CASE("Find returns the first value reached or nothing", "[unit]") {
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.parse(std::string(R"({"l":[{"n":"x"},{"n":"y"}]})")).value();
  auto found = JsonPointer::Parse("/l/*/n", true)->Find(root);
  REQUIRE(found.has_value());
  CHECK(ScalarText(*found) == "x");
  CHECK_FALSE(JsonPointer::Parse("/l/*/missing", true)->Find(root).has_value());
}

TEST_CASE("ScalarText gives scalars as written and nothing for null and containers", "[unit]") {
  auto [json, expected] = GENERATE(table<std::string, std::string>({
      {R"("héllo \"q\"")", "héllo \"q\""},
      {"42", "42"},
      {"-7", "-7"},
      {"18446744073709551615", "18446744073709551615"},
      {"2.5", "2.5"},
      {"true", "true"},
      {"false", "false"},
      {"null", ""},
      {R"({"a":1})", ""},
      {"[1,2]", ""},
  }));
  CHECK(ScalarTextOf(json) == expected);
}

}  // namespace
}  // namespace octohub

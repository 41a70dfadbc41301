#include "octohub/core/document.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <string>

namespace octohub {
namespace {
namespace json = boost::json;

std::string Error(std::string_view text, std::string_view format = "") {
  auto document = ParseDocument(text, format);
  REQUIRE_FALSE(document.ok());
  CHECK(document.status().code() == StatusCode::kInvalidArgument);
  return document.status().message();
}

json::value ParseOk(std::string_view text, std::string_view format = "") {
  auto document = ParseDocument(text, format);
  INFO(document.status().ToString());
  REQUIRE(document.ok());
  return std::move(document).value();
}

TEST_CASE("A JSON object parses with its members in order", "[unit]") {
  json::value document = ParseOk(" \n{\"b\": [true, null, 1.5], \"a\": {\"c\": \"x\"}}\n\n");
  REQUIRE(document.is_object());
  CHECK(json::serialize(document) == R"({"b":[true,null,1.5E0],"a":{"c":"x"}})");
}

TEST_CASE("A JSON syntax error names its line and column", "[unit]") {
  auto [text, position] = GENERATE(table<std::string, std::string>({
      {"{\n  \"a\": 1,\n  \"b\": ]\n}", "line 3, column 8"},
      {"{\"a\": tru}", "line 1, column 7"},
      {"{\n\"a\": 1", "line 2, column 7"},
  }));
  std::string message = Error(text);
  CHECK_THAT(message, Catch::StartsWith("invalid JSON at " + position));
}

TEST_CASE("Text after a JSON document is rejected with its position", "[unit]") {
  auto [text, position] = GENERATE(table<std::string, std::string>({
      {R"({"a":1} x)", "line 1, column 9"},
      {"{\"a\":1}\n{\"b\":2}", "line 2, column 1"},
      {"{\"a\":1}]", "line 1, column 8"},
  }));
  CHECK(Error(text) == "invalid JSON at " + position + ": text after the document");
}

TEST_CASE("A YAML mapping becomes a JSON object with nested lists and maps", "[unit]") {
  json::value document =
      ParseOk("name: issues\nurl: http://h/api\nlist:\n  - a\n  - b\nnested:\n  k: v\n");
  CHECK(json::serialize(document) ==
        R"({"name":"issues","url":"http://h/api","list":["a","b"],"nested":{"k":"v"}})");
}

TEST_CASE("YAML plain scalars become numbers, booleans and null", "[unit]") {
  auto [scalar, expected] = GENERATE(table<std::string, json::value>({
      {"42", json::value(std::int64_t{42})},
      {"-3", json::value(std::int64_t{-3})},
      {"2.5", json::value(2.5)},
      {"1e3", json::value(1000.0)},
      {"true", json::value(true)},
      {"False", json::value(false)},
      {"null", json::value(nullptr)},
      {"~", json::value(nullptr)},
      {"hello world", json::value("hello world")},
      {"yes", json::value("yes")},
      {"0x1F", json::value("0x1F")},
      {"012", json::value("012")},
  }));
  json::value document = ParseOk("v: " + scalar + "\n");
  CHECK(document.at("v") == expected);
}

TEST_CASE("Quoted YAML scalars stay strings", "[unit]") {
  auto scalar = GENERATE(as<std::string>{}, "42", "true", "null", "2.5", "~");
  json::value single = ParseOk("v: '" + scalar + "'\n");
  json::value dbl = ParseOk("v: \"" + scalar + "\"\n");
  CHECK(single.at("v") == json::value(scalar));
  CHECK(dbl.at("v") == json::value(scalar));
}

TEST_CASE("A YAML syntax error names its line", "[unit]") {
  auto [text, line] = GENERATE(table<std::string, std::string>({
      {"a: 1\nb: [1, 2\n", "line 3"},
      {"a: 1\nb: c: d\n", "line 2"},
      {"a: 1\n- x\n", "line 2"},
      {"a:\n  b: 1\n c: 2\n", "line 3"},
  }));
  CHECK_THAT(Error(text), Catch::StartsWith("invalid YAML at " + line + ","));
}

TEST_CASE("A bare scalar document is rejected", "[unit]") {
  auto text = GENERATE(as<std::string>{}, "just text", "42", "", "\"quoted\"", "~");
  CHECK(Error(text) == "the document is neither a JSON object nor a YAML mapping");
}

TEST_CASE("An explicit format overrides the guess from the text", "[unit]") {
  CHECK(json::serialize(ParseOk("{a: 1}", "yaml")) == R"({"a":1})");
  CHECK_THAT(Error("a: 1", "json"), Catch::StartsWith("invalid JSON at line 1, column 1"));
}

TEST_CASE("YAML aliases are refused before anything is expanded", "[unit]") {
  // Seven levels of ten aliases: ten million values from a few hundred bytes.
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char level = 'b'; level <= 'h'; ++level) {
    const std::string previous(1, static_cast<char>(level - 1));
    bomb += std::string(1, level) + ": &" + level + " [";
    for (int i = 0; i < 10; ++i) bomb += (i ? ", *" : "*") + previous;
    bomb += "]\n";
  }
  auto document = ParseDocument(bomb, "yaml");
  REQUIRE_FALSE(document.ok());
  CHECK_THAT(document.status().message(),
             Catch::Contains("YAML aliases (*name) are not accepted") && Catch::Contains("line 2"));
  REQUIRE(document.status().field_errors().size() == 1);
  CHECK(document.status().field_errors()[0].pointer == "");
  // An anchor that nothing refers to is harmless.
  CHECK(json::serialize(ParseOk("a: &first 1\nb: 2\n")) == R"({"a":1,"b":2})");
}

TEST_CASE("documents may nest 64 levels, in JSON and in YAML, and no deeper", "[unit]") {
  auto nested = [](int depth, char open, char close) {
    return "{\"a\": " + std::string(depth - 1, open) + std::string(depth - 1, close) + "}";
  };
  CHECK(ParseOk(nested(64, '[', ']')).is_object());
  CHECK_THAT(Error(nested(65, '[', ']')), Catch::Contains("invalid JSON"));
  CHECK(ParseOk(nested(64, '[', ']'), "yaml").is_object());
  CHECK_THAT(Error(nested(65, '[', ']'), "yaml"), Catch::Contains("nested deeper than 64 levels"));
}

}  // namespace
}  // namespace octohub

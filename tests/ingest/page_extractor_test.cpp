#include "page_extractor.h"

#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <vector>

#include "octohub/core/content_hash.h"
#include "page_test_helpers.h"

namespace octohub::ingest {
namespace {

SourceSpec Spec(std::string records, std::optional<std::string> id = "/id") {
  SourceSpec spec;
  spec.records = std::move(records);
  spec.id = std::move(id);
  return spec;
}

using Strings = std::vector<std::string>;

TEST_CASE("Records are read from the array at the records pointer", "[unit]") {
  auto page = ExtractOk(Spec("/data/items"),
                        R"({"data":{"items":[{"id":"a","t":1},{"id":"b","t":2}]},"total":2})");
  CHECK(Ids(page) == Strings{"a", "b"});
  CHECK(page.array_size == 2);
  CHECK(page.skipped == 0);
}

TEST_CASE("An empty records pointer reads the page itself as the array", "[unit]") {
  auto page = ExtractOk(Spec(""), R"([{"id":"x"},{"id":"y"},{"id":"z"}])");
  CHECK(Ids(page) == Strings{"x", "y", "z"});
  CHECK(page.array_size == 3);
}

TEST_CASE("String and numeric ids become the record id text", "[unit]") {
  auto [record, id] = GENERATE(table<std::string, std::string>({
      {R"({"id":"abc"})", "abc"},
      {R"({"id":42})", "42"},
      {R"({"id":-3})", "-3"},
      {R"({"id":"42"})", "42"},
      {R"({"id":12345678901234567})", "12345678901234567"},
  }));
  auto page = ExtractOk(Spec(""), "[" + record + "]");
  CHECK(Ids(page) == Strings{id});
}

TEST_CASE("An id pointer may reach into nested objects", "[unit]") {
  auto page = ExtractOk(Spec("/items", "/key/n"), R"({"items":[{"key":{"n":7}}]})");
  CHECK(Ids(page) == Strings{"7"});
}

TEST_CASE("Elements that are not objects or have no usable id are counted as skipped", "[unit]") {
  auto page =
      ExtractOk(Spec(""), R"([{"id":1},5,"s",null,[1],{"no":1},{"id":null},{"id":{}},{"id":""}])");
  CHECK(Ids(page) == Strings{"1"});
  CHECK(page.array_size == 9);
  CHECK(page.skipped == 8);
}

TEST_CASE("Records PostgreSQL could not take are skipped with their reason, the rest kept",
          "[unit]") {
  auto nested = [](int depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  const std::string page_text = "[" + std::string(R"({"id":"ok","text":"a\u0000b"},)") +
                                R"({"id":")" + std::string(3000, 'x') + R"("},)" +
                                R"({"id":"a\u0000b"},)" + R"({"id":"deep","x":)" + nested(64) +
                                "}," + R"({"id":"fits","x":)" + nested(63) + "}," + "7]";
  auto page = ExtractOk(Spec(""), page_text);
  CHECK(Ids(page) == Strings{"ok", "fits"});
  CHECK(page.array_size == 6);
  CHECK(page.skipped == 4);
  CHECK(page.skipped_because ==
        std::map<std::string, std::int64_t>{{"an id over 512 bytes", 1},
                                            {"a NUL character in its id", 1},
                                            {"nested deeper than 64 levels", 1},
                                            {"not an object", 1}});
}

TEST_CASE("Without an id pointer a record's id is its content hash", "[unit]") {
  auto page = ExtractOk(Spec("", std::nullopt), R"([{"a": 1}, {"a": 2}])");
  REQUIRE(page.records.size() == 2);
  CHECK(page.records[0].id == ContentHash(R"({"a":1})"));
  CHECK(page.records[1].id == ContentHash(R"({"a":2})"));
  CHECK(page.records[0].content_hash == page.records[0].id);
}

TEST_CASE("A later record with the same id in one page replaces the earlier one", "[unit]") {
  auto page = ExtractOk(Spec(""), R"([{"id":1,"v":"old"},{"id":2},{"id":1,"v":"new"}])");
  CHECK(Ids(page) == Strings{"1", "2"});
  CHECK(page.records[0].json == R"({"id":1,"v":"new"})");
  CHECK(page.records[0].content_hash == ContentHash(R"({"id":1,"v":"new"})"));
  CHECK(page.array_size == 3);
}

TEST_CASE("A record is stored minified with its keys in the fetched order", "[unit]") {
  auto page = ExtractOk(Spec("/items"),
                        "{\"items\": [ {\"id\" : 1 ,\n \"z\" : [ 1, 2 ],\n"
                        "  \"a\" : {\"y\": true, \"b\": null}, \"s\": \"x y\" } ]}");
  REQUIRE(page.records.size() == 1);
  CHECK(page.records[0].json == R"({"id":1,"z":[1,2],"a":{"y":true,"b":null},"s":"x y"})");
}

TEST_CASE("A malformed page is an error that says what is wrong", "[unit]") {
  auto [body, says] = GENERATE(table<std::string, std::string>({
      {"", "the response body is empty"},
      {" \r\n\t ", "the response body is empty"},
      {"<html><body>502 Bad Gateway</body></html>", "not valid JSON"},
      {R"({"items":[{"id":1})", "not valid JSON"},
      {"{\"items\":[{\"id\":\"\xff\xfe\"}]}", "not valid UTF-8"},
      {R"({"data":[]})", "nothing at the records pointer \"/items\""},
      {R"({"items":{"id":1}})", "\"/items\" holds an object, not an array"},
      {R"({"items":"none"})", "holds a string, not an array"},
      {R"({"items":null})", "holds null, not an array"},
      {R"({"items":3})", "holds a number, not an array"},
  }));
  auto page = Extract(Spec("/items"), body);
  REQUIRE_FALSE(page.ok());
  CHECK(page.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(page.status().message(), Catch::Contains(says));
}

TEST_CASE("A page that is not JSON is quoted in the error", "[unit]") {
  auto page = Extract(Spec("/items"), "<html><body>502 Bad Gateway</body></html>");
  REQUIRE_FALSE(page.ok());
  CHECK_THAT(page.status().message(), Catch::Contains("<html><body>502 Bad Gateway"));
}

TEST_CASE("The next cursor and next URL are read from the page", "[unit]") {
  SourceSpec spec = Spec("/items");
  spec.pagination.cursor_path = "/meta/next";
  spec.pagination.next_path = "/links/next";
  auto page = ExtractOk(spec, R"({"items":[],"meta":{"next":"c2"},"links":{"next":"/api?p=2"}})");
  CHECK(page.next_cursor == std::optional<std::string>("c2"));
  CHECK(page.next_url == std::optional<std::string>("/api?p=2"));
  CHECK(page.array_size == 0);
}

TEST_CASE("A missing, null or empty next cursor is absent, a numeric one is text", "[unit]") {
  auto [meta, expected] = GENERATE(table<std::string, std::optional<std::string>>({
      {R"({})", std::nullopt},
      {R"({"next":null})", std::nullopt},
      {R"({"next":""})", std::nullopt},
      {R"({"next":1234})", "1234"},
  }));
  SourceSpec spec = Spec("/items");
  spec.pagination.cursor_path = "/meta/next";
  CHECK(ExtractOk(spec, R"({"items":[],"meta":)" + meta + "}").next_cursor == expected);
}

TEST_CASE("The largest incremental value of a page is kept", "[unit]") {
  auto [records, expected] = GENERATE(table<std::string, std::optional<std::string>>({
      {R"([{"id":1,"n":9},{"id":2,"n":10},{"id":3,"n":2}])", "10"},
      {R"([{"id":1,"n":"2024-01-09T10:00:00Z"},{"id":2,"n":"2024-01-10T09:00:00Z"}])",
       "2024-01-10T09:00:00Z"},
      {R"([{"id":1,"n":"b"},{"id":2,"n":"c"},{"id":3,"n":"a"}])", "c"},
      {R"([{"id":1},{"id":2,"n":1.5},{"id":3,"n":null}])", "1.5"},
      {R"([{"id":1},{"id":2}])", std::nullopt},
  }));
  SourceSpec spec = Spec("");
  spec.incremental = IncrementalSpec{"/n", "since"};
  CHECK(ExtractOk(spec, records).max_incremental == expected);
}

TEST_CASE("CursorGreater compares numbers numerically and other text as text", "[unit]") {
  auto [a, b, greater] = GENERATE(table<std::string, std::string, bool>({
      {"10", "9", true},
      {"9", "10", false},
      {"10", "10", false},
      {"2.5", "10", false},
      {"-1", "-2", true},
      {"b", "a", true},
      {"a", "b", false},
      {"2024-01-10T00:00:00Z", "2024-01-09T23:59:59Z", true},
      {"abc", "10", true},
      {"", "1", false},
      {"1", "", true},
  }));
  CHECK(CursorGreater(a, b) == greater);
}

TEST_CASE("BodyExcerpt keeps printable ASCII and replaces other bytes by spaces", "[unit]") {
  auto [body, expected] = GENERATE(table<std::string, std::string>({
      {"abc", "abc"},
      {"a\nb\tc\r", "a b c "},
      {"caf\xc3\xa9!", "caf  !"},
      {std::string("x\0y", 3), "x y"},
      {"", ""},
  }));
  CHECK(BodyExcerpt(body) == expected);
}

TEST_CASE("BodyExcerpt cuts a long body and marks the cut", "[unit]") {
  CHECK(BodyExcerpt(std::string(200, 'x')) == std::string(160, 'x') + "…");
  CHECK(BodyExcerpt(std::string(160, 'x')) == std::string(160, 'x'));
  CHECK(BodyExcerpt("abcdef", 3) == "abc…");
}

}  // namespace
}  // namespace octohub::ingest

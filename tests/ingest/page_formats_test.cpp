// Pages as real APIs send them: NDJSON exports, CSV files, cursors inside the last record, and
// the stop signals a page carries.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <vector>

#include "csv_reader.h"
#include "page_extractor.h"
#include "page_test_helpers.h"

namespace octohub::ingest {
namespace {
namespace json = boost::json;
using Strings = std::vector<std::string>;

TEST_CASE("NDJSON: each non-empty line is a record, lines that are not objects are skipped",
          "[unit]") {
  SourceSpec spec = SpecFrom(R"({"format": "ndjson", "id": "/id", "records": "/ignored"})");
  ExtractedPage page = ExtractOk(spec,
                                 "{\"id\": 1, \"t\": \"a\"}\r\n"
                                 "\n"
                                 "[1, 2]\n"
                                 "{\"id\": 2, \"t\": \"b\"\n"  // cut short
                                 "  \n"
                                 "{\"id\": 3, \"t\": \"c\"}");  // no final newline
  CHECK(Ids(page) == Strings{"1", "3"});
  CHECK(page.array_size == 4);
  CHECK(page.skipped == 2);
  CHECK(page.skipped_because ==
        std::map<std::string, std::int64_t>{{"a line that is not JSON", 1}, {"not an object", 1}});
  CHECK(page.records[0].json == R"({"id":1,"t":"a"})");
}

TEST_CASE("NDJSON: an empty body is an empty page, not an error", "[unit]") {
  SourceSpec spec = SpecFrom(R"({"format": "ndjson"})");
  ExtractedPage page = ExtractOk(spec, "\n\n");
  CHECK(page.array_size == 0);
}

TEST_CASE("CSV: rows become objects keyed by the header, values as strings", "[unit]") {
  SourceSpec spec = SpecFrom(R"({"format": "csv", "id": "/id"})");
  ExtractedPage page = ExtractOk(spec,
                                 "\xEF\xBB\xBFid,name,note\r\n"
                                 "1,\"Smith, Jane\",\"said \"\"hi\"\"\"\r\n"
                                 "2,Bob,\"two\nlines\"\r\n"
                                 "\r\n"
                                 "3,short\r\n"
                                 "4,Ann,\r\n");
  CHECK(Ids(page) == Strings{"1", "2", "4"});
  CHECK(page.records[0].json == R"({"id":"1","name":"Smith, Jane","note":"said \"hi\""})");
  CHECK(page.records[1].json == R"({"id":"2","name":"Bob","note":"two\nlines"})");
  CHECK(page.records[2].json == R"({"id":"4","name":"Ann","note":""})");
  CHECK(page.array_size == 4);
  CHECK(page.skipped_because == std::map<std::string, std::int64_t>{
                                    {"a CSV row with more or fewer fields than the header", 1}});
}

TEST_CASE("CSV that cannot be read fails the page with the reason", "[unit]") {
  auto [body, reason] = GENERATE(table<std::string, std::string>({
      {"", "no header row"},
      {"id,id\n1,2\n", "names the column \"id\" twice"},
      {"id,,x\n1,2,3\n", "column 2 without a name"},
      {"id,name\n1,\"open\n", "quote is left open"},
      {"id,name\n1,\xff\xfe\n", "not valid UTF-8"},
  }));
  SourceSpec spec = SpecFrom(R"({"format": "csv", "id": "/id"})");
  auto page = Extract(spec, body);
  REQUIRE_FALSE(page.ok());
  CHECK_THAT(page.status().message(), Catch::Contains(reason));
}

TEST_CASE("CSV values with quotes, backslashes and control characters become valid JSON",
          "[unit]") {
  auto table = CsvToJsonArray("a,b\n\"x\"\"y\\z\",\"t\tab\x01\"\n");
  REQUIRE(table.ok());
  CHECK(table->array == R"([{"a":"x\"y\\z","b":"t\tab\u0001"}])");
  CHECK(json::parse(table->array).at(0).at("b") == "t\tab\x01");
}

TEST_CASE("CSV quotes count only at the start of a field and CR or LF or CRLF ends a row",
          "[unit]") {
  // A quote inside an unquoted field is a character; text after a closing quote is kept;
  // an empty quoted field is empty; the last row needs no line end, even after a comma.
  auto table = CsvToJsonArray("a,b,c\rsay \"hi\",\"x\"y,\"\"\n\"\"\"\",\"a,\r\nb\",");
  REQUIRE(table.ok());
  CHECK(json::parse(table->array) == json::parse(R"([{"a":"say \"hi\"","b":"xy","c":""},
                                                     {"a":"\"","b":"a,\r\nb","c":""}])"));
  CHECK(table->ragged == 0);
}

TEST_CASE("CsvToJsonArray counts rows, ragged ones included", "[unit]") {
  auto table = CsvToJsonArray("a,b\n1,2\n3\n4,5,6\n7,8");
  REQUIRE(table.ok());
  CHECK(table->rows == 4);
  CHECK(table->ragged == 2);
  CHECK(json::parse(table->array) == json::parse(R"([{"a":"1","b":"2"},{"a":"7","b":"8"}])"));
}

TEST_CASE("a cursor in the last record is read whatever its type, and kept as JSON too", "[unit]") {
  auto [pointer, text, as_json] = GENERATE(table<std::string, std::string, std::string>({
      {"/id", "obj_3", R"("obj_3")"},
      {"/n", "30", "30"},
      {"/sort", R"([30,"c"])", R"([30,"c"])"},
  }));
  SourceSpec spec = SpecFrom(R"({"records": "/data", "id": "/id", "pagination": {"type": "cursor",
      "param": "after", "cursor_record_path": ")" +
                             pointer + R"("}})");
  ExtractedPage page = ExtractOk(spec, R"({"data": [
      {"id": "obj_1", "n": 10, "sort": [10, "a"]},
      {"id": "obj_2", "n": 20, "sort": [20, "b"]},
      {"id": "obj_3", "n": 30, "sort": [30, "c"]}]})");
  CHECK(page.next_cursor == text);
  CHECK(page.next_cursor_json == as_json);
}

TEST_CASE("a record cursor comes from the last record even when that record is skipped", "[unit]") {
  SourceSpec spec = SpecFrom(R"({"records": "", "id": "/id", "pagination": {"type": "cursor",
      "param": "after", "cursor_record_path": "/key"}})");
  ExtractedPage page = ExtractOk(spec, R"([{"id": "a", "key": "k1"}, {"key": "k2"}])");
  CHECK(Ids(page) == Strings{"a"});
  CHECK(page.next_cursor == "k2");
}

TEST_CASE("a null, empty or missing cursor is no cursor", "[unit]") {
  auto body = GENERATE(as<std::string>{}, R"({"items": [{}], "next_cursor": null})",
                       R"({"items": [{}], "next_cursor": ""})", R"({"items": [{}]})");
  SourceSpec spec = SpecFrom(R"({"records": "/items", "pagination": {"type": "cursor",
      "param": "c", "cursor_path": "/next_cursor"}})");
  ExtractedPage page = ExtractOk(spec, body);
  CHECK_FALSE(page.next_cursor);
  CHECK_FALSE(page.next_cursor_json);
}

TEST_CASE("a page's stop signals are read where the source points", "[unit]") {
  SourceSpec spec = SpecFrom(R"({"records": "/r", "pagination": {"type": "page",
      "more_path": "/more", "done_path": "/done", "total_path": "/meta/total",
      "pages_path": "/meta/pages"}})");
  ExtractedPage page = ExtractOk(
      spec, R"({"r": [{}], "more": false, "done": true, "meta": {"total": "173", "pages": 4}})");
  CHECK(page.more == false);
  CHECK_FALSE(page.more_absent);
  CHECK(page.done == true);
  CHECK(page.total == 173);
  CHECK(page.total_pages == 4);
  ExtractedPage bare = ExtractOk(spec, R"({"r": [], "more": "yes", "meta": {"total": -1}})");
  CHECK_FALSE(bare.more);
  CHECK(bare.more_absent);
  CHECK_FALSE(bare.total);
}

}  // namespace
}  // namespace octohub::ingest

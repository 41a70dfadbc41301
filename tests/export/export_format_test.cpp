// Export rows: JSON and CSV writers, field extraction, COPY line splitting, times.
#include "export_format.h"

#include <catch2/catch.hpp>

using namespace octohub::exporting;
using octohub::AppendJsonString;
using octohub::IndexSpec;

namespace {

std::string Json(std::string_view text) {
  std::string out;
  AppendJsonString(out, text);
  return out;
}

std::string Csv(std::string_view text) {
  std::string out;
  AppendCsvField(out, text);
  return out;
}

}  // namespace

TEST_CASE("JSON strings escape quotes, backslashes and control characters only", "[unit]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"plain", "\"plain\""},
      {"say \"hi\"", "\"say \\\"hi\\\"\""},
      {"back\\slash", "\"back\\\\slash\""},
      {"line\nbreak\r\ttab", "\"line\\nbreak\\r\\ttab\""},
      {std::string("nul\0x", 5), "\"nul\\u0000x\""},
      {"\x1f", "\"\\u001f\""},
      {"emoji 🐙 é", "\"emoji 🐙 é\""},
  };
  for (const auto& [in, out] : cases) CHECK(Json(in) == out);
}

TEST_CASE("CSV fields are quoted only when RFC 4180 needs it", "[unit]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"plain", "plain"},
      {"", ""},
      {"a,b", "\"a,b\""},
      {"say \"hi\"", "\"say \"\"hi\"\"\""},
      {"two\nlines", "\"two\nlines\""},
      {"cr\r", "\"cr\r\""},
      {" padded ", "\" padded \""},
      {"🐙", "🐙"},
  };
  for (const auto& [in, out] : cases) CHECK(Csv(in) == out);
}

TEST_CASE("mapped fields are title, facets, dates and numbers in that order", "[unit]") {
  IndexSpec index;
  index.title = "/name";
  index.text = {"/body"};
  index.facets = {{"labels", "/labels/*"}, {"state", "/state"}};
  index.dates = {{"updated", "/updated_at"}};
  index.numbers = {{"size", "/size"}};
  auto extractor = FieldExtractor::From(index);
  REQUIRE(extractor.ok());
  CHECK(extractor->names() ==
        std::vector<std::string>{"title", "labels", "state", "updated", "size"});
  std::vector<FieldValue> values;
  extractor->Extract(
      R"({"name":"A \"b\"","body":"x","labels":["bug","ui"],"state":"open","updated_at":"2024-05-01","size":12.5})",
      values);
  REQUIRE(values.size() == 5);
  CHECK(values[0].text == "A \"b\"");
  CHECK((values[1].kind == FieldValue::Kind::kArray && values[1].text == R"(["bug","ui"])"));
  CHECK((values[2].kind == FieldValue::Kind::kString && values[2].text == "open"));
  CHECK(values[3].text == "2024-05-01");
  CHECK((values[4].kind == FieldValue::Kind::kNumber && values[4].text == "12.5"));
}

TEST_CASE("fields a record lacks are missing, and a number that is text is not a number",
          "[unit]") {
  IndexSpec index;
  index.facets = {{"state", "/state"}};
  index.numbers = {{"size", "/size"}};
  auto extractor = FieldExtractor::From(index);
  REQUIRE(extractor.ok());
  std::vector<FieldValue> values;
  extractor->Extract(R"({"size":"12"})", values);
  CHECK(values[0].kind == FieldValue::Kind::kMissing);
  CHECK(values[1].kind == FieldValue::Kind::kMissing);
  extractor->Extract("not json", values);
  CHECK(values[0].kind == FieldValue::Kind::kMissing);
}

TEST_CASE("a JSON row carries source, id, updated_at, present fields and the data", "[unit]") {
  std::string out;
  AppendJsonRow(out, {"s", "id \"1\"", "2024-05-01T00:00:00.000Z", R"({"a":1})"},
                {"title", "state", "size"},
                {{FieldValue::Kind::kString, "T"}, {}, {FieldValue::Kind::kNumber, "3"}});
  CHECK(out == R"({"source":"s","id":"id \"1\"","updated_at":"2024-05-01T00:00:00.000Z",)"
               R"("fields":{"title":"T","size":3},"data":{"a":1}})");
}

TEST_CASE("pretty-printed data is put on one line, one-line data is kept as is", "[unit]") {
  std::string scratch;
  CHECK(OneLineJson(R"({"a": "x\ny"})", scratch) == R"({"a": "x\ny"})");
  CHECK(OneLineJson("{\n  \"a\": [1,\r\n 2]\n}", scratch) == R"({"a":[1,2]})");
}

TEST_CASE("CSV columns are the union of the sources' fields, each name once", "[unit]") {
  auto layout = LayOutColumns({{"title", "state", "updated"}, {"title", "section", "id"}, {}});
  CHECK(layout.columns ==
        std::vector<std::string>{"title", "state", "updated", "section", "fields.id"});
  CHECK(layout.column_of[1] == std::vector<std::size_t>{0, 3, 4});
  CHECK(layout.column_of[2].empty());
}

TEST_CASE("a CSV row puts each value under its column and leaves the others empty", "[unit]") {
  std::string out;
  AppendCsvHeader(out, {"title", "state", "size"});
  AppendCsvRow(out, {"s", "1", "2024-05-01T00:00:00.000Z", R"({"t":"a,b"})"}, false, 3, {0, 2},
               {{FieldValue::Kind::kString, "a,b"}, {FieldValue::Kind::kNumber, "7"}},
               CsvFormulas::kDefuse);
  CHECK(out ==
        "source,id,updated_at,title,state,size,data\r\n"
        "s,1,2024-05-01T00:00:00.000Z,\"a,b\",,7,\"{\"\"t\"\":\"\"a,b\"\"}\"\r\n");
}

TEST_CASE("CSV cells that a spreadsheet would run as formulas are defused unless raw is asked",
          "[unit]") {
  auto cell = [](std::string_view text, CsvFormulas formulas = CsvFormulas::kDefuse) {
    std::string out;
    AppendCsvField(out, text, formulas);
    return out;
  };
  CHECK(cell("=HYPERLINK(\"http://x\")") == "\"'=HYPERLINK(\"\"http://x\"\")\"");
  CHECK(cell("+1+cmd|' /C calc'!A0") == "'+1+cmd|' /C calc'!A0");
  CHECK(cell("-2+3") == "'-2+3");
  CHECK(cell("@SUM(A1)") == "'@SUM(A1)");
  CHECK(cell("\tx") == "'\tx");
  CHECK(cell("\rx") == "\"'\rx\"");
  // Numbers keep their sign; text that merely contains the characters is untouched.
  CHECK(cell("-5") == "-5");
  CHECK(cell("+1.5e3") == "+1.5e3");
  CHECK(cell("-") == "'-");
  CHECK(cell("a=b") == "a=b");
  CHECK(cell("=1", CsvFormulas::kRaw) == "=1");
}

TEST_CASE("COPY text lines are split on tabs and unescaped", "[unit]") {
  std::vector<std::string> columns;
  REQUIRE(SplitCopyLine("a\\tb\tline\\nbreak\tback\\\\slash\t\\101\\302\\251\n", columns));
  CHECK(columns == std::vector<std::string>{"a\tb", "line\nbreak", "back\\slash", "A\xC2\xA9"});
  REQUIRE(SplitCopyLine("x\t\t🐙", columns));
  CHECK(columns == std::vector<std::string>{"x", "", "🐙"});
  CHECK(!SplitCopyLine("x\t\\N", columns));
  CHECK(!SplitCopyLine("dangling\\", columns));
}

TEST_CASE("since takes ISO 8601 dates and times, as UTC unless an offset is given", "[unit]") {
  const std::vector<std::pair<std::string, std::string>> good = {
      {"2024-05-01", "2024-05-01T00:00:00Z"},
      {"2024-05-01T10:00", "2024-05-01T10:00Z"},
      {"2024-05-01T10:00:30Z", "2024-05-01T10:00:30Z"},
      {"2024-05-01 10:00:30.123456", "2024-05-01T10:00:30.123456Z"},
      {"2024-05-01T10:00:30+02:00", "2024-05-01T10:00:30+02:00"},
      {"2024-05-01T10:00:30-0530", "2024-05-01T10:00:30-05:30"},
      {"2024-05-01T10:00:30+02", "2024-05-01T10:00:30+02:00"},
  };
  for (const auto& [in, out] : good) {
    INFO(in);
    CHECK(NormalizeTimestamp(in) == out);
  }
  for (const char* bad : {"", "yesterday", "2024-13-01", "2024-05-32", "2024-5-1",
                          "2024-05-01T25:00", "2024-05-01T10:00:30+2", "2024-05-01T10:00:30.",
                          "2024-05-01T10:00:30Zjunk", "2024-05-01'; DROP TABLE records; --"}) {
    INFO(bad);
    CHECK(!NormalizeTimestamp(bad));
  }
}

TEST_CASE("a child source's record names its parent in JSON rows and CSV columns", "[unit]") {
  std::string json_row;
  AppendJsonRow(json_row, {"issues", "r1/7", "2024-05-01T00:00:00.000Z", "{}", "repos", "r1"}, {},
                {});
  CHECK(json_row == R"({"source":"issues","id":"r1/7","updated_at":"2024-05-01T00:00:00.000Z",)"
                    R"("parent":{"source":"repos","id":"r1"},"fields":{},"data":{}})");
  std::string csv;
  AppendCsvHeader(csv, {}, true);
  AppendCsvRow(csv, {"issues", "r1/7", "2024-05-01T00:00:00.000Z", "{}", "repos", "r1"}, true, 0,
               {}, {}, CsvFormulas::kDefuse);
  CHECK(csv ==
        "source,id,updated_at,parent_source,parent_id,data\r\n"
        "issues,r1/7,2024-05-01T00:00:00.000Z,repos,r1,{}\r\n");
  CHECK(LayOutColumns({{"parent_id"}}).columns == std::vector<std::string>{"fields.parent_id"});
}

// `octohub export` as a user runs it: formats, filters, a file or stdout, and bad input.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "process.h"
#include "seed_records.h"
#include "temp_dir.h"
#include "test_database.h"

namespace json = boost::json;
using namespace std::chrono_literals;
using octohub::testing::OctohubBinary;
using octohub::testing::ProcessResult;
using octohub::testing::RunProcess;
using octohub::testing::TempDir;
using octohub::testing::TestDatabase;

namespace {

ProcessResult Export(const TestDatabase& database, std::vector<std::string> args) {
  args.insert(args.begin(), {OctohubBinary(), "export", "--database-url", database.conninfo()});
  return RunProcess(args, 60s);
}

// Three notes, one of them old, and a source that maps a title and a facet.
void Prepare(const TestDatabase& database, const TempDir& dir) {
  auto file = dir.Write("notes.json", R"({"name": "notes", "url": "http://127.0.0.1:9/n",
    "records": "/items", "id": "/id", "index": {"title": "/title", "text": ["/body"],
    "facets": {"kind": "/kind"}}})");
  auto applied = RunProcess(
      {OctohubBinary(), "sources", "apply", file.string(), "--database-url", database.conninfo()});
  REQUIRE(applied.exit_code == 0);
  octohub::testing::SeedRecords(database.db(), "notes", 3, [](int i) {
    return json::object{{"id", std::to_string(i)},
                        {"title", "note, \"" + std::to_string(i) + "\""},
                        {"kind", i == 2 ? "idea" : "todo"},
                        {"body", "walk the dog"}};
  });
  database.Scalar("UPDATE records SET updated_at = '2020-01-01Z' WHERE id = '3'");
}

}  // namespace

TEST_CASE("octohub export writes NDJSON to stdout and CSV to a file", "[e2e]") {
  TestDatabase database;
  TempDir dir;
  Prepare(database, dir);
  auto ndjson = Export(database, {});
  INFO(ndjson.err);
  REQUIRE(ndjson.exit_code == 0);
  std::istringstream lines(ndjson.out);
  int count = 0;
  for (std::string line; std::getline(lines, line); ++count) {
    CHECK(json::parse(line).at("source") == "notes");
  }
  CHECK(count == 3);
  CHECK_THAT(ndjson.err, Catch::Contains("exported 3 records"));

  const auto out = dir / "notes.csv";
  auto csv = Export(database, {"--format", "csv", "--since", "2021-01-01", "--out", out.string()});
  REQUIRE(csv.exit_code == 0);
  std::ifstream in(out);
  std::stringstream text;
  text << in.rdbuf();
  CHECK_THAT(text.str(), Catch::StartsWith("source,id,updated_at,title,kind,data\r\n"));
  CHECK_THAT(text.str(), Catch::Contains("\"note, \"\"1\"\"\",todo,"));
  CHECK_THAT(text.str(), !Catch::Contains("\"note, \"\"3\"\"\""));
}

TEST_CASE("octohub export of a query takes exactly the matches", "[e2e]") {
  TestDatabase database;
  TempDir dir;
  Prepare(database, dir);
  auto matches = Export(
      database, {"--format", "json", "--q", "kind:idea", "--data-dir", (dir / "data").string()});
  INFO(matches.err);
  REQUIRE(matches.exit_code == 0);
  auto rows = json::parse(matches.out).as_array();
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].at("id") == "2");
  CHECK(rows[0].at("fields").at("kind") == "idea");
}

TEST_CASE("octohub export refuses bad input with a message and no file", "[e2e]") {
  TestDatabase database;
  TempDir dir;
  Prepare(database, dir);
  auto bad_format = Export(database, {"--format", "xml"});
  CHECK(bad_format.exit_code != 0);
  auto bad_since = Export(database, {"--since", "soon", "--out", (dir / "x.ndjson").string()});
  CHECK(bad_since.exit_code == 1);
  CHECK_THAT(bad_since.err, Catch::Contains("since"));
  CHECK(!std::filesystem::exists(dir / "x.ndjson"));
  auto unknown = Export(database, {"--source", "nope"});
  CHECK(unknown.exit_code == 1);
  CHECK_THAT(unknown.err, Catch::Contains("nope"));
}

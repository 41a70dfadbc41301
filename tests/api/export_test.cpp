// GET /api/v1/export: round trips through independent parsers (Python's json and csv
// modules, PostgreSQL's COPY FROM), queries, times, roles, limits and disconnects.
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <fstream>
#include <thread>

#include "process.h"
#include "running_server.h"
#include "seed_records.h"

namespace json = boost::json;
using octohub::testing::Client;
using octohub::testing::Role;
using octohub::testing::RunningServer;
using namespace std::chrono_literals;

namespace {

const char* kSource = R"({"name": "notes", "url": "http://127.0.0.1:9/notes", "records": "/items",
  "id": "/id", "index": {"title": "/title", "text": ["/body"],
  "facets": {"tags": "/tags/*", "lang": "/lang"}, "dates": {"written": "/written"},
  "numbers": {"stars": "/stars"}}})";
const char* kOtherSource = R"({"name": "books", "url": "http://127.0.0.1:9/books",
  "records": "/items", "id": "/id", "index": {"title": "/name", "facets": {"genre": "/genre"}}})";

void AddSource(const RunningServer& s, const char* text) {
  octohub::testing::SeedSource(s.database.db(), text);
}

void AddRecord(const RunningServer& s, const std::string& source, const std::string& id,
               const std::string& data) {
  octohub::testing::SeedRecord(s.database.db(), source, id, data);
}

// Records that break naive writers: quotes, commas, line breaks, emoji, very long text,
// pretty-printed JSON, a missing field.
void AddTrickyRecords(const RunningServer& s) {
  AddSource(s, kSource);
  AddSource(s, kOtherSource);
  AddRecord(s, "notes", "1",
            R"({"id":"1","title":"Quotes \"and\", commas","body":"a\nb\r\nc","tags":["x","y"],)"
            R"("lang":"en","written":"2024-05-01T10:00:00Z","stars":4.5})");
  AddRecord(s, "notes", "id with, comma \"and quotes\"\nand a line",
            R"({"id":"2","title":"Emoji 🐙🎉 and é","tags":"solo","stars":3})");
  AddRecord(s, "notes", "3",
            "{\n  \"id\": \"3\",\n  \"title\": \"pretty\\tprinted\",\n  \"lang\": \"de\"\n}");
  AddRecord(s, "notes", "4",
            R"({"id":"4","title":"long","body":")" + std::string(200000, 'w') + R"(","tags":[]})");
  AddRecord(s, "notes", "5", R"({"id":"5","body":"back\\slash and tab\t and control \u0001"})");
  AddRecord(s, "books", "b1", R"({"id":"b1","name":"Dune, \"the\" novel","genre":"sf"})");
}

std::string Export(const RunningServer& s, const std::string& params, long expect = 200) {
  auto response = Client().Get(s.url("/api/v1/export?" + params), {s.Auth(Role::kAdmin)});
  INFO(response.body.substr(0, 500));
  REQUIRE(response.status == expect);
  return response.body;
}

// Compares an export, read back with Python's json module, with the stored records
// (dumped by PostgreSQL): every record once, data equal as JSON, the fixed fields right.
const char* kCompareJson = R"PY(
import json, sys
mode, export_path, stored_path = sys.argv[1:4]
with open(export_path, encoding="utf-8") as f:
    rows = json.load(f) if mode == "json" else [json.loads(l) for l in f.read().split("\n") if l]
with open(stored_path, encoding="utf-8") as f:
    stored = {(r["source"], r["id"]): r for r in json.load(f)}
seen = set()
for row in rows:
    assert set(row) == {"source", "id", "updated_at", "fields", "data"}, row.keys()
    key = (row["source"], row["id"])
    assert key in stored and key not in seen, key
    seen.add(key)
    assert row["data"] == stored[key]["data"], key
    assert row["updated_at"] == stored[key]["updated_at"], key
    title = stored[key]["data"].get("title") or stored[key]["data"].get("name")
    assert row["fields"].get("title") == title, (key, row["fields"])
assert seen == set(stored), set(stored) - seen
print("ok", len(rows))
)PY";

std::string StoredRecordsJson(const RunningServer& s) {
  return s.database.Scalar(
      "SELECT json_agg(json_build_object('source', source, 'id', id, 'data', data, "
      "'updated_at', to_char(updated_at AT TIME ZONE 'UTC', "
      "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'))) FROM records WHERE NOT deleted");
}

std::string CompareWithPython(const RunningServer& s, const std::string& mode,
                              const std::string& body) {
  octohub::testing::TempDir dir;
  auto result = octohub::testing::RunProcess(
      {"/usr/bin/python3", dir.Write("compare.py", kCompareJson).string(), mode,
       dir.Write("export", body).string(),
       dir.Write("stored.json", StoredRecordsJson(s)).string()});
  return result.out + result.err;
}

// A raw connection that sends one request and reads only as much as it is asked to.
class RawClient {
 public:
  RawClient(std::uint16_t port, const std::string& request) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int small = 16 * 1024;  // a small window, so the server feels a slow reader at once
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    REQUIRE(connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
    REQUIRE(send(fd_, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size()));
  }
  ~RawClient() { Close(); }
  std::string Read(std::size_t at_least) {
    std::string out;
    char buffer[16384];
    while (out.size() < at_least) {
      ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
      if (n <= 0) break;
      out.append(buffer, static_cast<std::size_t>(n));
    }
    return out;
  }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

std::string ExportRequest(const RunningServer& s, const std::string& params) {
  return "GET /api/v1/export?" + params + " HTTP/1.1\r\nHost: x\r\n" + s.Auth(Role::kAdmin) +
         "\r\n\r\n";
}

// 1 KB records, many of them.
void AddManyRecords(const RunningServer& s, int count) {
  AddSource(s, kSource);
  std::string body;
  for (int i = 0; i < 160; ++i) body += "lorem ";
  octohub::testing::SeedRecords(s.database.db(), "notes", count, [&](int i) {
    return json::object{
        {"id", std::to_string(i)}, {"title", "note " + std::to_string(i)}, {"body", body}};
  });
}

int RunningExportQueries(const RunningServer& s) {
  return std::stoi(
      s.database.Scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND state = 'active' AND query LIKE 'COPY (SELECT r.source%'"));
}

}  // namespace

TEST_CASE("an NDJSON export reads back with Python's json module equal to what is stored",
          "[pg][http]") {
  RunningServer s;
  AddTrickyRecords(s);
  auto response = Client().Get(s.url("/api/v1/export?format=ndjson"), {s.Auth(Role::kAdmin)});
  REQUIRE(response.status == 200);
  CHECK_THAT(response.headers, Catch::Contains("application/x-ndjson"));
  CHECK_THAT(response.headers, Catch::Contains("Transfer-Encoding: chunked"));
  CHECK_THAT(response.headers,
             Catch::Contains("Content-Disposition: attachment; filename=\"octohub-export-"));
  CHECK(CompareWithPython(s, "ndjson", response.body) == "ok 6\n");
}

TEST_CASE("a JSON export is one array that reads back equal to what is stored", "[pg][http]") {
  RunningServer s;
  AddTrickyRecords(s);
  CHECK(CompareWithPython(s, "json", Export(s, "format=json")) == "ok 6\n");
  // An export with no records is still a valid array.
  CHECK(json::parse(Export(s, "format=json&since=2999-01-01")).as_array().empty());
}

TEST_CASE("mapped fields come out as strings, arrays and numbers", "[pg][http]") {
  RunningServer s;
  AddTrickyRecords(s);
  std::map<std::string, json::object> fields;
  std::istringstream lines(Export(s, "source=notes"));
  for (std::string line; std::getline(lines, line);) {
    auto row = json::parse(line).as_object();
    fields[std::string(row.at("id").as_string())] = row.at("fields").as_object();
  }
  REQUIRE(fields.size() == 5);
  CHECK(json::serialize(fields["1"]) ==
        R"({"title":"Quotes \"and\", commas","lang":"en","tags":["x","y"],)"
        R"("written":"2024-05-01T10:00:00Z","stars":4.5E0})");
  CHECK(fields["5"].empty());
}

TEST_CASE("a CSV export loads into PostgreSQL with COPY FROM equal to what is stored",
          "[pg][http]") {
  RunningServer s;
  AddTrickyRecords(s);
  const std::string csv = Export(s, "format=csv");
  CHECK(csv.rfind("source,id,updated_at,title,genre,lang,tags,written,stars,data\r\n", 0) == 0);
  // The server reads the file: it runs as another user, so the file must be readable.
  octohub::testing::TempDir dir;
  auto path = dir.Write("export.csv", csv);
  std::filesystem::permissions(dir.path(), std::filesystem::perms::all);
  std::filesystem::permissions(path, std::filesystem::perms::all);
  CHECK(s.database.Scalar(
            "CREATE TABLE loaded (source text, id text, updated_at text, title text, genre text,"
            " lang text, tags text, written text, stars text, data text)") == "");
  s.database.Scalar("COPY loaded FROM '" + path.string() + "' (FORMAT csv, HEADER true)");
  CHECK(s.database.Scalar("SELECT count(*) FROM loaded") == "6");
  CHECK(s.database.Scalar(
            "SELECT count(*) FROM loaded l JOIN records r USING (source, id) WHERE "
            "l.data = r.data::text AND l.updated_at = to_char(r.updated_at AT TIME ZONE 'UTC', "
            "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AND l.title IS NOT DISTINCT FROM "
            "coalesce(r.data->>'title', r.data->>'name')") == "6");
  CHECK(s.database.Scalar("SELECT tags || '|' || stars FROM loaded WHERE id = '1'") ==
        "[\"x\",\"y\"]|4.5");
  CHECK(s.database.Scalar("SELECT genre FROM loaded WHERE id = 'b1'") == "sf");
}

TEST_CASE("a CSV export read by Python's csv module has one row per record", "[pg][http]") {
  RunningServer s;
  AddTrickyRecords(s);
  octohub::testing::TempDir dir;
  auto result = octohub::testing::RunProcess(
      {"/usr/bin/python3", "-c",
       "import csv,json,sys\n"
       "csv.field_size_limit(1 << 30)\n"
       "rows=list(csv.DictReader(open(sys.argv[1],encoding='utf-8-sig',newline='')))\n"
       "assert all(json.loads(r['data'])['id'] for r in rows)\n"
       "print(len(rows), sorted(r['id'] for r in rows)[-1].split(',')[0])",
       dir.Write("export.csv", Export(s, "format=csv&bom=true")).string()});
  INFO(result.err);
  CHECK(result.out == "6 id with\n");
}

TEST_CASE("CSV cells that look like formulas are defused, and raw on request", "[pg][http]") {
  RunningServer s;
  AddSource(s, kSource);
  AddRecord(s, "notes", "=1+2", R"j({"id":"=1+2","title":"@SUM(A1:A9)","stars":-3})j");
  const std::string defused = Export(s, "format=csv");
  CHECK_THAT(defused, Catch::Contains("notes,'=1+2,") && Catch::Contains(",'@SUM(A1:A9),") &&
                          Catch::Contains(",-3,"));
  const std::string raw = Export(s, "format=csv&formulas=raw");
  CHECK_THAT(raw, Catch::Contains("notes,=1+2,") && Catch::Contains(",@SUM(A1:A9),"));
  CHECK_THAT(Export(s, "format=csv&formulas=maybe", 400), Catch::Contains("formulas"));
  // NDJSON and JSON carry the values as they are.
  CHECK_THAT(Export(s, "format=ndjson"), Catch::Contains(R"("id":"=1+2")"));
}

TEST_CASE("the export of a query holds exactly the records the search counts", "[pg][http]") {
  RunningServer s;
  AddSource(s, kSource);
  octohub::testing::SeedRecords(s.database.db(), "notes", 2500, [](int n) {
    const int i = n - 1;
    return json::object{{"id", std::to_string(i)},
                        {"title", "note " + std::to_string(i)},
                        {"body", i % 3 == 0 ? "apple pie" : "pear tart"}};
  });
  REQUIRE(s.follower.CatchUp().ok());
  auto search = json::parse(
      Client().Get(s.url("/api/v1/search?q=apple&exact_total=true"), {s.Auth(Role::kAdmin)}).body);
  const std::int64_t total = search.at("total").as_int64();
  CHECK(total == 834);
  const std::string body = Export(s, "q=apple");
  CHECK(std::count(body.begin(), body.end(), '\n') == total);
  CHECK(body.find("pear") == std::string::npos);
}

TEST_CASE("since keeps records updated at or after it, and bad times are a 400", "[pg][http]") {
  RunningServer s;
  AddTrickyRecords(s);
  s.database.Scalar("UPDATE records SET updated_at = '2020-01-01Z' WHERE id <> '1'");
  const std::string body = Export(s, "since=2021-06-01T00:00:00%2B02:00");
  CHECK(std::count(body.begin(), body.end(), '\n') == 1);
  CHECK_THAT(body, Catch::Contains("\"id\":\"1\""));
  CHECK_THAT(Export(s, "since=last-tuesday", 400), Catch::Contains("since"));
  CHECK_THAT(Export(s, "since=2024-02-30", 400), Catch::Contains("since"));
}

TEST_CASE("bad export parameters are 4xx problems, never a stream", "[pg][http]") {
  RunningServer s;
  AddTrickyRecords(s);
  Client client;
  auto bad_format = client.Get(s.url("/api/v1/export?format=xml"), {s.Auth(Role::kAdmin)});
  CHECK(bad_format.status == 400);
  CHECK_THAT(bad_format.headers, Catch::Contains("application/problem+json"));
  CHECK(Export(s, "source=nope", 404).find("nope") != std::string::npos);
  CHECK(Export(s, "bogus=1", 400).find("bogus") != std::string::npos);
  REQUIRE(s.follower.CatchUp().ok());
  CHECK(json::parse(Export(s, "q=%C3%28", 400)).at("status") == 400);
}

TEST_CASE("only admin keys may export, public reading or not", "[pg][http]") {
  RunningServer s(1 << 20, true);
  AddTrickyRecords(s);
  Client client;
  const std::string url = s.url("/api/v1/export");
  CHECK(client.Get(url).status == 401);
  CHECK(client.Get(url, {s.Auth(Role::kRead)}).status == 403);
  CHECK(client.Get(url, {s.Auth(Role::kWrite)}).status == 403);
  CHECK(client.Get(url, {s.Auth(Role::kAdmin)}).status == 200);
}

TEST_CASE("a client that disconnects mid-export stops the query at once", "[pg][http]") {
  RunningServer s;
  AddManyRecords(s, 200000);
  RawClient reader(s.server->port(), ExportRequest(s, "format=ndjson"));
  CHECK(reader.Read(64 * 1024).size() >= 64 * 1024);
  // The client reads no more: the export waits for it, its query still open.
  std::this_thread::sleep_for(300ms);
  CHECK(RunningExportQueries(s) == 1);
  reader.Close();
  int running = 1;
  for (int i = 0; i < 40 && running > 0; ++i) {
    std::this_thread::sleep_for(50ms);
    running = RunningExportQueries(s);
  }
  CHECK(running == 0);
}

TEST_CASE("a slow reader neither burns CPU nor holds up other requests", "[pg][http]") {
  RunningServer s;
  AddManyRecords(s, 50000);
  RawClient reader(s.server->port(), ExportRequest(s, "format=ndjson"));
  reader.Read(16 * 1024);
  rusage before{}, after{};
  getrusage(RUSAGE_SELF, &before);
  const auto start = std::chrono::steady_clock::now();
  Client client;
  for (int i = 0; i < 10; ++i) {
    reader.Read(8 * 1024);  // a trickle
    auto t0 = std::chrono::steady_clock::now();
    CHECK(client.Get(s.url("/healthz")).status == 200);
    CHECK(std::chrono::steady_clock::now() - t0 < 500ms);
    std::this_thread::sleep_for(100ms);
  }
  getrusage(RUSAGE_SELF, &after);
  auto cpu = [](const rusage& r) {
    return r.ru_utime.tv_sec + r.ru_stime.tv_sec + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
  };
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(cpu(after) - cpu(before) < 0.3 * wall);
}

TEST_CASE("exports beyond the limit get 429 with Retry-After while one runs", "[pg][http]") {
  RunningServer s(1 << 20, true, 1);
  AddManyRecords(s, 20000);
  RawClient holder(s.server->port(), ExportRequest(s, "format=csv"));
  holder.Read(1024);  // the first export has started and is waiting for this reader
  auto busy = Client().Get(s.url("/api/v1/export"), {s.Auth(Role::kAdmin)});
  CHECK(busy.status == 429);
  CHECK_THAT(busy.headers, Catch::Contains("Retry-After: 10"));
  holder.Close();
  long status = 429;
  for (int i = 0; i < 50 && status == 429; ++i) {
    std::this_thread::sleep_for(50ms);
    status = Client()
                 .Get(s.url("/api/v1/export?format=json&since=2999-01-01"), {s.Auth(Role::kAdmin)})
                 .status;
  }
  CHECK(status == 200);
}

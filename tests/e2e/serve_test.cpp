// The octohub binary as a user runs it: serve, verbs against the running cluster, signals,
// and every bad-input path of the foundation.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <fstream>
#include <thread>

#include "http_test_server.h"
#include "octohub/ingest/http_fetcher.h"
#include "process.h"
#include "temp_dir.h"
#include "test_database.h"

namespace json = boost::json;
using namespace std::chrono_literals;
using octohub::testing::BackgroundProcess;
using octohub::testing::HttpTestServer;
using octohub::testing::OctohubBinary;
using octohub::testing::ProcessResult;
using octohub::testing::RunProcess;
using octohub::testing::TempDir;
using octohub::testing::TestDatabase;
using octohub::testing::TestRequest;
using octohub::testing::TestResponse;

namespace {

ProcessResult Octohub(std::vector<std::string> args, const std::vector<std::string>& env = {}) {
  args.insert(args.begin(), OctohubBinary());
  return RunProcess(args, 60s, env);
}

// Notes served two to a page; note 3 holds a word found nowhere else.
HttpTestServer NotesApi() {
  return HttpTestServer([](const TestRequest& request) {
    int page = std::stoi(request.query.count("page") ? request.query.at("page") : "1");
    json::array items;
    if (page <= 2) {
      for (int id = page * 2 - 1; id <= page * 2; ++id) {
        items.push_back({{"id", id},
                         {"title", "Note " + std::to_string(id)},
                         {"body", id == 3 ? "a xylophone in the attic" : "nothing special here"},
                         {"kind", id % 2 ? "odd" : "even"}});
      }
    }
    return TestResponse{200, json::serialize(json::object{{"items", items}})};
  });
}

std::filesystem::path WriteSource(const TempDir& dir, const std::string& url) {
  return dir.Write("notes.yaml",
                   "name: notes\nurl: " + url +
                       "\nrecords: /items\nid: /id\npagination: {type: page}\n"
                       "index:\n  title: /title\n  text: [/body]\n  facets: {kind: /kind}\n");
}

std::string ListenAddress(BackgroundProcess& serve) {
  auto line = serve.WaitForLine("\"serve.ready\"", 60s);
  INFO(serve.stderr_text());
  REQUIRE(line);
  return std::string(json::parse(*line).at("listen").as_string());
}

// The admin key a first start prints once, on a line of its own.
std::string AdminKey(BackgroundProcess& serve) {
  auto line = serve.WaitForLine("octohub: admin key (shown once): ", 10s);
  REQUIRE(line);
  return line->substr(line->rfind(' ') + 1);
}

json::object Search(const std::string& address, const std::string& q, const std::string& key) {
  auto fetcher = octohub::ingest::MakeCurlFetcher();
  auto response = fetcher->Fetch({.url = "http://" + address + "/api/v1/search?q=" + q,
                                  .headers = {{"Authorization", "Bearer " + key}}});
  REQUIRE(response.ok());
  REQUIRE(response->status == 200);
  return json::parse(response->body).as_object();
}

}  // namespace

TEST_CASE("a record harvested by serve is found over HTTP by a word of its text", "[e2e]") {
  TempDir dir;
  auto api = NotesApi();
  const std::string data = (dir / "data").string();
  BackgroundProcess serve(
      {OctohubBinary(), "serve", "--data-dir", data, "--listen", "127.0.0.1:0"});
  const std::string address = ListenAddress(serve);
  const std::string key = AdminKey(serve);

  auto applied = Octohub(
      {"sources", "apply", WriteSource(dir, api.url("/notes")).string(), "--data-dir", data});
  INFO(applied.err);
  REQUIRE(applied.exit_code == 0);
  auto run = Octohub({"sources", "run", "notes", "--wait", "--json", "--data-dir", data});
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(json::parse(run.out).at("records_new").as_int64() == 4);

  json::object found;
  for (int i = 0; i < 100; ++i) {
    found = Search(address, "xylophone", key);
    if (found.at("total").as_int64() > 0) break;
    std::this_thread::sleep_for(100ms);
  }
  REQUIRE(found.at("total").as_int64() == 1);
  const auto& hit = found.at("hits").as_array().at(0).as_object();
  CHECK(hit.at("source").as_string() == "notes");
  CHECK(hit.at("id").as_string() == "3");
  CHECK(hit.at("title").as_string() == "Note 3");
  CHECK_THAT(std::string(hit.at("snippet").as_string()), Catch::Contains("<mark>xylophone</mark>"));

  serve.Signal(SIGTERM);
  auto code = serve.WaitExit(10s);
  REQUIRE(code);
  CHECK(*code == 0);
  CHECK_THAT(serve.stderr_text(), Catch::Contains("postgres.stopped"));
}

TEST_CASE("the admin key is printed on the first start only, and keys create makes more", "[e2e]") {
  TempDir dir;
  const std::string data = (dir / "data").string();
  {
    BackgroundProcess first(
        {OctohubBinary(), "serve", "--data-dir", data, "--listen", "127.0.0.1:0"});
    ListenAddress(first);
    CHECK(AdminKey(first).rfind("ohk_", 0) == 0);
    first.Signal(SIGTERM);
    REQUIRE(first.WaitExit(10s) == 0);
  }
  auto created =
      Octohub({"keys", "create", "--role", "read", "--name", "dashboard", "--data-dir", data});
  INFO(created.err);
  REQUIRE(created.exit_code == 0);
  const std::string read_key = created.out.substr(0, created.out.find('\n'));
  BackgroundProcess second(
      {OctohubBinary(), "serve", "--data-dir", data, "--listen", "127.0.0.1:0"});
  const std::string address = ListenAddress(second);
  CHECK_THAT(second.stderr_text(), !Catch::Contains("admin key (shown once)"));
  CHECK(Search(address, "anything", read_key).at("total").as_int64() == 0);
}

TEST_CASE("serve killed outright takes its PostgreSQL down and the next start recovers", "[e2e]") {
  TempDir dir;
  const std::string data = (dir / "data").string();
  pid_t postgres = 0;
  {
    BackgroundProcess serve(
        {OctohubBinary(), "serve", "--data-dir", data, "--listen", "127.0.0.1:0"});
    ListenAddress(serve);
    std::ifstream(dir / "data" / "pg" / "postmaster.pid") >> postgres;
    REQUIRE(postgres > 0);
    serve.Signal(SIGKILL);
    serve.WaitExit(10s);
  }
  for (int i = 0; i < 200 && kill(postgres, 0) == 0; ++i) std::this_thread::sleep_for(50ms);
  CHECK(kill(postgres, 0) != 0);
  auto migrate = Octohub({"migrate", "--data-dir", data});
  INFO(migrate.err);
  CHECK(migrate.exit_code == 0);
}

TEST_CASE("an invalid source file exits non-zero naming every bad field", "[e2e]") {
  TempDir dir;
  auto file = dir.Write("bad.yaml", "name: Bad Name\nurl: ftp://x\npagination: {type: sideways}\n");
  auto result = Octohub({"sources", "apply", file.string(), "--data-dir", (dir / "data").string()});
  CHECK(result.exit_code == 1);
  CHECK_THAT(result.err, Catch::Contains("/name") && Catch::Contains("/url") &&
                             Catch::Contains("/pagination/type"));
  CHECK_FALSE(std::filesystem::exists(dir / "data"));  // nothing was started or stored
}

TEST_CASE("an unreadable source document exits non-zero with its position", "[e2e]") {
  TempDir dir;
  auto file = dir.Write("broken.json", "{\"name\": \"x\",\n  \"url\": }");
  auto result = Octohub({"sources", "apply", file.string(), "--data-dir", (dir / "data").string()});
  CHECK(result.exit_code == 1);
  CHECK_THAT(result.err, Catch::Contains("line 2"));
}

TEST_CASE("an unreachable database URL fails within seconds with a clear message", "[e2e]") {
  auto result = Octohub({"migrate", "--database-url", "host=127.0.0.1 port=1 dbname=none"});
  CHECK_FALSE(result.timed_out);
  CHECK(result.exit_code == 1);
  CHECK_THAT(result.err, Catch::Contains("cannot connect to PostgreSQL"));
}

TEST_CASE("a listen port in use is a clear error", "[e2e]") {
  TestDatabase database;
  HttpTestServer holder([](const TestRequest&) { return TestResponse{}; });
  auto result = Octohub({"serve", "--database-url", database.conninfo(), "--listen",
                         "127.0.0.1:" + std::to_string(holder.port()), "--data-dir", "/tmp"});
  CHECK(result.exit_code == 1);
  CHECK_THAT(result.err, Catch::Contains("cannot listen on"));
}

TEST_CASE("a data dir that cannot be created is a clear error", "[e2e]") {
  auto result = Octohub({"migrate", "--data-dir", "/proc/octohub-data"});
  CHECK(result.exit_code == 1);
  CHECK_THAT(result.err, Catch::Contains("cannot create the data directory /proc/octohub-data"));
}

TEST_CASE("missing PostgreSQL binaries are named with the package to install", "[e2e]") {
  TempDir dir;
  auto result =
      Octohub({"migrate", "--data-dir", (dir / "data").string(), "--postgres-bin", "/nonexistent"});
  CHECK(result.exit_code == 1);
  CHECK_THAT(result.err, Catch::Contains("postgresql"));
}

TEST_CASE("flags win over environment variables, which win over the config file", "[e2e]") {
  TempDir dir;
  auto config = dir.Write("octohub.yaml", "data_dir: /proc/from-config\nlog_level: warn\n");
  auto config_only = Octohub({"migrate", "--config", config.string()});
  CHECK_THAT(config_only.err, Catch::Contains("/proc/from-config"));
  auto with_env =
      Octohub({"migrate", "--config", config.string()}, {"OCTOHUB_DATA_DIR=/proc/from-env"});
  CHECK_THAT(with_env.err, Catch::Contains("/proc/from-env"));
  auto with_flag =
      Octohub({"migrate", "--config", config.string(), "--data-dir", "/proc/from-flag"},
              {"OCTOHUB_DATA_DIR=/proc/from-env"});
  CHECK_THAT(with_flag.err, Catch::Contains("/proc/from-flag"));
}

TEST_CASE("every verb answers --help", "[e2e]") {
  for (std::vector<std::string> verb : {std::vector<std::string>{},
                                        {"serve"},
                                        {"migrate"},
                                        {"sources"},
                                        {"sources", "apply"},
                                        {"sources", "list"},
                                        {"sources", "run"},
                                        {"search"},
                                        {"reindex"}}) {
    verb.push_back("--help");
    auto result = Octohub(verb);
    INFO(verb.front());
    CHECK(result.exit_code == 0);
    CHECK_THAT(result.out, Catch::Contains("Usage") || Catch::Contains("usage"));
  }
}

TEST_CASE("run as an unprivileged user, the embedded cluster belongs to that user", "[e2e]") {
  if (geteuid() != 0) {
    WARN("not root: the whole suite already runs the embedded cluster as a normal user");
    return;
  }
  TempDir dir;
  const auto data = dir / "data";
  std::filesystem::create_directory(data);
  REQUIRE(chown(data.c_str(), 65534, 65534) == 0);  // nobody:nogroup
  auto result = RunProcess({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            OctohubBinary(), "migrate", "--data-dir", data.string()},
                           60s);
  INFO(result.err);
  CHECK(result.exit_code == 0);
  struct stat info {};
  REQUIRE(stat((data / "pg").c_str(), &info) == 0);
  CHECK(info.st_uid == 65534);
}

TEST_CASE("reindex rebuilds the index and search finds what PostgreSQL holds", "[e2e]") {
  TempDir dir;
  auto api = NotesApi();
  const std::string data = (dir / "data").string();
  REQUIRE(Octohub({"sources", "apply", WriteSource(dir, api.url("/notes")).string(), "--data-dir",
                   data})
              .exit_code == 0);
  REQUIRE(Octohub({"sources", "run", "notes", "--wait", "--data-dir", data}).exit_code == 0);
  auto reindex = Octohub({"reindex", "--data-dir", data});
  INFO(reindex.err);
  REQUIRE(reindex.exit_code == 0);
  CHECK_THAT(reindex.out, Catch::Contains("indexed 4 records"));
  auto search = Octohub({"search", "xylophone", "--json", "--data-dir", data});
  REQUIRE(search.exit_code == 0);
  CHECK(json::parse(search.out).at("total").as_int64() == 1);
  // One letter off: found through the typo, and said so; with --typos 0, only suggested.
  auto typo = Octohub({"search", "xylophne", "--data-dir", data});
  REQUIRE(typo.exit_code == 0);
  CHECK_THAT(typo.out,
             Catch::StartsWith("1 results") && Catch::Contains("showing results for: xylophone"));
  auto exact = Octohub({"search", "xylophne", "--typos", "0", "--data-dir", data});
  REQUIRE(exact.exit_code == 0);
  CHECK_THAT(exact.out,
             Catch::StartsWith("0 results") && Catch::Contains("did you mean: xylophone"));
  CHECK(Octohub({"search", "x", "--typos", "3", "--data-dir", data}).exit_code != 0);
  auto faceted = Octohub(
      {"search", "", "--facets", "kind", "--filter", "kind=odd", "--json", "--data-dir", data});
  INFO(faceted.err);
  REQUIRE(faceted.exit_code == 0);
  json::value result = json::parse(faceted.out);
  CHECK(result.at("total").as_int64() == 2);
  CHECK(result.at("facets").at("kind").at("odd").as_int64() == 2);
  auto unknown = Octohub({"search", "", "--filter", "colour=red", "--data-dir", data});
  CHECK(unknown.exit_code == 1);
  CHECK_THAT(unknown.err, Catch::Contains("colour"));
}

TEST_CASE("with a database URL no PostgreSQL of its own is started", "[e2e]") {
  TestDatabase database;
  TempDir dir;
  auto result = Octohub(
      {"migrate", "--database-url", database.conninfo(), "--data-dir", (dir / "data").string()});
  INFO(result.err);
  CHECK(result.exit_code == 0);
  CHECK_FALSE(std::filesystem::exists(dir / "data" / "pg"));
  CHECK_THAT(result.err, !Catch::Contains("postgres.started"));
}

TEST_CASE("a data dir the user may not write is a clear error", "[e2e]") {
  if (geteuid() != 0) {
    WARN("not root: cannot switch to another user to test permissions");
    return;
  }
  TempDir dir;  // owned by root, mode 0755: nobody may enter but not create
  auto result = RunProcess({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            OctohubBinary(), "migrate", "--data-dir", (dir / "data").string()},
                           60s);
  CHECK(result.exit_code == 1);
  CHECK_THAT(result.err, Catch::Contains("cannot create the data directory") &&
                             Catch::Contains("Permission denied"));
}

TEST_CASE("the secret prefix option names the variables that sources may read secrets from",
          "[e2e]") {
  TestDatabase database;
  TempDir dir;
  const auto file = dir.Write("issues.yaml",
                              "name: issues\nurl: http://127.0.0.1:9/issues\nrecords: /items\n"
                              "auth: {type: bearer, token_env: MYCO_ISSUES_TOKEN}\n");
  auto refused =
      Octohub({"sources", "apply", file.string(), "--database-url", database.conninfo()});
  CHECK(refused.exit_code == 1);
  CHECK_THAT(refused.err, Catch::Contains("/auth/token_env") && Catch::Contains("OCTOHUB_SECRET_"));
  CHECK(database.Scalar("SELECT count(*) FROM sources") == "0");
  auto accepted = Octohub({"sources", "apply", file.string(), "--database-url", database.conninfo(),
                           "--secret-env-prefix", "MYCO_"});
  INFO(accepted.err);
  CHECK(accepted.exit_code == 0);
  CHECK(database.Scalar("SELECT count(*) FROM sources") == "1");
}

TEST_CASE("query credentials and URL user information never show in errors, listings or logs",
          "[e2e]") {
  TempDir dir;
  const std::string key = "k3y-for-the-query-only";
  std::atomic<int> calls{0};
  // Echoes what it was sent, as many APIs do in their errors: first a retryable 503, then a 400.
  HttpTestServer api([&](const TestRequest& request) {
    const std::string echo = "cannot serve " + request.target;
    return TestResponse{calls++ == 0 ? 503 : 400, json::serialize(json::object{{"error", echo}})};
  });
  const std::string url = api.url("/items");
  const std::string with_user =
      "http://scout:hunter22@" + url.substr(std::string("http://").size());
  const auto file = dir.Write("items.yaml", "name: items\nurl: " + with_user +
                                                "\nrecords: /items\nid: /id\n"
                                                "auth: {type: query, name: api_key, value_env: "
                                                "OCTOHUB_SECRET_TEST_QUERY_KEY}\n");
  const std::string data = (dir / "data").string();
  const std::vector<std::string> env = {"OCTOHUB_SECRET_TEST_QUERY_KEY=" + key};
  BackgroundProcess serve({OctohubBinary(), "serve", "--data-dir", data, "--listen", "127.0.0.1:0"},
                          env);
  const std::string address = ListenAddress(serve);
  const std::string admin = AdminKey(serve);
  REQUIRE(Octohub({"sources", "apply", file.string(), "--data-dir", data}, env).exit_code == 0);

  auto run = Octohub({"sources", "run", "items", "--wait", "--data-dir", data}, env);
  CHECK(run.exit_code != 0);
  const std::string shown = run.out + run.err;
  INFO(shown);
  REQUIRE(api.requests().size() == 2);
  CHECK(api.requests()[0].query.at("api_key") == key);  // the upstream did get the key

  auto fetcher = octohub::ingest::MakeCurlFetcher();
  auto listing = fetcher->Fetch({.url = "http://" + address + "/api/v1/sources",
                                 .headers = {{"Authorization", "Bearer " + admin}}});
  REQUIRE(listing.ok());
  INFO(listing->body);
  CHECK_THAT(listing->body, Catch::Contains("api_key=***") && Catch::Contains("http://***@"));
  auto runs = fetcher->Fetch({.url = "http://" + address + "/api/v1/sources/items/runs",
                              .headers = {{"Authorization", "Bearer " + admin}}});
  REQUIRE(runs.ok());
  CHECK(runs->status == 200);

  serve.Signal(SIGTERM);
  REQUIRE(serve.WaitExit(20s));
  const std::string log = serve.stderr_text();
  // The run ran in this command or, when serve's worker claimed it first, in serve: its log
  // lines are in one of the two, with the credential hidden.
  CHECK_THAT(shown + log, Catch::Contains("api_key=***") && Catch::Contains("fetch.retry") &&
                              Catch::Contains("run.finished"));
  for (const std::string& text : {shown, listing->body, runs->body, log}) {
    CHECK_THAT(text, !Catch::Contains(key) && !Catch::Contains("hunter22"));
  }
}

TEST_CASE("serve's sources may not reach its own listener, its PostgreSQL or a denied network",
          "[e2e]") {
  TempDir dir;
  const std::string data = (dir / "data").string();
  BackgroundProcess serve({OctohubBinary(), "serve", "--data-dir", data, "--listen", "127.0.0.1:0",
                           "--deny-networks", "127.0.0.2/32"});
  auto started = serve.WaitForLine("\"postgres.started\"", 60s);
  REQUIRE(started);
  const auto postgres_port = json::parse(*started).at("port").as_int64();
  const std::string address = ListenAddress(serve);
  const std::string admin = AdminKey(serve);
  auto fetcher = octohub::ingest::MakeCurlFetcher();
  auto call = [&](const std::string& method, const std::string& path, const std::string& body) {
    auto response = fetcher->Fetch(
        {.method = method,
         .url = "http://" + address + path,
         .headers = {{"Authorization", "Bearer " + admin}, {"Content-Type", "application/json"}},
         .body = body});
    REQUIRE(response.ok());
    return *response;
  };
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"http://" + address + "/api/v1/sources", "is Octohub's own HTTP listener"},
      {"http://127.0.0.1:" + std::to_string(postgres_port) + "/", "is Octohub's own PostgreSQL"},
      {"http://127.0.0.2:9/items", "127.0.0.2 is in the denied network 127.0.0.2/32"}};
  int n = 0;
  for (const auto& [url, reason] : cases) {
    INFO(url);
    const std::string name = "s" + std::to_string(++n);
    auto created = call("POST", "/api/v1/sources",
                        R"({"name": ")" + name + R"(", "url": ")" + url +
                            R"(", "records": "/items", "id": "/id"})");
    REQUIRE(created.status == 201);
    auto queued = call("POST", "/api/v1/sources/" + name + "/runs", "");
    REQUIRE(queued.status == 202);
    const auto id = json::parse(queued.body).at("id").as_int64();
    json::object run;
    for (int i = 0; i < 100; ++i) {
      run = json::parse(call("GET", "/api/v1/runs/" + std::to_string(id), "").body).as_object();
      if (run.at("status") != "queued" && run.at("status") != "running") break;
      std::this_thread::sleep_for(100ms);
    }
    CHECK(run.at("status") == "failed");
    CHECK_THAT(json::serialize(run.at("error")),
               Catch::Contains("refused by the network guard") && Catch::Contains(reason));
  }
  serve.Signal(SIGTERM);
  CHECK(serve.WaitExit(20s));

  auto invalid = Octohub({"migrate", "--data-dir", data, "--deny-networks", "10.0.0.0/8,intranet"});
  CHECK(invalid.exit_code == 2);
  CHECK_THAT(invalid.err, Catch::Contains("\"intranet\" is not a network"));
}

TEST_CASE("the page size limit (--max-page-bytes) is kept, and the error names it", "[e2e]") {
  TestDatabase database;
  TempDir dir;
  HttpTestServer api([](const TestRequest&) {
    return TestResponse{
        200, R"({"items": [{"id": 1, "text": ")" + std::string(64 * 1024, 'x') + R"("}]})"};
  });
  const auto file = dir.Write(
      "big.yaml", "name: big\nurl: " + api.url("/items") + "\nrecords: /items\nid: /id\n");
  REQUIRE(Octohub({"sources", "apply", file.string(), "--database-url", database.conninfo()})
              .exit_code == 0);
  auto limited = Octohub({"sources", "run", "big", "--wait", "--database-url", database.conninfo(),
                          "--max-page-bytes", "16384"});
  CHECK(limited.exit_code != 0);
  CHECK_THAT(limited.out,
             Catch::Contains("larger than 16384 bytes") && Catch::Contains("--max-page-bytes"));
  auto enough = Octohub({"sources", "run", "big", "--wait", "--database-url", database.conninfo(),
                         "--max-page-bytes", "1048576"});
  INFO(enough.out << enough.err);
  CHECK(enough.exit_code == 0);
}

// Every pagination style and upstream misbehaviour, over real HTTP into PostgreSQL.
#include <zlib.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <thread>

#include "http_test_server.h"
#include "octohub/ingest/ingest.h"
#include "process.h"
#include "scoped_network_guard.h"
#include "temp_dir.h"
#include "test_database.h"

namespace json = boost::json;
using octohub::ingest::IngestWorker;
using octohub::ingest::MakeCurlFetcher;
using octohub::ingest::Run;
using octohub::ingest::RunQueue;
using octohub::ingest::SourceRegistry;
using octohub::testing::HttpTestServer;
using octohub::testing::TestDatabase;
using octohub::testing::TestRequest;
using octohub::testing::TestResponse;

namespace {

json::array Items(int first, int last) {
  json::array items;
  for (int id = first; id <= last; ++id)
    items.push_back({{"id", id}, {"text", "item " + std::to_string(id)}});
  return items;
}

int Param(const TestRequest& request, const std::string& name, int fallback) {
  auto it = request.query.find(name);
  return it == request.query.end() ? fallback : std::stoi(it->second);
}

Run Harvest(const TestDatabase& database, const std::string& source_json) {
  auto spec = octohub::ParseSourceSpec(json::parse(source_json));
  INFO(spec.status().ToString());
  REQUIRE(spec.ok());
  REQUIRE(SourceRegistry(database.db()).Apply(*spec).ok());
  auto queued = RunQueue(database.db()).Enqueue(spec->name, "manual");
  REQUIRE(queued.ok());
  IngestWorker worker(database.db(), MakeCurlFetcher(), "test",
                      {2, std::chrono::milliseconds(5), std::chrono::milliseconds(50)});
  auto run = worker.RunNextQueued();
  REQUIRE(run.ok());
  REQUIRE(run->has_value());
  return **run;
}

std::string Source(const std::string& url, const std::string& rest) {
  return R"({"name": "s", "url": ")" + url + R"(", "records": "/items", "id": "/id", )" + rest +
         "}";
}

std::string Gzip(const std::string& text) {
  z_stream stream{};
  deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&stream, text.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  stream.avail_in = static_cast<uInt>(text.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

}  // namespace

TEST_CASE("offset pagination walks offsets by the page size", "[pg][http]") {
  TestDatabase database;
  HttpTestServer api([](const TestRequest& r) {
    int offset = Param(r, "offset", 0), limit = Param(r, "limit", 0);
    return TestResponse{
        200,
        json::serialize(json::object{{"items", Items(offset + 1, std::min(offset + limit, 7))}})};
  });
  Run run = Harvest(
      database, Source(api.url("/items"),
                       R"("pagination": {"type": "offset", "size_param": "limit", "size": 3})"));
  CHECK(run.status == "succeeded");
  CHECK(run.records_new == 7);
  CHECK(run.pages == 4);
}

TEST_CASE("cursor pagination follows the cursor until it is absent", "[pg][http]") {
  TestDatabase database;
  HttpTestServer api([](const TestRequest& r) {
    int at = r.query.count("after") ? std::stoi(r.query.at("after")) : 0;
    json::object page{{"items", Items(at + 1, at + 2)}};
    if (at < 4) page["meta"] = {{"next", std::to_string(at + 2)}};
    return TestResponse{200, json::serialize(page)};
  });
  Run run = Harvest(
      database,
      Source(api.url("/items"),
             R"("pagination": {"type": "cursor", "param": "after", "cursor_path": "/meta/next"})"));
  CHECK(run.status == "succeeded");
  CHECK(run.records_new == 6);
}

TEST_CASE("a cursor that comes back fails the run as a loop", "[pg][http]") {
  TestDatabase database;
  HttpTestServer api([](const TestRequest&) {
    return TestResponse{200, R"({"items": [{"id": 1}], "next": "again"})"};
  });
  Run run =
      Harvest(database,
              Source(api.url("/items"),
                     R"("pagination": {"type": "cursor", "param": "c", "cursor_path": "/next"})"));
  CHECK(run.status == "failed");
  CHECK_THAT(run.error.value_or(""), Catch::Contains("pagination loop"));
  CHECK(database.Scalar("SELECT count(*) FROM records") == "1");  // what came before is kept
}

TEST_CASE("next_url pagination follows relative links", "[pg][http]") {
  TestDatabase database;
  HttpTestServer api([](const TestRequest& r) {
    int page = Param(r, "p", 1);
    json::object body{{"items", Items(page * 2 - 1, page * 2)}};
    if (page < 3) body["links"] = {{"next", "/items?p=" + std::to_string(page + 1)}};
    return TestResponse{200, json::serialize(body)};
  });
  Run run = Harvest(database,
                    Source(api.url("/items"),
                           R"("pagination": {"type": "next_url", "next_path": "/links/next"})"));
  CHECK(run.status == "succeeded");
  CHECK(run.records_new == 6);
}

TEST_CASE("link_header pagination follows rel=next", "[pg][http]") {
  TestDatabase database;
  HttpTestServer* self = nullptr;
  HttpTestServer api([&self](const TestRequest& r) {
    int page = Param(r, "p", 1);
    TestResponse response{200,
                          json::serialize(json::object{{"items", Items(page * 2 - 1, page * 2)}})};
    if (page < 4) {
      response.headers.emplace_back(
          "Link", "<" + self->url("/items?p=" + std::to_string(page + 1)) + ">; rel=\"next\", <" +
                      self->url("/items?p=4") + ">; rel=\"last\"");
    }
    return response;
  });
  self = &api;
  Run run =
      Harvest(database, Source(api.url("/items"), R"("pagination": {"type": "link_header"})"));
  CHECK(run.status == "succeeded");
  CHECK(run.records_new == 8);
}

TEST_CASE("a POST source sends its body", "[pg][http]") {
  TestDatabase database;
  HttpTestServer api([](const TestRequest& r) {
    if (r.method != "POST" || json::parse(r.body).at("filter").as_string() != "open") {
      return TestResponse{400, R"({"error": "bad request"})"};
    }
    return TestResponse{200, json::serialize(json::object{{"items", Items(1, 2)}})};
  });
  Run run = Harvest(database,
                    Source(api.url("/search"), R"("method": "POST", "body": {"filter": "open"})"));
  INFO(run.error.value_or(""));
  CHECK(run.status == "succeeded");
  CHECK(run.records_new == 2);
  CHECK(api.requests().front().headers.at("content-type") == "application/json");
}

TEST_CASE("truncated JSON fails the run and keeps earlier pages", "[pg][http]") {
  TestDatabase database;
  HttpTestServer api([](const TestRequest& r) {
    if (Param(r, "page", 1) == 2) return TestResponse{200, R"({"items": [{"id": 3}, {"id": )"};
    return TestResponse{200, json::serialize(json::object{{"items", Items(1, 2)}})};
  });
  Run run = Harvest(database, Source(api.url("/items"), R"("pagination": {"type": "page"})"));
  CHECK(run.status == "failed");
  CHECK_THAT(run.error.value_or(""),
             Catch::Contains("page 2") && Catch::Contains("not valid JSON"));
  CHECK(database.Scalar("SELECT count(*) FROM records") == "2");
}

TEST_CASE("an id repeated on a later page is stored once", "[pg][http]") {
  TestDatabase database;
  HttpTestServer api([](const TestRequest& r) {
    int page = Param(r, "page", 1);
    if (page > 2) return TestResponse{200, R"({"items": []})"};
    return TestResponse{200, json::serialize(json::object{{"items", Items(page, page + 1)}})};
  });
  Run run = Harvest(database, Source(api.url("/items"), R"("pagination": {"type": "page"})"));
  CHECK(run.status == "succeeded");
  CHECK(run.records_seen == 4);
  CHECK(run.records_new == 3);
  CHECK(run.records_unchanged == 1);
  CHECK(database.Scalar("SELECT count(*) FROM records") == "3");
}

TEST_CASE("non-object records and records without an id are skipped and counted", "[pg][http]") {
  TestDatabase database;
  HttpTestServer api([](const TestRequest&) {
    return TestResponse{
        200, R"({"items": [{"id": 1}, 42, "text", {"no_id": true}, {"id": null}, {"id": "b"}]})"};
  });
  Run run = Harvest(database, Source(api.url("/items"), R"("pagination": {"type": "none"})"));
  CHECK(run.status == "succeeded");
  CHECK(run.records_new == 2);
  CHECK(run.records_skipped == 4);
}

TEST_CASE("records PostgreSQL cannot take are skipped with a warning, never failing the run",
          "[pg][http]") {
  TestDatabase database;
  const std::string nested = std::string(70, '[') + std::string(70, ']');
  HttpTestServer api([&](const TestRequest& r) {
    if (Param(r, "page", 1) == 2) {
      return TestResponse{200, R"({"items": [{"id": "after", "text": "the next page"}]})"};
    }
    if (Param(r, "page", 1) > 2) return TestResponse{200, R"({"items": []})"};
    return TestResponse{200, R"({"items": [{"id": "first", "text": "nul \u0000 inside"}, )"
                             R"({"id": ")" +
                                 std::string(3000, 'x') +
                                 R"("}, {"id": "a\u0000b"}, {"id": "deep", "x": )" + nested +
                                 R"(}, {"id": "last"}]})"};
  });
  Run run = Harvest(database, Source(api.url("/items"), R"("pagination": {"type": "page"})"));
  INFO(run.error.value_or(""));
  CHECK(run.status == "succeeded");
  CHECK(run.records_new == 3);
  CHECK(run.records_skipped == 3);
  REQUIRE(run.warnings.size() == 1);
  CHECK(run.warnings[0].code == "skipped_records");
  CHECK(run.warnings[0].detail ==
        "3 records skipped: a NUL character in its id (1), an id over 512 bytes (1), nested "
        "deeper than 64 levels (1)");
  CHECK(database.Scalar("SELECT string_agg(id, ',' ORDER BY id) FROM records") ==
        "after,first,last");
  // Shown the same way when read back, and a clean run has none.
  auto again = RunQueue(database.db()).Get(run.id);
  REQUIRE(again.ok());
  CHECK(json::serialize(octohub::ingest::RunToJson(*again).at("warnings")) ==
        R"([{"code":"skipped_records","detail":")" + run.warnings[0].detail + R"("}])");
}

TEST_CASE("a 50 MB page is harvested whole", "[pg][http]") {
  TestDatabase database;
  std::string body = "{\"items\": [";
  const std::string filler(960, 'x');
  for (int id = 1; id <= 50000; ++id) {
    body += (id > 1 ? "," : "") + std::string("{\"id\":") + std::to_string(id) + ",\"text\":\"" +
            filler + "\"}";
  }
  body += "]}";
  REQUIRE(body.size() > 48'000'000);
  HttpTestServer api([&body](const TestRequest&) { return TestResponse{200, body}; });
  Run run = Harvest(database, Source(api.url("/big"), R"("pagination": {"type": "none"})"));
  INFO(run.error.value_or(""));
  CHECK(run.status == "succeeded");
  CHECK(run.records_new == 50000);
  CHECK(run.bytes == static_cast<std::int64_t>(body.size()));
}

TEST_CASE("a gzip-encoded page is decoded", "[pg][http]") {
  TestDatabase database;
  const std::string plain = json::serialize(json::object{{"items", Items(1, 5)}});
  HttpTestServer api([&plain](const TestRequest& r) {
    auto accept = r.headers.find("accept-encoding");
    if (accept == r.headers.end() || accept->second.find("gzip") == std::string::npos) {
      return TestResponse{406, "{}"};
    }
    return TestResponse{
        200, Gzip(plain), {{"Content-Type", "application/json"}, {"Content-Encoding", "gzip"}}};
  });
  Run run = Harvest(database, Source(api.url("/items"), R"("pagination": {"type": "none"})"));
  INFO(run.error.value_or(""));
  CHECK(run.status == "succeeded");
  CHECK(run.records_new == 5);
}

TEST_CASE("a compressed page is limited by its decompressed size", "[pg][http]") {
  TestDatabase database;
  // 8 MiB of spaces inside valid JSON: a few kilobytes on the wire.
  const std::string bomb = Gzip(R"({"items": [)" + std::string(8 << 20, ' ') + "]}");
  REQUIRE(bomb.size() < 64 * 1024);
  HttpTestServer api([&bomb](const TestRequest&) {
    return TestResponse{
        200, bomb, {{"Content-Type", "application/json"}, {"Content-Encoding", "gzip"}}};
  });
  auto spec = octohub::ParseSourceSpec(
      json::parse(Source(api.url("/items"), R"("pagination": {"type": "none"})")));
  REQUIRE(spec.ok());
  REQUIRE(SourceRegistry(database.db()).Apply(*spec).ok());
  REQUIRE(RunQueue(database.db()).Enqueue("s", "manual").ok());
  IngestWorker worker(database.db(), MakeCurlFetcher({.max_body_bytes = 1 << 20}), "test");
  auto run = worker.RunNextQueued();
  REQUIRE(run.ok());
  REQUIRE(*run);
  CHECK((*run)->status == "failed");
  CHECK_THAT((*run)->error.value_or(""),
             Catch::Contains("larger than 1048576 bytes (after decompression)") &&
                 Catch::Contains("--max-page-bytes"));
}

TEST_CASE("basic, header and query auth reach the upstream", "[pg][http]") {
  TestDatabase database;
  HttpTestServer api([](const TestRequest& r) {
    const bool ok =
        (r.headers.count("authorization") && r.headers.at("authorization") == "Basic dTpw") ||
        (r.headers.count("x-api-key") && r.headers.at("x-api-key") == "k1") ||
        (r.query.count("api_key") && r.query.at("api_key") == "k2");
    return ok ? TestResponse{200, json::serialize(json::object{{"items", Items(1, 1)}})}
              : TestResponse{401, R"({"error": "who are you"})"};
  });
  for (const std::string auth : {R"({"type": "basic", "username": "u", "password": "p"})",
                                 R"({"type": "header", "name": "X-Api-Key", "value": "k1"})",
                                 R"({"type": "query", "name": "api_key", "value": "k2"})"}) {
    INFO(auth);
    Run run = Harvest(database, Source(api.url("/items"), R"("auth": )" + auth));
    CHECK(run.status == "succeeded");
  }
}

TEST_CASE("redirects are followed with our User-Agent over one kept-alive connection",
          "[pg][http]") {
  TestDatabase database;
  HttpTestServer api([](const TestRequest& r) {
    if (r.path == "/old")
      return TestResponse{301, "", {{"Location", "/items" + r.target.substr(4)}}};
    int page = Param(r, "page", 1);
    return TestResponse{200,
                        json::serialize(json::object{
                            {"items", page <= 3 ? Items(page * 2 - 1, page * 2) : json::array()}})};
  });
  Run run = Harvest(database, Source(api.url("/old"), R"("pagination": {"type": "page"})"));
  INFO(run.error.value_or(""));
  CHECK(run.status == "succeeded");
  CHECK(run.records_new == 6);
  CHECK_THAT(api.requests().front().headers.at("user-agent"), Catch::StartsWith("octohub/"));
  CHECK(api.connections_accepted() == 1);
}

TEST_CASE("an upstream that ignores the page parameter fails as a loop, not after max_pages",
          "[pg][http]") {
  TestDatabase database;
  HttpTestServer api([](const TestRequest&) {
    return TestResponse{200, json::serialize(json::object{{"items", Items(1, 3)}})};
  });
  Run run = Harvest(database, Source(api.url("/items"), R"("pagination": {"type": "page"})"));
  CHECK(run.status == "failed");
  CHECK_THAT(run.error.value_or(""), Catch::Contains("pagination loop"));
  CHECK(api.requests().size() == 2);
  CHECK(database.Scalar("SELECT count(*) FROM records") == "3");
}

TEST_CASE("https is verified: a self-signed certificate fails the run with the reason",
          "[pg][http]") {
  TestDatabase database;
  octohub::testing::TempDir dir;
  auto run_openssl = [&](const std::string& args) {
    return std::system(
        ("cd " + dir.path().string() + " && openssl " + args + " >/dev/null 2>&1").c_str());
  };
  REQUIRE(run_openssl("req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 1 "
                      "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1") == 0);
  dir.Write("page.json", json::serialize(json::object{{"items", Items(1, 2)}}));
  int port = 0;
  {  // a free port for the TLS server
    HttpTestServer probe([](const TestRequest&) { return TestResponse{}; });
    port = probe.port();
  }
  octohub::testing::BackgroundProcess tls(
      {"/usr/bin/openssl", "s_server", "-accept", "127.0.0.1:" + std::to_string(port), "-cert",
       (dir / "cert.pem").string(), "-key", (dir / "key.pem").string(), "-WWW", "-quiet"},
      {});
  // Wait until it listens: any answer but "connection refused".
  auto probe = MakeCurlFetcher();
  for (int i = 0; i < 100; ++i) {
    auto answer = probe->Fetch({.url = "https://127.0.0.1:" + std::to_string(port) + "/"});
    if (answer.ok() || answer.status().message().find("connect") == std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  Run run = Harvest(database, Source("https://127.0.0.1:" + std::to_string(port) + "/page.json",
                                     R"("pagination": {"type": "none"})"));
  CHECK(run.status == "failed");
  CHECK_THAT(run.error.value_or(""),
             Catch::Contains("certificate") && !Catch::Contains("attempts"));
  CHECK(database.Scalar("SELECT count(*) FROM records") == "0");
}

TEST_CASE("credentials go only to the source's own origin, not along redirects or next links",
          "[pg][http]") {
  auto has_credential = [](const TestRequest& r) {
    return r.headers.count("authorization") || r.headers.count("x-api-key") ||
           r.query.count("api_key");
  };
  HttpTestServer other([](const TestRequest& r) {
    const int first = r.path == "/more" ? 3 : 1;
    return TestResponse{200, json::serialize(json::object{{"items", Items(first, first + 1)}})};
  });
  HttpTestServer own([&](const TestRequest& r) {
    if (!has_credential(r)) return TestResponse{401, R"({"error": "who are you"})"};
    if (r.path == "/same")
      return TestResponse{302, "", {{"Location", "/items" + r.target.substr(5)}}};
    if (r.path == "/away") return TestResponse{307, "", {{"Location", other.url("/items")}}};
    // A next link elsewhere that even carries the key, as some APIs echo it.
    const std::string key = r.query.count("api_key") ? "api_key=" + r.query.at("api_key") : "";
    json::object body{{"items", Items(1, 2)}, {"next", other.url("/more?" + key + "&page=2")}};
    return TestResponse{200, json::serialize(body)};
  });
  for (const std::string auth : {R"({"type": "bearer", "token": "t0k3n"})",
                                 R"({"type": "basic", "username": "u", "password": "p"})",
                                 R"({"type": "header", "name": "X-Api-Key", "value": "k1"})",
                                 R"({"type": "query", "name": "api_key", "value": "k2"})"}) {
    INFO(auth);
    for (const std::string path : {"/same", "/away", "/items"}) {
      INFO(path);
      TestDatabase database;
      const std::string paging =
          path == "/items" ? R"(, "pagination": {"type": "next_url", "next_path": "/next"})" : "";
      Run run = Harvest(database, Source(own.url(path), R"("auth": )" + auth + paging));
      INFO(run.error.value_or(""));
      CHECK(run.status == "succeeded");
    }
  }
  REQUIRE(other.requests().size() == 8);  // four auths: one redirect and one next link each
  for (const auto& request : other.requests()) {
    INFO(request.target);
    CHECK_FALSE(has_credential(request));
  }
}

TEST_CASE("the network guard refuses a denied address, also behind a redirect or a DNS name",
          "[pg][http]") {
  auto items = [](const TestRequest&) {
    return TestResponse{200, json::serialize(json::object{{"items", Items(1, 2)}})};
  };
  HttpTestServer denied(items, "127.0.0.2");
  HttpTestServer allowed([&](const TestRequest& r) {
    if (r.path == "/hop") return TestResponse{302, "", {{"Location", denied.url("/items")}}};
    return items(r);
  });
  const std::string no_paging = R"("pagination": {"type": "none"})";
  octohub::testing::ScopedNetworkGuard guard("127.0.0.2/32");
  for (const std::string& url : {denied.url("/items"), allowed.url("/hop")}) {
    INFO(url);
    TestDatabase database;
    Run run = Harvest(database, Source(url, no_paging));
    CHECK(run.status == "failed");
    CHECK_THAT(run.error.value_or(""),
               Catch::Contains("refused by the network guard: 127.0.0.2 is in the denied "
                               "network 127.0.0.2/32"));
  }
  CHECK(denied.requests().empty());
  {
    TestDatabase database;
    CHECK(Harvest(database, Source(allowed.url("/items"), no_paging)).status == "succeeded");
  }
  // A name is checked on the address it resolves to.
  guard.Deny("127.0.0.0/8,::1/128");
  TestDatabase database;
  Run run = Harvest(
      database, Source("http://localhost:" + std::to_string(allowed.port()) + "/items", no_paging));
  CHECK(run.status == "failed");
  CHECK_THAT(run.error.value_or(""), Catch::Contains("refused by the network guard"));
  CHECK(allowed.requests().size() == 2);  // the hop and the allowed run, nothing after
}

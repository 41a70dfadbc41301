#include "octohub/api/server.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "octohub/web/assets.h"
#include "raw_client.h"
#include "running_server.h"

namespace json = boost::json;
using namespace std::chrono_literals;
using octohub::api::ApiServer;
using octohub::api::ServerOptions;
using octohub::testing::Client;
using octohub::testing::RawConnection;
using octohub::testing::RunningServer;
using octohub::testing::TempDir;

TEST_CASE("a plain HTTP/1.1 client reuses one connection for several requests", "[pg][http]") {
  RunningServer s;
  Client client;
  auto first = client.Get(s.url("/healthz"));
  auto second = client.Get(s.url("/api/v1/search?q=anything"));
  CHECK(first.status == 200);
  CHECK(second.status == 200);
  CHECK(first.new_connections == 1);
  CHECK(second.new_connections == 0);
  CHECK_THAT(first.headers, Catch::Contains("Connection: Keep-Alive"));
}

TEST_CASE("a client that asks to close gets its connection closed", "[pg][http]") {
  RunningServer s;
  Client client;
  auto response = client.Get(s.url("/healthz"), {"Connection: close"});
  CHECK_THAT(response.headers, Catch::Contains("Connection: Close"));
}

TEST_CASE("search answers in the documented shape", "[pg][http]") {
  RunningServer s;
  auto response = Client().Get(s.url("/api/v1/search?q=hello%20world&per_page=5"));
  REQUIRE(response.status == 200);
  CHECK_THAT(response.headers, Catch::Contains("Content-Type: application/json"));
  json::object body = json::parse(response.body).as_object();
  CHECK(body.at("query").as_string() == "hello world");
  CHECK(body.at("per_page").as_int64() == 5);
  for (const char* key :
       {"total", "total_exact", "took_ms", "page", "hits", "facets", "suggestion"}) {
    CHECK(body.contains(key));
  }
}

TEST_CASE("bad search parameters are a 400 problem naming the parameter", "[pg][http]") {
  RunningServer s;
  Client client;
  for (const std::string query : {"per_page=101", "page=0", "q=%ZZ", "q=%C3%28", "typos=3",
                                  "typos=x", "typos=", "q=nosuchfield%3Afoo"}) {
    auto response = client.Get(s.url("/api/v1/search?" + query));
    INFO(query << " -> " << response.body);
    CHECK(response.status == 400);
    CHECK_THAT(response.headers, Catch::Contains("application/problem+json"));
    json::object problem = json::parse(response.body).as_object();
    CHECK(problem.at("status").as_int64() == 400);
    CHECK(!problem.at("detail").as_string().empty());
  }
  auto unknown = client.Get(s.url("/api/v1/search?q=nosuchfield%3Afoo"));
  CHECK_THAT(unknown.body, Catch::Contains("no source maps the field") &&
                               Catch::Contains("nosuchfield") && Catch::Contains("title, source"));
  CHECK(client.Get(s.url("/api/v1/search?q=anything&typos=auto")).status == 200);
  CHECK(client.Get(s.url("/api/v1/search?q=anything&typos=0")).status == 200);
}

TEST_CASE("unknown paths are 404 and wrong methods 405 with Allow, as problems", "[pg][http]") {
  RunningServer s;
  Client client;
  auto missing = client.Get(s.url("/api/v1/nothing"));
  CHECK(missing.status == 404);
  CHECK_THAT(missing.headers, Catch::Contains("application/problem+json"));
  auto wrong = client.Get(s.url("/healthz"), {}, "DELETE");
  CHECK(wrong.status == 405);
  CHECK_THAT(wrong.headers, Catch::Contains("Allow: GET"));
}

TEST_CASE("readiness reports PostgreSQL and the index", "[pg][http]") {
  RunningServer s;
  auto ready = Client().Get(s.url("/readyz"));
  CHECK(ready.status == 200);
  TempDir empty;
  auto no_index = octohub::indexer::OpenSearcher(empty / "missing");
  ServerOptions options;
  options.http.listen = "127.0.0.1:0";
  ApiServer unready(options, {s.database.db(), *no_index, s.metrics});
  REQUIRE(unready.Start().ok());
  auto response = Client().Get("http://127.0.0.1:" + std::to_string(unready.port()) + "/readyz");
  CHECK(response.status == 503);
  CHECK_THAT(response.body, Catch::Contains("index"));
}

TEST_CASE("the web UI is served from memory with its MIME type and an ETag", "[pg][http]") {
  RunningServer s;
  Client client;
  auto page = client.Get(s.url("/"));
  CHECK(page.status == 200);
  CHECK_THAT(page.headers, Catch::Contains("Content-Type: text/html"));
  CHECK_THAT(page.body, Catch::Contains("<title>"));
  auto at = page.headers.find("ETag: ");
  REQUIRE(at != std::string::npos);
  std::string etag = page.headers.substr(at + 6, page.headers.find('\r', at) - at - 6);
  auto cached = client.Get(s.url("/"), {"If-None-Match: " + etag});
  CHECK(cached.status == 304);
  CHECK(cached.body.empty());
}

TEST_CASE("every file of the web UI is served with its own MIME type", "[pg][http]") {
  RunningServer s;
  Client client;
  for (const auto& [path, type] :
       std::vector<std::pair<std::string, std::string>>{{"/index.html", "text/html"},
                                                        {"/app.js", "text/javascript"},
                                                        {"/js/search.js", "text/javascript"},
                                                        {"/js/state.js", "text/javascript"},
                                                        {"/style.css", "text/css"}}) {
    auto response = client.Get(s.url(path));
    INFO(path);
    CHECK(response.status == 200);
    CHECK_THAT(response.headers, Catch::Contains("Content-Type: " + type));
    CHECK(response.body.size() > 100);
  }
}

TEST_CASE("every embedded web file is served, none as an unknown type", "[pg][http]") {
  RunningServer s;
  Client client;
  REQUIRE(octohub::web::Assets().size() >= 10);  // the page, its style and its ES modules
  for (const auto& file : octohub::web::Assets()) {
    auto response = client.Get(s.url("/" + std::string(file.path)));
    INFO(file.path);
    CHECK(response.status == 200);
    CHECK(response.body == file.content);
    // Browsers refuse module scripts that are not served as JavaScript.
    CHECK_THAT(response.headers, !Catch::Contains("application/octet-stream"));
  }
}

TEST_CASE("a body over the limit is refused", "[pg][http]") {
  RunningServer s(64 * 1024);
  auto response = Client().Get(s.url("/api/v1/search"), {}, "POST", std::string(512 * 1024, 'x'));
  CHECK(response.status == 413);
}

TEST_CASE("a port that is already in use is a clear error", "[pg][http]") {
  RunningServer s;
  ServerOptions options;
  options.http.listen = "127.0.0.1:" + std::to_string(s.server->port());
  ApiServer second(options, {s.database.db(), *s.searcher, s.metrics});
  auto started = second.Start();
  REQUIRE_FALSE(started.ok());
  CHECK_THAT(started.message(), Catch::Contains("cannot listen on"));
}

TEST_CASE("metrics are served in Prometheus text format that promtool accepts", "[pg][http]") {
  RunningServer s;
  Client client;
  client.Get(s.url("/api/v1/search?q=x"));
  client.Get(s.url("/nope"));
  auto response = client.Get(s.url("/metrics"));
  REQUIRE(response.status == 200);
  CHECK_THAT(response.headers, Catch::Contains("Content-Type: text/plain"));
  for (const char* name :
       {"octohub_http_requests_total{", "octohub_http_request_duration_seconds_bucket{",
        "octohub_index_documents 0", "octohub_index_lag_records 0",
        "# TYPE octohub_deliveries_total counter", "# TYPE octohub_delivery_queue_depth gauge"}) {
    CHECK_THAT(response.body, Catch::Contains(name));
  }
  CHECK_THAT(response.body, Catch::Contains(R"(route="/api/v1/search",method="GET",status="200")"));
  TempDir dir;
  auto file = dir.Write("metrics.txt", response.body);
  CHECK(std::system(("promtool check metrics < " + file.string()).c_str()) == 0);
}

TEST_CASE("every answer carries the security headers, the UI a strict script policy",
          "[pg][http]") {
  RunningServer s;
  Client client;
  const std::string strict =
      "Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self';";
  for (const std::string path : {"/", "/app.js", "/style.css", "/healthz", "/api/v1/search?q=x",
                                 "/nowhere", "/api/v1/sources"}) {
    auto response = client.Get(s.url(path));
    INFO(path << " -> " << response.status << "\n" << response.headers);
    CHECK_THAT(response.headers,
               Catch::Contains("X-Content-Type-Options: nosniff") &&
                   Catch::Contains("Referrer-Policy: no-referrer") && Catch::Contains(strict) &&
                   Catch::Contains("frame-ancestors 'none'") && !Catch::Contains("unsafe-inline"));
  }
  // The API reference lets Redoc style itself inline, and still runs no inline script.
  auto docs = client.Get(s.url("/docs"));
  CHECK_THAT(docs.headers, Catch::Contains("style-src 'self' 'unsafe-inline'") &&
                               Catch::Contains("script-src 'self';") &&
                               Catch::Contains("X-Content-Type-Options: nosniff"));
  CHECK(docs.headers.find("Content-Security-Policy") ==
        docs.headers.rfind("Content-Security-Policy"));  // one policy, not two
  // A request refused before it is read whole gets them too.
  RawConnection raw(s.server->port());
  REQUIRE(raw.Send("GARBAGE\r\n\r\n"));
  CHECK_THAT(raw.Read(2s), Catch::Contains("X-Content-Type-Options: nosniff"));
}

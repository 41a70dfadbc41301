// /api/v1/sources, /api/v1/runs and /api/v1/records over HTTP.
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "octohub/ingest/ingest.h"
#include "running_server.h"
#include "seed_records.h"

namespace json = boost::json;
using octohub::testing::Client;
using octohub::testing::Role;
using octohub::testing::RunningServer;

namespace {
const char* kSource = R"({"name": "issues", "url": "http://127.0.0.1:9/issues", "records": "/items",
  "id": "/id", "auth": {"type": "bearer", "token": "literal-secret"}, "index": {"title": "/title"}})";
const std::string kJson = "Content-Type: application/json";
}  // namespace

TEST_CASE("a source created over HTTP is 201 with its Location, and secrets stay hidden",
          "[pg][http]") {
  RunningServer s;
  Client client;
  const std::string write = s.Auth(Role::kWrite);
  auto created = client.Get(s.url("/api/v1/sources"), {write, kJson}, "POST", kSource);
  REQUIRE(created.status == 201);
  CHECK_THAT(created.headers, Catch::Contains("Location: /api/v1/sources/issues"));
  CHECK_THAT(created.body, !Catch::Contains("literal-secret"));
  auto read_back = client.Get(s.url("/api/v1/sources/issues"), {write});
  CHECK(read_back.status == 200);
  CHECK_THAT(read_back.body,
             Catch::Contains("\"token\":\"***\"") && !Catch::Contains("literal-secret"));
  CHECK(client.Get(s.url("/api/v1/sources"), {write, kJson}, "POST", kSource).status == 409);
  CHECK_THAT(client.Get(s.url("/api/v1/sources"), {write}).body,
             !Catch::Contains("literal-secret"));
}

TEST_CASE("an invalid source is a 422 listing every problem with its pointer", "[pg][http]") {
  RunningServer s;
  auto response =
      Client().Get(s.url("/api/v1/sources"), {s.Auth(Role::kWrite), kJson}, "POST",
                   R"({"name": "Bad!", "url": "gopher://x", "pagination": {"type": "pages"}})");
  CHECK(response.status == 422);
  CHECK_THAT(response.headers, Catch::Contains("application/problem+json"));
  json::object problem = json::parse(response.body).as_object();
  std::vector<std::string> pointers;
  for (const auto& e : problem.at("errors").as_array())
    pointers.emplace_back(e.at("pointer").as_string());
  CHECK(pointers == std::vector<std::string>{"/name", "/url", "/pagination/type"});
}

TEST_CASE("bodies that are not JSON or YAML, or not parseable, are refused", "[pg][http]") {
  RunningServer s;
  Client client;
  const std::string write = s.Auth(Role::kWrite);
  CHECK(client.Get(s.url("/api/v1/sources"), {write, "Content-Type: text/plain"}, "POST", "x")
            .status == 415);
  CHECK(client.Get(s.url("/api/v1/sources"), {write, kJson}, "POST", "{\"name\": ").status == 400);
  auto yaml = client.Get(s.url("/api/v1/sources/feed"), {write, "Content-Type: application/yaml"},
                         "PUT", "url: http://127.0.0.1:9/feed\nrecords: /items\n");
  CHECK(yaml.status == 201);
  auto again = client.Get(s.url("/api/v1/sources/feed"), {write, "Content-Type: application/yaml"},
                          "PUT", "url: http://127.0.0.1:9/feed2\nrecords: /items\n");
  CHECK(again.status == 200);
  auto mismatch = client.Get(s.url("/api/v1/sources/feed"), {write, kJson}, "PUT",
                             R"({"name": "other", "url": "http://127.0.0.1:9/x"})");
  CHECK(mismatch.status == 422);
}

TEST_CASE("YAML with aliases is a 422 for sources, targets and rules, and nothing is saved",
          "[pg][http]") {
  RunningServer s;
  Client client;
  const std::string write = s.Auth(Role::kWrite);
  const std::string yaml = "Content-Type: application/yaml";
  const std::vector<std::pair<std::string, std::string>> documents = {
      {"/api/v1/sources/feed",
       "url: http://127.0.0.1:9/feed\nrecords: /items\nheaders: &h {A: b}\nquery: *h\n"},
      {"/api/v1/targets/t", "url: http://127.0.0.1:9/in\nheaders: &h {A: b}\nx: *h\n"},
      {"/api/v1/rules/r", "target: t\nquery: &q a\nname: *q\n"}};
  for (const auto& [path, document] : documents) {
    INFO(path);
    auto refused = client.Get(s.url(path), {write, yaml}, "PUT", document);
    CHECK(refused.status == 422);
    CHECK_THAT(refused.body, Catch::Contains("aliases"));
    CHECK(client.Get(s.url(path), {write}).status == 404);
  }
}

TEST_CASE("a run started over HTTP is 202 and can be read back", "[pg][http]") {
  RunningServer s;
  Client client;
  const std::string write = s.Auth(Role::kWrite);
  REQUIRE(client.Get(s.url("/api/v1/sources"), {write, kJson}, "POST", kSource).status == 201);
  auto started = client.Get(s.url("/api/v1/sources/issues/runs"), {write}, "POST");
  REQUIRE(started.status == 202);
  json::object run = json::parse(started.body).as_object();
  CHECK(run.at("status").as_string() == "queued");
  CHECK(run.at("trigger").as_string() == "manual");
  const std::string id = std::to_string(run.at("id").as_int64());
  CHECK(client.Get(s.url("/api/v1/runs/" + id), {write}).status == 200);
  auto list = client.Get(s.url("/api/v1/sources/issues/runs?limit=5"), {write});
  CHECK(json::parse(list.body).at("runs").as_array().size() == 1);
  CHECK(client.Get(s.url("/api/v1/runs/999999"), {write}).status == 404);
  CHECK(client.Get(s.url("/api/v1/runs/abc"), {write}).status == 404);
  CHECK(client.Get(s.url("/api/v1/sources/nope/runs"), {write}, "POST").status == 404);
  CHECK(client.Get(s.url("/api/v1/sources/issues/runs?limit=0"), {write}).status == 400);
}

TEST_CASE("deleting a source needs admin and removes it", "[pg][http]") {
  RunningServer s;
  Client client;
  const std::string write = s.Auth(Role::kWrite);
  REQUIRE(client.Get(s.url("/api/v1/sources"), {write, kJson}, "POST", kSource).status == 201);
  CHECK(client.Get(s.url("/api/v1/sources/issues"), {write}, "DELETE").status == 403);
  const std::string admin = s.Auth(Role::kAdmin);
  CHECK(client.Get(s.url("/api/v1/sources/issues"), {admin}, "DELETE").status == 204);
  CHECK(client.Get(s.url("/api/v1/sources/issues"), {write}).status == 404);
  CHECK(s.database.Scalar("SELECT count(*) FROM source_tombstones") == "1");
}

TEST_CASE("a record is served as stored, with an ETag", "[pg][http]") {
  RunningServer s;
  octohub::testing::SeedSource(s.database.db(), R"({"name": "notes", "url": "http://x/"})");
  octohub::testing::SeedRecord(s.database.db(), "notes", "a/b c", R"({"z": 1, "a": [true]})");
  Client client;
  auto record = client.Get(s.url("/api/v1/records/notes/a%2Fb%20c"));
  REQUIRE(record.status == 200);
  json::object body = json::parse(record.body).as_object();
  CHECK(body.at("id").as_string() == "a/b c");
  CHECK(json::serialize(body.at("data")) == R"({"z":1,"a":[true]})");  // key order kept
  CHECK(body.at("deleted").as_bool() == false);
  auto at = record.headers.find("ETag: ");
  REQUIRE(at != std::string::npos);
  std::string etag = record.headers.substr(at + 6, record.headers.find('\r', at) - at - 6);
  CHECK(client.Get(s.url("/api/v1/records/notes/a%2Fb%20c"), {"If-None-Match: " + etag}).status ==
        304);
  CHECK(client.Get(s.url("/api/v1/records/notes/missing")).status == 404);
}

TEST_CASE("sources may take secrets only from secret variables: other names are a 422",
          "[pg][http]") {
  RunningServer s;
  Client client;
  const std::string write = s.Auth(Role::kWrite);
  const std::string source = R"({"name": "issues", "url": "http://127.0.0.1:9/issues",
      "records": "/items", "auth": {"type": "basic", "username_env": "OCTOHUB_SECRET_USER",
      "password_env": "DATABASE_URL"}})";
  for (const std::string method : {"POST", "PUT"}) {
    INFO(method);
    auto refused =
        client.Get(s.url(method == "POST" ? "/api/v1/sources" : "/api/v1/sources/issues"),
                   {write, kJson}, method, source);
    CHECK(refused.status == 422);
    CHECK_THAT(refused.body, Catch::Contains("/auth/password_env") &&
                                 !Catch::Contains("/auth/username_env") &&
                                 Catch::Contains("OCTOHUB_SECRET_"));
  }
  CHECK(client.Get(s.url("/api/v1/sources/issues"), {write}).status == 404);
}

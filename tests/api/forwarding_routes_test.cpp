// /api/v1/targets, /rules, /forwards and /deliveries: validation, roles, secrets.
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "running_server.h"

namespace json = boost::json;
using octohub::testing::Client;
using octohub::testing::Role;
using octohub::testing::RunningServer;

namespace {
const std::string kJson = "Content-Type: application/json";
const char* kTarget = R"({"name": "hook", "url": "http://127.0.0.1:9/in", "secret": "hmac-key-77",
  "auth": {"type": "bearer", "token": "bearer-token-77"}})";

std::vector<std::string> Pointers(const std::string& body) {
  std::vector<std::string> out;
  const json::value problem = json::parse(body);
  for (const auto& e : problem.at("errors").as_array())
    out.emplace_back(e.at("pointer").as_string());
  return out;
}
}  // namespace

TEST_CASE("targets: created, read back without secrets, replaced, deleted by admins only",
          "[pg][http]") {
  RunningServer s;
  Client client;
  const std::string write = s.Auth(Role::kWrite), admin = s.Auth(Role::kAdmin);
  auto created = client.Get(s.url("/api/v1/targets"), {write, kJson}, "POST", kTarget);
  REQUIRE(created.status == 201);
  CHECK_THAT(created.headers, Catch::Contains("Location: /api/v1/targets/hook"));
  for (const auto& path : {"/api/v1/targets", "/api/v1/targets/hook"}) {
    auto read = client.Get(s.url(path), {write});
    CHECK(read.status == 200);
    CHECK_THAT(read.body, !Catch::Contains("hmac-key-77") && !Catch::Contains("bearer-token-77") &&
                              Catch::Contains("\"secret\":\"***\""));
  }
  CHECK(client.Get(s.url("/api/v1/targets"), {write, kJson}, "POST", kTarget).status == 409);
  auto put = client.Get(s.url("/api/v1/targets/hook"), {write, kJson}, "PUT",
                        R"({"url": "http://127.0.0.1:9/other", "batch": 10})");
  CHECK(put.status == 200);
  CHECK(json::parse(put.body).at("batch") == 10);
  CHECK(client.Get(s.url("/api/v1/targets/hook"), {write}, "DELETE").status == 403);
  CHECK(client.Get(s.url("/api/v1/targets/hook"), {admin}, "DELETE").status == 204);
  CHECK(client.Get(s.url("/api/v1/targets/hook"), {write}).status == 404);
}

TEST_CASE("read keys cannot see targets, rules or deliveries, anonymous clients get 401",
          "[pg][http]") {
  RunningServer s;
  Client client;
  const std::string read = s.Auth(Role::kRead);
  for (const auto& path : {"/api/v1/targets", "/api/v1/rules", "/api/v1/deliveries"}) {
    CHECK(client.Get(s.url(path), {read}).status == 403);
    CHECK(client.Get(s.url(path)).status == 401);
  }
  CHECK(client.Get(s.url("/api/v1/forwards"), {read, kJson}, "POST", "{}").status == 403);
}

TEST_CASE("an invalid target is a 422 naming each problem, the template's included", "[pg][http]") {
  RunningServer s;
  auto response = Client().Get(s.url("/api/v1/targets"), {s.Auth(Role::kWrite), kJson}, "POST",
                               R"({"name": "t", "url": "ftp://x", "template": "{{#/a}} open",
                                   "max_attempts": 0, "rate_limit": {"requests_per_second": -1}})");
  CHECK(response.status == 422);
  CHECK(Pointers(response.body) == std::vector<std::string>{"/url", "/template", "/max_attempts",
                                                            "/rate_limit/requests_per_second"});
  CHECK_THAT(response.body, Catch::Contains("never closed"));
}

TEST_CASE("rules need an existing target and a query a search accepts", "[pg][http]") {
  RunningServer s;
  Client client;
  const std::string write = s.Auth(Role::kWrite), admin = s.Auth(Role::kAdmin);
  auto no_target = client.Get(s.url("/api/v1/rules"), {write, kJson}, "POST",
                              R"({"name": "r", "query": {"q": "x"}, "target": "nope"})");
  CHECK(no_target.status == 422);
  CHECK(Pointers(no_target.body) == std::vector<std::string>{"/target"});
  REQUIRE(client.Get(s.url("/api/v1/targets"), {write, kJson}, "POST", kTarget).status == 201);
  // A query a search refuses (here: too long) is refused for a rule too.
  auto bad_query = client.Get(
      s.url("/api/v1/rules"), {write, kJson}, "POST",
      R"({"name": "r", "query": {"q": ")" + std::string(5000, 'a') + R"("}, "target": "hook"})");
  CHECK(bad_query.status == 422);
  CHECK(Pointers(bad_query.body) == std::vector<std::string>{"/query/q"});
  auto good = client.Get(s.url("/api/v1/rules"), {write, kJson}, "POST",
                         R"({"name": "r", "query": {"q": "rust"}, "target": "hook"})");
  CHECK(good.status == 201);
  CHECK(client.Get(s.url("/api/v1/rules/r"), {write}).status == 200);
  // The target is in use: deleting it is a conflict until the rule goes.
  CHECK(client.Get(s.url("/api/v1/targets/hook"), {admin}, "DELETE").status == 409);
  CHECK(client.Get(s.url("/api/v1/rules/r"), {write}, "DELETE").status == 403);
  CHECK(client.Get(s.url("/api/v1/rules/r"), {admin}, "DELETE").status == 204);
  CHECK(client.Get(s.url("/api/v1/targets/hook"), {admin}, "DELETE").status == 204);
}

TEST_CASE("forward requests are validated: target, records, query, limit", "[pg][http]") {
  RunningServer s;
  Client client;
  const std::string write = s.Auth(Role::kWrite);
  REQUIRE(client.Get(s.url("/api/v1/targets"), {write, kJson}, "POST", kTarget).status == 201);
  struct Case {
    std::string body;
    std::vector<std::string> pointers;
  };
  const std::vector<Case> cases = {
      // Every problem of the document at once; whether the target exists once it is valid.
      {R"({"records": []})", {"/target", "/records"}},
      {R"({"target": "nope", "records": []})", {"/records"}},
      {R"({"target": "nope", "records": [{"source": "s", "id": "1"}]})", {"/target"}},
      {R"({"target": "hook"})", {""}},
      {R"({"target": "hook", "records": [], "query": {"q": ""}})", {"", "/records"}},
      {R"({"target": "hook", "records": [{"source": "s"}]})", {"/records/0"}},
      {R"({"target": "hook", "query": {"q": "x"}, "limit": 0})", {"/limit"}},
      {R"({"target": "hook", "records": [{"source": "s", "id": "404"}]})", {"/records/0"}},
  };
  for (const auto& c : cases) {
    INFO(c.body);
    auto response = client.Get(s.url("/api/v1/forwards"), {write, kJson}, "POST", c.body);
    CHECK(response.status == 422);
    CHECK(Pointers(response.body) == c.pointers);
  }
  CHECK(client.Get(s.url("/api/v1/deliveries?status=lost"), {write}).status == 400);
  CHECK(client.Get(s.url("/api/v1/deliveries?per_page=0"), {write}).status == 400);
  CHECK(client.Get(s.url("/api/v1/deliveries/abc"), {write}).status == 404);
  auto empty = client.Get(s.url("/api/v1/deliveries?status=dead&target=hook"), {write});
  CHECK(empty.status == 200);
  CHECK(json::parse(empty.body).at("total") == 0);
}

TEST_CASE("targets may take secrets only from secret variables: other names are a 422",
          "[pg][http]") {
  RunningServer s;
  Client client;
  const std::string write = s.Auth(Role::kWrite);
  auto refused = client.Get(s.url("/api/v1/targets"), {write, kJson}, "POST",
                            R"({"name": "hook", "url": "http://127.0.0.1:9/in",
                                "secret_env": "DATABASE_URL",
                                "auth": {"type": "bearer", "token_env": "HOME"}})");
  CHECK(refused.status == 422);
  CHECK(Pointers(refused.body) == std::vector<std::string>{"/auth/token_env", "/secret_env"});
  CHECK_THAT(refused.body, Catch::Contains("OCTOHUB_SECRET_"));
  CHECK(client.Get(s.url("/api/v1/targets/hook"), {write}).status == 404);
  auto accepted = client.Get(s.url("/api/v1/targets"), {write, kJson}, "POST",
                             R"({"name": "hook", "url": "http://127.0.0.1:9/in",
                                 "secret_env": "OCTOHUB_SECRET_HOOK_HMAC"})");
  CHECK(accepted.status == 201);
}

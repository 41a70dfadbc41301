// API keys and roles over HTTP (SPEC §6: Auth, Keys).
#include "octohub/api/keys.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "running_server.h"

namespace json = boost::json;
using octohub::testing::Client;
using octohub::testing::Role;
using octohub::testing::RunningServer;

TEST_CASE("without public_read, searching needs a key", "[pg][http]") {
  RunningServer s(1 << 20, false);
  Client client;
  auto anonymous = client.Get(s.url("/api/v1/search?q=x"));
  CHECK(anonymous.status == 401);
  CHECK_THAT(anonymous.headers, Catch::Contains("WWW-Authenticate: Bearer"));
  CHECK(client.Get(s.url("/api/v1/search?q=x"), {s.Auth(Role::kRead)}).status == 200);
  CHECK(client.Get(s.url("/api/v1/search?q=x"), {"Authorization: Bearer ohk_forged"}).status ==
        401);
  CHECK(client.Get(s.url("/api/v1/search?q=x"), {"Authorization: Basic dTpw"}).status == 401);
}

TEST_CASE("roles are ordered read < write < admin on every route", "[pg][http]") {
  RunningServer s(1 << 20, false);
  Client client;
  const std::string read = s.Auth(Role::kRead), write = s.Auth(Role::kWrite),
                    admin = s.Auth(Role::kAdmin);
  CHECK(client.Get(s.url("/api/v1/sources"), {read}).status == 403);
  CHECK(client.Get(s.url("/api/v1/sources"), {write}).status == 200);
  CHECK(client.Get(s.url("/api/v1/keys"), {write}).status == 403);
  CHECK(client.Get(s.url("/api/v1/keys"), {admin}).status == 200);
  CHECK(client.Get(s.url("/api/v1/search"), {admin}).status == 200);
  CHECK(client.Get(s.url("/healthz")).status == 200);  // public
  CHECK(client.Get(s.url("/")).status == 200);
}

TEST_CASE("public_read opens reading to anonymous clients, and nothing else", "[pg][http]") {
  RunningServer s;  // public_read
  Client client;
  CHECK(client.Get(s.url("/api/v1/search?q=x")).status == 200);
  CHECK(client.Get(s.url("/api/v1/sources")).status == 401);
}

TEST_CASE("a key is shown once at creation, listed without it, and revocable", "[pg][http]") {
  RunningServer s;
  Client client;
  const std::string admin = s.Auth(Role::kAdmin);
  auto created = client.Get(s.url("/api/v1/keys"), {admin, "Content-Type: application/json"},
                            "POST", R"({"role": "read", "name": "reporting"})");
  REQUIRE(created.status == 201);
  json::object key = json::parse(created.body).as_object();
  const std::string secret(key.at("key").as_string());
  const std::string bearer = "Authorization: Bearer " + secret;
  CHECK(client.Get(s.url("/api/v1/search?q=x"), {bearer}).status == 200);
  auto listed = client.Get(s.url("/api/v1/keys"), {admin});
  CHECK_THAT(listed.body, Catch::Contains("reporting") && !Catch::Contains(secret));
  CHECK(s.database.Scalar("SELECT count(*) FROM api_keys WHERE key_hash = '" + secret + "'") ==
        "0");
  const std::string id = std::to_string(key.at("id").as_int64());
  CHECK(client.Get(s.url("/api/v1/keys/" + id), {admin}, "DELETE").status == 204);
  CHECK(client.Get(s.url("/api/v1/sources"), {bearer}).status == 401);
  CHECK(client.Get(s.url("/api/v1/keys/" + id), {admin}, "DELETE").status == 404);
}

TEST_CASE("a bad key request is a 422 naming the field", "[pg][http]") {
  RunningServer s;
  auto response =
      Client().Get(s.url("/api/v1/keys"), {s.Auth(Role::kAdmin), "Content-Type: application/json"},
                   "POST", R"({"role": "superuser", "colour": 1})");
  CHECK(response.status == 422);
  CHECK_THAT(response.body, Catch::Contains("/role") && Catch::Contains("/colour"));
}

TEST_CASE("the bearer scheme is case-insensitive and the key may be padded", "[pg][http]") {
  RunningServer s(1 << 20, false);
  Client client;
  const std::string key = s.Auth(Role::kRead).substr(std::string("Authorization: Bearer ").size());
  for (const std::string scheme : {"Bearer", "bearer", "BEARER", "bEaReR"}) {
    INFO(scheme);
    CHECK(
        client.Get(s.url("/api/v1/search?q=x"), {"Authorization: " + scheme + " " + key}).status ==
        200);
  }
  CHECK(client.Get(s.url("/api/v1/search?q=x"), {"Authorization: bearer   " + key + "  "}).status ==
        200);
  CHECK(client.Get(s.url("/api/v1/search?q=x"), {"Authorization: Bearerx " + key}).status == 401);
  CHECK(client.Get(s.url("/api/v1/search?q=x"), {"Authorization: Bearer "}).status == 401);
}

TEST_CASE("an address sending wrong keys is refused for a while, good keys elsewhere still work",
          "[pg][http]") {
  RunningServer s([](octohub::api::ServerOptions& options) {
    options.public_read = false;
    options.auth_failures_per_minute = 5;
  });
  Client client;
  const std::string good = s.Auth(Role::kRead);
  CHECK(client.Get(s.url("/api/v1/search?q=x"), {good}).status == 200);  // no failure yet
  for (int i = 0; i < 5; ++i) {
    INFO(i);
    CHECK(client
              .Get(s.url("/api/v1/search?q=x"),
                   {"Authorization: Bearer ohk_guess" + std::to_string(i)})
              .status == 401);
  }
  auto limited = client.Get(s.url("/api/v1/search?q=x"), {"Authorization: Bearer ohk_guess9"});
  CHECK(limited.status == 429);
  CHECK_THAT(limited.headers, Catch::Contains("Retry-After: "));
  CHECK_THAT(limited.body, Catch::Contains("wrong API keys"));
  // Until the limit passes, even a right key from that address waits: guessing cannot go on.
  CHECK(client.Get(s.url("/api/v1/search?q=x"), {good}).status == 429);
  // Requests without a key are not authentication failures.
  CHECK(client.Get(s.url("/healthz")).status == 200);
}

TEST_CASE("a wrong key is looked up without writing: it is refused even when writes are not",
          "[pg][http]") {
  RunningServer s(1 << 20, false);
  Client client;
  const std::string good = s.Auth(Role::kRead);
  s.database.Scalar("ALTER DATABASE " + s.database.name() +
                    " SET default_transaction_read_only = on");
  // Sessions opened from now on may not write.
  CHECK(client.Get(s.url("/api/v1/search?q=x"), {"Authorization: Bearer ohk_wrong"}).status == 401);
  // A right key is still accepted; its last use simply is not recorded.
  CHECK(client.Get(s.url("/api/v1/search?q=x"), {good}).status == 200);
  pqxx::connection c(s.database.conninfo());
  pqxx::nontransaction tx(c);
  tx.exec0("SET default_transaction_read_only = off");
  tx.exec0("ALTER DATABASE " + s.database.name() + " RESET default_transaction_read_only");
}

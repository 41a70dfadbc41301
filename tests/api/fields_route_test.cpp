// GET /api/v1/fields: the sources and mapped fields a client can search by.
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "running_server.h"
#include "seed_records.h"

namespace json = boost::json;
using octohub::Database;
using octohub::testing::Client;
using octohub::testing::RunningServer;
using octohub::testing::SeedRecords;
using octohub::testing::SeedSource;

TEST_CASE("fields lists each source with its documents and each mapped field with its kind",
          "[pg][http]") {
  RunningServer s;
  const Database& db = s.database.db();
  SeedSource(db, R"({"name": "tickets", "url": "http://127.0.0.1:9/", "records": "", "id": "/id",
      "index": {"title": "/title", "facets": {"state": "/state"},
                "dates": {"updated": "/updated_at"}, "numbers": {"comments": "/comments"}}})");
  SeedSource(db, R"({"name": "notes", "url": "http://127.0.0.1:9/", "records": "", "id": "/id",
      "index": {"title": "/title"}})");
  auto item = [](int id) {
    return json::object{{"id", id},
                        {"title", "Item " + std::to_string(id)},
                        {"state", id % 2 ? "open" : "closed"},
                        {"updated_at", "2024-01-02T12:00:00Z"},
                        {"comments", id}};
  };
  SeedRecords(db, "tickets", 3, item);
  SeedRecords(db, "notes", 1, item);
  REQUIRE(s.follower.CatchUp().ok());

  auto response = Client().Get(s.url("/api/v1/fields"));
  REQUIRE(response.status == 200);
  json::value body = json::parse(response.body);
  CHECK(body.at("documents").as_int64() == 4);
  CHECK(body.at("sources") == json::parse(R"([{"name": "notes", "documents": 1},
                                              {"name": "tickets", "documents": 3}])"));
  CHECK(body.at("fields") == json::parse(R"([{"name": "comments", "kind": "number"},
                                             {"name": "state", "kind": "facet"},
                                             {"name": "updated", "kind": "date"}])"));
}

TEST_CASE("fields needs the read role unless reading is public", "[pg][http]") {
  RunningServer s(1 << 20, false);
  Client client;
  CHECK(client.Get(s.url("/api/v1/fields")).status == 401);
  auto allowed = client.Get(s.url("/api/v1/fields"), {s.Auth(octohub::api::Role::kRead)});
  CHECK(allowed.status == 200);
  CHECK(json::parse(allowed.body).at("sources").as_array().empty());
}

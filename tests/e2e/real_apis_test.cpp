// Harvesting real APIs, end to end through `octohub serve`: each emulator answers as its
// API's documentation says (paging, auth, limits, errors), the source document is the one a
// user would write from SPEC §3, and the stored ids must be exactly the API's records.
#include <boost/json.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "api_emulators.h"
#include "deployment.h"

namespace json = boost::json;
using namespace std::chrono_literals;
using namespace octohub::testing;

namespace {

std::set<std::string> StoredIds(const TestDatabase& database, const std::string& source) {
  pqxx::connection c(database.conninfo());
  pqxx::read_transaction tx(c);
  std::set<std::string> ids;
  for (const auto& row :
       tx.exec_params("SELECT id FROM records WHERE source = $1 AND NOT deleted", source)) {
    ids.insert(row[0].as<std::string>());
  }
  return ids;
}

std::set<std::string> WarningCodes(const json::object& run) {
  std::set<std::string> codes;
  for (const auto& warning : run.at("warnings").as_array()) {
    codes.insert(std::string(warning.at("code").as_string()));
  }
  return codes;
}

// Registers the emulator's source, runs it to the end, and checks it stored exactly the
// API's records. Returns the finished run.
json::object Harvest(Hub& hub, const ApiEmulator& api, const std::string& document,
                     const std::string& source, const std::set<std::string>& expected) {
  auto created = hub.Call("POST", "/api/v1/sources", document);
  INFO(api.name() << ": " << created.body);
  REQUIRE(created.status == 201);
  json::object run = hub.RunToEnd(source);
  INFO(api.name() << " (" << api.documentation() << "): " << json::serialize(run) << "\n"
                  << hub.serve->stderr_text());
  CHECK(run.at("status") == "succeeded");
  CHECK(StoredIds(hub.database, source) == expected);
  return run;
}

json::object Harvest(Hub& hub, const ApiEmulator& api) {
  return Harvest(hub, api, api.SourceDocument(), api.name(), api.ExpectedIds());
}

void HarvestsExactly(const std::string& name) {
  auto api = MakeApiEmulator(name);
  REQUIRE(api);
  Hub hub;
  json::object run = Harvest(hub, *api);
  CHECK(run.at("records_seen").as_int64() == static_cast<std::int64_t>(api->ExpectedIds().size()));
  CHECK(WarningCodes(run).empty());
}

}  // namespace

TEST_CASE("Stripe: starting_after from the last record while has_more", "[e2e]") {
  HarvestsExactly("stripe");
}

TEST_CASE("Slack: response_metadata.next_cursor until it is empty", "[e2e]") {
  HarvestsExactly("slack");
}

TEST_CASE("HubSpot: paging.next.after until paging is gone", "[e2e]") {
  HarvestsExactly("hubspot");
}

TEST_CASE("Zendesk incremental export: after_url until end_of_stream", "[e2e]") {
  HarvestsExactly("zendesk");
}

TEST_CASE("Notion: start_cursor and page_size in a POST body", "[e2e]") {
  HarvestsExactly("notion");
}

TEST_CASE("GitHub GraphQL: endCursor into variables while hasNextPage", "[e2e]") {
  HarvestsExactly("github_graphql");
}

TEST_CASE("Elasticsearch: search_after, an array, from the last hit's sort", "[e2e]") {
  HarvestsExactly("elasticsearch");
}

TEST_CASE("Reddit listings: data.after until null", "[e2e]") { HarvestsExactly("reddit"); }

TEST_CASE("X API v2: meta.next_token until it is absent", "[e2e]") { HarvestsExactly("twitter"); }

TEST_CASE("Shopify: page_info links followed without the first request's filters", "[e2e]") {
  HarvestsExactly("shopify");
}

TEST_CASE("WordPress: X-WP-TotalPages ends paging before the 400 past the end", "[e2e]") {
  HarvestsExactly("wordpress");
}

TEST_CASE("JSON:API: links.next until it is gone", "[e2e]") { HarvestsExactly("jsonapi"); }

TEST_CASE("OData: @odata.nextLink until it is gone", "[e2e]") { HarvestsExactly("odata"); }

TEST_CASE("an NDJSON bulk export: one record per line", "[e2e]") { HarvestsExactly("ndjson"); }

TEST_CASE("a CSV open-data file with quoted commas, quotes and line breaks", "[e2e]") {
  HarvestsExactly("csv");
}

TEST_CASE("GitHub REST: Link headers, and the primary rate limit waited out", "[e2e]") {
  auto api = MakeApiEmulator("github_rest");
  Hub hub;
  json::object run = Harvest(hub, *api);
  CHECK_THAT(hub.serve->stderr_text(), Catch::Contains("\"fetch.rate_limited\""));
  CHECK_THAT(hub.serve->stderr_text(), !Catch::Contains("\"fetch.retry\""));
  CHECK(run.at("waiting_until").is_null());
}

TEST_CASE(
    "Jira: offsets follow the 50 records a page held, all 173 are stored, and the capped "
    "page size is a warning",
    "[e2e]") {
  auto api = MakeApiEmulator("jira");
  Hub hub;
  json::object run = Harvest(hub, *api);
  CHECK(api->ExpectedIds().size() == 173);
  CHECK(WarningCodes(run) == std::set<std::string>{"short_page"});
}

TEST_CASE("OAuth2 client credentials: a short-lived token is renewed during the harvest", "[e2e]") {
  auto api = MakeApiEmulator("oauth2");
  Hub hub;
  Harvest(hub, *api);
  const auto& oauth2 = dynamic_cast<const OAuth2Emulator&>(*api);
  CHECK(oauth2.tokens_issued() >= 2);
  CHECK_THAT(hub.serve->stderr_text(), !Catch::Contains("emu-client-secret"));
}

TEST_CASE("parent and child: the issues of every repository, ids prefixed by their parent",
          "[e2e]") {
  auto api = MakeApiEmulator("parent_child");
  const auto& pair = dynamic_cast<const ParentChildEmulator&>(*api);
  Hub hub;
  Harvest(hub, *api, api->SourceDocument(), api->name(), pair.ParentIds());
  const std::string child =
      std::string(json::parse(pair.ChildSourceDocument()).at("name").as_string());
  Harvest(hub, *api, pair.ChildSourceDocument(), child, api->ExpectedIds());
  pqxx::connection c(hub.database.conninfo());
  pqxx::read_transaction tx(c);
  auto orphans = tx.exec_params1(
      "SELECT count(*) FROM records WHERE source = $1 AND (parent_source IS DISTINCT FROM $2 "
      "OR split_part(id, '/', 1) IS DISTINCT FROM parent_id)",
      child, api->name());
  CHECK(orphans[0].as<std::int64_t>() == 0);
}

TEST_CASE(
    "a child source needs its parent, keeps it from being deleted, runs after it, and "
    "shows its parent record",
    "[e2e]") {
  auto api = MakeApiEmulator("parent_child");
  const auto& pair = dynamic_cast<const ParentChildEmulator&>(*api);
  Hub hub;
  json::object child = json::parse(pair.ChildSourceDocument()).as_object();
  child["schedule"] = "after_parent";
  const std::string child_name(child.at("name").as_string());

  auto orphan = hub.Call("POST", "/api/v1/sources", json::serialize(child));
  CHECK(orphan.status == 422);
  CHECK_THAT(orphan.body, Catch::Contains("/for_each/source"));

  REQUIRE(hub.Call("POST", "/api/v1/sources", api->SourceDocument()).status == 201);
  REQUIRE(hub.Call("POST", "/api/v1/sources", json::serialize(child)).status == 201);
  REQUIRE(hub.RunToEnd(api->name()).at("status") == "succeeded");
  // The parent's success queues the child, which harvests every repository's issues.
  json::object child_run;
  REQUIRE(WaitFor(
      [&] {
        auto runs = hub.Call("GET", "/api/v1/sources/" + child_name + "/runs").json();
        if (runs.at("runs").as_array().empty()) return false;
        child_run = runs.at("runs").as_array()[0].as_object();
        return child_run.at("status") == "succeeded";
      },
      30s));
  CHECK(child_run.at("trigger") == "parent");
  CHECK(StoredIds(hub.database, child_name) == api->ExpectedIds());

  const std::string some_id = *api->ExpectedIds().begin();
  auto record =
      hub.Call("GET", "/api/v1/records/" + child_name + "/" +
                          std::string(boost::urls::encode(some_id, boost::urls::unreserved_chars)));
  INFO(record.body);
  REQUIRE(record.status == 200);
  CHECK(record.json().at("parent") ==
        json::value{{"source", api->name()}, {"id", some_id.substr(0, some_id.find('/'))}});

  auto exported = hub.Call("GET", "/api/v1/export?format=ndjson&source=" + child_name);
  INFO(exported.body.substr(0, 300));
  REQUIRE(exported.status == 200);
  std::size_t rows = 0;
  for (std::size_t at = 0, end; (end = exported.body.find('\n', at)) != std::string::npos;
       at = end + 1) {
    const json::value row = json::parse(exported.body.substr(at, end - at));
    const std::string id(row.at("id").as_string());
    CHECK(row.at("parent") ==
          json::value{{"source", api->name()}, {"id", id.substr(0, id.find('/'))}});
    ++rows;
  }
  CHECK(rows == api->ExpectedIds().size());
  auto csv = hub.Call("GET", "/api/v1/export?format=csv&source=" + child_name);
  CHECK(csv.body.starts_with("source,id,updated_at,parent_source,parent_id,"));

  auto refused = hub.Call("DELETE", "/api/v1/sources/" + api->name());
  CHECK(refused.status == 409);
  CHECK_THAT(refused.body, Catch::Contains(child_name));
  CHECK(hub.Call("DELETE", "/api/v1/sources/" + child_name).status == 204);
  CHECK(hub.Call("DELETE", "/api/v1/sources/" + api->name()).status == 204);
}

TEST_CASE("octohub sources preview tries a source file and saves nothing", "[e2e]") {
  auto api = MakeApiEmulator("wordpress");
  TempDir dir;
  auto file = dir.Write("wordpress.json", api->SourceDocument());
  auto text = RunProcess({OctohubBinary(), "sources", "preview", file.string(), "--pages", "5"});
  INFO(text.err);
  REQUIRE(text.exit_code == 0);
  CHECK_THAT(text.out, Catch::Contains("page 1:") && Catch::Contains("HTTP 200") &&
                           Catch::Contains("paging stopped: the last of the 3 pages") &&
                           Catch::Contains("suggested index:"));
  auto as_json = RunProcess({OctohubBinary(), "sources", "preview", file.string(), "--json"});
  REQUIRE(as_json.exit_code == 0);
  CHECK(json::parse(as_json.out).at("pages").as_array().size() == 3);

  auto bad = dir.Write("bad.json", R"({"name": "x", "url": "ftp://nowhere"})");
  auto refused = RunProcess({OctohubBinary(), "sources", "preview", bad.string()});
  CHECK(refused.exit_code == 1);
  CHECK_THAT(refused.err, Catch::Contains("/url"));
}

// The contract walk: reads the OpenAPI document the server serves and calls every operation in
// it (fragments added later included) with its documented examples, with no key, a revoked
// key and a key of each role. The role matrix comes from x-octohub-role; every answer must be
// one of the operation's documented responses, with a body that matches its schema.
#include <algorithm>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <map>

#include "json_schema.h"
#include "routes.h"
#include "running_server.h"
#include "static_assets.h"

namespace json = boost::json;
using octohub::testing::Client;
using octohub::testing::JsonSchemaValidator;
using octohub::testing::Response;
using octohub::testing::RunningServer;

namespace {

struct Operation {
  std::string method;  // upper case
  std::string path;    // the template, "/api/v1/sources/{name}"
  const json::object* spec;
  std::string role;  // x-octohub-role
};

int Rank(const std::string& role) {
  if (role == "none") return 0;
  if (role == "read") return 1;
  if (role == "write") return 2;
  if (role == "admin") return 3;
  FAIL("unknown x-octohub-role " << role);
  return -1;
}

std::string Encode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

std::string ExampleText(const json::value& example) {
  if (example.is_string()) return std::string(example.as_string());
  return json::serialize(example);  // numbers and booleans as JSON writes them
}

// The header's value (the last one, names compared case-insensitively), or "".
std::string HeaderValue(const std::string& headers, std::string name) {
  std::string lower_headers = headers;
  for (auto& c : lower_headers) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto at = lower_headers.rfind("\n" + name + ":");
  if (at == std::string::npos) return "";
  auto start = headers.find_first_not_of(' ', at + name.size() + 2);
  return headers.substr(start, headers.find('\r', start) - start);
}

// Every operation, creating ones first and deleting ones last, so that examples find the
// resources that earlier examples made.
std::vector<Operation> Operations(const json::object& doc) {
  std::vector<Operation> out;
  for (const auto& [path, item] : doc.at("paths").as_object()) {
    for (const auto& [method, spec] : item.as_object()) {
      if (!spec.is_object() || !spec.as_object().contains("operationId")) continue;
      std::string upper(method);
      for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      const auto* role = spec.as_object().if_contains("x-octohub-role");
      INFO(upper << " " << path);
      REQUIRE(role != nullptr);
      out.push_back({upper, std::string(path), &spec.as_object(), std::string(role->as_string())});
    }
  }
  auto order = [](const std::string& m) {
    return m == "POST" ? 0 : m == "PUT" ? 1 : m == "DELETE" ? 3 : 2;
  };
  std::stable_sort(out.begin(), out.end(), [&](const Operation& a, const Operation& b) {
    return order(a.method) < order(b.method);
  });
  return out;
}

struct Call {
  std::string url;
  std::vector<std::string> headers;
  std::string body;
};

// The request an operation's examples describe; every parameter and body must have one.
Call BuildCall(const RunningServer& s, const Operation& op) {
  Call call;
  std::string path = op.path, query;
  if (const auto* params = op.spec->if_contains("parameters")) {
    for (const auto& p : params->as_array()) {
      const auto& param = p.as_object();
      std::string name(param.at("name").as_string()), in(param.at("in").as_string());
      INFO(op.method << " " << op.path << ": parameter " << name);
      REQUIRE(param.contains("example"));
      std::string value = ExampleText(param.at("example"));
      if (in == "path") {
        auto at = path.find("{" + name + "}");
        REQUIRE(at != std::string::npos);
        path.replace(at, name.size() + 2, Encode(value));
      } else if (in == "query") {
        query += (query.empty() ? "?" : "&") + Encode(name) + "=" + Encode(value);
      } else if (in == "header") {
        call.headers.push_back(name + ": " + value);
      }
    }
  }
  if (const auto* body = op.spec->if_contains("requestBody")) {
    const auto& content = body->at("content").as_object();
    INFO(op.method << " " << op.path << ": request body");
    REQUIRE(content.contains("application/json"));
    const auto& media = content.at("application/json").as_object();
    REQUIRE(media.contains("example"));
    call.body = json::serialize(media.at("example"));
    call.headers.push_back("Content-Type: application/json");
  }
  call.url = s.url(path + query);
  return call;
}

// Checks the answer against the operation's documented responses.
void CheckDocumented(const JsonSchemaValidator& validator, const Operation& op,
                     const Response& response) {
  const auto& responses = op.spec->at("responses").as_object();
  const std::string status = std::to_string(response.status);
  INFO(op.method << " " << op.path << " answered " << status << ": " << response.body);
  const json::value* documented = responses.if_contains(status);
  REQUIRE(documented != nullptr);
  const json::value* resolved = documented;
  if (const auto* ref = documented->as_object().if_contains("$ref")) {
    resolved = &validator.Resolve(std::string(ref->as_string()));
  }
  const auto* content = resolved->as_object().if_contains("content");
  if (content == nullptr || response.body.empty()) {
    CHECK((content == nullptr || response.status == 304) == response.body.empty());
    return;
  }
  std::string type = HeaderValue(response.headers, "Content-Type");
  type = type.substr(0, type.find(';'));
  const auto* media = content->as_object().if_contains(type);
  INFO("Content-Type " << type);
  REQUIRE(media != nullptr);
  if (type != "application/json" && !type.ends_with("+json")) return;
  json::error_code ec;
  json::value body = json::parse(response.body, ec);
  REQUIRE(!ec);
  if (const auto* schema = media->as_object().if_contains("schema")) {
    auto errors = validator.Validate(*schema, body);
    for (const auto& e : errors) FAIL_CHECK("schema: " << e);
  }
}

}  // namespace

TEST_CASE("every documented operation answers as documented, for every role", "[pg][http]") {
  // The revoked key is tried on every operation: wrong keys are not limited here.
  RunningServer s([](octohub::api::ServerOptions& options) {
    options.public_read = false;
    options.auth_failures_per_minute = 0;
  });
  Client client;
  auto served = client.Get(s.url("/api/v1/openapi.json"));
  REQUIRE(served.status == 200);
  const json::value doc_value = json::parse(served.body);
  const json::object& doc = doc_value.as_object();
  CHECK(doc.at("openapi").as_string().starts_with("3.1"));
  JsonSchemaValidator validator(doc_value);

  auto revoked = octohub::api::KeyStore(s.database.db()).Create(octohub::api::Role::kAdmin, "gone");
  REQUIRE(revoked.ok());
  REQUIRE(octohub::api::KeyStore(s.database.db()).Revoke(revoked->key.id).ok());
  struct Caller {
    std::string name;
    int rank;  // -1: no usable key
    std::string header;
  };
  const std::vector<Caller> callers = {
      {"no key", -1, ""},
      {"revoked key", -1, "Authorization: Bearer " + revoked->secret},
      {"read key", 1, s.Auth(octohub::api::Role::kRead)},
      {"write key", 2, s.Auth(octohub::api::Role::kWrite)},
      {"admin key", 3, s.Auth(octohub::api::Role::kAdmin)}};

  auto operations = Operations(doc);
  REQUIRE(operations.size() >= 15);
  std::set<std::string> ids;
  for (const auto& op : operations) {
    CHECK(ids.insert(std::string(op.spec->at("operationId").as_string())).second);
    const int needed = Rank(op.role);
    for (const auto& caller : callers) {
      Call call = BuildCall(s, op);
      if (!caller.header.empty()) call.headers.push_back(caller.header);
      auto response = client.Get(call.url, call.headers, op.method, call.body);
      INFO(caller.name << ": " << op.method << " " << op.path << " (role " << op.role << ") -> "
                       << response.status << " " << response.body);
      if (needed == 0) {
        CHECK(response.status != 401);
        CHECK(response.status != 403);
      } else if (caller.rank < 0) {
        CHECK(response.status == 401);
        CHECK_THAT(response.headers, Catch::Contains("WWW-Authenticate: Bearer"));
      } else if (caller.rank < needed) {
        CHECK(response.status == 403);
      } else {
        CHECK(response.status != 401);
        CHECK(response.status != 403);
      }
      CHECK(response.status < 500);
      CheckDocumented(validator, op, response);
    }
  }
  // The server is still well after the walk.
  CHECK(client.Get(s.url("/healthz")).status == 200);
}

TEST_CASE("with public_read, anonymous clients get the read operations and nothing more",
          "[pg][http]") {
  RunningServer s(1 << 20, /*public_read=*/true);
  Client client;
  const json::value doc_value = json::parse(client.Get(s.url("/api/v1/openapi.json")).body);
  for (const auto& op : Operations(doc_value.as_object())) {
    Call call = BuildCall(s, op);
    auto response = client.Get(call.url, call.headers, op.method, call.body);
    INFO(op.method << " " << op.path << " (role " << op.role << ") -> " << response.status);
    if (Rank(op.role) <= 1) {
      CHECK(response.status != 401);
    } else {
      CHECK(response.status == 401);
    }
  }
}

TEST_CASE("the API reference page loads its renderer from this server", "[pg][http]") {
  RunningServer s;
  Client client;
  auto page = client.Get(s.url("/docs"));
  REQUIRE(page.status == 200);
  CHECK_THAT(page.headers, Catch::Contains("Content-Type: text/html"));
  CHECK_THAT(page.body, Catch::Contains("src=\"/docs/redoc.standalone.js\""));
  CHECK_THAT(page.body, Catch::Contains("spec-url=\"/api/v1/openapi.json\""));
  CHECK_THAT(page.body, !Catch::Contains("https://"));
  auto script = client.Get(s.url("/docs/redoc.standalone.js"));
  CHECK(script.status == 200);
  CHECK_THAT(script.headers, Catch::Contains("Content-Type: text/javascript"));
  CHECK(script.body.size() > 500000);
}

TEST_CASE("every route the server has is in the OpenAPI document", "[pg][http]") {
  RunningServer s;
  const json::value doc = json::parse(Client().Get(s.url("/api/v1/openapi.json")).body);
  const auto& paths = doc.at("paths").as_object();
  octohub::api::KeyStore keys(s.database.db());
  octohub::api::StaticAssets assets;
  // Every route, the export among them: one table holds them all.
  auto routes = octohub::api::BuildRoutes({s.database.db(), *s.searcher, s.metrics}, keys, assets,
                                          4, nullptr);
  const auto files = assets.Paths();  // the web UI's files: described once, as GET /
  int checked = 0;
  for (const auto& route : routes) {
    if (std::find(files.begin(), files.end(), route.pattern) != files.end()) continue;
    std::string method = route.method;
    for (auto& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    INFO(route.method << " " << route.pattern);
    const auto* item = paths.if_contains(route.pattern);
    REQUIRE(item != nullptr);
    CHECK(item->as_object().contains(method));
    // The documented role is the route's.
    const char* role = route.role == octohub::api::Role::kPublic  ? "none"
                       : route.role == octohub::api::Role::kRead  ? "read"
                       : route.role == octohub::api::Role::kWrite ? "write"
                                                                  : "admin";
    if (item->as_object().contains(method)) {
      CHECK(item->at(method).at("x-octohub-role") == role);
    }
    ++checked;
  }
  CHECK(checked >= 20);
  CHECK(std::any_of(routes.begin(), routes.end(),
                    [](const auto& route) { return route.pattern == "/api/v1/export"; }));
}

#include "octohub/core/source_spec.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace octohub {
namespace {
namespace json = boost::json;

// The example of SPEC §3 without its comments.
constexpr const char* kSpecExample = R"({
  "name": "issues",
  "url": "http://127.0.0.1:9000/api/issues",
  "method": "GET",
  "headers": {"Accept": "application/json"},
  "query": {"state": "all"},
  "auth": {"type": "bearer", "token": "…"},
  "records": "/items",
  "id": "/id",
  "pagination": {"type": "page", "param": "page", "start": 1, "size_param": "per_page", "size": 100},
  "incremental": {"cursor": "/updated_at", "param": "since"},
  "mode": "incremental",
  "schedule": "every 15m",
  "rate_limit": {"requests_per_second": 5},
  "max_pages": 10000,
  "timeout_s": 30,
  "index": {
    "title": "/title",
    "text": ["/body", "/labels/*/name"],
    "facets": {"state": "/state", "author": "/user/login"},
    "dates": {"updated": "/updated_at"},
    "numbers": {"comments": "/comments"},
    "language": "english"
  }
})";

constexpr const char* kMinimal = R"({"name": "s", "url": "http://example.com/api"})";

Result<SourceSpec> Parse(std::string_view text) { return ParseSourceSpec(json::parse(text)); }

// The minimal valid source with one top-level member set to `value` (JSON text).
Result<SourceSpec> ParseWith(const std::string& key, std::string_view value) {
  json::object document = json::parse(kMinimal).as_object();
  document[key] = json::parse(value);
  return ParseSourceSpec(document);
}

std::vector<std::string> Pointers(const Result<SourceSpec>& result) {
  std::vector<std::string> out;
  for (const auto& error : result.status().field_errors()) out.push_back(error.pointer);
  return out;
}

using Strings = std::vector<std::string>;

TEST_CASE("The SPEC example source parses with its request fields", "[unit]") {
  auto spec = Parse(kSpecExample);
  REQUIRE(spec.ok());
  CHECK(spec->name == "issues");
  CHECK(spec->url == "http://127.0.0.1:9000/api/issues");
  CHECK(spec->method == "GET");
  CHECK(spec->headers == NamedValues{{"Accept", "application/json"}});
  CHECK(spec->query == NamedValues{{"state", "all"}});
  CHECK(spec->auth == AuthSpec{AuthSpec::Type::kBearer, {"…", ""}, {}, {}, "", {}});
  CHECK(spec->records == "/items");
  CHECK(spec->id == std::optional<std::string>("/id"));
  CHECK_FALSE(spec->body.has_value());
}

TEST_CASE("The SPEC example source parses with its paging and scheduling fields", "[unit]") {
  auto spec = Parse(kSpecExample);
  REQUIRE(spec.ok());
  CHECK(spec->pagination ==
        PaginationSpec{PaginationSpec::Type::kPage, "page", 1, "per_page", 100, "", ""});
  REQUIRE(spec->incremental.has_value());
  CHECK(*spec->incremental == IncrementalSpec{"/updated_at", "since"});
  CHECK(spec->mode == SourceSpec::Mode::kIncremental);
  CHECK(spec->schedule == "every 15m");
  CHECK(spec->requests_per_second == 5);
  CHECK(spec->max_pages == 10000);
  CHECK(spec->timeout_s == 30);
}

TEST_CASE("The SPEC example source parses with its index mapping", "[unit]") {
  auto spec = Parse(kSpecExample);
  REQUIRE(spec.ok());
  CHECK(spec->index.title == "/title");
  CHECK(spec->index.text == Strings{"/body", "/labels/*/name"});
  CHECK(spec->index.facets == NamedValues{{"state", "/state"}, {"author", "/user/login"}});
  CHECK(spec->index.dates == NamedValues{{"updated", "/updated_at"}});
  CHECK(spec->index.numbers == NamedValues{{"comments", "/comments"}});
  CHECK(spec->index.language == "english");
}

TEST_CASE("A source with only a name and a URL gets the documented defaults", "[unit]") {
  auto spec = Parse(kMinimal);
  REQUIRE(spec.ok());
  CHECK(spec->method == "GET");
  CHECK(spec->pagination.type == PaginationSpec::Type::kNone);
  CHECK(spec->auth.type == AuthSpec::Type::kNone);
  CHECK(spec->records == "");
  CHECK_FALSE(spec->id.has_value());
  CHECK_FALSE(spec->incremental.has_value());
  CHECK(spec->mode == SourceSpec::Mode::kIncremental);
  CHECK(spec->schedule.empty());
  CHECK(spec->max_pages == 10000);
  CHECK(spec->timeout_s == 30);
  CHECK(spec->index.language == "english");
}

TEST_CASE("Page paging starts at 1 and offset paging at 0 by default", "[unit]") {
  auto page = ParseWith("pagination", R"({"type": "page"})");
  auto offset = ParseWith("pagination", R"({"type": "offset", "size": 50})");
  REQUIRE(page.ok());
  REQUIRE(offset.ok());
  CHECK(page->pagination.start == 1);
  CHECK(page->pagination.param == "page");
  CHECK(offset->pagination.start == 0);
  CHECK(offset->pagination.param == "offset");
}

TEST_CASE("Each invalid field is reported with its JSON Pointer", "[unit]") {
  auto [key, value, pointer] = GENERATE(table<std::string, std::string, std::string>({
      {"name", "5", "/name"},
      {"url", R"("ftp://example.com/x")", "/url"},
      {"method", R"("PUT")", "/method"},
      {"headers", "[]", "/headers"},
      {"headers", R"({"X-A": [1]})", "/headers/X-A"},
      {"query", R"({"a/b": null})", "/query/a~1b"},
      {"auth", R"({"type": "oauth"})", "/auth/type"},
      {"records", R"("items")", "/records"},
      {"id", R"("/x~2")", "/id"},
      {"pagination", R"({"type": "pages"})", "/pagination/type"},
      {"incremental", R"({"cursor": "/u"})", "/incremental/param"},
      {"mode", R"("full")", "/mode"},
      {"schedule", R"("sometimes")", "/schedule"},
      {"rate_limit", R"({"requests_per_second": 0})", "/rate_limit/requests_per_second"},
      {"max_pages", "0", "/max_pages"},
      {"max_pages", "1.5", "/max_pages"},
      {"timeout_s", R"("30")", "/timeout_s"},
      {"index", R"({"text": ["/a", 3]})", "/index/text/1"},
      {"index", R"({"title": "title"})", "/index/title"},
  }));
  auto spec = ParseWith(key, value);
  REQUIRE_FALSE(spec.ok());
  CHECK(spec.status().code() == StatusCode::kInvalidArgument);
  CHECK(Pointers(spec) == Strings{pointer});
  CHECK_FALSE(spec.status().field_errors()[0].reason.empty());
}

TEST_CASE("Several problems in one source are reported at once", "[unit]") {
  auto spec = Parse(R"({"name": "Bad Name", "url": "nope", "method": "PUT", "max_pages": 0})");
  REQUIRE_FALSE(spec.ok());
  CHECK(Pointers(spec) == Strings{"/name", "/url", "/method", "/max_pages"});
  CHECK_THAT(spec.status().message(), Catch::Contains("Bad Name"));
}

TEST_CASE("A source without a name and URL reports both as required", "[unit]") {
  auto spec = Parse("{}");
  REQUIRE_FALSE(spec.ok());
  CHECK(Pointers(spec) == Strings{"/name", "/url"});
  CHECK(spec.status().field_errors()[0].reason == "is required");
}

TEST_CASE("A source that is not an object is reported at the root pointer", "[unit]") {
  auto spec = Parse(R"(["name"])");
  REQUIRE_FALSE(spec.ok());
  CHECK(Pointers(spec) == Strings{""});
}

TEST_CASE("Unknown fields are rejected with their pointers", "[unit]") {
  auto spec = Parse(R"({"name": "s", "url": "http://h/", "colour": 1, "a/b": 2,
                        "auth": {"type": "bearer", "token": "t", "scope": "x"},
                        "index": {"boost": 2}})");
  REQUIRE_FALSE(spec.ok());
  CHECK(Pointers(spec) == Strings{"/colour", "/a~1b", "/auth/scope", "/index/boost"});
  CHECK(spec.status().field_errors()[0].reason == "unknown field");
}

TEST_CASE("Names outside [a-z0-9_-]{1,64} are rejected", "[unit]") {
  auto name =
      GENERATE(as<std::string>{}, "", "Issues", "has space", "a.b", "é", std::string(65, 'a'));
  CHECK(Pointers(ParseWith("name", json::serialize(json::value(name)))) == Strings{"/name"});
}

TEST_CASE("Names of [a-z0-9_-]{1,64} are accepted", "[unit]") {
  auto name = GENERATE(as<std::string>{}, "a", "issues_2-x", "0", std::string(64, 'z'));
  auto spec = ParseWith("name", json::serialize(json::value(name)));
  REQUIRE(spec.ok());
  CHECK(spec->name == name);
}

TEST_CASE("URLs that are not absolute http or https URLs are rejected", "[unit]") {
  auto url = GENERATE(as<std::string>{}, "ftp://example.com/x", "file:///etc/passwd",
                      "example.com/api", "/api/issues", "http://", "mailto:a@example.com");
  CHECK(Pointers(ParseWith("url", json::serialize(json::value(url)))) == Strings{"/url"});
}

TEST_CASE("http and https URLs are accepted", "[unit]") {
  auto url =
      GENERATE(as<std::string>{}, "https://api.example.com/v1?x=1", "http://127.0.0.1:9000/");
  auto spec = ParseWith("url", json::serialize(json::value(url)));
  REQUIRE(spec.ok());
  CHECK(spec->url == url);
}

TEST_CASE("A body is only allowed with POST and is kept as serialized JSON", "[unit]") {
  CHECK(Pointers(ParseWith("body", R"({"q": 1})")) == Strings{"/body"});
  auto spec =
      Parse(R"({"name": "s", "url": "http://h/", "method": "POST", "body": {"q": [1, "x"]}})");
  REQUIRE(spec.ok());
  CHECK(spec->method == "POST");
  CHECK(spec->body == std::optional<std::string>(R"({"q":[1,"x"]})"));
}

TEST_CASE("Auth of every type parses its secrets literally or as environment names", "[unit]") {
  using T = AuthSpec::Type;
  auto [auth, expected] = GENERATE(table<std::string, AuthSpec>({
      {R"({"type": "none"})", AuthSpec{}},
      {R"({"type": "bearer", "token": "t0k"})", {T::kBearer, {"t0k", ""}, {}, {}, "", {}}},
      {R"({"type": "bearer", "token_env": "GH_TOKEN"})",
       {T::kBearer, {"", "GH_TOKEN"}, {}, {}, "", {}}},
      {R"({"type": "basic", "username": "u", "password_env": "PW"})",
       {T::kBasic, {}, {"u", ""}, {"", "PW"}, "", {}}},
      {R"({"type": "header", "name": "X-Key", "value": "v"})",
       {T::kHeader, {}, {}, {}, "X-Key", {"v", ""}}},
      {R"({"type": "query", "name": "key", "value_env": "KEY"})",
       {T::kQuery, {}, {}, {}, "key", {"", "KEY"}}},
  }));
  auto spec = ParseWith("auth", auth);
  REQUIRE(spec.ok());
  CHECK(spec->auth == expected);
}

TEST_CASE("Auth problems are reported at the offending field", "[unit]") {
  auto [auth, pointer] = GENERATE(table<std::string, std::string>({
      {R"({"type": "bearer"})", "/auth/token"},
      {R"({"type": "bearer", "token": "a", "token_env": "B"})", "/auth/token"},
      {R"({"type": "bearer", "token_env": 3})", "/auth/token_env"},
      {R"({"type": "basic", "username": "u"})", "/auth/password"},
      {R"({"type": "header", "name": "", "value": "v"})", "/auth/name"},
      {R"({"type": "query", "value": "v"})", "/auth/name"},
      {R"({"token": "t"})", "/auth/type"},
      {R"("bearer")", "/auth"},
  }));
  auto spec = ParseWith("auth", auth);
  REQUIRE_FALSE(spec.ok());
  CHECK(Pointers(spec).front() == pointer);
}

TEST_CASE("Each pagination type parses its fields", "[unit]") {
  using T = PaginationSpec::Type;
  auto [pagination, expected] = GENERATE(table<std::string, PaginationSpec>({
      {R"({"type": "none"})", PaginationSpec{}},
      {R"({"type": "page", "start": 0, "size_param": "n", "size": 5})",
       {.type = T::kPage, .param = "page", .start = 0, .size_param = "n", .size = 5}},
      {R"({"type": "offset", "param": "skip", "size_param": "take", "size": 20})",
       {.type = T::kOffset, .param = "skip", .size_param = "take", .size = 20}},
      {R"({"type": "cursor", "param": "after", "cursor_path": "/meta/next"})",
       {.type = T::kCursor, .param = "after", .cursor_path = "/meta/next"}},
      {R"({"type": "next_url", "next_path": "/links/next"})",
       {.type = T::kNextUrl, .next_path = "/links/next"}},
      {R"({"type": "link_header", "size_param": "per_page", "size": 100})",
       {.type = T::kLinkHeader, .size_param = "per_page", .size = 100}},
  }));
  auto spec = ParseWith("pagination", pagination);
  REQUIRE(spec.ok());
  CHECK(spec->pagination == expected);
}

TEST_CASE("A pagination type without its required fields is rejected", "[unit]") {
  auto [pagination, pointers] = GENERATE(table<std::string, Strings>({
      {R"({"type": "cursor", "cursor_path": "/next"})", {"/pagination/param"}},
      {R"({"type": "cursor", "param": "c"})", {"/pagination/cursor_path"}},
      {R"({"type": "next_url"})", {"/pagination/next_path"}},
      {R"({"type": "offset"})", {"/pagination/size"}},
      {R"({"type": "page", "size_param": "n"})", {"/pagination/size"}},
      {R"({"type": "page", "cursor_path": "/n"})", {"/pagination/cursor_path"}},
      {R"({"type": "next_url", "next_path": "next"})", {"/pagination/next_path"}},
      {R"({"param": "p"})", {"/pagination/type", "/pagination/param"}},
  }));
  CHECK(Pointers(ParseWith("pagination", pagination)) == pointers);
}

TEST_CASE("Schedules of every N units and 5-field cron expressions are accepted", "[unit]") {
  auto schedule = GENERATE(as<std::string>{}, "every 15m", "every 30s", "every 2h", "every 1d",
                           "*/15 * * * *", "0 3 * * 1-5", "0,30 9-17 * * *");
  auto spec = ParseWith("schedule", json::serialize(json::value(schedule)));
  REQUIRE(spec.ok());
  CHECK(spec->schedule == schedule);
}

TEST_CASE("Schedules that are neither every N units nor 5-field cron are rejected", "[unit]") {
  auto schedule = GENERATE(as<std::string>{}, "every 0m", "every 15", "every 15 minutes", "hourly",
                           "* * * *", "* * * * * *", "a b c d e", "every -1h");
  CHECK(Pointers(ParseWith("schedule", json::serialize(json::value(schedule)))) ==
        Strings{"/schedule"});
}

TEST_CASE("Index field names must be valid, not reserved and used once", "[unit]") {
  auto [index, pointer] = GENERATE(table<std::string, std::string>({
      {R"({"facets": {"title": "/t"}})", "/index/facets/title"},
      {R"({"dates": {"updated_at": "/u"}})", "/index/dates/updated_at"},
      {R"({"numbers": {"id": "/n"}})", "/index/numbers/id"},
      {R"({"facets": {"state": "/s"}, "dates": {"state": "/d"}})", "/index/dates/state"},
      {R"({"facets": {"Bad-Name": "/s"}})", "/index/facets/Bad-Name"},
      {R"({"facets": {"state": 1}})", "/index/facets/state"},
      {R"({"facets": {"state": "state"}})", "/index/facets/state"},
  }));
  CHECK(Pointers(ParseWith("index", index)) == Strings{pointer});
}

TEST_CASE("An unknown index language is rejected and a known one accepted", "[unit]") {
  CHECK(Pointers(ParseWith("index", R"({"language": "klingon"})")) == Strings{"/index/language"});
  auto language = GENERATE(as<std::string>{}, "none", "french", "german2", "kraaij_pohlmann");
  auto spec = ParseWith("index", R"({"language": ")" + language + "\"}");
  REQUIRE(spec.ok());
  CHECK(spec->index.language == language);
}

TEST_CASE("Synonym groups are kept in lower case, and loops and oversized lists refused",
          "[unit]") {
  auto spec = ParseWith("index", R"({"synonyms": [["TV", " Television "],
                                                   ["nyc", "New  York City"]], "typos": false})");
  REQUIRE(spec.ok());
  CHECK(spec->index.synonyms ==
        std::vector<std::vector<std::string>>{{"tv", "television"}, {"nyc", "new york city"}});
  CHECK_FALSE(spec->index.typos);
  // Kept in the canonical JSON, so that they survive a round trip.
  auto again = Parse(json::serialize(SourceSpecToJson(*spec, false)));
  REQUIRE(again.ok());
  CHECK(again->index == spec->index);

  std::string huge = "[";
  for (int i = 0; i < 10000; ++i) huge += (i ? ",\"w" : "\"w") + std::to_string(i) + "\"";
  huge += "]";
  auto [synonyms, pointer] = GENERATE_COPY(table<std::string, std::string>({
      {R"([["a", "b"], ["b", "c"]])", "/index/synonyms/1/0"},  // a loop: b in two groups
      {R"([["a", "A"]])", "/index/synonyms/0/1"},
      {R"([["alone"]])", "/index/synonyms/0"},
      {R"("tv")", "/index/synonyms"},
      {R"([["a", 3]])", "/index/synonyms/0/1"},
      {R"([["a", "b:c"]])", "/index/synonyms/0/1"},
      {R"([["a", "\"quoted\""]])", "/index/synonyms/0/1"},
      {R"([["a", "one two three four five six seven eight nine"]])", "/index/synonyms/0/1"},
      {"[" + huge + "]", "/index/synonyms/0"},
  }));
  INFO(synonyms.substr(0, 80));
  CHECK(Pointers(ParseWith("index", R"({"synonyms": )" + synonyms + "}")) == Strings{pointer});
}

TEST_CASE("Redacted JSON hides literal secrets but keeps environment names", "[unit]") {
  auto spec = Parse(R"({"name": "s", "url": "http://h/",
                        "auth": {"type": "basic", "username": "alice", "password_env": "PW"}})");
  REQUIRE(spec.ok());
  json::object out = SourceSpecToJson(*spec, true);
  const json::object& auth = out.at("auth").as_object();
  CHECK(auth.at("username").as_string() == "***");
  CHECK(auth.at("password_env").as_string() == "PW");
  CHECK_FALSE(auth.contains("password"));
  CHECK(json::serialize(out).find("alice") == std::string::npos);
}

TEST_CASE("Redacted JSON hides bearer, header and query secrets", "[unit]") {
  auto [auth, key] = GENERATE(table<std::string, std::string>({
      {R"({"type": "bearer", "token": "s3cret"})", "token"},
      {R"({"type": "header", "name": "X-Key", "value": "s3cret"})", "value"},
      {R"({"type": "query", "name": "key", "value": "s3cret"})", "value"},
  }));
  auto spec = ParseWith("auth", auth);
  REQUIRE(spec.ok());
  CHECK(SourceSpecToJson(*spec, true).at("auth").as_object().at(key).as_string() == "***");
  CHECK(SourceSpecToJson(*spec, false).at("auth").as_object().at(key).as_string() == "s3cret");
}

TEST_CASE("Unredacted JSON parses back to an equal source", "[unit]") {
  auto text = GENERATE(
      as<std::string>{}, kSpecExample, kMinimal,
      R"({"name": "p", "url": "https://h/x", "method": "POST", "body": {"q": [1, {"a": null}]},
          "auth": {"type": "header", "name": "X-Key", "value_env": "K"}, "mode": "full_refresh",
          "pagination": {"type": "cursor", "param": "after", "cursor_path": "/next", "size_param": "n", "size": 3},
          "schedule": "0 * * * *", "timeout_s": 2.5, "max_pages": 7})",
      R"({"name": "q", "url": "http://h/", "records": "", "id": "/a~1b",
          "auth": {"type": "basic", "username_env": "U", "password": "p"},
          "pagination": {"type": "next_url", "next_path": "/links/next"},
          "index": {"text": "/body", "language": "none"}})",
      R"({"name": "r", "url": "http://h/", "auth": {"type": "query", "name": "k", "value": "v"},
          "pagination": {"type": "offset", "start": 10, "size": 25}, "rate_limit": {"requests_per_second": 0.5}})");
  auto spec = Parse(text);
  REQUIRE(spec.ok());
  auto again = ParseSourceSpec(SourceSpecToJson(*spec, false));
  REQUIRE(again.ok());
  CHECK(*again == *spec);
}

}  // namespace
}  // namespace octohub

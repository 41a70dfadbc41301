// The SPEC §3 fields for real APIs: paging in bodies and last records, stop conditions,
// formats, OAuth2, parent → child, correctness settings. Each problem is named by its pointer.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "octohub/core/source_spec.h"

namespace octohub {
namespace {
namespace json = boost::json;
using Strings = std::vector<std::string>;

Result<SourceSpec> Parse(std::string_view text) { return ParseSourceSpec(json::parse(text)); }

Strings Pointers(const Result<SourceSpec>& result) {
  Strings out;
  for (const auto& error : result.status().field_errors()) out.push_back(error.pointer);
  return out;
}

std::string Source(const std::string& members) {
  return R"({"name": "s", "url": "http://h/api")" + (members.empty() ? "" : ", " + members) + "}";
}

TEST_CASE("Paging fields for real APIs parse: record cursors, bodies and stop conditions",
          "[unit]") {
  auto stripe = Parse(Source(
      R"("records": "/data", "pagination": {"type": "cursor", "param": "starting_after",
          "cursor_record_path": "/id", "more_path": "/has_more", "size_param": "limit",
          "size": 100})"));
  REQUIRE(stripe.ok());
  CHECK(stripe->pagination.cursor_record_path == "/id");
  CHECK(stripe->pagination.more_path == "/has_more");

  auto graphql = Parse(Source(
      R"("method": "POST", "body": {"query": "q", "variables": {"after": null}},
          "pagination": {"type": "cursor", "body_param": "/variables/after",
          "size_body_param": "/variables/first", "size": 50,
          "cursor_path": "/data/x/pageInfo/endCursor", "more_path": "/data/x/pageInfo/hasNextPage"})"));
  REQUIRE(graphql.ok());
  CHECK(graphql->pagination.body_param == "/variables/after");
  CHECK(graphql->pagination.param.empty());

  auto wordpress = Parse(Source(
      R"("records": "", "pagination": {"type": "page", "size_param": "per_page", "size": 100,
          "pages_header": "X-WP-TotalPages", "total_header": "X-WP-Total"})"));
  REQUIRE(wordpress.ok());
  CHECK(wordpress->pagination.pages_header == "X-WP-TotalPages");

  auto jira = Parse(Source(
      R"("records": "/issues", "pagination": {"type": "offset", "param": "startAt",
          "size_param": "maxResults", "size": 100, "total_path": "/total"}, "strict": true,
          "max_delete_ratio": 0.2, "rate_limit": {"max_wait_s": 60})"));
  REQUIRE(jira.ok());
  CHECK(jira->pagination.total_path == "/total");
  CHECK(jira->strict);
  CHECK(jira->max_delete_ratio == 0.2);
  CHECK(jira->max_wait_s == 60);
  CHECK(jira->requests_per_second == 0);
}

TEST_CASE("Each problem of the new paging fields is named by its pointer", "[unit]") {
  auto [members, pointers] = GENERATE(table<std::string, Strings>({
      {R"("pagination": {"type": "cursor", "param": "c", "cursor_path": "/n",
          "cursor_record_path": "/id"})",
       {"/pagination/cursor_record_path"}},
      {R"("pagination": {"type": "cursor", "body_param": "/after", "cursor_path": "/n"})",
       {"/pagination/body_param"}},
      {R"("method": "POST", "pagination": {"type": "cursor", "param": "c",
          "body_param": "/after", "cursor_path": "/n"})",
       {"/pagination/param"}},
      {R"("method": "POST", "pagination": {"type": "page", "body_param": ""})",
       {"/pagination/body_param"}},
      {R"("method": "POST", "body": [1], "pagination": {"type": "page", "body_param": "/p"})",
       {"/body"}},
      {R"("pagination": {"type": "page", "size_body_param": "/n", "size": 5})",
       {"/pagination/size_body_param"}},
      {R"("pagination": {"type": "page", "more_path": "has_more"})", {"/pagination/more_path"}},
      {R"("pagination": {"type": "page", "pages_header": "X WP"})", {"/pagination/pages_header"}},
      {R"("pagination": {"type": "page", "total_path": "/t", "total_header": "X-Total"})",
       {"/pagination/total_header"}},
      {R"("pagination": {"type": "next_url", "next_path": "/n", "body_param": "/x"})",
       {"/pagination/body_param"}},
      {R"("format": "ndjson", "pagination": {"type": "cursor", "param": "c",
          "cursor_path": "/next"})",
       {"/pagination/cursor_path"}},
      {R"("format": "xml")", {"/format"}},
      {R"("strict": "yes")", {"/strict"}},
      {R"("max_delete_ratio": 2)", {"/max_delete_ratio"}},
      {R"("rate_limit": {"max_wait_s": -1})", {"/rate_limit/max_wait_s"}},
      {R"("rate_limit": {})", {"/rate_limit/requests_per_second"}},
  }));
  INFO(members);
  CHECK(Pointers(Parse(Source(members))) == pointers);
}

TEST_CASE("CSV and NDJSON sources page by numbers, headers and record cursors", "[unit]") {
  auto csv = Parse(Source(
      R"("format": "csv", "id": "/id", "pagination": {"type": "cursor", "param": "after",
          "cursor_record_path": "/id", "total_header": "X-Total"})"));
  REQUIRE(csv.ok());
  CHECK(csv->format == SourceSpec::Format::kCsv);
  auto ndjson = Parse(Source(R"("format": "ndjson", "pagination": {"type": "link_header"})"));
  REQUIRE(ndjson.ok());
  CHECK(ndjson->format == SourceSpec::Format::kNdjson);
}

TEST_CASE("OAuth2 auth parses both grants and names each problem", "[unit]") {
  auto client = Parse(Source(
      R"("auth": {"type": "oauth2", "token_url": "https://id.example/token",
          "client_id": "app", "client_secret_env": "OCTOHUB_SECRET_APP", "scope": "read"})"));
  REQUIRE(client.ok());
  const OAuth2Spec& o = client->auth.oauth2;
  CHECK(client->auth.type == AuthSpec::Type::kOAuth2);
  CHECK(o.grant == OAuth2Spec::Grant::kClientCredentials);
  CHECK(o.client_secret.env == "OCTOHUB_SECRET_APP");
  CHECK(o.client_auth == OAuth2Spec::ClientAuth::kBasic);

  auto refresh = Parse(Source(
      R"("auth": {"type": "oauth2", "token_url": "https://id.example/token",
          "grant_type": "refresh_token", "client_id": "app", "client_secret": "s",
          "refresh_token": "r", "client_auth": "body"})"));
  REQUIRE(refresh.ok());
  CHECK(refresh->auth.oauth2.refresh_token.value == "r");
  CHECK(refresh->auth.oauth2.client_auth == OAuth2Spec::ClientAuth::kBody);

  auto [auth, pointers] = GENERATE(table<std::string, Strings>({
      {R"({"type": "oauth2", "client_id": "a", "client_secret": "s"})", {"/auth/token_url"}},
      {R"({"type": "oauth2", "token_url": "ftp://x/", "client_id": "a", "client_secret": "s"})",
       {"/auth/token_url"}},
      {R"({"type": "oauth2", "token_url": "http://x/t", "client_id": "a"})",
       {"/auth/client_secret"}},
      {R"({"type": "oauth2", "token_url": "http://x/t", "client_id": "a", "client_secret": "s",
          "grant_type": "refresh_token"})",
       {"/auth/refresh_token"}},
      {R"({"type": "oauth2", "token_url": "http://x/t", "client_id": "a", "client_secret": "s",
          "grant_type": "password"})",
       {"/auth/grant_type"}},
      {R"({"type": "oauth2", "token_url": "http://x/t", "client_id": "a", "client_secret": "s",
          "client_auth": "jwt"})",
       {"/auth/client_auth"}},
  }));
  INFO(auth);
  CHECK(Pointers(Parse(Source(R"("auth": )" + auth))) == pointers);
}

TEST_CASE("A target may not use oauth2, which is for sources", "[unit]") {
  std::vector<FieldError> errors;
  auto document = json::parse(R"({"auth": {"type": "oauth2", "token_url": "http://x/t",
      "client_id": "a", "client_secret": "s"}})");
  ParseAuthMember(document.as_object(), errors);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].pointer == "/auth/type");
}

TEST_CASE("A child source names its parent and the variables it takes from each record", "[unit]") {
  auto child = Parse(R"({"name": "issues", "url": "http://h/repos/{owner}/{repo}/issues",
      "query": {"label": "{repo}-bug"}, "for_each": {"source": "repos",
      "vars": {"repo": "/name", "owner": "/owner/login"}}, "schedule": "after_parent"})");
  REQUIRE(child.ok());
  REQUIRE(child->for_each);
  CHECK(child->for_each->source == "repos");
  CHECK(child->for_each->vars == NamedValues{{"repo", "/name"}, {"owner", "/owner/login"}});
  CHECK(child->schedule == "after_parent");

  auto [document, pointers] = GENERATE(table<std::string, Strings>({
      {R"({"name": "c", "url": "http://h/{repo}", "for_each": {"source": "p", "vars": {}}})",
       {"/url"}},
      {R"({"name": "c", "url": "http://h/", "headers": {"X-Repo": "{nope}"},
          "for_each": {"source": "p", "vars": {"repo": "/name"}}})",
       {"/headers/X-Repo"}},
      {R"({"name": "c", "url": "http://h/", "for_each": {"source": "c", "vars": {"a": "/a"}}})",
       {"/for_each/source"}},
      {R"({"name": "c", "url": "http://h/", "for_each": {"source": "p",
          "vars": {"a-b": "/a", "c": "x"}}})",
       {"/for_each/vars/a-b", "/for_each/vars/c"}},
      {R"({"name": "c", "url": "http://h/", "for_each": {"source": "p"}})", {"/for_each/vars"}},
      {R"({"name": "c", "url": "http://h/", "schedule": "after_parent"})", {"/schedule"}},
  }));
  INFO(document);
  CHECK(Pointers(Parse(document)) == pointers);
}

TEST_CASE("Braces in a source without for_each are plain text", "[unit]") {
  auto spec = Parse(R"({"name": "s", "url": "http://h/api", "query": {"q": "{x}"}})");
  REQUIRE(spec.ok());
  CHECK(PlaceholderNames("a/{owner}/{repo}/{x-y}") == Strings{"owner", "repo"});
}

TEST_CASE("Every new field survives a round trip through the canonical JSON", "[unit]") {
  auto text =
      GENERATE(as<std::string>{},
               R"({"name": "es", "url": "http://h/_search", "method": "POST",
          "body": {"size": 100, "sort": [{"t": "asc"}]}, "records": "/hits/hits", "id": "/_id",
          "pagination": {"type": "cursor", "body_param": "/search_after",
          "cursor_record_path": "/sort", "size_body_param": "/size", "size": 100,
          "total_path": "/hits/total/value"},
          "rate_limit": {"requests_per_second": 2, "max_wait_s": 30}, "strict": true})",
               R"({"name": "wp", "url": "http://h/posts", "records": "", "format": "json",
          "pagination": {"type": "page", "size_param": "per_page", "size": 100,
          "pages_header": "X-WP-TotalPages", "done_path": "/end"}, "max_delete_ratio": 0.1})",
               R"({"name": "feed", "url": "http://h/f.csv", "format": "csv", "id": "/id",
          "auth": {"type": "oauth2", "token_url": "http://h/t", "grant_type": "refresh_token",
          "client_id": "c", "client_secret": "s", "refresh_token_env": "OCTOHUB_SECRET_R",
          "scope": "a b", "client_auth": "body"}})",
               R"({"name": "kids", "url": "http://h/{p}/x", "for_each": {"source": "parents",
          "vars": {"p": "/id"}}, "schedule": "after_parent", "format": "ndjson"})");
  auto spec = Parse(text);
  INFO(text << " -> " << spec.status().ToString());
  REQUIRE(spec.ok());
  auto again = ParseSourceSpec(SourceSpecToJson(*spec, false));
  INFO(again.status().ToString());
  REQUIRE(again.ok());
  CHECK(*again == *spec);
}

}  // namespace
}  // namespace octohub

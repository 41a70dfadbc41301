// The pure parts of harvesting real APIs: rate-limit answers, token requests, child requests
// per parent record, and the correctness guards' verdicts.
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "for_each.h"
#include "oauth2_client.h"
#include "retry_policy.h"
#include "run_guards.h"

namespace octohub::ingest {
namespace {
namespace json = boost::json;
using namespace std::chrono_literals;

HttpResponse Answer(long status, std::vector<std::pair<std::string, std::string>> headers) {
  HttpResponse response;
  response.status = status;
  response.headers = std::move(headers);
  return response;
}

const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));

TEST_CASE("rate-limit answers say how long to wait, other failures do not", "[unit]") {
  CHECK(RateLimitWait(Answer(429, {{"retry-after", "7"}}), kNow) == 7000ms);
  CHECK(RateLimitWait(
            Answer(403, {{"x-ratelimit-remaining", "0"}, {"x-ratelimit-reset", "1700000010"}}),
            kNow) == 10250ms);
  CHECK(RateLimitWait(Answer(429, {{"ratelimit-remaining", "0"}, {"ratelimit-reset", "3"}}),
                      kNow) == 3250ms);
  CHECK(RateLimitWait(
            Answer(403, {{"x-ratelimit-remaining", "0"}, {"x-ratelimit-reset", "1600000000"}}),
            kNow) == 250ms);                          // a reset in the past: go at once
  CHECK_FALSE(RateLimitWait(Answer(429, {}), kNow));  // a bare 429 is a failure to retry
  CHECK_FALSE(RateLimitWait(Answer(403, {}), kNow));  // a plain refusal
  CHECK_FALSE(RateLimitWait(
      Answer(403, {{"x-ratelimit-remaining", "12"}, {"x-ratelimit-reset", "1700000010"}}), kNow));
  CHECK_FALSE(RateLimitWait(Answer(503, {{"retry-after", "7"}}), kNow));
}

TEST_CASE("token requests are form-encoded per grant, the client in the body on request",
          "[unit]") {
  OAuth2Spec spec;
  spec.client_id = "app id";
  spec.scope = "read write";
  Credentials::OAuth2Secrets secrets{"s&cret=", "r/t"};
  CHECK(TokenRequestBody(spec, secrets) == "grant_type=client_credentials&scope=read%20write");
  spec.grant = OAuth2Spec::Grant::kRefreshToken;
  spec.client_auth = OAuth2Spec::ClientAuth::kBody;
  spec.scope.clear();
  CHECK(TokenRequestBody(spec, secrets) ==
        "grant_type=refresh_token&refresh_token=r%2Ft&client_id=app%20id&"
        "client_secret=s%26cret%3D");
}

TEST_CASE("a token is reused until shortly before it expires", "[unit]") {
  int fetched = 0;
  OAuth2Spec spec;
  spec.token_url = "http://id/token";
  OAuth2Client client(
      spec, {"s", ""},
      [&](const HttpRequest&) -> Result<HttpResponse> {
        ++fetched;
        HttpResponse response;
        response.status = 200;
        response.body = R"({"access_token": "t)" + std::to_string(fetched) +
                        R"(", "token_type": "Bearer", "expires_in": 100})";
        return response;
      },
      [](const std::string&) {});
  const auto start = OAuth2Client::Clock::now();
  CHECK(client.Token(start).value() == "t1");
  CHECK(client.just_fetched());
  CHECK(client.Token(start + 89s).value() == "t1");
  CHECK_FALSE(client.just_fetched());
  CHECK(client.Token(start + 91s).value() == "t2");  // 100 s less a tenth
  client.Invalidate();
  CHECK(client.Token(start + 92s).value() == "t3");
}

TEST_CASE("a child's request is filled from its parent record, the URL percent-encoded", "[unit]") {
  auto spec = ParseSourceSpec(json::parse(R"({"name": "issues",
      "url": "http://h/repos/{owner}/{repo}/issues", "method": "POST",
      "headers": {"X-Repo": "{repo}"}, "query": {"q": "repo:{owner}/{repo}"},
      "body": {"filter": {"repo": "{repo}", "n": 1}},
      "for_each": {"source": "repos", "vars": {"repo": "/name", "owner": "/owner/login"}}})"));
  REQUIRE(spec.ok());
  auto values =
      ParentValues(*spec->for_each, R"({"name": "a b/c", "owner": {"login": "me"}, "id": 7})");
  REQUIRE(values.ok());
  SourceSpec child = ExpandForParent(*spec, *values);
  CHECK(child.url == "http://h/repos/me/a%20b%2Fc/issues");
  CHECK(child.query == NamedValues{{"q", "repo:me/a b/c"}});
  CHECK(child.headers == NamedValues{{"X-Repo", "a b/c"}});
  CHECK(json::parse(*child.body) == json::parse(R"({"filter": {"repo": "a b/c", "n": 1}})"));
  CHECK(ChildRecordId("7", "42") == "7/42");

  auto missing = ParentValues(*spec->for_each, R"({"name": "x"})");
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.status().message(), Catch::Contains("/owner/login"));
}

TEST_CASE("the guards speak only when something is off", "[unit]") {
  CHECK_FALSE(TotalMismatch(std::nullopt, 5));
  CHECK_FALSE(TotalMismatch(5, 5));
  CHECK(TotalMismatch(173, 100)->code == "total_mismatch");
  CHECK_FALSE(ShortPage(std::nullopt, 100));
  CHECK_FALSE(CursorStalled("/u", "b", "c", 3));
  CHECK_FALSE(CursorStalled("/u", "b", "a", 0));
  CHECK(CursorStalled("/u", "b", "a", 3)->code == "cursor_stalled");
  CHECK(CursorStalled("/u", std::nullopt, std::nullopt, 1)->code == "cursor_stalled");
  CHECK_FALSE(CountDropped(50, 100));
  CHECK(CountDropped(49, 100)->code == "count_dropped");
  CHECK_FALSE(MassDelete(5, 10, 0.5));
  CHECK(MassDelete(6, 10, 0.5)->code == "mass_delete");
  CHECK_FALSE(MassDelete(0, 0, 0.5));

  WarningSet set;
  set.Add(ShortPage(2, 10));
  set.Add(ShortPage(5, 10));
  set.Add(std::nullopt);
  REQUIRE(set.List().size() == 1);
  CHECK_THAT(set.List()[0].detail, Catch::Contains("page 2") && Catch::Contains("1 more time"));
}

}  // namespace
}  // namespace octohub::ingest

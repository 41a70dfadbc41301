// The pure part of forwarding: target and rule documents, templates, bodies, signatures and
// retry timing.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cstdio>

#include "octohub/forward/delivery_request.h"
#include "octohub/forward/enqueue.h"
#include "octohub/forward/forward_request.h"
#include "octohub/forward/payload.h"
#include "octohub/forward/specs.h"

namespace json = boost::json;
using namespace octohub;
using namespace octohub::forward;

namespace {

TargetSpec Target(const std::string& extra = "") {
  auto spec =
      ParseTargetSpec(json::parse(R"({"name": "t", "url": "http://127.0.0.1:9/in")" + extra + "}"));
  REQUIRE(spec.ok());
  return *spec;
}

std::string Render(const std::string& text, const std::string& record) {
  auto compiled = PayloadTemplate::Compile(text);
  REQUIRE(compiled.ok());
  auto out = compiled->Render("issues", "42", record);
  REQUIRE(out.ok());
  return *out;
}

std::vector<std::string> Pointers(const Status& status) {
  std::vector<std::string> out;
  for (const auto& e : status.field_errors()) out.push_back(e.pointer);
  return out;
}

}  // namespace

TEST_CASE("templates render values by JSON Pointer, source and id", "[unit]") {
  struct Case {
    std::string text, record, expected;
  };
  const std::vector<Case> cases = {
      {"{{/title}}", R"({"title": "Hello"})", "Hello"},
      {"{{source}}:{{id}}", "{}", "issues:42"},
      {R"({"t": "{{/title}}"})", R"({"title": "say \"hi\"\n"})", R"({"t": "say \"hi\"\n"})"},
      {"{{/user/login}} {{/n}} {{/ok}}", R"({"user": {"login": "ann"}, "n": 3, "ok": true})",
       "ann 3 true"},
      {"{{{/labels}}}", R"({"labels": ["a", "b"]})", R"(["a","b"])"},
      {"[{{/missing}}]", "{}", "[]"},
      {"{{#/draft}}draft{{//draft}}{{^/draft}}final{{//draft}}", R"({"draft": false})", "final"},
      {"{{#/draft}}draft{{//draft}}", R"({"draft": true})", "draft"},
      {"{{{record}}}", R"({"a": 1})", R"({"a":1})"},
      {"{{/a~1b}}", R"({"a/b": "slash"})", "slash"},
      {"{{! a comment }}x", "{}", "x"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    CHECK(Render(c.text, c.record) == c.expected);
  }
}

TEST_CASE("a broken template is rejected naming the problem", "[unit]") {
  struct Case {
    std::string text, reason_part;
  };
  const std::vector<Case> cases = {
      {"{{#/a}}x", "never closed"},
      {"{{/title", "never closed"},
      {"{{title}}", "unknown name \"title\""},
      {"{{/a~2}}", "not a JSON Pointer"},
      {"{{> partial}}", "partials"},
      {"{{=<% %>=}}", "delimiters"},
      {"{{}}", "empty tag"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto compiled = PayloadTemplate::Compile(c.text);
    REQUIRE_FALSE(compiled.ok());
    CHECK_THAT(compiled.status().message(), Catch::Contains(c.reason_part));
  }
}

TEST_CASE("a target with a broken template gets an error at /template", "[unit]") {
  auto spec = ParseTargetSpec(json::parse(
      R"({"name": "t", "url": "http://x/in", "template": "{{#/a}}", "batch": 0,
          "method": "GET", "auth": {"type": "bearer"}, "color": 1})"));
  REQUIRE_FALSE(spec.ok());
  CHECK(Pointers(spec.status()) ==
        std::vector<std::string>{"/color", "/method", "/auth/token", "/template", "/batch"});
}

TEST_CASE("a target's defaults and its JSON form hide secrets", "[unit]") {
  TargetSpec spec = Target(R"(, "secret": "s3", "auth": {"type": "bearer", "token": "tok-9q"})");
  CHECK(spec.method == "POST");
  CHECK(spec.batch == 1);
  CHECK(spec.max_attempts == 11);
  const std::string shown = json::serialize(TargetSpecToJson(spec, true));
  CHECK(shown.find("s3") == std::string::npos);
  CHECK(shown.find("tok-9q") == std::string::npos);
  CHECK(shown.find("\"***\"") != std::string::npos);
  auto again = ParseTargetSpec(TargetSpecToJson(spec, false));
  REQUIRE(again.ok());
  CHECK(*again == spec);
}

TEST_CASE("rules are validated with pointers", "[unit]") {
  auto bad = ParseRuleSpec(json::parse(R"({"name": "R!", "query": {"q": 1}, "enabled": "y"})"));
  REQUIRE_FALSE(bad.ok());
  CHECK(Pointers(bad.status()) ==
        std::vector<std::string>{"/name", "/target", "/enabled", "/query/q"});
  auto good = ParseRuleSpec(
      json::parse(R"({"name": "r", "query": {"q": "rust", "source": "a,b"}, "target": "t"})"));
  REQUIRE(good.ok());
  CHECK(good->enabled);
  CHECK_FALSE(good->backfill);
  CHECK(SplitSources(good->source) == std::vector<std::string>{"a", "b"});
}

TEST_CASE("bodies: one record, a batch as an array, templates per record", "[unit]") {
  std::vector<ForwardRecord> two = {{"s", "1", R"({"a":1})"}, {"s", "2", R"({"a":2})"}};
  CHECK(*BuildBody(Target(), nullptr, {two[0]}) == R"({"a":1})");
  CHECK(*BuildBody(Target(R"(, "batch": 2)"), nullptr, two) == R"([{"a":1},{"a":2}])");
  CHECK_FALSE(BuildBody(Target(), nullptr, two).ok());  // more than the batch
  auto compiled = PayloadTemplate::Compile(R"({"id": "{{id}}", "a": {{/a}}})");
  REQUIRE(compiled.ok());
  CHECK(*BuildBody(Target(R"(, "batch": 5)"), &*compiled, two) ==
        R"([{"id": "1", "a": 1},{"id": "2", "a": 2}])");
  auto text = PayloadTemplate::Compile("a={{/a}}");
  const std::string plain = R"(, "headers": {"Content-Type": "text/plain"})";
  CHECK(*BuildBody(Target(plain), &*text, {two[0]}) == "a=1");
  CHECK_FALSE(BuildBody(Target(R"(, "batch": 2)" + plain), &*text, two).ok());  // a batch
}

TEST_CASE("a JSON target is only given renderings that are JSON", "[unit]") {
  auto raw = PayloadTemplate::Compile(R"({"title": "{{{/title}}}"})");
  REQUIRE(raw.ok());
  const ForwardRecord quoted{"s", "7", R"({"title": "the \"best\" one"})"};
  for (const std::string json_type : {"", R"(, "headers": {"content-type": "application/json"})",
                                      R"(, "headers": {"Content-Type": "application/ld+json"})"}) {
    INFO(json_type);
    auto refused = RenderRecord(Target(json_type), &*raw, quoted);
    REQUIRE_FALSE(refused.ok());
    CHECK_THAT(refused.status().message(), Catch::Contains("s/7") && Catch::Contains("not JSON") &&
                                               Catch::Contains("Content-Type"));
  }
  CHECK(*RenderRecord(Target(R"(, "headers": {"Content-Type": "text/plain"})"), &*raw, quoted) ==
        R"({"title": "the "best" one"})");
  // The escaping form stays JSON whatever the value holds.
  auto escaped = PayloadTemplate::Compile(R"({"title": "{{/title}}"})");
  CHECK(*RenderRecord(Target(), &*escaped, quoted) == R"({"title": "the \"best\" one"})");
}

TEST_CASE("records nest up to 64 levels in a template, and one deeper is refused by name",
          "[unit]") {
  auto nested = [](int depth) {
    return std::string(depth - 1, '[') + "{\"a\": 1}" + std::string(depth - 1, ']');
  };
  auto compiled = PayloadTemplate::Compile(R"({"id": "{{id}}"})");
  REQUIRE(compiled.ok());
  CHECK(RenderRecord(Target(), &*compiled, {"s", "41", R"({"x": )" + nested(40) + "}"}).ok());
  CHECK(RenderRecord(Target(), &*compiled, {"s", "64", R"({"x": )" + nested(63) + "}"}).ok());
  auto deep = RenderRecord(Target(), &*compiled, {"s", "65", R"({"x": )" + nested(64) + "}"});
  REQUIRE_FALSE(deep.ok());
  CHECK_THAT(deep.status().message(), Catch::Contains("s/65 is nested deeper than 64 levels"));
}

TEST_CASE("signatures are HMAC-SHA256 of the body, as openssl computes them", "[unit]") {
  // Expected values from: printf %s BODY | openssl dgst -sha256 -hmac SECRET
  CHECK(SignatureHeader("key", "The quick brown fox jumps over the lazy dog") ==
        "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
  CHECK(SignatureHeader("", "") ==
        "sha256=b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST_CASE("delivery retry delays follow the schedule, shortened by jitter only", "[unit]") {
  using std::chrono::milliseconds;
  const RetrySchedule schedule{milliseconds(1000), milliseconds(8000)};
  CHECK(RetryDelay(1, schedule, 0) == milliseconds(1000));
  CHECK(RetryDelay(1, schedule, 1) == milliseconds(800));
  CHECK(RetryDelay(2, schedule, 0.5) == milliseconds(7200));
  CHECK(RetryDelay(40, schedule, 0) == milliseconds(8000));  // past its end: its last wait
  CHECK(RetryDelay(1, {}, 0) == milliseconds(0));
}

TEST_CASE("a delivery's request carries its type, key, signature and auth, as the target says",
          "[unit]") {
  setenv("OCTOHUB_SECRET_TEST_DELIVERY_TOKEN", "env-tok", 1);
  unsetenv("OCTOHUB_SECRET_TEST_DELIVERY_MISSING");
  struct Case {
    std::string target;  // members added to Target()
    std::string url;     // expected
    std::vector<std::string> headers;
    std::optional<std::pair<std::string, std::string>> basic;
  };
  const std::string in = Target().url;
  const std::vector<Case> cases = {
      {"", in, {"Expect:", "Content-Type: application/json", "Idempotency-Key: 42"}, {}},
      {R"(, "headers": {"content-type": "text/plain", "X-Team": "a"})",
       in,
       {"Expect:", "content-type: text/plain", "X-Team: a", "Idempotency-Key: 42"},
       {}},
      {R"(, "auth": {"type": "bearer", "token_env": "OCTOHUB_SECRET_TEST_DELIVERY_TOKEN"})",
       in,
       {"Expect:", "Content-Type: application/json", "Idempotency-Key: 42",
        "Authorization: Bearer env-tok"},
       {}},
      {R"(, "auth": {"type": "header", "name": "X-Key", "value": "k1"})",
       in,
       {"Expect:", "Content-Type: application/json", "Idempotency-Key: 42", "X-Key: k1"},
       {}},
      {R"(, "auth": {"type": "query", "name": "api key", "value": "a&b=c"})",
       in + "?api%20key=a%26b%3Dc",
       {"Expect:", "Content-Type: application/json", "Idempotency-Key: 42"},
       {}},
      {R"(, "auth": {"type": "basic", "username": "u", "password": "p"})",
       in,
       {"Expect:", "Content-Type: application/json", "Idempotency-Key: 42"},
       std::pair<std::string, std::string>{"u", "p"}},
      {R"(, "secret": "s3")",
       in,
       {"Expect:", "Content-Type: application/json", "Idempotency-Key: 42",
        "X-Octohub-Signature: " + SignatureHeader("s3", R"({"a":1})"), "webhook-id: 42",
        "webhook-timestamp: 1700000000",
        "webhook-signature: " + *StandardWebhookSignature("s3", "42", 1700000000, R"({"a":1})")},
       {}},
  };
  const auto signed_at = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  for (const auto& c : cases) {
    INFO(c.target);
    auto request = BuildDeliveryRequest(Target(c.target), 42, R"({"a":1})", signed_at);
    REQUIRE(request.ok());
    CHECK(request->url == c.url);
    CHECK(request->headers == c.headers);
    CHECK(request->basic == c.basic);
  }
  // A query parameter joins a URL that has a query already.
  auto with_query = ParseTargetSpec(json::parse(
      R"({"name": "t", "url": "http://127.0.0.1:9/in?x=1",
          "auth": {"type": "query", "name": "k", "value": "v"}})"));
  REQUIRE(with_query.ok());
  auto joined = BuildDeliveryRequest(*with_query, 1, "");
  REQUIRE(joined.ok());
  CHECK(joined->url == "http://127.0.0.1:9/in?x=1&k=v");
  // A secret that cannot be read fails the attempt, naming where it was wanted.
  auto missing = BuildDeliveryRequest(
      Target(
          R"(, "auth": {"type": "bearer", "token_env": "OCTOHUB_SECRET_TEST_DELIVERY_MISSING"})"),
      1, "");
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.status().message(), Catch::Contains("/auth/token"));
}

TEST_CASE("a forward request names its target and either records or a query", "[unit]") {
  auto parse = [](const char* text) { return ParseForwardRequest(json::parse(text).as_object()); };
  auto chosen = parse(R"({"target": "t", "records": [{"source": "s", "id": "a"},
                                                      {"source": "s", "id": 7}]})");
  REQUIRE(chosen.ok());
  CHECK(chosen->target == "t");
  CHECK(chosen->records == std::vector<RecordKey>{{"s", "a"}, {"s", "7"}});
  CHECK_FALSE(chosen->query);
  auto matched = parse(R"({"target": "t", "query": {"q": "crash", "source": "a,b"}, "limit": 5})");
  REQUIRE(matched.ok());
  REQUIRE(matched->query);
  CHECK(matched->query->q == "crash");
  CHECK(matched->query->source == "a,b");
  CHECK(matched->query->limit == 5);
  CHECK(parse(R"({"target": "t", "query": {"q": ""}})")->query->limit == kDefaultForwardQueryLimit);
  struct Case {
    const char* body;
    std::vector<std::string> pointers;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"records": [{"source": "s", "id": "a"}]})", {"/target"}},
           {R"({"target": "t"})", {""}},
           {R"({"target": "t", "records": [], "query": {"q": ""}})", {"", "/records"}},
           {R"({"target": "t", "records": [{"source": "s"}], "limit": 3})",
            {"/limit", "/records/0"}},
           {R"({"target": "t", "query": {"q": 1, "x": "y"}, "limit": 0})",
            {"/query/q", "/query/x", "/limit"}},
           {R"({"target": "t", "query": "crash", "extra": true})", {"/extra", "/query"}},
       }) {
    INFO(c.body);
    auto refused = parse(c.body);
    REQUIRE_FALSE(refused.ok());
    CHECK(Pointers(refused.status()) == c.pointers);
  }
}

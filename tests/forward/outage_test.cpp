// Forwarding through outages (SPEC §5): retry schedules, the circuit breaker, pausing and
// resuming a target, replay, order per record and target, change-aware rules and Standard
// Webhooks signatures that a stock library verifies.
#include <atomic>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "forwarding_fixture.h"
#include "http_test_server.h"
#include "octohub/forward/delivery_request.h"
#include "octohub/forward/enqueue.h"
#include "octohub/forward/forwarder.h"
#include "octohub/forward/specs.h"
#include "temp_dir.h"

namespace json = boost::json;
using namespace std::chrono_literals;
using namespace octohub::forward;
using octohub::testing::Forwarding;
using octohub::testing::HttpTestServer;
using octohub::testing::TestRequest;
using octohub::testing::TestResponse;
using octohub::testing::WaitFor;

namespace {

const char* kExampleUrl = R"("url": "http://127.0.0.1:9/in")";

// The pointers a target document is refused at, or "accepted".
std::string TargetProblems(const std::string& members) {
  auto spec = ParseTargetSpec(json::parse(std::string(R"({"name": "t", )") + kExampleUrl +
                                          (members.empty() ? "" : ", " + members) + "}"));
  if (spec.ok()) return "accepted";
  std::string out;
  for (const auto& error : spec.status().field_errors()) out += error.pointer + " ";
  return out;
}

std::string RuleProblems(const std::string& members) {
  auto spec = ParseRuleSpec(
      json::parse(R"({"name": "r", "query": {"q": ""}, "target": "t", )" + members + "}"));
  if (spec.ok()) return "accepted";
  std::string out;
  for (const auto& error : spec.status().field_errors()) out += error.pointer + " ";
  return out;
}

// Counts the requests a target is handling at once, and the most there ever were.
struct Concurrency {
  std::atomic<int> now{0};
  std::atomic<int> most{0};
  struct Scope {
    Concurrency& c;
    explicit Scope(Concurrency& counter) : c(counter) {
      const int in = ++c.now;
      int seen = c.most.load();
      while (in > seen && !c.most.compare_exchange_weak(seen, in)) {
      }
    }
    ~Scope() { --c.now; }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;
  };
};

TestResponse Reset() {
  TestResponse reset;
  reset.reset = true;
  return reset;
}

std::string Title(const TestRequest& request) {
  return std::string(json::parse(request.body).at("title").as_string());
}

}  // namespace

TEST_CASE("the default retry schedule spans about a day, read from the configuration alone",
          "[unit]") {
  auto spec = ParseTargetSpec(json::parse(std::string("{\"name\": \"t\", ") + kExampleUrl + "}"));
  REQUIRE(spec.ok());
  std::chrono::milliseconds span{0};
  for (const auto wait : spec->retry_schedule) span += wait;
  CHECK(span == 23h + 42min + 35s);  // 5 s, 30 s, 2 min, 10 min, 30 min, 1, 2, 4, 8 and 8 h
  CHECK(spec->max_attempts == 11);   // the first try and ten retries
  CHECK(spec->pause_after == 24h);
  // Jitter only shortens a wait, by a fifth at most, so the span is an upper bound.
  CHECK(RetryDelay(1, spec->retry_schedule, 0.0) == 5s);
  CHECK(RetryDelay(1, spec->retry_schedule, 1.0) == 4s);
  CHECK(RetryDelay(10, spec->retry_schedule, 0.0) == 8h);
  CHECK(RetryDelay(30, spec->retry_schedule, 0.0) == 8h);  // past its end: the last wait
  const json::object saved = TargetSpecToJson(*spec, true);
  CHECK(saved.at("retry_schedule") ==
        json::parse(R"(["5s", "30s", "2m", "10m", "30m", "1h", "2h", "4h", "8h", "8h"])"));
  CHECK(saved.at("pause_after") == "1d");
  auto again = ParseTargetSpec(saved);
  REQUIRE(again.ok());
  CHECK(*again == *spec);
  // A target's own schedule; max_attempts still caps it.
  auto own =
      ParseTargetSpec(json::parse(std::string("{\"name\": \"t\", ") + kExampleUrl +
                                  R"(, "retry_schedule": ["250ms", "1m"], "max_attempts": 2})"));
  REQUIRE(own.ok());
  CHECK(own->retry_schedule == RetrySchedule{250ms, 1min});
  CHECK(own->max_attempts == 2);
  // Targets saved with the older backoff_s keep working: waits doubling from it.
  auto older = ParseTargetSpec(
      json::parse(std::string("{\"name\": \"t\", ") + kExampleUrl + R"(, "backoff_s": 1})"));
  REQUIRE(older.ok());
  CHECK(older->retry_schedule == RetrySchedule{1s, 2s, 4s, 8s, 16s, 32s, 64s});
  CHECK(older->max_attempts == 8);
}

TEST_CASE("a bad retry_schedule, pause_after or rule pointer is refused where it is wrong",
          "[unit]") {
  CHECK(TargetProblems(R"("retry_schedule": ["5s", "-5s"])") == "/retry_schedule/1 ");
  CHECK(TargetProblems(R"("retry_schedule": ["0s"])") == "/retry_schedule/0 ");
  CHECK(TargetProblems(R"("retry_schedule": [""])") == "/retry_schedule/0 ");
  CHECK(TargetProblems(R"("retry_schedule": ["soon", 5, "1.5s", "5 s"])") ==
        "/retry_schedule/0 /retry_schedule/1 /retry_schedule/2 /retry_schedule/3 ");
  CHECK(TargetProblems(R"("retry_schedule": [])") == "/retry_schedule ");
  CHECK(TargetProblems(R"("retry_schedule": "5s")") == "/retry_schedule ");
  std::string many = R"("retry_schedule": [)";
  for (int i = 0; i < 51; ++i) many += std::string(i > 0 ? "," : "") + "\"1s\"";
  CHECK(TargetProblems(many + "]") == "/retry_schedule ");
  CHECK(TargetProblems(R"("retry_schedule": ["20d", "10d", "1ms"])") == "/retry_schedule ");
  CHECK(TargetProblems(R"("retry_schedule": ["20d", "10d"])") == "accepted");  // 30 days
  CHECK(TargetProblems(R"("retry_schedule": ["1s"], "backoff_s": 1)") == "/backoff_s ");
  CHECK(TargetProblems(R"("pause_after": "never")") == "/pause_after ");
  CHECK(TargetProblems(R"("secret": "whsec_not base64!")") == "/secret ");
  CHECK(RuleProblems(R"("changed": ["/state", "state"])") == "/changed/1 ");
  CHECK(RuleProblems(R"("changed": ["/a~2b"])") == "/changed/0 ");
  CHECK(RuleProblems(R"("changed": [])") == "/changed ");
  CHECK(RuleProblems(R"("changed": "/state")") == "/changed ");
  CHECK(RuleProblems(R"("changed": ["/state", "/assignee/login"])") == "accepted");
}

TEST_CASE("the next attempt of a failed delivery follows the target's schedule and is shown",
          "[pg][http]") {
  Forwarding f;
  HttpTestServer target([](const TestRequest&) { return TestResponse{503, "later"}; });
  f.Put("1", "one");
  f.Target(target, "", R"(["1500ms", "1h"])");
  f.ForwardOne("1");
  f.Start();
  REQUIRE(WaitFor([&] { return f.Count("failed") == 1; }));
  // The first wait, less jitter of up to a fifth: between 1.2 and 1.5 s after the failure.
  const double wait = std::stod(f.api.database.Scalar(
      "SELECT extract(epoch FROM next_attempt_at - updated_at) FROM deliveries"));
  CHECK(wait >= 1.19);
  CHECK(wait <= 1.51);
  auto listed = f.GetJson("/api/v1/deliveries?status=failed").at("deliveries").at(0);
  CHECK(listed.at("next_attempt_at").is_string());
  REQUIRE(WaitFor([&] { return target.requests().size() == 2; }, 5s));
  // Then the second wait: an hour.
  REQUIRE(WaitFor([&] {
    return std::stod(f.api.database.Scalar(
               "SELECT extract(epoch FROM next_attempt_at - updated_at) FROM deliveries")) > 2800;
  }));
}

TEST_CASE("while a target is down one delivery at a time probes it, and the rest wait unspent",
          "[pg][http]") {
  Forwarding f;
  std::atomic<bool> down{true};
  Concurrency while_down, while_up;
  HttpTestServer target([&](const TestRequest&) {
    if (down) {
      Concurrency::Scope scope(while_down);
      std::this_thread::sleep_for(20ms);
      return Reset();  // no answer at all, as from a server that is gone
    }
    Concurrency::Scope scope(while_up);
    std::this_thread::sleep_for(30ms);
    return TestResponse{200, "{}"};
  });
  for (int i = 1; i <= 40; ++i) f.Put(std::to_string(i), "record " + std::to_string(i));
  f.Target(
      target, R"(, "concurrency": 8)",
      R"(["100ms", "100ms", "100ms", "100ms", "100ms", "100ms", "100ms", "100ms", "100ms", "100ms"])");
  std::string all = R"({"target": "t", "records": [)";
  for (int i = 1; i <= 40; ++i) {
    all += std::string(i > 1 ? "," : "") + R"({"source": "s", "id": ")" + std::to_string(i) + "\"}";
  }
  REQUIRE(f.Post("/api/v1/forwards", all + "]}").status == 202);
  f.Start();
  std::this_thread::sleep_for(1500ms);  // about 15 probes' worth of the schedule
  const size_t probes = target.requests().size();
  CHECK(f.Count("sent") == 0);
  CHECK(f.Count("dead") == 0);
  // The first burst may be up to the concurrency; after it, one probe at a time, about one per
  // wait of the schedule (40 deliveries retried on their own would be hundreds of requests).
  CHECK(probes < 45);
  // Only probes spent attempts: 40 deliveries, far fewer attempts.
  CHECK(std::stoll(f.api.database.Scalar("SELECT sum(attempts) FROM deliveries")) <=
        static_cast<std::int64_t>(probes));
  const int burst = while_down.most.load();
  while_down.most = 0;
  std::this_thread::sleep_for(500ms);
  CHECK(while_down.most.load() <= 1);  // past the first burst, never two at once
  CHECK(burst <= 8);
  auto state = f.GetJson("/api/v1/targets/t");
  CHECK(state.at("state") == "failing");
  CHECK(state.at("failing_since").is_string());
  CHECK_FALSE(state.at("last_error").as_string().empty());
  CHECK_THAT(f.client.Get(f.api.url("/metrics"), {f.write}).body,
             Catch::Contains(R"(octohub_target_state{target="t",state="failing"} 1)"));
  down = false;
  REQUIRE(WaitFor([&] { return f.Count("sent") == 40; }, 15s));
  // Back up to its concurrency, step by step: not all forty at once.
  CHECK(while_up.most.load() > 1);
  CHECK(while_up.most.load() <= 8);
  REQUIRE(WaitFor([&] { return f.GetJson("/api/v1/targets/t").at("state") == "active"; }));
  CHECK_THAT(f.client.Get(f.api.url("/metrics"), {f.write}).body,
             Catch::Contains(R"(octohub_target_state{target="t",state="active"} 1)"));
}

TEST_CASE("a target failing for pause_after is paused until resumed, and then gets everything",
          "[pg][http]") {
  Forwarding f;
  std::atomic<bool> healthy{false};
  HttpTestServer target([&](const TestRequest&) {
    return healthy ? TestResponse{200, "{}"} : TestResponse{503, "maintenance"};
  });
  for (int i = 1; i <= 5; ++i) f.Put(std::to_string(i), "record " + std::to_string(i));
  f.Target(target, R"(, "pause_after": "600ms")", R"(["50ms"])");
  auto saved = f.GetJson("/api/v1/targets/t");
  CHECK(saved.at("max_attempts") == 2);
  // max_attempts follows a schedule it does not cap: this one retries a lot.
  REQUIRE(
      f.client
          .Get(f.api.url("/api/v1/targets/t"), {f.write, octohub::testing::kJson}, "PUT",
               std::string(R"({"name": "t", "url": ")") + target.url("/in") +
                   R"(", "retry_schedule": ["50ms"], "max_attempts": 100, "pause_after": "600ms"})")
          .status == 200);
  for (int i = 1; i <= 5; ++i) f.ForwardOne(std::to_string(i));
  f.Start();
  REQUIRE(WaitFor([&] { return f.GetJson("/api/v1/targets/t").at("state") == "paused"; }));
  auto paused = f.GetJson("/api/v1/targets/t");
  CHECK(paused.at("paused_since").is_string());
  CHECK_THAT(std::string(paused.at("paused_reason").as_string()),
             Catch::Contains("every delivery failed for 600ms") && Catch::Contains("HTTP 503"));
  CHECK_THAT(f.client.Get(f.api.url("/metrics"), {f.write}).body,
             Catch::Contains(R"(octohub_target_state{target="t",state="paused"} 1)"));
  // Paused: nothing reaches it, nothing dies, everything waits.
  std::this_thread::sleep_for(300ms);
  const size_t seen = target.requests().size();
  std::this_thread::sleep_for(700ms);
  CHECK(target.requests().size() == seen);
  CHECK(f.Count("dead") == 0);
  CHECK(f.Count("sent") == 0);
  // A new delivery waits too.
  f.Put("6", "record 6");
  f.ForwardOne("6");
  std::this_thread::sleep_for(300ms);
  CHECK(target.requests().size() == seen);
  healthy = true;
  auto resumed = f.Post("/api/v1/targets/t/resume", "");
  REQUIRE(resumed.status == 200);
  CHECK(json::parse(resumed.body).at("state") == "active");
  REQUIRE(WaitFor([&] { return f.Count("sent") == 6; }));
  CHECK(f.GetJson("/api/v1/targets/t").at("state") == "active");
  CHECK(f.Post("/api/v1/targets/nope/resume", "").status == 404);
}

TEST_CASE("a paused target deleted and created again starts active and is sent to", "[pg][http]") {
  Forwarding f;
  HttpTestServer down([](const TestRequest&) { return TestResponse{502, "bad gateway"}; });
  HttpTestServer up([](const TestRequest&) { return TestResponse{200, "{}"}; });
  f.Put("1", "one");
  f.Target(down, R"(, "pause_after": "300ms", "max_attempts": 100)", R"(["50ms"])");
  f.ForwardOne("1");
  f.Start();
  REQUIRE(WaitFor([&] { return f.GetJson("/api/v1/targets/t").at("state") == "paused"; }));
  auto admin = f.api.Auth(octohub::testing::Role::kAdmin);
  REQUIRE(f.client.Get(f.api.url("/api/v1/targets/t"), {admin}, "DELETE").status == 204);
  f.Target(up);
  CHECK(f.GetJson("/api/v1/targets/t").at("state") == "active");
  f.ForwardOne("1");
  REQUIRE(WaitFor([&] { return f.Count("sent") == 1; }));
  CHECK(up.requests().size() == 1);
}

TEST_CASE("replay makes chosen deliveries pending again under their own ids", "[pg][http]") {
  Forwarding f;
  std::atomic<bool> healthy{false};
  HttpTestServer target([&](const TestRequest&) {
    return healthy ? TestResponse{200, "{}"} : TestResponse{500, "broken"};
  });
  for (int i = 1; i <= 4; ++i) f.Put(std::to_string(i), "record " + std::to_string(i));
  f.Target(target, R"(, "max_attempts": 2)", R"(["20ms"])");
  f.ForwardOne("1");
  f.ForwardOne("2");
  f.Start();
  REQUIRE(WaitFor([&] { return f.Count("dead") == 2; }));
  healthy = true;
  f.ForwardOne("3");
  REQUIRE(WaitFor([&] { return f.Count("sent") == 1; }));
  const std::string between = f.api.database.Scalar(
      "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')");
  f.ForwardOne("4");
  REQUIRE(WaitFor([&] { return f.Count("sent") == 2; }));
  auto replay = [&](const std::string& body) { return f.Post("/api/v1/deliveries/replay", body); };
  // Never everything by accident.
  CHECK(replay("{}").status == 400);
  CHECK(replay(R"({"status": ["pending"]})").status == 422);
  CHECK(replay(R"({"since": "yesterday"})").status == 422);
  CHECK(replay(R"({"target": "t", "colour": "red"})").status == 422);
  CHECK(replay("[]").status == 422);
  // The dead ones, by target (dead and failed unless said otherwise).
  auto dead = replay(R"({"target": "t"})");
  REQUIRE(dead.status == 202);
  CHECK(json::parse(dead.body).at("replayed") == 2);
  REQUIRE(WaitFor([&] { return f.Count("sent") == 4; }));
  // Sent ones created after a moment: only record 4's.
  auto later = replay(R"({"status": ["sent"], "since": ")" + between + R"("})");
  REQUIRE(later.status == 202);
  CHECK(json::parse(later.body).at("replayed") == 1);
  REQUIRE(WaitFor(
      [&] { return Title(target.requests().back()) == "record 4" && f.Count("sent") == 4; }));
  // A replayed delivery keeps its id: the receiver sees the same keys again and can drop it.
  std::map<std::string, int> keys;
  for (const auto& request : target.requests()) ++keys[request.headers.at("idempotency-key")];
  const std::string four =
      f.api.database.Scalar("SELECT id FROM deliveries WHERE records->0->>'id' = '4'");
  CHECK(keys[four] == 2);
  CHECK(json::parse(replay(R"({"rule": "no-such-rule"})").body).at("replayed") == 0);
  CHECK(json::parse(replay(R"({"until": "2000-01-01T00:00:00Z", "status": ["sent"]})").body)
            .at("replayed") == 0);
}

TEST_CASE("a record's versions reach a target in order, though every other first try fails",
          "[pg][http]") {
  Forwarding f;
  std::mutex mutex;
  std::set<std::string> tried;  // deliveries whose first attempt came
  int firsts = 0;
  std::map<std::string, std::vector<std::string>> arrived;  // per record, versions taken
  HttpTestServer target([&](const TestRequest& request) {
    const json::value body = json::parse(request.body);
    std::lock_guard lock(mutex);
    if (tried.insert(request.headers.at("idempotency-key")).second && ++firsts % 2 == 1) {
      return TestResponse{503, "not now"};
    }
    arrived[std::string(body.at("id").as_string())].emplace_back(body.at("title").as_string());
    return TestResponse{200, "{}"};
  });
  f.Target(target, R"(, "concurrency": 8, "max_attempts": 20)", R"(["30ms"])");
  constexpr int kRecords = 6;
  const std::vector<std::string> versions{"v1", "v2", "v3", "v4", "v5"};
  for (const auto& version : versions) {
    for (int record = 1; record <= kRecords; ++record) {
      f.Put(std::to_string(record), version);
      f.ForwardOne(std::to_string(record));
    }
  }
  f.Start();
  REQUIRE(WaitFor([&] { return f.Count("sent") == kRecords * 5; }, 30s));
  std::lock_guard lock(mutex);
  REQUIRE(arrived.size() == kRecords);
  for (const auto& [record, taken] : arrived) {
    INFO("record " << record);
    CHECK(taken == versions);
  }
}

TEST_CASE("a change-aware rule forwards what changed at its pointers, saying from what",
          "[pg][http]") {
  Forwarding f;
  HttpTestServer target([](const TestRequest&) { return TestResponse{200, "ok"}; });
  RuleEvaluator rules(f.api.database.db(), *f.api.searcher);
  auto index = [&] {
    REQUIRE(f.api.follower.CatchUp().ok());
    REQUIRE(rules
                .Evaluate(std::stoll(
                    f.api.database.Scalar("SELECT coalesce(max(change_seq), 0) FROM records")))
                .ok());
  };
  f.Target(
      target,
      R"(, "headers": {"Content-Type": "text/plain"}, "template": "{{/title}}: {{#previous/state}}{{previous/state}} → {{/previous/state}}{{/state}} {{{changes}}}")");
  REQUIRE(f.Post("/api/v1/rules", R"({"name": "closed", "query": {"q": "", "source": "s"},
      "target": "t", "changed": ["/state"]})")
              .status == 201);
  f.Put("1", "the bug", "open");  // new: changed from absent
  index();
  f.Put("1", "the bug, retitled", "open");  // only the title: not forwarded
  index();
  f.Put("1", "the bug, retitled", "closed");
  index();
  f.Put("1", "the bug, fixed", "closed");  // closed still
  index();
  f.Put("1", "the bug, fixed", "open");  // reopened
  index();
  f.Start();
  REQUIRE(WaitFor([&] { return f.Count("sent") == 3; }));
  std::this_thread::sleep_for(300ms);
  CHECK(f.Count("sent") + f.Count("pending") + f.Count("failed") == 3);
  std::vector<std::string> bodies;
  for (const auto& request : target.requests()) bodies.push_back(request.body);
  CHECK(bodies ==
        std::vector<std::string>{
            R"(the bug: open {"/state":{"from":null,"to":"open"}})",
            R"(the bug, retitled: open → closed {"/state":{"from":"open","to":"closed"}})",
            R"(the bug, fixed: closed → open {"/state":{"from":"closed","to":"open"}})"});
}

TEST_CASE("the previous version is kept per record, one back, and forgotten with a deletion",
          "[pg]") {
  Forwarding f;
  f.Put("1", "first");
  CHECK(f.api.database.Scalar("SELECT previous_data IS NULL FROM records WHERE id = '1'") == "t");
  f.Put("1", "second");
  f.Put("1", "second");  // the same content: nothing new, nothing shifts
  f.Put("1", "third");
  CHECK(f.api.database.Scalar("SELECT previous_data->>'title' FROM records WHERE id = '1'") ==
        "second");
  f.api.database.Scalar("UPDATE records SET deleted = true WHERE id = '1' RETURNING 1");
  f.Put("1", "back again");
  CHECK(f.api.database.Scalar("SELECT previous_data IS NULL FROM records WHERE id = '1'") == "t");
}

TEST_CASE("signed deliveries carry Standard Webhooks headers a stock library verifies",
          "[pg][http]") {
  const std::string secret = GENERATE(std::string("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
                                      std::string("a plain secret"));
  Forwarding f;
  HttpTestServer target([](const TestRequest&) { return TestResponse{200, "{}"}; });
  f.Put("1", "one");
  f.Put("2", "two \"quoted\" ünïcode");
  f.Target(target, R"(, "secret": ")" + secret + "\"");
  f.ForwardOne("1");
  f.ForwardOne("2");
  f.Start();
  REQUIRE(WaitFor([&] { return f.Count("sent") == 2; }));
  json::array captured;
  for (const auto& request : target.requests()) {
    json::object headers;
    for (const auto& [name, value] : request.headers) headers[name] = value;
    CHECK(request.headers.at("webhook-id") == request.headers.at("idempotency-key"));
    captured.push_back({{"headers", headers}, {"body", request.body}});
  }
  REQUIRE(captured.size() == 2);
  octohub::testing::TempDir dir;
  const auto path = dir.path() / "captured.json";
  std::ofstream(path) << json::serialize(json::object{
      {"secret", secret}, {"raw", !secret.starts_with("whsec_")}, {"requests", captured}});
  const std::string command = std::string(OCTOHUB_NODE) + " " + OCTOHUB_SOURCE_DIR +
                              "/tests/forward/verify_standard_webhooks.cjs " + OCTOHUB_SOURCE_DIR +
                              " " + path.string();
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buffer[4096];
  while (fgets(buffer, sizeof(buffer), pipe) != nullptr) out += buffer;
  REQUIRE(pclose(pipe) == 0);
  INFO(out);
  const json::value results = json::parse(out);
  REQUIRE(results.as_array().size() == 2);
  for (const auto& result : results.as_array()) {
    CHECK(result.at("as_sent") == true);
    CHECK(result.at("altered") == false);
    CHECK(result.at("replayed_later") == false);
  }
}

TEST_CASE("the webhook signature matches an independent HMAC of id, timestamp and body", "[unit]") {
  // The secret's bytes after whsec_ are base64 for "octohub test key"; openssl keys with hex.
  const std::string body = R"({"id":"1"})";
  auto signature =
      StandardWebhookSignature("whsec_b2N0b2h1YiB0ZXN0IGtleQ==", "42", 1700000000, body);
  REQUIRE(signature.ok());
  FILE* pipe = popen(
      "printf '%s' '42.1700000000.{\"id\":\"1\"}' | openssl dgst -sha256 -mac HMAC -macopt "
      "hexkey:6f63746f6875622074657374206b6579 -binary | base64",
      "r");
  REQUIRE(pipe != nullptr);
  char buffer[256] = {};
  std::string expected = fgets(buffer, sizeof(buffer), pipe) ? buffer : "";
  pclose(pipe);
  while (!expected.empty() && expected.back() == '\n') expected.pop_back();
  CHECK(*signature == "v1," + expected);
  CHECK_FALSE(StandardWebhookSignature("whsec_***", "42", 1, body).ok());
}

// Forwarding end to end inside one process: the REST routes fill the outbox, the forwarder
// sends to a loopback target that fails on demand, rules fire after index commits.
#include "octohub/forward/forwarder.h"

#include <unistd.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cstdio>
#include <pqxx/pqxx>
#include <set>
#include <thread>

#include "forwarding_fixture.h"
#include "http_test_server.h"
#include "octohub/forward/delivery_outbox.h"
#include "octohub/ingest/ingest.h"
#include "running_server.h"
#include "scoped_network_guard.h"
#include "seed_records.h"

namespace json = boost::json;
using namespace std::chrono_literals;
using octohub::testing::Client;
using octohub::testing::Forwarding;
using octohub::testing::Hmac;
using octohub::testing::HttpTestServer;
using octohub::testing::kJson;
using octohub::testing::Response;
using octohub::testing::Role;
using octohub::testing::RunningServer;
using octohub::testing::TestRequest;
using octohub::testing::TestResponse;
using octohub::testing::WaitFor;

TEST_CASE("forwarded records arrive with an idempotency key and a signature that verifies",
          "[pg][http]") {
  Forwarding f;
  HttpTestServer target([](const TestRequest&) { return TestResponse{200, "{}"}; });
  f.Put("1", "first");
  f.Put("2", "second");
  f.Target(target, R"(, "secret": "s3cret", "headers": {"X-Team": "blue"}, "concurrency": 1)");
  auto forwarded = f.Post("/api/v1/forwards", R"({"target": "t", "records": [
      {"source": "s", "id": "1"}, {"source": "s", "id": "2"}]})");
  REQUIRE(forwarded.status == 202);
  CHECK(json::parse(forwarded.body).at("deliveries") == 2);
  f.Start();
  REQUIRE(WaitFor([&] { return f.Count("sent") == 2; }));
  auto seen = target.requests();
  REQUIRE(seen.size() == 2);
  std::set<std::string> keys;
  for (const auto& request : seen) {
    CHECK(request.method == "POST");
    CHECK(request.headers.at("content-type") == "application/json");
    CHECK(request.headers.at("x-team") == "blue");
    CHECK(request.headers.at("x-octohub-signature") == Hmac("s3cret", request.body));
    CHECK(json::parse(request.body).at("title").is_string());
    keys.insert(request.headers.at("idempotency-key"));
  }
  CHECK(keys == std::set<std::string>{"1", "2"});
  CHECK(target.connections_accepted() == 1);  // one request at a time: one keep-alive connection
}

TEST_CASE("batches: N records per request as a JSON array, templates per record", "[pg][http]") {
  Forwarding f;
  HttpTestServer target([](const TestRequest&) { return TestResponse{204, ""}; });
  for (int i = 1; i <= 5; ++i) f.Put(std::to_string(i), "title " + std::to_string(i));
  f.Target(
      target,
      R"(, "batch": 2, "template": "{\"key\": \"{{source}}/{{id}}\", \"t\": \"{{/title}}\"}")");
  auto forwarded = f.Post("/api/v1/forwards", R"({"target": "t", "records": [
      {"source": "s", "id": "1"}, {"source": "s", "id": "2"}, {"source": "s", "id": "3"},
      {"source": "s", "id": "4"}, {"source": "s", "id": "5"}]})");
  REQUIRE(forwarded.status == 202);
  CHECK(json::parse(forwarded.body).at("deliveries") == 3);
  f.Start();
  REQUIRE(WaitFor([&] { return f.Count("sent") == 3; }));
  std::vector<std::string> bodies;
  for (const auto& request : target.requests()) bodies.push_back(request.body);
  std::sort(bodies.begin(), bodies.end());
  CHECK(bodies == std::vector<std::string>{
                      R"([{"key": "s/1", "t": "title 1"},{"key": "s/2", "t": "title 2"}])",
                      R"([{"key": "s/3", "t": "title 3"},{"key": "s/4", "t": "title 4"}])",
                      R"([{"key": "s/5", "t": "title 5"}])"});
}

TEST_CASE("a target's own method, Content-Type and auth from the environment are used",
          "[pg][http]") {
  Forwarding f;
  HttpTestServer target([](const TestRequest&) { return TestResponse{200, "{}"}; });
  f.Put("1", "plain words");
  setenv("OCTOHUB_SECRET_TEST_TARGET_TOKEN", "env-token", 1);
  f.Target(target, R"(, "method": "PUT", "headers": {"Content-Type": "text/plain"},
      "auth": {"type": "bearer", "token_env": "OCTOHUB_SECRET_TEST_TARGET_TOKEN"},
      "template": "{{source}}/{{id}}: {{/title}}")");
  f.ForwardOne("1");
  f.Start();
  REQUIRE(WaitFor([&] { return f.Count("sent") == 1; }));
  const TestRequest request = target.requests().at(0);
  CHECK(request.method == "PUT");
  CHECK(request.headers.at("content-type") == "text/plain");
  CHECK(request.headers.at("authorization") == "Bearer env-token");
  CHECK(request.body == "s/1: plain words");
}

TEST_CASE("a target that redirects elsewhere never passes on the payload or the credentials",
          "[pg][http]") {
  Forwarding f;
  HttpTestServer elsewhere([](const TestRequest&) { return TestResponse{200, "{}"}; });
  HttpTestServer target([&](const TestRequest&) {
    return TestResponse{307, "", {{"Location", elsewhere.url("/in")}}};
  });
  f.Put("1", "one");
  f.Target(target, R"(, "auth": {"type": "header", "name": "X-Api-Key", "value": "k1"})");
  f.ForwardOne("1");
  f.Start();
  REQUIRE(WaitFor([&] { return f.Count("dead") == 1; }));
  CHECK(target.requests().size() == 1);
  CHECK(elsewhere.requests().empty());
  CHECK_THAT(f.api.database.Scalar("SELECT last_error FROM deliveries"),
             Catch::Contains("HTTP 307") && Catch::Contains("do not follow redirects"));
}

TEST_CASE("a target on a denied network is refused at once, with the reason", "[pg][http]") {
  octohub::testing::ScopedNetworkGuard guard("127.0.0.2/32");
  Forwarding f;
  HttpTestServer target([](const TestRequest&) { return TestResponse{200, "{}"}; }, "127.0.0.2");
  f.Put("1", "one");
  f.Target(target);
  f.ForwardOne("1");
  f.Start();
  REQUIRE(WaitFor([&] { return f.Count("dead") == 1; }));
  CHECK(target.requests().empty());
  CHECK(f.api.database.Scalar("SELECT attempts FROM deliveries") == "1");
  CHECK_THAT(f.api.database.Scalar("SELECT last_error FROM deliveries"),
             Catch::Contains("refused by the network guard: 127.0.0.2 is in the denied network"));
}

TEST_CASE("a record the template cannot render is one dead delivery, and the others are sent",
          "[pg][http]") {
  Forwarding f;
  HttpTestServer target([](const TestRequest&) { return TestResponse{200, "{}"}; });
  f.Put("1", "plain");
  f.Put("2", R"(a "quoted" title)");  // breaks the raw {{{…}}} below
  f.Put("3", "also plain");
  f.Target(target, R"(, "template": "{\"title\": \"{{{/title}}}\"}")");
  auto forwarded = f.Post("/api/v1/forwards", R"({"target": "t", "records": [
      {"source": "s", "id": "1"}, {"source": "s", "id": "2"}, {"source": "s", "id": "3"}]})");
  REQUIRE(forwarded.status == 202);
  const auto result = json::parse(forwarded.body);
  CHECK(result.at("deliveries") == 3);
  CHECK(result.at("dead") == 1);
  f.Start();
  REQUIRE(WaitFor([&] { return f.Count("sent") == 2; }));
  CHECK(f.Count("dead") == 1);
  REQUIRE(target.requests().size() == 2);
  for (const auto& request : target.requests()) CHECK(json::parse(request.body).is_object());
  const std::string dead = f.api.database.Scalar("SELECT id FROM deliveries WHERE status = 'dead'");
  auto shown = f.GetJson("/api/v1/deliveries/" + dead).as_object();
  CHECK(shown.at("records").as_array().at(0).at("id") == "2");
  CHECK_THAT(std::string(shown.at("last_error").as_string()),
             Catch::Contains("s/2") && Catch::Contains("not JSON"));
  // Sending it again cannot help: the answer says what to do instead.
  auto retried = f.Post("/api/v1/deliveries/" + dead + "/retry", "");
  CHECK(retried.status == 409);
  CHECK_THAT(retried.body, Catch::Contains("Fix the target's template"));
}

TEST_CASE("a rule sends deeply nested records, and one past the limit is dead, not the batch",
          "[pg][http]") {
  Forwarding f;
  HttpTestServer target([](const TestRequest&) { return TestResponse{200, "{}"}; });
  octohub::forward::RuleEvaluator rules(f.api.database.db(), *f.api.searcher);
  f.Target(target, R"(, "batch": 10, "template": "{\"id\": \"{{id}}\"}")");
  REQUIRE(
      f.Post("/api/v1/rules", R"({"name": "r", "target": "t", "query": {"q": "zebra"}})").status ==
      201);
  auto nested = [](int depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  // Records as ingest would store them: two fine (one 41 levels deep), one too deep.
  for (const auto& [id, depth] :
       std::vector<std::pair<std::string, int>>{{"a", 1}, {"b", 40}, {"c", 70}}) {
    octohub::testing::SeedRecord(
        f.api.database.db(), "s", id,
        R"({"id": ")" + id + R"(", "title": "zebra", "deep": )" + nested(depth) + "}");
  }
  REQUIRE(f.api.follower.CatchUp().ok());
  REQUIRE(rules
              .Evaluate(std::stoll(
                  f.api.database.Scalar("SELECT coalesce(max(change_seq), 0) FROM records")))
              .ok());
  f.Start();
  REQUIRE(WaitFor([&] { return f.Count("sent") == 1 && f.Count("dead") == 1; }));
  REQUIRE(target.requests().size() == 1);
  CHECK(target.requests()[0].body == R"([{"id": "a"},{"id": "b"}])");
  CHECK_THAT(f.api.database.Scalar("SELECT last_error FROM deliveries WHERE status = 'dead'"),
             Catch::Contains("s/c is nested deeper than 64 levels"));
}

TEST_CASE("500 bursts, resets and timeouts are retried until the delivery is sent", "[pg][http]") {
  Forwarding f;
  std::atomic<int> calls{0};
  HttpTestServer target([&](const TestRequest&) {
    switch (++calls) {
      case 1:
      case 2:
        return TestResponse{500, "boom"};
      case 3: {
        TestResponse reset;
        reset.reset = true;
        return reset;
      }
      case 4:
        std::this_thread::sleep_for(1500ms);  // longer than timeout_s
        return TestResponse{200, "late"};
      default:
        return TestResponse{200, "{}"};
    }
  });
  f.Put("1", "one");
  f.Target(target, R"(, "timeout_s": 0.5)");
  f.ForwardOne("1");
  f.Start();
  REQUIRE(WaitFor([&] { return f.Count("sent") == 1; }, 20s));
  auto delivery = f.GetJson("/api/v1/deliveries?status=sent").at("deliveries").at(0);
  // libcurl resends once by itself when a reused connection dies before any answer: the
  // reset and the timeout that follows it are one attempt.
  CHECK(delivery.at("attempts") == 4);
  CHECK(delivery.at("last_status") == 200);
  auto seen = target.requests();
  REQUIRE(seen.size() == 5);
  for (const auto& request : seen) CHECK(request.headers.at("idempotency-key") == "1");
}

TEST_CASE("429 with Retry-After waits that long before the next attempt", "[pg][http]") {
  Forwarding f;
  std::atomic<int> calls{0};
  HttpTestServer target([&](const TestRequest&) {
    if (++calls == 1) return TestResponse{429, "slow down", {{"Retry-After", "1"}}};
    return TestResponse{200, "{}"};
  });
  f.Put("1", "one");
  f.Target(target);
  f.ForwardOne("1");
  const auto started = std::chrono::steady_clock::now();
  f.Start();
  REQUIRE(WaitFor([&] { return f.Count("sent") == 1; }));
  CHECK(std::chrono::steady_clock::now() - started >= 1s);  // the schedule alone would wait 50 ms
  CHECK(calls == 2);
}

TEST_CASE("after max_attempts a delivery is dead with its last status, and can be retried",
          "[pg][http]") {
  Forwarding f;
  std::atomic<bool> healthy{false};
  HttpTestServer target([&](const TestRequest&) {
    return healthy ? TestResponse{200, "{}"} : TestResponse{503, "down for maintenance"};
  });
  f.Put("1", "one");
  f.Target(target, R"(, "max_attempts": 3)");
  f.ForwardOne("1");
  f.Start();
  REQUIRE(WaitFor([&] { return f.Count("dead") == 1; }));
  auto dead = f.GetJson("/api/v1/deliveries?status=dead&target=t").at("deliveries").at(0);
  CHECK(dead.at("attempts") == 3);
  CHECK(dead.at("last_status") == 503);
  CHECK(dead.at("response_excerpt") == "down for maintenance");
  CHECK(target.requests().size() == 3);
  healthy = true;
  const std::string id = std::to_string(dead.at("id").as_int64());
  auto retried = f.Post("/api/v1/deliveries/" + id + "/retry", "");
  CHECK(retried.status == 202);
  REQUIRE(WaitFor([&] { return f.Count("sent") == 1; }));
  CHECK(f.Post("/api/v1/deliveries/" + id + "/retry", "").status == 409);  // already sent
  CHECK(f.Post("/api/v1/deliveries/999/retry", "").status == 404);
}

TEST_CASE("a 400 from the target is dead at once: retrying cannot fix it", "[pg][http]") {
  Forwarding f;
  HttpTestServer target([](const TestRequest&) { return TestResponse{400, "bad field"}; });
  f.Put("1", "one");
  f.Target(target);
  f.ForwardOne("1");
  f.Start();
  REQUIRE(WaitFor([&] { return f.Count("dead") == 1; }));
  CHECK(target.requests().size() == 1);
  CHECK_THAT(f.api.metrics.Render(),
             Catch::Contains(R"(octohub_deliveries_total{target="t",status="dead"} 1)"));
  CHECK(WaitFor([&] {
    return f.api.metrics.Render().find(R"(octohub_delivery_queue_depth{target="t"} 0)") !=
           std::string::npos;
  }));
}

TEST_CASE("a rule forwards exactly the new matching records once they are indexed, once",
          "[pg][http]") {
  Forwarding f;
  HttpTestServer target([](const TestRequest&) { return TestResponse{200, "{}"}; });
  octohub::forward::RuleEvaluator rules(f.api.database.db(), *f.api.searcher);
  auto index = [&] {
    REQUIRE(f.api.follower.CatchUp().ok());
    REQUIRE(rules
                .Evaluate(std::stoll(
                    f.api.database.Scalar("SELECT coalesce(max(change_seq), 0) FROM records")))
                .ok());
  };
  f.Put("old", "rust before the rule");
  index();
  f.Target(target);
  auto rule = f.Post("/api/v1/rules",
                     R"({"name": "r", "query": {"q": "rust", "source": "s"}, "target": "t"})");
  REQUIRE(rule.status == 201);
  f.Put("1", "rust news");
  f.Put("2", "python news");
  f.Put("3", "more rust", "closed");
  index();
  f.Start();
  REQUIRE(WaitFor([&] { return f.Count("sent") == 2; }));
  std::set<std::string> ids;
  for (const auto& request : target.requests())
    ids.insert(std::string(json::parse(request.body).at("id").as_string()));
  CHECK(ids == std::set<std::string>{"1", "3"});
  // Unchanged records are not forwarded again; a changed matching one is.
  f.Put("1", "rust news");  // same content, new sequence
  f.Put("2", "python news, now with rust");
  index();
  REQUIRE(WaitFor([&] { return f.Count("sent") == 3; }));
  std::this_thread::sleep_for(300ms);
  CHECK(f.Count("sent") + f.Count("pending") == 3);
  CHECK(json::parse(target.requests().back().body).at("id") == "2");
}

TEST_CASE("a rule with backfill forwards what matches when it is saved", "[pg][http]") {
  Forwarding f;
  HttpTestServer target([](const TestRequest&) { return TestResponse{200, "{}"}; });
  f.Put("1", "rust one");
  f.Put("2", "rust two");
  f.Put("3", "go three");
  REQUIRE(f.api.follower.CatchUp().ok());
  f.Target(target);
  auto rule = f.Post("/api/v1/rules",
                     R"({"name": "r", "query": {"q": "rust"}, "target": "t", "backfill": true})");
  REQUIRE(rule.status == 201);
  CHECK(json::parse(rule.body).at("backfill_result").at("records") == 2);
  CHECK(f.Count("pending") == 2);
}

TEST_CASE("forwarding by query takes the matches up to the limit", "[pg][http]") {
  Forwarding f;
  HttpTestServer target([](const TestRequest&) { return TestResponse{200, "{}"}; });
  for (int i = 0; i < 5; ++i) f.Put(std::to_string(i), "rust " + std::to_string(i));
  f.Put("x", "other");
  REQUIRE(f.api.follower.CatchUp().ok());
  f.Target(target);
  auto forwarded =
      f.Post("/api/v1/forwards", R"({"target": "t", "query": {"q": "rust"}, "limit": 3})");
  REQUIRE(forwarded.status == 202);
  CHECK(json::parse(forwarded.body).at("deliveries") == 3);
}

// A target created while the forwarder runs is new to it when its first delivery is claimed;
// that delivery must be sent at once, never left leased and unsent.
TEST_CASE("deliveries to targets created while the forwarder runs are sent at once", "[pg][http]") {
  Forwarding f;
  HttpTestServer target([](const TestRequest&) { return TestResponse{200, "{}"}; });
  // A slow target kept busy meanwhile, so the sender is awake often, as in a busy hub.
  HttpTestServer slow([](const TestRequest&) {
    std::this_thread::sleep_for(5ms);
    return TestResponse{200, "{}"};
  });
  f.Put("1", "one");
  REQUIRE(f.Post("/api/v1/targets",
                 R"({"name": "busy", "concurrency": 1, "url": ")" + slow.url("/in") + R"("})")
              .status == 201);
  octohub::testing::SeedRecords(f.api.database.db(), "s", 1000, [](int i) {
    return json::object{{"id", "b" + std::to_string(i)}, {"title", "busy"}};
  });
  std::string many;
  for (int i = 1; i <= 1000; ++i) {
    many +=
        std::string(i > 1 ? "," : "") + R"({"source": "s", "id": "b)" + std::to_string(i) + "\"}";
  }
  REQUIRE(f.Post("/api/v1/forwards", R"({"target": "busy", "records": [)" + many + "]}").status ==
          202);
  f.Start();
  for (int i = 0; i < 40; ++i) {
    const std::string name = "fresh-" + std::to_string(i);
    REQUIRE(f.Post("/api/v1/targets",
                   R"({"name": ")" + name + R"(", "url": ")" + target.url("/in") + R"("})")
                .status == 201);
    REQUIRE(f.Post("/api/v1/forwards",
                   R"({"target": ")" + name + R"(", "records": [{"source": "s", "id": "1"}]})")
                .status == 202);
    INFO("delivery " << i);
    REQUIRE(WaitFor(
        [&] {
          return f.api.database.Scalar(
                     "SELECT count(*) FROM deliveries WHERE status = 'sent' "
                     "AND target = '" +
                     name + "'") == "1";
        },
        5s));
  }
}

TEST_CASE("the outbox hands back chosen deliveries for any forwarder to claim", "[pg][http]") {
  Forwarding f;
  HttpTestServer target([](const TestRequest&) { return TestResponse{200, "{}"}; });
  f.Target(target);
  for (const char* id : {"1", "2", "3"}) {
    f.Put(id, "one");
    f.ForwardOne(id);
  }
  octohub::forward::DeliveryOutbox outbox(f.api.database.db());
  pqxx::connection c(f.api.database.conninfo());
  auto first = outbox.Claim(c, "a", 10, 60);
  REQUIRE(first.ok());
  REQUIRE(first->size() == 3);
  CHECK(outbox.Claim(c, "b", 10, 60)->empty());  // all leased to a
  REQUIRE(outbox.ReleaseLeases(c, "a", {first->at(0).id, first->at(2).id}).ok());
  CHECK(outbox.ReleaseLeases(c, "b", {first->at(1).id}).ok());  // not b's: untouched
  auto second = outbox.Claim(c, "b", 10, 60);
  REQUIRE(second.ok());
  std::set<std::int64_t> ids;
  for (const auto& delivery : *second) ids.insert(delivery.id);
  CHECK(ids == std::set<std::int64_t>{first->at(0).id, first->at(2).id});
  // Record 1 again: not claimable while its older delivery is unfinished, then it is.
  f.ForwardOne("1");
  CHECK(outbox.Claim(c, "c", 10, 60)->empty());
  octohub::forward::DeliveryOutcome sent;
  sent.id = first->at(0).id;
  sent.target = "t";
  sent.attempts = 1;
  sent.http_status = 200;
  sent.sent = true;
  REQUIRE(outbox.Record(c, "b", {sent}).ok());
  auto newer = outbox.Claim(c, "c", 10, 60);
  REQUIRE(newer.ok());
  REQUIRE(newer->size() == 1);
  CHECK(newer->front().id > first->at(2).id);
}

TEST_CASE("the outbox answers a failing database with a status, never an exception", "[pg]") {
  octohub::testing::TestDatabase database;
  octohub::forward::DeliveryOutbox outbox(database.db());
  pqxx::connection c(database.conninfo());
  database.Scalar("ALTER TABLE deliveries RENAME TO deliveries_elsewhere");
  octohub::forward::DeliveryOutcome outcome;
  outcome.id = 1;
  outcome.sent = true;
  std::vector<octohub::Status> answers;
  REQUIRE_NOTHROW(answers.push_back(outbox.Claim(c, "me", 10, 60).status()));
  REQUIRE_NOTHROW(answers.push_back(outbox.Record(c, "me", {outcome})));
  REQUIRE_NOTHROW(answers.push_back(outbox.RenewLeases(c, "me", 60)));
  REQUIRE_NOTHROW(answers.push_back(outbox.ReleaseLeases(c, "me")));
  REQUIRE_NOTHROW(answers.push_back(outbox.ReleaseLeases(c, "me", {1, 2})));
  REQUIRE_NOTHROW(answers.push_back(outbox.QueueDepth(c).status()));
  for (const auto& answer : answers) {
    INFO(answer.message());
    CHECK_FALSE(answer.ok());
    CHECK_THAT(answer.message(), !Catch::Contains("deliveries_elsewhere"));  // no raw SQL
  }
}

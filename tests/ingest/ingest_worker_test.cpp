#include <stdlib.h>

#include <atomic>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <map>
#include <thread>

#include "http_test_server.h"
#include "octohub/ingest/ingest.h"
#include "test_database.h"

namespace json = boost::json;
using octohub::SourceSpec;
using octohub::ingest::IngestWorker;
using octohub::ingest::MakeCurlFetcher;
using octohub::ingest::Run;
using octohub::ingest::RunQueue;
using octohub::ingest::SourceRegistry;
using octohub::testing::HttpTestServer;
using octohub::testing::TestDatabase;
using octohub::testing::TestRequest;
using octohub::testing::TestResponse;

namespace {

// An upstream with `pages` of items, paged by ?page=N (N from 1), two items a page.
struct PagedApi {
  std::map<int, std::string> titles;  // id -> title
  std::atomic<int> fail_page{0};      // answer 500 for this page
  std::atomic<int> fail_times{1000};  // ...this many times, then answer normally
  std::atomic<int> fail_status{500};
  std::string retry_after;      // sent with the failures when set
  std::atomic<int> slow_ms{0};  // delay of the first answer
  HttpTestServer server{[this](const TestRequest& r) { return Answer(r); }};

  explicit PagedApi(int items) {
    for (int id = 1; id <= items; ++id) titles[id] = "title " + std::to_string(id);
  }

  TestResponse Answer(const TestRequest& request) {
    int page = request.query.count("page") ? std::stoi(request.query.at("page")) : 1;
    if (int ms = slow_ms.exchange(0); ms > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    if (page == fail_page && fail_times-- > 0) {
      TestResponse failure{
          fail_status, "<html>upstream broke</html>", {{"Content-Type", "text/html"}}};
      if (!retry_after.empty()) failure.headers.emplace_back("Retry-After", retry_after);
      return failure;
    }
    json::array items;
    int index = 0;
    for (const auto& [id, title] : titles) {
      if (index++ / 2 + 1 != page) continue;
      items.push_back(
          {{"id", id}, {"title", title}, {"updated", "2024-01-0" + std::to_string(id % 9 + 1)}});
    }
    return {200, json::serialize(json::object{{"data", items}})};
  }
};

SourceSpec Spec(const std::string& url, const std::string& extra = "") {
  auto document = json::parse(R"({"name": "things", "url": ")" + url +
                              R"(", "records": "/data", "id": "/id",
      "pagination": {"type": "page"}, "index": {"title": "/title"})" +
                              extra + "}");
  auto spec = octohub::ParseSourceSpec(document);
  INFO(spec.status().ToString());
  REQUIRE(spec.ok());
  return *spec;
}

// Short waits so that retry tests take milliseconds, not seconds.
const octohub::ingest::RetryPolicy kQuickRetries{3, std::chrono::milliseconds(10),
                                                 std::chrono::milliseconds(3000)};

Run RunOnce(const TestDatabase& database) {
  auto queued = RunQueue(database.db()).Enqueue("things", "manual");
  REQUIRE(queued.ok());
  IngestWorker worker(database.db(), MakeCurlFetcher(), "test-worker", kQuickRetries);
  auto run = worker.RunNextQueued();
  REQUIRE(run.ok());
  REQUIRE(run->has_value());
  return **run;
}

}  // namespace

TEST_CASE("a run stores every record of every page and counts them", "[pg][http]") {
  TestDatabase database;
  PagedApi api(5);
  REQUIRE(SourceRegistry(database.db()).Apply(Spec(api.server.url("/items"))).ok());
  Run run = RunOnce(database);
  INFO(run.error.value_or(""));
  CHECK(run.status == "succeeded");
  CHECK(run.pages == 4);  // three pages of items and the empty page that ends paging
  CHECK(run.records_seen == 5);
  CHECK(run.records_new == 5);
  CHECK(run.bytes > 0);
  CHECK(database.Scalar("SELECT count(*) FROM records WHERE source = 'things'") == "5");
  CHECK(database.Scalar("SELECT count(DISTINCT change_seq) FROM records") == "5");
  CHECK(database.Scalar("SELECT data->>'title' FROM records WHERE id = '3'") == "title 3");
}

TEST_CASE("unchanged records keep their change sequence and changed ones get a new one",
          "[pg][http]") {
  TestDatabase database;
  PagedApi api(4);
  REQUIRE(SourceRegistry(database.db()).Apply(Spec(api.server.url("/items"))).ok());
  RunOnce(database);
  const std::string before = database.Scalar("SELECT max(change_seq) FROM records");
  const std::string seq2 = database.Scalar("SELECT change_seq FROM records WHERE id = '2'");
  api.titles[2] = "a new title";
  Run second = RunOnce(database);
  CHECK(second.records_unchanged == 3);
  CHECK(second.records_updated == 1);
  CHECK(second.records_new == 0);
  CHECK(database.Scalar("SELECT change_seq FROM records WHERE id = '1'") != "");
  CHECK(database.Scalar("SELECT count(*) FROM records WHERE change_seq <= " + before) == "3");
  CHECK(database.Scalar("SELECT change_seq FROM records WHERE id = '2'") != seq2);
}

TEST_CASE("an upstream error fails the run, keeps stored records and the cursor", "[pg][http]") {
  TestDatabase database;
  PagedApi api(6);
  REQUIRE(SourceRegistry(database.db())
              .Apply(Spec(api.server.url("/items"),
                          R"(, "incremental": {"cursor": "/updated", "param": "since"})"))
              .ok());
  REQUIRE(RunOnce(database).status == "succeeded");
  const std::string cursor = database.Scalar("SELECT cursor FROM sources");
  CHECK(cursor == "2024-01-07");
  api.titles[1] = "changed before the failure";
  api.titles[7] = "new but never reached";
  api.fail_page = 2;
  Run failed = RunOnce(database);
  CHECK(failed.status == "failed");
  REQUIRE(failed.error);
  CHECK_THAT(*failed.error, Catch::Contains("HTTP 500") && Catch::Contains("upstream broke"));
  CHECK(database.Scalar("SELECT data->>'title' FROM records WHERE id = '1'") ==
        "changed before the failure");
  CHECK(database.Scalar("SELECT count(*) FROM records") == "6");
  CHECK(database.Scalar("SELECT cursor FROM sources") == cursor);
  CHECK(api.server.requests().back().query.at("since") == cursor);
}

TEST_CASE("a page that is not JSON fails the run with the reason", "[pg][http]") {
  TestDatabase database;
  HttpTestServer api([](const TestRequest&) {
    return TestResponse{200, "<!DOCTYPE html><p>maintenance</p>", {{"Content-Type", "text/html"}}};
  });
  REQUIRE(SourceRegistry(database.db()).Apply(Spec(api.url("/x"))).ok());
  Run run = RunOnce(database);
  CHECK(run.status == "failed");
  CHECK_THAT(run.error.value_or(""),
             Catch::Contains("not valid JSON") && Catch::Contains("maintenance"));
}

TEST_CASE("an unreachable upstream fails the run", "[pg][http]") {
  TestDatabase database;
  std::string url;
  {
    HttpTestServer gone([](const TestRequest&) { return TestResponse{}; });
    url = gone.url("/x");
  }
  REQUIRE(SourceRegistry(database.db()).Apply(Spec(url)).ok());
  Run run = RunOnce(database);
  CHECK(run.status == "failed");
  CHECK_THAT(run.error.value_or(""), Catch::Contains(url));
}

TEST_CASE("a bearer token from the environment is sent and never stored", "[pg][http]") {
  TestDatabase database;
  PagedApi api(1);
  setenv("OCTOHUB_SECRET_TEST_TOKEN", "s3cret-value", 1);
  REQUIRE(
      SourceRegistry(database.db())
          .Apply(Spec(api.server.url("/items"),
                      R"(, "auth": {"type": "bearer", "token_env": "OCTOHUB_SECRET_TEST_TOKEN"})"))
          .ok());
  CHECK(RunOnce(database).status == "succeeded");
  CHECK(api.server.requests().front().headers.at("authorization") == "Bearer s3cret-value");
  CHECK(database.Scalar("SELECT spec::text FROM sources").find("s3cret") == std::string::npos);
}

TEST_CASE("a missing secret variable fails the run and names it", "[pg][http]") {
  TestDatabase database;
  PagedApi api(1);
  unsetenv("OCTOHUB_SECRET_TEST_ABSENT");
  REQUIRE(
      SourceRegistry(database.db())
          .Apply(Spec(api.server.url("/items"),
                      R"(, "auth": {"type": "bearer", "token_env": "OCTOHUB_SECRET_TEST_ABSENT"})"))
          .ok());
  Run run = RunOnce(database);
  CHECK(run.status == "failed");
  CHECK_THAT(run.error.value_or(""), Catch::Contains("OCTOHUB_SECRET_TEST_ABSENT"));
  CHECK(api.server.requests().empty());
}

TEST_CASE("a secret may name only a secret variable: other names are refused, never read",
          "[pg][http]") {
  TestDatabase database;
  PagedApi api(1);
  setenv("OCTOHUB_DATABASE_PASSWORD_FOR_TEST", "not-for-upstream", 1);
  auto refused = SourceRegistry(database.db())
                     .Apply(Spec(api.server.url("/items"),
                                 R"(, "auth": {"type": "header", "name": "X-Key",
                                     "value_env": "OCTOHUB_DATABASE_PASSWORD_FOR_TEST"})"));
  REQUIRE(refused.status().code() == octohub::StatusCode::kInvalidArgument);
  REQUIRE(refused.status().field_errors().size() == 1);
  CHECK(refused.status().field_errors()[0].pointer == "/auth/value_env");
  CHECK_THAT(refused.status().field_errors()[0].reason, Catch::Contains("OCTOHUB_SECRET_"));
  CHECK(database.Scalar("SELECT count(*) FROM sources") == "0");

  // A source stored before the rule (written straight to the table) fails its run instead.
  const std::string stored = json::serialize(octohub::SourceSpecToJson(
      Spec(api.server.url("/items"), R"(, "auth": {"type": "header", "name": "X-Key",
               "value_env": "OCTOHUB_DATABASE_PASSWORD_FOR_TEST"})"),
      false));
  database.Scalar("INSERT INTO sources (name, spec) VALUES ('things', '" + stored + "')");
  Run run = RunOnce(database);
  CHECK(run.status == "failed");
  CHECK_THAT(run.error.value_or(""), Catch::Contains("OCTOHUB_DATABASE_PASSWORD_FOR_TEST") &&
                                         Catch::Contains("may not be read"));
  CHECK(api.server.requests().empty());
}

TEST_CASE("queueing a run while one is queued joins it", "[pg]") {
  TestDatabase database;
  REQUIRE(SourceRegistry(database.db()).Apply(Spec("http://127.0.0.1:9/x")).ok());
  RunQueue queue(database.db());
  auto first = queue.Enqueue("things", "manual");
  auto second = queue.Enqueue("things", "schedule");
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  CHECK(first->id == second->id);
  CHECK(second->status == "queued");
}

TEST_CASE("a run claimed by one worker is not run by another", "[pg][http]") {
  TestDatabase database;
  PagedApi api(2);
  REQUIRE(SourceRegistry(database.db()).Apply(Spec(api.server.url("/items"))).ok());
  auto queued = RunQueue(database.db()).Enqueue("things", "manual");
  REQUIRE(queued.ok());
  IngestWorker first(database.db(), MakeCurlFetcher(), "first");
  IngestWorker second(database.db(), MakeCurlFetcher(), "second");
  auto ran = first.RunIfQueued(queued->id);
  REQUIRE(ran.ok());
  CHECK(ran->has_value());
  auto again = second.RunIfQueued(queued->id);
  REQUIRE(again.ok());
  CHECK_FALSE(again->has_value());
}

TEST_CASE("queueing a run of an unknown source is NotFound", "[pg]") {
  TestDatabase database;
  auto run = RunQueue(database.db()).Enqueue("nope", "manual");
  REQUIRE_FALSE(run.ok());
  CHECK(run.status().code() == octohub::StatusCode::kNotFound);
}

TEST_CASE("applying the same source twice reports it unchanged, a change as updated", "[pg]") {
  TestDatabase database;
  SourceRegistry registry(database.db());
  CHECK(*registry.Apply(Spec("http://127.0.0.1:9/x")) == SourceRegistry::Applied::kCreated);
  CHECK(*registry.Apply(Spec("http://127.0.0.1:9/x")) == SourceRegistry::Applied::kUnchanged);
  CHECK(*registry.Apply(Spec("http://127.0.0.1:9/y")) == SourceRegistry::Applied::kUpdated);
  auto stored = registry.Get("things");
  REQUIRE(stored.ok());
  CHECK(stored->url == "http://127.0.0.1:9/y");
}

TEST_CASE("a scheduled source is queued when due, once, and its next run moves on", "[pg]") {
  TestDatabase database;
  RunQueue queue(database.db());
  REQUIRE(SourceRegistry(database.db())
              .Apply(Spec("http://127.0.0.1:9/x", R"(, "schedule": "every 1h")"))
              .ok());
  auto first = queue.EnqueueDue();
  REQUIRE(first.ok());
  CHECK(*first == 1);  // "every" schedules run at once
  CHECK(database.Scalar("SELECT trigger FROM runs") == "schedule");
  CHECK(database.Scalar("SELECT next_run_at > now() + interval '59 minutes' FROM sources") == "t");
  auto again = queue.EnqueueDue();
  REQUIRE(again.ok());
  CHECK(*again == 0);
}

TEST_CASE("queueing by hand while the scheduler queues the same source never deadlocks", "[pg]") {
  TestDatabase database;
  REQUIRE(SourceRegistry(database.db())
              .Apply(Spec("http://127.0.0.1:9/items", R"(, "schedule": "every 1s")"))
              .ok());
  RunQueue queue(database.db());
  for (int round = 0; round < 40; ++round) {
    database.Scalar("DELETE FROM runs");
    database.Scalar("UPDATE sources SET next_run_at = now() - interval '1 second'");
    octohub::Status by_hand, scheduled;
    std::thread hand([&] { by_hand = queue.Enqueue("things", "manual").status(); });
    std::thread scheduler([&] { scheduled = queue.EnqueueDue().status(); });
    hand.join();
    scheduler.join();
    INFO("round " << round);
    REQUIRE(by_hand.ok());
    REQUIRE(scheduled.ok());
    CHECK(database.Scalar("SELECT count(*) FROM runs WHERE status = 'queued'") == "1");
  }
}

TEST_CASE("a source without a schedule is never queued by the scheduler", "[pg]") {
  TestDatabase database;
  REQUIRE(SourceRegistry(database.db()).Apply(Spec("http://127.0.0.1:9/x")).ok());
  auto due = RunQueue(database.db()).EnqueueDue();
  REQUIRE(due.ok());
  CHECK(*due == 0);
  CHECK(database.Scalar("SELECT count(*) FROM runs") == "0");
}

TEST_CASE("a burst of 503s is retried and the run succeeds", "[pg][http]") {
  TestDatabase database;
  PagedApi api(4);
  api.fail_page = 2;
  api.fail_times = 2;
  api.fail_status = 503;
  REQUIRE(SourceRegistry(database.db()).Apply(Spec(api.server.url("/items"))).ok());
  Run run = RunOnce(database);
  INFO(run.error.value_or(""));
  CHECK(run.status == "succeeded");
  CHECK(run.records_new == 4);
  CHECK(api.server.requests().size() == 5);  // pages 1, 2 (x3), 3 (empty)
}

TEST_CASE("429 with Retry-After waits as long as the server asks", "[pg][http]") {
  TestDatabase database;
  PagedApi api(2);
  api.fail_page = 1;
  api.fail_times = 1;
  api.fail_status = 429;
  api.retry_after = "1";
  REQUIRE(SourceRegistry(database.db()).Apply(Spec(api.server.url("/items"))).ok());
  const auto start = std::chrono::steady_clock::now();
  CHECK(RunOnce(database).status == "succeeded");
  // Without Retry-After the quick policy would wait at most 10 ms.
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(900));
}

TEST_CASE("the retry budget ends the run with the status and a body excerpt", "[pg][http]") {
  TestDatabase database;
  PagedApi api(2);
  api.fail_page = 1;
  REQUIRE(SourceRegistry(database.db()).Apply(Spec(api.server.url("/items"))).ok());
  Run run = RunOnce(database);
  CHECK(run.status == "failed");
  CHECK_THAT(run.error.value_or(""), Catch::Contains("HTTP 500") &&
                                         Catch::Contains("after 3 attempts") &&
                                         Catch::Contains("upstream broke"));
  CHECK(api.server.requests().size() == 3);
}

TEST_CASE("a client error is not retried", "[pg][http]") {
  TestDatabase database;
  PagedApi api(2);
  api.fail_page = 1;
  api.fail_status = 404;
  REQUIRE(SourceRegistry(database.db()).Apply(Spec(api.server.url("/items"))).ok());
  CHECK(RunOnce(database).status == "failed");
  CHECK(api.server.requests().size() == 1);
}

TEST_CASE("a response slower than the timeout is retried", "[pg][http]") {
  TestDatabase database;
  PagedApi api(2);
  api.slow_ms = 1500;
  REQUIRE(SourceRegistry(database.db())
              .Apply(Spec(api.server.url("/items"), R"(, "timeout_s": 0.5)"))
              .ok());
  Run run = RunOnce(database);
  INFO(run.error.value_or(""));
  CHECK(run.status == "succeeded");
  CHECK(run.records_new == 2);
}

TEST_CASE("a stop request ends a run waiting on a silent upstream within seconds", "[pg][http]") {
  TestDatabase database;
  PagedApi api(2);
  api.slow_ms = 8000;  // longer than the test may take, shorter than the source's timeout
  REQUIRE(SourceRegistry(database.db())
              .Apply(Spec(api.server.url("/items"), R"(, "timeout_s": 60)"))
              .ok());
  REQUIRE(RunQueue(database.db()).Enqueue("things", "manual").ok());
  IngestWorker worker(database.db(), MakeCurlFetcher(), "test-worker", kQuickRetries);
  std::stop_source stop;
  const auto started = std::chrono::steady_clock::now();
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    stop.request_stop();
  });
  auto run = worker.RunNextQueued(stop.get_token());
  stopper.join();
  const auto took = std::chrono::steady_clock::now() - started;
  REQUIRE(run.ok());
  REQUIRE(run->has_value());
  CHECK((*run)->status == "cancelled");
  CHECK(took < std::chrono::seconds(3));
}

TEST_CASE("the rate limit spaces a source's requests", "[pg][http]") {
  TestDatabase database;
  PagedApi api(6);  // 3 pages and the empty one: 4 requests, 3 gaps of 200 ms
  REQUIRE(
      SourceRegistry(database.db())
          .Apply(Spec(api.server.url("/items"), R"(, "rate_limit": {"requests_per_second": 5})"))
          .ok());
  const auto start = std::chrono::steady_clock::now();
  CHECK(RunOnce(database).status == "succeeded");
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(580));
}

TEST_CASE("full_refresh marks records missing from a complete pass as deleted", "[pg][http]") {
  TestDatabase database;
  PagedApi api(6);
  REQUIRE(SourceRegistry(database.db())
              .Apply(Spec(api.server.url("/items"), R"(, "mode": "full_refresh")"))
              .ok());
  REQUIRE(RunOnce(database).status == "succeeded");
  api.titles.erase(2);
  api.titles.erase(5);
  Run second = RunOnce(database);
  CHECK(second.status == "succeeded");
  CHECK(second.records_deleted == 2);
  CHECK(database.Scalar("SELECT string_agg(id, ',' ORDER BY id) FROM records WHERE deleted") ==
        "2,5");
  api.titles[2] = "back again";
  Run third = RunOnce(database);
  CHECK(third.records_deleted == 0);
  CHECK(database.Scalar("SELECT deleted FROM records WHERE id = '2'") == "f");
}

TEST_CASE("a full pass cut short by max_pages or a failure deletes nothing", "[pg][http]") {
  TestDatabase database;
  PagedApi api(6);
  REQUIRE(SourceRegistry(database.db())
              .Apply(Spec(api.server.url("/items"), R"(, "mode": "full_refresh")"))
              .ok());
  REQUIRE(RunOnce(database).status == "succeeded");
  REQUIRE(SourceRegistry(database.db())
              .Apply(Spec(api.server.url("/items"), R"(, "mode": "full_refresh", "max_pages": 1)"))
              .ok());
  Run capped = RunOnce(database);
  CHECK(capped.status == "succeeded");
  CHECK(capped.records_deleted == 0);
  api.fail_page = 2;
  REQUIRE(SourceRegistry(database.db())
              .Apply(Spec(api.server.url("/items"), R"(, "mode": "full_refresh")"))
              .ok());
  CHECK(RunOnce(database).status == "failed");
  CHECK(database.Scalar("SELECT count(*) FROM records WHERE deleted") == "0");
}

TEST_CASE("a run whose lease expired is taken over and started again", "[pg][http]") {
  TestDatabase database;
  PagedApi api(3);
  REQUIRE(SourceRegistry(database.db()).Apply(Spec(api.server.url("/items"))).ok());
  database.Scalar(
      "INSERT INTO runs (source, trigger, status, started_at, pages, lease_owner, "
      "lease_expires_at) "
      "VALUES ('things', 'manual', 'running', now(), 7, 'elsewhere:1:ingest', now() - interval "
      "'1s') "
      "RETURNING id");
  IngestWorker worker(database.db(), MakeCurlFetcher(), "taker", kQuickRetries);
  auto run = worker.RunNextQueued();
  REQUIRE(run.ok());
  REQUIRE(run->has_value());
  CHECK((*run)->status == "succeeded");
  CHECK((*run)->pages == 3);  // counted afresh
  CHECK(database.Scalar("SELECT count(*) FROM records") == "3");
}

TEST_CASE("a live lease is not taken over", "[pg]") {
  TestDatabase database;
  REQUIRE(SourceRegistry(database.db()).Apply(Spec("http://127.0.0.1:9/x")).ok());
  database.Scalar(
      "INSERT INTO runs (source, trigger, status, lease_owner, lease_expires_at) "
      "VALUES ('things', 'manual', 'running', 'busy:1:ingest', now() + interval '1 minute') "
      "RETURNING id");
  IngestWorker worker(database.db(), MakeCurlFetcher(), "taker", kQuickRetries);
  auto run = worker.RunNextQueued();
  REQUIRE(run.ok());
  CHECK_FALSE(run->has_value());
}

TEST_CASE("leases of workers known to be dead are expired at once", "[pg]") {
  TestDatabase database;
  REQUIRE(SourceRegistry(database.db()).Apply(Spec("http://127.0.0.1:9/x")).ok());
  database.Scalar(
      "INSERT INTO runs (source, trigger, status, lease_owner, lease_expires_at) "
      "VALUES ('things', 'manual', 'running', 'gone:42:ingest', now() + interval '1 minute') "
      "RETURNING id");
  RunQueue queue(database.db());
  auto alive = queue.ExpireLeasesOf([](const std::string&) { return false; });
  REQUIRE(alive.ok());
  CHECK(*alive == 0);
  auto dead =
      queue.ExpireLeasesOf([](const std::string& owner) { return owner == "gone:42:ingest"; });
  REQUIRE(dead.ok());
  CHECK(*dead == 1);
  CHECK(database.Scalar("SELECT lease_expires_at < now() FROM runs") == "t");
}

TEST_CASE("a finished run is counted in the metrics by source, status and outcome", "[pg][http]") {
  TestDatabase database;
  PagedApi api(3);
  REQUIRE(SourceRegistry(database.db()).Apply(Spec(api.server.url("/items"))).ok());
  REQUIRE(RunQueue(database.db()).Enqueue("things", "manual").ok());
  octohub::Metrics metrics;
  IngestWorker worker(database.db(), MakeCurlFetcher(), "counted", kQuickRetries, &metrics);
  REQUIRE(worker.RunNextQueued().ok());
  const std::string text = metrics.Render();
  CHECK_THAT(text,
             Catch::Contains(R"(octohub_ingest_runs_total{source="things",status="succeeded"} 1)"));
  CHECK_THAT(text,
             Catch::Contains(R"(octohub_ingest_records_total{source="things",outcome="new"} 3)"));
}

#include <stdlib.h>

#include <atomic>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <map>

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
  HttpTestServer server{[this](const TestRequest& r) { return Answer(r); }};

  explicit PagedApi(int items) {
    for (int id = 1; id <= items; ++id) titles[id] = "title " + std::to_string(id);
  }

  TestResponse Answer(const TestRequest& request) {
    int page = request.query.count("page") ? std::stoi(request.query.at("page")) : 1;
    if (page == fail_page)
      return {500, "<html>upstream broke</html>", {{"Content-Type", "text/html"}}};
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

Run RunOnce(const TestDatabase& database) {
  auto queued = RunQueue(database.db()).Enqueue("things", "manual");
  REQUIRE(queued.ok());
  IngestWorker worker(database.db(), MakeCurlFetcher(), "test-worker");
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
  setenv("OCTOHUB_TEST_TOKEN", "s3cret-value", 1);
  REQUIRE(SourceRegistry(database.db())
              .Apply(Spec(api.server.url("/items"),
                          R"(, "auth": {"type": "bearer", "token_env": "OCTOHUB_TEST_TOKEN"})"))
              .ok());
  CHECK(RunOnce(database).status == "succeeded");
  CHECK(api.server.requests().front().headers.at("authorization") == "Bearer s3cret-value");
  CHECK(database.Scalar("SELECT spec::text FROM sources").find("s3cret") == std::string::npos);
}

TEST_CASE("a missing secret variable fails the run and names it", "[pg][http]") {
  TestDatabase database;
  PagedApi api(1);
  unsetenv("OCTOHUB_TEST_ABSENT");
  REQUIRE(SourceRegistry(database.db())
              .Apply(Spec(api.server.url("/items"),
                          R"(, "auth": {"type": "bearer", "token_env": "OCTOHUB_TEST_ABSENT"})"))
              .ok());
  Run run = RunOnce(database);
  CHECK(run.status == "failed");
  CHECK_THAT(run.error.value_or(""), Catch::Contains("OCTOHUB_TEST_ABSENT"));
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

TEST_CASE("a source without a schedule is never queued by the scheduler", "[pg]") {
  TestDatabase database;
  REQUIRE(SourceRegistry(database.db()).Apply(Spec("http://127.0.0.1:9/x")).ok());
  auto due = RunQueue(database.db()).EnqueueDue();
  REQUIRE(due.ok());
  CHECK(*due == 0);
  CHECK(database.Scalar("SELECT count(*) FROM runs") == "0");
}

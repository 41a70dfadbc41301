// What a run notices and how it behaves at the edges of real APIs: the correctness guards
// provoked one by one, strict sources, rate-limit answers, OAuth2 token endpoints that
// misbehave, child sources per parent record, and NDJSON/CSV pages with bad records.
#include <atomic>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include "http_test_server.h"
#include "octohub/ingest/ingest.h"
#include "test_database.h"

namespace json = boost::json;
using namespace std::chrono_literals;
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

const octohub::ingest::RetryPolicy kQuickRetries{2, 10ms, 3000ms};

void Apply(const TestDatabase& database, const std::string& document) {
  auto spec = octohub::ParseSourceSpec(json::parse(document));
  INFO(spec.status().ToString());
  REQUIRE(spec.ok());
  auto applied = SourceRegistry(database.db()).Apply(*spec);
  INFO(applied.status().ToString());
  REQUIRE(applied.ok());
}

Run RunOnce(const TestDatabase& database, const std::string& source) {
  auto queued = RunQueue(database.db()).Enqueue(source, "manual");
  REQUIRE(queued.ok());
  IngestWorker worker(database.db(), MakeCurlFetcher(), "test-worker", kQuickRetries);
  auto run = worker.RunIfQueued(queued->id);
  INFO(run.status().ToString());
  REQUIRE(run.ok());
  REQUIRE(run->has_value());
  return **run;
}

std::set<std::string> Codes(const Run& run) {
  std::set<std::string> codes;
  for (const auto& warning : run.warnings) codes.insert(warning.code);
  return codes;
}

std::string Detail(const Run& run, const std::string& code) {
  for (const auto& warning : run.warnings) {
    if (warning.code == code) return warning.detail;
  }
  return "";
}

// Records "r<first>" … "r<first + count - 1>", each with an "updated" value.
json::array Items(int first, int count, const std::string& updated = "2024-01-01") {
  json::array items;
  for (int i = first; i < first + count; ++i) {
    items.push_back({{"id", "r" + std::to_string(i)}, {"updated", updated}});
  }
  return items;
}

// Pages given by a function of the page number (from 1); the test changes it between runs.
struct Pages {
  std::mutex mutex;
  std::function<TestResponse(int page)> answer;
  HttpTestServer server{[this](const TestRequest& r) {
    const int page = r.query.count("page") ? std::stoi(r.query.at("page")) : 1;
    std::lock_guard lock(mutex);
    return answer(page);
  }};
  void Set(std::function<TestResponse(int)> f) {
    std::lock_guard lock(mutex);
    answer = std::move(f);
  }
};

TestResponse Json(const json::value& body) { return TestResponse{200, json::serialize(body)}; }

std::string PagedSource(const std::string& name, const std::string& url,
                        const std::string& extra = "") {
  return R"({"name": ")" + name + R"(", "url": ")" + url +
         R"(", "records": "/items", "id": "/id", "pagination": {"type": "page",
         "size_param": "per_page", "size": 10, "total_path": "/total"})" +
         extra + "}";
}

}  // namespace

TEST_CASE("a short page in the middle is a warning, and fails a strict source", "[pg][http]") {
  TestDatabase database;
  Pages api;
  api.Set([](int page) {
    const int sizes[] = {10, 5, 10, 0};
    const int first = page == 1 ? 1 : page == 2 ? 11 : 16;
    return Json({{"items", Items(first, page <= 4 ? sizes[page - 1] : 0)}});
  });
  Apply(database, PagedSource("lenient", api.server.url("/items")));
  Run lenient = RunOnce(database, "lenient");
  CHECK(lenient.status == "succeeded");
  CHECK(Codes(lenient) == std::set<std::string>{"short_page"});
  CHECK_THAT(Detail(lenient, "short_page"), Catch::Contains("page 2"));

  Apply(database, PagedSource("strict", api.server.url("/items"),
                              R"(, "strict": true, "incremental": {"cursor": "/updated",
                                 "param": "since"})"));
  Run strict = RunOnce(database, "strict");
  CHECK(strict.status == "failed");
  CHECK_THAT(strict.error.value_or(""), Catch::Contains("strict") && Catch::Contains("short_page"));
  // Its pages are kept; its cursor does not move.
  CHECK(database.Scalar("SELECT count(*) FROM records WHERE source = 'strict'") == "25");
  CHECK(database.Scalar("SELECT coalesce(cursor, 'none') FROM sources WHERE name = 'strict'") ==
        "none");
}

TEST_CASE("a total that disagrees with the records the pages held is a warning", "[pg][http]") {
  TestDatabase database;
  Pages api;
  api.Set([](int page) {
    return Json({{"items", page <= 3 ? Items(page * 10 - 9, 10) : json::array()}, {"total", 50}});
  });
  Apply(database, PagedSource("counted", api.server.url("/items")));
  Run run = RunOnce(database, "counted");
  CHECK(run.status == "succeeded");
  CHECK(Codes(run) == std::set<std::string>{"total_mismatch"});
  CHECK_THAT(Detail(run, "total_mismatch"), Catch::Contains("50") && Catch::Contains("30"));
}

TEST_CASE("the total, once reached, ends paging without a further request", "[pg][http]") {
  TestDatabase database;
  Pages api;
  api.Set([](int page) {
    if (page > 2) return TestResponse{400, R"({"error": "past the end"})"};
    return Json({{"items", Items(page * 10 - 9, 10)}, {"total", 20}});
  });
  Apply(database, PagedSource("exact", api.server.url("/items")));
  Run run = RunOnce(database, "exact");
  INFO(run.error.value_or(""));
  CHECK(run.status == "succeeded");
  CHECK(run.pages == 2);
  CHECK(run.warnings.empty());
}

TEST_CASE("new records under a cursor that does not advance are a warning", "[pg][http]") {
  TestDatabase database;
  Pages api;
  api.Set([](int page) {
    return Json({{"items", page == 1 ? Items(1, 3, "2024-05-01") : json::array()}});
  });
  const std::string source = R"({"name": "feed", "url": ")" + api.server.url("/items") +
                             R"(", "records": "/items", "id": "/id",
      "pagination": {"type": "page"}, "incremental": {"cursor": "/updated", "param": "since"}})";
  Apply(database, source);
  Run first = RunOnce(database, "feed");
  CHECK(first.warnings.empty());
  // The API now sends new records whose cursor is older than the stored one.
  api.Set([](int page) {
    return Json({{"items", page == 1 ? Items(10, 2, "2024-04-01") : json::array()}});
  });
  Run second = RunOnce(database, "feed");
  CHECK(second.status == "succeeded");
  CHECK(second.records_new == 2);
  CHECK(Codes(second) == std::set<std::string>{"cursor_stalled"});
  CHECK_THAT(Detail(second, "cursor_stalled"), Catch::Contains("2024-05-01"));
}

TEST_CASE(
    "a full pass that sees far fewer records warns, and one that would delete most "
    "deletes nothing",
    "[pg][http]") {
  TestDatabase database;
  Pages api;
  int held = 20;
  api.Set([&held](int page) {
    return Json({{"items", page == 1 ? Items(1, held) : json::array()}});
  });
  const std::string base = R"({"name": "all", "url": ")" + api.server.url("/items") +
                           R"(", "records": "/items", "id": "/id", "mode": "full_refresh",
      "pagination": {"type": "page"})";
  Apply(database, base + R"(, "max_delete_ratio": 1})");
  REQUIRE(RunOnce(database, "all").status == "succeeded");

  held = 8;
  api.Set([&held](int page) {
    return Json({{"items", page == 1 ? Items(1, held) : json::array()}});
  });
  Run dropped = RunOnce(database, "all");
  CHECK(dropped.status == "succeeded");
  CHECK(Codes(dropped) == std::set<std::string>{"count_dropped"});
  CHECK(dropped.records_deleted == 12);

  // Back to 20, then a pass that sees 3: with the default ratio (0.5) nothing is deleted.
  held = 20;
  REQUIRE(RunOnce(database, "all").status == "succeeded");
  Apply(database, base + "}");
  held = 3;
  Run mass = RunOnce(database, "all");
  CHECK(mass.status == "failed");
  CHECK(Codes(mass).count("mass_delete") == 1);
  CHECK_THAT(mass.error.value_or(""),
             Catch::Contains("17 of the 20") && Catch::Contains("nothing was marked deleted"));
  CHECK(database.Scalar("SELECT count(*) FROM records WHERE source = 'all' AND NOT deleted") ==
        "20");
}

TEST_CASE("a rate-limit answer is waited out, shown as waiting_until, and not a failed attempt",
          "[pg][http]") {
  TestDatabase database;
  std::atomic<int> limited{0};
  HttpTestServer api([&](const TestRequest& r) {
    const int page = r.query.count("page") ? std::stoi(r.query.at("page")) : 1;
    if (page == 2 && limited++ < 3) {  // more refusals than max_attempts allows failures
      const auto reset = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count() +
                         1;
      return TestResponse{403,
                          R"({"message": "API rate limit exceeded"})",
                          {{"Content-Type", "application/json"},
                           {"X-RateLimit-Remaining", "0"},
                           {"X-RateLimit-Reset", std::to_string(reset)}}};
    }
    return Json({{"items", page <= 2 ? Items(page * 10 - 9, 10) : json::array()}});
  });
  Apply(database, R"({"name": "limited", "url": ")" + api.url("/items") +
                      R"(", "records": "/items", "id": "/id", "pagination": {"type": "page"},
                      "rate_limit": {"max_wait_s": 5}})");
  std::atomic<bool> saw_waiting{false};
  std::jthread watcher([&](std::stop_token stop) {
    while (!stop.stop_requested()) {
      if (database.Scalar("SELECT count(*) FROM runs WHERE waiting_until > now()") == "1") {
        saw_waiting = true;
      }
      std::this_thread::sleep_for(50ms);
    }
  });
  Run run = RunOnce(database, "limited");
  watcher.request_stop();
  INFO(run.error.value_or(""));
  CHECK(run.status == "succeeded");
  CHECK(run.records_seen == 20);
  CHECK(saw_waiting);
  CHECK_FALSE(run.waiting_until);
}

TEST_CASE("a rate limit asking for longer than max_wait_s fails the run saying so", "[pg][http]") {
  TestDatabase database;
  HttpTestServer api([](const TestRequest&) {
    return TestResponse{429, "slow down", {{"Retry-After", "3600"}}};
  });
  Apply(database, R"({"name": "patient", "url": ")" + api.url("/items") +
                      R"(", "records": "/items", "rate_limit": {"max_wait_s": 60}})");
  Run run = RunOnce(database, "patient");
  CHECK(run.status == "failed");
  CHECK_THAT(run.error.value_or(""),
             Catch::Contains("wait 3600 s") && Catch::Contains("max_wait_s (60 s)"));
}

namespace {

// A token endpoint answering `token_answer`, and an API that wants the token it issued last.
struct TokenApi {
  std::mutex mutex;
  TestResponse token_answer;
  std::string issued = "tok-1";
  int tokens = 0;
  int refused = 0;
  HttpTestServer server{[this](const TestRequest& r) {
    std::lock_guard lock(mutex);
    if (r.path == "/token") {
      ++tokens;
      return token_answer;
    }
    if (r.headers.count("authorization") == 0 ||
        r.headers.at("authorization") != "Bearer " + issued) {
      ++refused;
      return TestResponse{401, R"({"error": "invalid_token"})"};
    }
    const int page = r.query.count("page") ? std::stoi(r.query.at("page")) : 1;
    return Json({{"items", page <= 2 ? Items(page * 5 - 4, 5) : json::array()}});
  }};

  std::string Source() const {
    return R"({"name": "guarded", "url": ")" + server.url("/items") +
           R"(", "records": "/items", "id": "/id", "pagination": {"type": "page"},
           "auth": {"type": "oauth2", "token_url": ")" +
           server.url("/token") + R"(", "client_id": "app", "client_secret": "hush-hush-42"}})";
  }
};

}  // namespace

TEST_CASE("a token endpoint's refusal fails the run naming the endpoint and the error code",
          "[pg][http]") {
  TestDatabase database;
  TokenApi api;
  api.token_answer =
      TestResponse{401, R"({"error": "invalid_client", "error_description": "unknown client"})"};
  Apply(database, api.Source());
  Run run = RunOnce(database, "guarded");
  CHECK(run.status == "failed");
  CHECK_THAT(run.error.value_or(""), Catch::Contains(api.server.url("/token")) &&
                                         Catch::Contains("invalid_client") &&
                                         !Catch::Contains("hush-hush-42"));
}

TEST_CASE("a token endpoint answering HTML, or a token of another type, fails the run clearly",
          "[pg][http]") {
  TestDatabase database;
  TokenApi api;
  auto [answer, reason] = GENERATE(table<std::string, std::string>({
      {"<html>login</html>", "not a JSON object"},
      {R"({"token_type": "bearer"})", "without an access_token"},
      {R"({"access_token": "t", "token_type": "mac"})", "only bearer tokens"},
  }));
  api.token_answer = TestResponse{200, answer, {{"Content-Type", "text/html"}}};
  Apply(database, api.Source());
  Run run = RunOnce(database, "guarded");
  CHECK(run.status == "failed");
  CHECK_THAT(run.error.value_or(""), Catch::Contains(reason));
}

TEST_CASE("a token without expires_in is kept until the API refuses it, then renewed once",
          "[pg][http]") {
  TestDatabase database;
  TokenApi api;
  api.token_answer = Json({{"access_token", "tok-1"}, {"token_type", "Bearer"}});
  Apply(database, api.Source());
  REQUIRE(RunOnce(database, "guarded").status == "succeeded");
  CHECK(api.tokens == 1);

  // The API revokes tok-1 mid-run: the next request is refused, a new token is fetched.
  {
    std::lock_guard lock(api.mutex);
    api.issued = "tok-2";
    api.token_answer = Json({{"access_token", "tok-2"}, {"token_type", "bearer"}});
    api.tokens = 0;
  }
  Run run = RunOnce(database, "guarded");
  INFO(run.error.value_or(""));
  CHECK(run.status == "succeeded");
  CHECK(api.tokens == 1);
  CHECK(run.records_seen == 10);
}

TEST_CASE("a freshly issued token that the API refuses fails the run without looping",
          "[pg][http]") {
  TestDatabase database;
  TokenApi api;
  api.token_answer = Json({{"access_token", "wrong"}, {"expires_in", 3600}});
  Apply(database, api.Source());
  Run run = RunOnce(database, "guarded");
  CHECK(run.status == "failed");
  CHECK_THAT(run.error.value_or(""), Catch::Contains("401"));
  CHECK(api.tokens == 1);
  CHECK(api.refused == 1);
}

TEST_CASE("NDJSON lines and CSV rows that cannot be records are skipped and counted",
          "[pg][http]") {
  TestDatabase database;
  HttpTestServer api([](const TestRequest& r) {
    if (r.path == "/export.ndjson") {
      return TestResponse{200,
                          "{\"id\": 1}\n[2]\nnot json\n{\"id\": 3}\n",
                          {{"Content-Type", "application/x-ndjson"}}};
    }
    return TestResponse{200, "id,name\n1,a\n2\n3,c,extra\n4,d\n", {{"Content-Type", "text/csv"}}};
  });
  Apply(database, R"({"name": "lines", "url": ")" + api.url("/export.ndjson") +
                      R"(", "format": "ndjson", "id": "/id"})");
  Apply(database, R"({"name": "table", "url": ")" + api.url("/data.csv") +
                      R"(", "format": "csv", "id": "/id"})");
  Run lines = RunOnce(database, "lines");
  CHECK(lines.status == "succeeded");
  CHECK(lines.records_new == 2);
  CHECK(lines.records_skipped == 2);
  CHECK(Codes(lines) == std::set<std::string>{"skipped_records"});
  Run table = RunOnce(database, "table");
  CHECK(table.status == "succeeded");
  CHECK(table.records_new == 2);
  CHECK(table.records_skipped == 2);
  CHECK_THAT(Detail(table, "skipped_records"), Catch::Contains("fields than the header"));
}

TEST_CASE("a child source runs once per parent record with a cursor per parent", "[pg][http]") {
  TestDatabase database;
  std::mutex mutex;
  std::vector<std::string> asked;  // "<repo>?since=<cursor>"
  HttpTestServer api([&](const TestRequest& r) {
    if (r.path == "/repos") {
      return Json({{"items",
                    {{{"id", "a"}, {"name", "alpha"}},
                     {{"id", "b"}, {"name", "beta/gamma"}},
                     {{"id", "c"}}}}});  // no name: passed over
    }
    std::lock_guard lock(mutex);
    const std::string since = r.query.count("since") ? r.query.at("since") : "";
    asked.push_back(r.target.substr(0, r.target.find('?')) + "?since=" + since);  // as sent
    const std::string day = since.empty() ? "2024-01-01" : "2024-02-01";
    return Json({{"items", {{{"id", 1}, {"updated", day}}, {{"id", 2}, {"updated", day}}}}});
  });
  Apply(database, R"({"name": "repos", "url": ")" + api.url("/repos") +
                      R"(", "records": "/items", "id": "/id"})");
  REQUIRE(RunOnce(database, "repos").status == "succeeded");
  Apply(database, R"({"name": "issues", "url": ")" + api.url("/repos/{repo}/issues") +
                      R"(", "records": "/items", "id": "/id",
      "incremental": {"cursor": "/updated", "param": "since"},
      "for_each": {"source": "repos", "vars": {"repo": "/name"}}})");
  Run first = RunOnce(database, "issues");
  INFO(first.error.value_or(""));
  CHECK(first.status == "succeeded");
  CHECK(first.records_new == 4);
  CHECK(Codes(first) == std::set<std::string>{"skipped_parents"});
  CHECK(asked == std::vector<std::string>{"/repos/alpha/issues?since=",
                                          "/repos/beta%2Fgamma/issues?since="});
  CHECK(database.Scalar("SELECT string_agg(id || '<' || parent_id, ',' ORDER BY id) FROM records "
                        "WHERE source = 'issues'") == "a/1<a,a/2<a,b/1<b,b/2<b");
  asked.clear();
  Run second = RunOnce(database, "issues");
  CHECK(second.status == "succeeded");
  CHECK(asked == std::vector<std::string>{"/repos/alpha/issues?since=2024-01-01",
                                          "/repos/beta%2Fgamma/issues?since=2024-01-01"});
  CHECK(database.Scalar("SELECT string_agg(parent_id || '=' || cursor, ',' ORDER BY parent_id) "
                        "FROM source_cursors WHERE source = 'issues'") ==
        "a=2024-02-01,b=2024-02-01");
}

TEST_CASE("a child of a parent with thousands of records is one run over all of them",
          "[pg][http]") {
  TestDatabase database;
  HttpTestServer api([](const TestRequest& r) {
    if (r.path == "/parents") {
      json::array items;
      for (int i = 0; i < 1200; ++i) items.push_back(json::object{{"id", i}});
      return Json({{"items", items}});
    }
    return Json({{"items", {{{"id", "only"}}}}});
  });
  Apply(database, R"({"name": "parents", "url": ")" + api.url("/parents") +
                      R"(", "records": "/items", "id": "/id"})");
  REQUIRE(RunOnce(database, "parents").status == "succeeded");
  Apply(database, R"({"name": "kids", "url": ")" + api.url("/parents/{p}/kids") +
                      R"(", "records": "/items", "id": "/id",
      "for_each": {"source": "parents", "vars": {"p": "/id"}}})");
  Run run = RunOnce(database, "kids");
  CHECK(run.status == "succeeded");
  CHECK(run.pages == 1200);
  CHECK(run.records_new == 1200);
}

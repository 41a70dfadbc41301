// Chaos: 10,000 deliveries (and a second version of 500 records) to a target that goes down for
// 40 s in the middle and otherwise fails 30% of requests at random, while the octohub process
// is SIGKILLed and restarted twice, once during the outage. The retry schedule is the default
// one scaled down a thousand times (the same code path). Nothing may be lost or left behind,
// nothing may die before its schedule is spent, a record's versions arrive in order, and while
// the target is down it sees one request at a time.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "http_test_server.h"
#include "octohub/ingest/http_fetcher.h"
#include "process.h"
#include "temp_dir.h"
#include "test_database.h"

namespace json = boost::json;
using namespace std::chrono_literals;
using octohub::testing::BackgroundProcess;
using octohub::testing::HttpTestServer;
using octohub::testing::OctohubBinary;
using octohub::testing::RunProcess;
using octohub::testing::TempDir;
using octohub::testing::TestDatabase;
using octohub::testing::TestRequest;
using octohub::testing::TestResponse;

namespace {

constexpr int kRecords = 10000;
constexpr int kPageSize = 1000;
constexpr int kChangedRecords = 500;  // records 1..500 get a second version, forwarded too
constexpr auto kOutage = 40s;
// The default retry schedule (5 s … 8 h, about a day), a thousand times shorter.
constexpr const char* kScaledSchedule =
    R"(["5ms", "30ms", "120ms", "600ms", "1800ms", "3600ms", "7200ms", "14400ms", "28800ms", "28800ms"])";
constexpr int kScheduleAttempts = 11;

// What the target received: idempotency keys, the records of accepted requests and the
// versions (titles) accepted per record, in order. While `down`, every connection is dropped
// unanswered (a server that is gone; dropping rather than refusing lets the test count what
// still reaches it), and the most requests it had at once are counted.
struct Receiver {
  std::mutex mutex;
  std::mt19937 random{20261122};
  std::set<std::string> keys;
  std::set<std::string> accepted_records;
  std::map<std::string, std::vector<std::string>> accepted_titles;
  int requests = 0, failures = 0;
  std::atomic<bool> down{false};
  std::atomic<int> in_flight_down{0};
  std::atomic<int> most_at_once_down{0};
  int requests_while_down = 0;

  TestResponse Handle(const TestRequest& request) {
    if (down) {
      const int now = ++in_flight_down;
      int most = most_at_once_down.load();
      while (now > most && !most_at_once_down.compare_exchange_weak(most, now)) {
      }
      std::this_thread::sleep_for(5ms);  // long enough for a second request to overlap
      {
        std::lock_guard lock(mutex);
        ++requests_while_down;
      }
      --in_flight_down;
      TestResponse gone;
      gone.reset = true;
      return gone;
    }
    std::lock_guard lock(mutex);
    ++requests;
    keys.insert(request.headers.count("idempotency-key") ? request.headers.at("idempotency-key")
                                                         : "");
    const int roll = static_cast<int>(random() % 100);
    if (roll < 30) {
      ++failures;
      TestResponse failure{500, "chaos"};
      if (roll < 5) failure.reset = true;
      if (roll >= 25) failure = TestResponse{429, "later", {{"Retry-After", "0"}}};
      return failure;
    }
    const json::value body = json::parse(request.body);
    const std::string id(body.at("id").as_string());
    accepted_records.insert(id);
    accepted_titles[id].emplace_back(body.at("title").as_string());
    return TestResponse{200, "{}"};
  }
};

std::unique_ptr<BackgroundProcess> Serve(const TestDatabase& database, const TempDir& dir) {
  auto serve = std::make_unique<BackgroundProcess>(
      std::vector<std::string>{OctohubBinary(), "serve", "--database-url", database.conninfo(),
                               "--data-dir", (dir / "data").string(), "--listen", "127.0.0.1:0"});
  return serve;
}

std::string Address(BackgroundProcess& serve) {
  auto line = serve.WaitForLine("\"serve.ready\"", 60s);
  INFO(serve.stderr_text());
  REQUIRE(line);
  return std::string(json::parse(*line).at("listen").as_string());
}

std::int64_t Count(const TestDatabase& database, const std::string& where) {
  return std::stoll(database.Scalar("SELECT count(*) FROM deliveries WHERE " + where));
}

bool WaitFor(const std::function<bool()>& condition, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return condition();
}

}  // namespace

TEST_CASE("chaos: 10,000 deliveries, a 40 s outage, 30% failures and two SIGKILLs lose nothing",
          "[e2e]") {
  TestDatabase database;
  TempDir dir;
  std::atomic<bool> second_version{false};
  HttpTestServer source([&](const TestRequest& request) {
    const int page = std::stoi(request.query.count("page") ? request.query.at("page") : "1");
    json::array items;
    for (int id = (page - 1) * kPageSize + 1; id <= std::min(page * kPageSize, kRecords); ++id) {
      const bool changed = second_version && id <= kChangedRecords;
      items.push_back({{"id", std::to_string(id)},
                       {"title", (changed ? "v2 of " : "record ") + std::to_string(id)}});
    }
    return TestResponse{200, json::serialize(json::object{{"items", items}})};
  });
  Receiver receiver;
  HttpTestServer target([&](const TestRequest& request) { return receiver.Handle(request); });

  auto octohub = [&](std::vector<std::string> args) {
    args.insert(args.begin(), OctohubBinary());
    args.insert(args.end(), {"--database-url", database.conninfo()});
    auto result = RunProcess(args);
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    return result.out;
  };
  auto source_file = dir.Write("source.yaml", "name: s\nurl: " + source.url("/items") +
                                                  "\nrecords: /items\nid: /id\n"
                                                  "pagination: {type: page}\n");
  octohub({"sources", "apply", source_file.string()});
  auto target_file =
      dir.Write("target.json", R"({"name": "t", "url": ")" + target.url("/in") +
                                   R"(", "secret": "k", "concurrency": 8, "retry_schedule": )" +
                                   kScaledSchedule + "}");
  octohub({"targets", "apply", target_file.string()});
  std::string key = octohub({"keys", "create", "--role", "write"});
  key.erase(key.find_last_not_of("\n") + 1);
  octohub({"sources", "run", "s"});

  auto serve = Serve(database, dir);
  std::string address = Address(*serve);
  REQUIRE(WaitFor(
      [&] { return database.Scalar("SELECT count(*) FROM records") == std::to_string(kRecords); },
      60s));

  // Forwards of 1,000 records each, every one answered only once committed.
  auto client = octohub::ingest::MakeCurlFetcher();
  auto forward = [&](int first, int last) {
    json::array records;
    for (int id = first; id <= last; ++id) {
      records.push_back({{"source", "s"}, {"id", std::to_string(id)}});
    }
    auto response = client->Fetch(
        {.method = "POST",
         .url = "http://" + address + "/api/v1/forwards",
         .headers = {{"Authorization", "Bearer " + key}, {"Content-Type", "application/json"}},
         .body = json::serialize(json::object{{"target", "t"}, {"records", records}})});
    REQUIRE(response.ok());
    INFO(response->body);
    REQUIRE(response->status == 202);
  };
  for (int start = 1; start <= kRecords; start += 1000) forward(start, start + 999);
  REQUIRE(Count(database, "true") == kRecords);
  // A second version of the first 500 records, forwarded while their first may still wait.
  second_version = true;
  octohub({"sources", "run", "s"});
  REQUIRE(WaitFor(
      [&] {
        return database.Scalar(
                   "SELECT count(*) FROM records WHERE data->>'title' LIKE 'v2 of %'") ==
               std::to_string(kChangedRecords);
      },
      60s));
  forward(1, kChangedRecords);
  const std::int64_t total = kRecords + kChangedRecords;
  REQUIRE(Count(database, "true") == total);

  auto restart = [&] {
    serve->Signal(SIGKILL);
    REQUIRE(serve->WaitExit(10s));
    serve = Serve(database, dir);
    Address(*serve);
  };
  // Killed once while sending; then the target goes down for 40 s, and octohub is killed again
  // during the outage.
  REQUIRE(WaitFor([&] { return Count(database, "status = 'sent'") >= 2500; }, 60s));
  restart();
  REQUIRE(WaitFor([&] { return Count(database, "status = 'sent'") >= 5000; }, 60s));
  receiver.down = true;
  const auto outage_started = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(1s);  // requests in flight when it went down end with it
  receiver.most_at_once_down = 0;
  std::this_thread::sleep_for(14s);
  restart();
  std::this_thread::sleep_for(kOutage - (std::chrono::steady_clock::now() - outage_started));
  receiver.down = false;
  const int most_at_once = receiver.most_at_once_down.load();
  int requests_while_down = 0;
  {
    std::lock_guard lock(receiver.mutex);
    requests_while_down = receiver.requests_while_down;
  }

  INFO(serve->stderr_text());
  REQUIRE(WaitFor([&] { return Count(database, "status IN ('pending', 'failed')") == 0; }, 120s));
  const std::int64_t sent = Count(database, "status = 'sent'");
  const std::int64_t dead = Count(database, "status = 'dead'");
  CHECK(sent + dead == total);
  // Dead only what the default schedule would have made dead: a delivery that spent all its
  // attempts (the outage costs the probes' attempts, not the queue's).
  CHECK(Count(database, "status = 'dead' AND attempts < " + std::to_string(kScheduleAttempts)) ==
        0);
  CHECK(dead < 5);
  // While it was down, one request at a time, not the queue of thousands.
  CHECK(most_at_once <= 1);
  CHECK(requests_while_down < 60);
  std::lock_guard lock(receiver.mutex);
  CHECK(receiver.failures > 3000);
  for (int id = 1; id <= kRecords; ++id) {
    if (!receiver.keys.count(std::to_string(id))) FAIL("delivery " << id << " never arrived");
  }
  // A record's second version never before its first.
  for (int id = 1; id <= kChangedRecords; ++id) {
    const auto& titles = receiver.accepted_titles[std::to_string(id)];
    const auto first_v2 = std::find(titles.begin(), titles.end(), "v2 of " + std::to_string(id));
    if (std::find(first_v2, titles.end(), "record " + std::to_string(id)) != titles.end()) {
      FAIL("record " << id << ": its first version arrived after its second");
    }
  }
  // Every sent delivery's record was accepted by the target at least once.
  const std::int64_t sent_but_not_accepted = std::stoll(database.Scalar(
      "SELECT count(*) FROM deliveries WHERE status = 'sent' AND NOT (records->0->>'id' = ANY('" +
      [&] {
        std::string array = "{";
        for (const auto& id : receiver.accepted_records) array += id + ",";
        array.back() = '}';
        return array;
      }() +
      "'::text[]))"));
  CHECK(sent_but_not_accepted == 0);
  serve->Signal(SIGTERM);
  CHECK(serve->WaitExit(15s) == 0);
}

// Chaos: 10,000 deliveries to a target that fails 30% of requests at random while the octohub
// process is SIGKILLed and restarted twice. Nothing may be lost or left behind.
#include <signal.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
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

// What the target received: idempotency keys, and records of accepted requests.
struct Receiver {
  std::mutex mutex;
  std::mt19937 random{20261122};
  std::set<std::string> keys;
  std::set<std::string> accepted_records;
  int requests = 0, failures = 0;

  TestResponse Handle(const TestRequest& request) {
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
    accepted_records.insert(std::string(json::parse(request.body).at("id").as_string()));
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

TEST_CASE("chaos: 10,000 deliveries, a target failing 30% and two SIGKILLs lose nothing", "[e2e]") {
  TestDatabase database;
  TempDir dir;
  HttpTestServer source([](const TestRequest& request) {
    const int page = std::stoi(request.query.count("page") ? request.query.at("page") : "1");
    json::array items;
    for (int id = (page - 1) * kPageSize + 1; id <= std::min(page * kPageSize, kRecords); ++id) {
      items.push_back({{"id", std::to_string(id)}, {"title", "record " + std::to_string(id)}});
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
                                   R"(", "secret": "k", "backoff_s": 0.05, "concurrency": 8})");
  octohub({"targets", "apply", target_file.string()});
  std::string key = octohub({"keys", "create", "--role", "write"});
  key.erase(key.find_last_not_of("\n") + 1);
  octohub({"sources", "run", "s"});

  auto serve = Serve(database, dir);
  std::string address = Address(*serve);
  REQUIRE(WaitFor(
      [&] { return database.Scalar("SELECT count(*) FROM records") == std::to_string(kRecords); },
      60s));

  // Ten forwards of 1,000 records each, every one answered only once committed.
  auto client = octohub::ingest::MakeCurlFetcher();
  for (int start = 1; start <= kRecords; start += 1000) {
    json::array records;
    for (int id = start; id < start + 1000; ++id) {
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
  }
  REQUIRE(Count(database, "true") == kRecords);

  // Killed twice while sending, restarted each time.
  for (std::int64_t threshold : {2500, 6000}) {
    REQUIRE(WaitFor([&] { return Count(database, "status = 'sent'") >= threshold; }, 60s));
    serve->Signal(SIGKILL);
    REQUIRE(serve->WaitExit(10s));
    serve = Serve(database, dir);
    Address(*serve);
  }

  INFO(serve->stderr_text());
  REQUIRE(WaitFor([&] { return Count(database, "status IN ('pending', 'failed')") == 0; }, 60s));
  const std::int64_t sent = Count(database, "status = 'sent'");
  const std::int64_t dead = Count(database, "status = 'dead'");
  CHECK(sent + dead == kRecords);
  CHECK(dead < 10);  // 0.3^8 of 10,000 is under one
  std::lock_guard lock(receiver.mutex);
  CHECK(receiver.failures > 3000);
  for (int id = 1; id <= kRecords; ++id) {
    if (!receiver.keys.count(std::to_string(id))) FAIL("delivery " << id << " never arrived");
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

// POST /api/v1/sources/preview: a source tried before it is saved — its pages, records, why
// paging stopped, duplicates, skipped records and a suggested mapping; nothing stored.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

#include "api_emulators.h"
#include "http_test_server.h"
#include "running_server.h"
#include "scoped_network_guard.h"

namespace json = boost::json;
using octohub::testing::Client;
using octohub::testing::HttpTestServer;
using octohub::testing::MakeApiEmulator;
using octohub::testing::Response;
using octohub::testing::Role;
using octohub::testing::RunningServer;
using octohub::testing::ServerOptions;
using octohub::testing::TestRequest;
using octohub::testing::TestResponse;

namespace {

Response Preview(RunningServer& s, const std::string& document, const std::string& query = "") {
  return Client().Get(s.url("/api/v1/sources/preview" + query),
                      {s.Auth(Role::kWrite), "Content-Type: application/json"}, "POST", document);
}

json::object PreviewOk(RunningServer& s, const std::string& document,
                       const std::string& query = "") {
  Response response = Preview(s, document, query);
  INFO(response.body);
  REQUIRE(response.status == 200);
  return json::parse(response.body).as_object();
}

}  // namespace

TEST_CASE(
    "a preview shows pages, records with their index fields and a suggested mapping, "
    "and stores nothing",
    "[pg][http]") {
  RunningServer s;
  auto stripe = MakeApiEmulator("stripe");
  json::object document = json::parse(stripe->SourceDocument()).as_object();
  document["index"] = {{"title", "/description"}};
  json::object preview = PreviewOk(s, json::serialize(document), "?pages=2");
  const auto& pages = preview.at("pages").as_array();
  REQUIRE(pages.size() == 2);
  CHECK(pages[0].at("status") == 200);
  CHECK(pages[0].at("records") == 100);
  CHECK(pages[0].at("stopped_because").is_null());
  CHECK(pages[1].at("next").is_string());
  CHECK_THAT(std::string(pages[1].at("stopped_because").as_string()),
             Catch::Contains("page limit (2)"));
  const auto& records = preview.at("records").as_array();
  REQUIRE(records.size() == 20);
  CHECK(records[0].at("id") == records[0].at("data").at("id"));
  CHECK(records[0].at("index").at("title") == records[0].at("data").at("description"));
  CHECK(preview.at("duplicate_ids").as_array().empty());
  CHECK(preview.at("suggested_index").as_object().contains("facets"));
  CHECK(s.database.Scalar("SELECT count(*) FROM records") == "0");
  CHECK(s.database.Scalar("SELECT count(*) FROM sources") == "0");
}

TEST_CASE("a preview says why paging stopped, and shows duplicates and skipped records",
          "[pg][http]") {
  RunningServer s;
  HttpTestServer api([](const TestRequest& r) {
    const std::string page = r.query.count("page") ? r.query.at("page") : "1";
    if (page == "1") {
      return TestResponse{200,
                          R"({"items": [{"id": 1, "state": "open", "opened": "2024-01-02",
                             "body": "a long description of the first thing that happened"},
                            {"id": 1, "state": "open", "opened": "2024-01-03",
                             "body": "the same id again, with another long description"},
                            {"state": "closed"}, {"id": 2, "state": "open", "opened": "2024-02-01",
                             "body": "the second thing, described at some length here"}],
                             "has_more": false})"};
    }
    return TestResponse{500, "should not be asked"};
  });
  json::object preview = PreviewOk(s, R"({"url": ")" + api.url("/items") +
                                          R"(", "records": "/items", "id": "/id",
      "pagination": {"type": "page", "more_path": "/has_more"}})");
  const auto& page = preview.at("pages").as_array()[0];
  CHECK(page.at("stopped_because") == "/has_more is false");
  CHECK(page.at("next").is_null());
  CHECK(preview.at("duplicate_ids") == json::array{"1"});
  CHECK(preview.at("skipped") ==
        json::array{json::object{{"reason", "no id at the id pointer"}, {"count", 1}}});
  const auto& suggested = preview.at("suggested_index").as_object();
  CHECK(suggested.at("facets") == json::object{{"state", "/state"}});
  CHECK(suggested.at("dates") == json::object{{"opened", "/opened"}});
  CHECK(suggested.at("text") == json::array{"/body"});
}

TEST_CASE("a preview hides the source's secrets and obeys the network guard", "[pg][http]") {
  RunningServer s;
  HttpTestServer api([](const TestRequest&) {
    return TestResponse{200, R"({"items": [{"id": 1}]})"};
  });
  json::object preview = PreviewOk(s, R"({"url": ")" + api.url("/items") +
                                          R"(", "records": "/items", "id": "/id",
      "auth": {"type": "query", "name": "api_key", "value": "sup3rs3cret"}})");
  const std::string shown = json::serialize(preview);
  CHECK_THAT(shown, !Catch::Contains("sup3rs3cret"));
  CHECK(api.requests().at(0).query.at("api_key") == "sup3rs3cret");  // it was sent

  octohub::testing::ScopedNetworkGuard guard("127.0.0.0/8");
  json::object refused =
      PreviewOk(s, R"({"url": ")" + api.url("/items") + R"(", "records": "/items"})");
  const auto& page = refused.at("pages").as_array()[0];
  CHECK(page.at("status").is_null());
  CHECK_THAT(std::string(page.at("error").as_string()), Catch::Contains("127.0.0.1"));
  CHECK(api.requests().size() == 1);
}

TEST_CASE("a preview refuses what it cannot try with a clear answer", "[pg][http]") {
  RunningServer s;
  CHECK(Preview(s, R"({"url": "nope"})").status == 422);
  CHECK(Preview(s, R"({"url": "http://127.0.0.1:9/"})", "?pages=0").status == 400);
  CHECK(Preview(s, R"({"url": "http://127.0.0.1:9/", "auth": {"type": "bearer",
      "token_env": "HOME"}})")
            .status == 422);
  Response orphan = Preview(s, R"({"url": "http://127.0.0.1:9/{x}",
      "for_each": {"source": "nobody", "vars": {"x": "/id"}}})");
  CHECK(orphan.status == 409);
  CHECK_THAT(orphan.body, Catch::Contains("nobody") && Catch::Contains("no records"));
  CHECK(
      Client().Get(s.url("/api/v1/sources/preview"), {s.Auth(Role::kRead)}, "POST", "{}").status ==
      403);
}

TEST_CASE("previews fetch off the request threads, at most four at once", "[pg][http]") {
  RunningServer s([](ServerOptions& options) { options.http.worker_threads = 1; });
  std::mutex mutex;
  std::condition_variable changed;
  bool released = false;
  int waiting = 0;
  HttpTestServer api([&](const TestRequest&) {
    std::unique_lock lock(mutex);
    ++waiting;
    changed.notify_all();
    changed.wait(lock, [&] { return released; });
    return TestResponse{200, R"({"items": [{"id": 1}, {"id": 2}]})"};
  });
  const std::string document =
      R"({"url": ")" + api.url("/items") + R"(", "records": "/items", "id": "/id"})";
  std::vector<std::future<Response>> previews;
  auto release = [&] {
    std::lock_guard lock(mutex);
    released = true;
    changed.notify_all();
  };
  // Declared last, so it runs first when the test ends early: nothing is left waiting.
  struct Releaser {
    std::function<void()> release;
    ~Releaser() { release(); }
  } on_exit{release};

  for (int i = 0; i < 4; ++i) {
    previews.push_back(std::async(std::launch::async, [&] { return Preview(s, document); }));
  }
  {
    std::unique_lock lock(mutex);
    REQUIRE(changed.wait_for(lock, std::chrono::seconds(20), [&] { return waiting == 4; }));
  }
  // Four previews wait on a slow API, and the one request thread still answers.
  CHECK(Client().Get(s.url("/api/v1/sources"), {s.Auth(Role::kWrite)}).status == 200);
  Response fifth = Preview(s, document);
  CHECK(fifth.status == 429);
  CHECK_THAT(fifth.headers, Catch::Contains("Retry-After"));
  CHECK_THAT(fifth.body, Catch::Contains("4 previews"));
  release();
  for (auto& preview : previews) {
    Response answer = preview.get();
    REQUIRE(answer.status == 200);
    CHECK(json::parse(answer.body).at("records").as_array().size() == 2);
  }
  // Their places are given back.
  CHECK(Preview(s, document).status == 200);
}

#include <signal.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <iostream>
#include <set>
#include <thread>

#include "octohub/ingest/http_fetcher.h"
#include "process.h"
#include "temp_dir.h"

namespace json = boost::json;
using namespace std::chrono_literals;

TEST_CASE("the demo harvests its sample APIs and makes every one searchable", "[e2e]") {
  octohub::testing::TempDir dir;
  const auto started = std::chrono::steady_clock::now();
  octohub::testing::BackgroundProcess demo({octohub::testing::OctohubBinary(), "demo", "--data-dir",
                                            (dir / "data").string(), "--listen", "127.0.0.1:0"});
  auto key_line = demo.WaitForLine("admin key (shown once): ", 60s);
  auto ready = demo.WaitForLine("\"serve.ready\"", 60s);
  INFO(demo.stderr_text());
  REQUIRE(key_line);
  REQUIRE(ready);
  const std::string key = key_line->substr(key_line->rfind(' ') + 1);
  const std::string address(json::parse(*ready).at("listen").as_string());
  auto fetcher = octohub::ingest::MakeCurlFetcher();
  auto get = [&](const std::string& path) {
    octohub::ingest::HttpRequest request{.url = "http://" + address + path};
    if (path.rfind("/api/v1/sources", 0) == 0)
      request.headers = {{"Authorization", "Bearer " + key}};
    auto response = fetcher->Fetch(request);
    REQUIRE(response.ok());
    REQUIRE(response->status == 200);
    return json::parse(response->body);
  };
  // Every demo source the banner names, searchable with no key (public reading).
  std::set<std::string> sources;
  const json::value listed = get("/api/v1/sources");
  for (const auto& source : listed.at("sources").as_array()) {
    sources.insert(std::string(source.at("name").as_string()));
  }
  CHECK(sources.size() >= 4);
  std::set<std::string> searchable;
  while (searchable.size() < sources.size() && std::chrono::steady_clock::now() - started < 120s) {
    for (const auto& source : sources) {
      if (searchable.count(source) == 0 &&
          get("/api/v1/search?per_page=1&source=" + source).at("total").as_int64() > 0) {
        searchable.insert(source);
      }
    }
    std::this_thread::sleep_for(200ms);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << "demo: " << searchable.size() << " of " << sources.size() << " sources searchable "
            << seconds << " s after start\n";
  CHECK(searchable == sources);
  // Real text: the package index of any Debian machine names the C library.
  CHECK(get("/api/v1/search?q=libc6").at("total").as_int64() > 0);
  // The demo rule forwards the build queue's failed builds to the demo inbox.
  auto served = demo.WaitForLine("sample APIs served on ", 1s);
  REQUIRE(served);
  const std::string base =
      served->substr(served->rfind(' ') + 1, served->size() - served->rfind(' ') - 2);
  json::value inbox;
  for (int i = 0; i < 300; ++i) {
    auto response = fetcher->Fetch({.url = base + "/inbox"});
    REQUIRE(response.ok());
    inbox = json::parse(response->body);
    if (inbox.at("received").as_int64() > 0) break;
    std::this_thread::sleep_for(200ms);
  }
  REQUIRE(inbox.at("received").as_int64() > 0);
  CHECK_THAT(std::string(inbox.at("latest").at(0).at("text").as_string()),
             Catch::Contains("failed to build on"));
  demo.Signal(SIGINT);
  auto code = demo.WaitExit(15s);
  REQUIRE(code);
  CHECK(*code == 0);
}

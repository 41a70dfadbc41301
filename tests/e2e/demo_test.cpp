#include <signal.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <thread>

#include "octohub/ingest/http_fetcher.h"
#include "process.h"
#include "temp_dir.h"

namespace json = boost::json;
using namespace std::chrono_literals;

TEST_CASE("the demo harvests its sample API and makes it searchable", "[e2e]") {
  octohub::testing::TempDir dir;
  octohub::testing::BackgroundProcess demo({octohub::testing::OctohubBinary(), "demo", "--data-dir",
                                            (dir / "data").string(), "--listen", "127.0.0.1:0"});
  auto ready = demo.WaitForLine("\"serve.ready\"", 60s);
  INFO(demo.stderr_text());
  REQUIRE(ready);
  const std::string address(json::parse(*ready).at("listen").as_string());
  auto fetcher = octohub::ingest::MakeCurlFetcher();
  std::int64_t total = 0;
  // The package index of any Debian machine names the C library: a word every demo has.
  for (int i = 0; i < 600 && total == 0; ++i) {
    auto response = fetcher->Fetch(
        {.url = "http://" + address + "/api/v1/search?q=libc6&source=debian-packages"});
    REQUIRE(response.ok());
    total = json::parse(response->body).at("total").as_int64();
    if (total == 0) std::this_thread::sleep_for(100ms);
  }
  CHECK(total > 0);
  demo.Signal(SIGINT);
  auto code = demo.WaitExit(15s);
  REQUIRE(code);
  CHECK(*code == 0);
}

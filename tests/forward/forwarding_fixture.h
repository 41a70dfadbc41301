// What the forwarding tests share: an API server with a source "s" whose records they store
// as ingest would, a target "t" on a loopback server, and a forwarder run on demand.
#pragma once

#include <unistd.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cstdio>
#include <functional>
#include <pqxx/pqxx>
#include <string>
#include <thread>

#include "http_test_server.h"
#include "octohub/forward/forwarder.h"
#include "octohub/ingest/ingest.h"
#include "running_server.h"
#include "seed_records.h"

namespace octohub::testing {
namespace json = boost::json;

inline const std::string kJson = "Content-Type: application/json";

using namespace std::chrono_literals;

inline bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds limit = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return condition();
}

// An API server, a write key, records of source "s", and a forwarder when started.
struct Forwarding {
  RunningServer api;
  Client client;
  std::string write = api.Auth(Role::kWrite);
  std::jthread forwarder;

  Forwarding() {
    auto spec = octohub::ParseSourceSpec(json::parse(
        R"({"name": "s", "url": "http://127.0.0.1:9/x", "records": "/items", "id": "/id",
            "index": {"title": "/title", "facets": {"state": "/state"}}})"));
    REQUIRE(spec.ok());
    REQUIRE(octohub::ingest::SourceRegistry(api.database.db()).Create(*spec).ok());
  }
  ~Forwarding() { forwarder = {}; }

  void Start() {
    forwarder = std::jthread([this](std::stop_token stop) {
      octohub::forward::ForwarderOptions options;
      options.owner = "test-host:1:forward";
      options.poll_interval = 100ms;
      octohub::forward::Forwarder(api.database.db(), &api.metrics, options).Run(stop);
    });
  }
  // Stores (or changes) a record as ingest would, with the next change sequence.
  void Put(const std::string& id, const std::string& title, const std::string& state = "open") {
    octohub::testing::SeedRecords(api.database.db(), "s",
                                  {{{"id", id}, {"title", title}, {"state", state}}});
  }
  // Forwards record `id` of source "s" to target "t".
  void ForwardOne(const std::string& id) {
    REQUIRE(Post("/api/v1/forwards",
                 R"({"target": "t", "records": [{"source": "s", "id": ")" + id + R"("}]})")
                .status == 202);
  }
  Response Post(const std::string& path, const std::string& body) {
    return client.Get(api.url(path), {write, kJson}, "POST", body);
  }
  json::value GetJson(const std::string& path) {
    auto response = client.Get(api.url(path), {write});
    REQUIRE(response.status == 200);
    return json::parse(response.body);
  }
  // Target "t" at the server's /in; extra: more members (", \"concurrency\": 1"). Retries
  // follow `schedule` (a JSON list), short enough for a test.
  std::string Target(const HttpTestServer& target, const std::string& extra = "",
                     const std::string& schedule =
                         R"(["50ms", "100ms", "200ms", "400ms", "800ms", "1600ms", "3200ms"])") {
    auto created = Post("/api/v1/targets", R"({"name": "t", "url": ")" + target.url("/in") +
                                               R"(", "retry_schedule": )" + schedule + extra + "}");
    INFO(created.body);
    REQUIRE(created.status == 201);
    return created.body;
  }
  std::int64_t Count(const std::string& status) {
    return std::stoll(
        api.database.Scalar("SELECT count(*) FROM deliveries WHERE status = '" + status + "'"));
  }
};

inline std::string Hmac(const std::string& secret, const std::string& body) {
  // An independent implementation: the openssl command line.
  char path[] = "/tmp/octohub-hmac-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  REQUIRE(write(fd, body.data(), body.size()) == static_cast<ssize_t>(body.size()));
  close(fd);
  std::string command = "openssl dgst -sha256 -hmac '" + secret + "' < " + path;
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[256] = {};
  std::string out = fgets(buffer, sizeof(buffer), pipe) ? buffer : "";
  pclose(pipe);
  std::remove(path);
  out = out.substr(out.rfind(' ') + 1);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return "sha256=" + out;
}

}  // namespace octohub::testing

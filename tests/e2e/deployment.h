// Several octohub processes over one test database, as a deployment runs them: sources
// applied and runs queued through the CLI, `serve` processes with chosen roles.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "http_test_server.h"
#include "octohub/ingest/http_fetcher.h"
#include "process.h"
#include "temp_dir.h"
#include "test_database.h"

namespace octohub::testing {

// `pages` pages of two items each ("item N"), every answer taking `delay`.
inline HttpTestServer SlowApi(int pages, std::chrono::milliseconds delay) {
  return HttpTestServer([pages, delay](const TestRequest& request) {
    std::this_thread::sleep_for(delay);
    int page = std::stoi(request.query.count("page") ? request.query.at("page") : "1");
    boost::json::array items;
    for (int id = page * 2 - 1; page <= pages && id <= page * 2; ++id) {
      items.push_back({{"id", id}, {"title", "item " + std::to_string(id)}});
    }
    return TestResponse{200, boost::json::serialize(boost::json::object{{"items", items}})};
  });
}

inline void ApplySource(const TestDatabase& database, const TempDir& dir, const std::string& name,
                        const std::string& url) {
  auto file = dir.Write(name + ".yaml", "name: " + name + "\nurl: " + url +
                                            "\nrecords: /items\nid: /id\npagination: {type: page}\n"
                                            "index: {title: /title}\n");
  auto applied = RunProcess(
      {OctohubBinary(), "sources", "apply", file.string(), "--database-url", database.conninfo()});
  INFO(applied.err);
  REQUIRE(applied.exit_code == 0);
}

inline void QueueRun(const TestDatabase& database, const std::string& name) {
  auto queued =
      RunProcess({OctohubBinary(), "sources", "run", name, "--database-url", database.conninfo()});
  INFO(queued.err);
  REQUIRE(queued.exit_code == 0);
}

// `octohub serve` over the test database with its own data dir, once it reports ready.
inline std::unique_ptr<BackgroundProcess> StartServe(const TestDatabase& database,
                                                     const std::filesystem::path& data_dir,
                                                     std::vector<std::string> args) {
  std::vector<std::string> argv = {OctohubBinary(),     "serve",      "--database-url",
                                   database.conninfo(), "--data-dir", data_dir.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto serve = std::make_unique<BackgroundProcess>(argv);
  auto ready = serve->WaitForLine("\"serve.ready\"", std::chrono::seconds(30));
  INFO(serve->stderr_text());
  REQUIRE(ready);
  return serve;
}

// The host:port a ready `serve` listens on.
inline std::string ListenAddress(BackgroundProcess& serve) {
  auto line = serve.WaitForLine("\"serve.ready\"", std::chrono::seconds(30));
  REQUIRE(line);
  return std::string(boost::json::parse(*line).at("listen").as_string());
}

// A loopback TCP port nobody listens on right now.
inline int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  close(fd);
  return ntohs(address.sin_port);
}

inline bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return condition();
}

struct Answer {
  long status = 0;
  std::string body;
  boost::json::value json() const { return boost::json::parse(body); }
};

// A hub under test: serve over a test database, with its admin key.
struct Hub {
  TestDatabase database;
  TempDir dir;
  std::unique_ptr<BackgroundProcess> serve =
      StartServe(database, dir / "data",
                 {"--listen", "127.0.0.1:0", "--public-read", "--ingest-workers", "2"});
  std::string address = ListenAddress(*serve);
  std::string key = AdminKey();

  std::string AdminKey() {
    auto line = serve->WaitForLine("octohub: admin key (shown once): ", std::chrono::seconds(10));
    REQUIRE(line);
    return line->substr(line->rfind(' ') + 1);
  }

  Answer Call(const std::string& method, const std::string& path, const std::string& body = "") {
    octohub::ingest::HttpRequest request{.method = method, .url = "http://" + address + path};
    request.headers = {{"Authorization", "Bearer " + key}};
    if (!body.empty()) {
      request.headers.emplace_back("Content-Type", "application/json");
      request.body = body;
    }
    auto response = octohub::ingest::MakeCurlFetcher()->Fetch(request);
    REQUIRE(response.ok());
    return {response->status, response->body};
  }

  // Registers a source whose pages come from url and starts a run; returns the run's id.
  std::int64_t CreateAndRun(const std::string& name, const std::string& url) {
    const std::string spec =
        boost::json::serialize(boost::json::object{{"name", name},
                                                   {"url", url},
                                                   {"records", "/items"},
                                                   {"id", "/id"},
                                                   {"pagination", {{"type", "page"}}},
                                                   {"index", {{"title", "/title"}}}});
    auto created = Call("POST", "/api/v1/sources", spec);
    INFO(created.body);
    REQUIRE(created.status == 201);
    auto run = Call("POST", "/api/v1/sources/" + name + "/runs");
    INFO(run.body);
    REQUIRE(run.status == 202);
    return run.json().at("id").as_int64();
  }

  // Starts a run of `source` and waits until it has finished; returns the run as answered.
  boost::json::object RunToEnd(const std::string& source,
                               std::chrono::milliseconds limit = std::chrono::seconds(60)) {
    auto run = Call("POST", "/api/v1/sources/" + source + "/runs");
    INFO(run.body);
    REQUIRE(run.status == 202);
    const std::string path = "/api/v1/runs/" + std::to_string(run.json().at("id").as_int64());
    boost::json::object last;
    WaitFor(
        [&] {
          last = Call("GET", path).json().as_object();
          const auto& status = last.at("status").as_string();
          return status != "queued" && status != "running";
        },
        limit);
    return last;
  }

  std::int64_t Total(const std::string& q) {
    auto found = Call("GET", "/api/v1/search?q=" + q);
    INFO(found.body);
    REQUIRE(found.status == 200);
    return found.json().at("total").as_int64();
  }

  // Waits until a search for q finds exactly `expected` documents.
  bool Finds(const std::string& q, std::int64_t expected,
             std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    return WaitFor([&] { return Total(q) == expected; }, limit);
  }
};

}  // namespace octohub::testing
